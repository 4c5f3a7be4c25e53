#!/usr/bin/env bash
# The first view of a large image: `Display.percentileWindow` (the 0.5–99.5 % auto-contrast window
# the workbench computes before it draws a tile, and `Display.grey` without a window) on a
# 4096×4096 uint16 and a float32 image, the histogram/selection against the former sort of the
# subsample in one run: CPU ms (best of 5) of each, the speed-up, and a check that both windows are
# the same to the bit. Runs the timing test of Tests/CleaveRenderTests/PercentileWindowTests.swift.
#   bench/display/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
echo "load before: $(uptime | sed 's/.*load average: //'), $(nproc) cores"
CLEAVE_BENCH=1 swift test -c release --disable-testable-imports --filter 'PercentileWindowTests/largeImageTiming' 2>&1 \
  | grep -E '^percentileWindow|passed|failed|error:' | grep -v '^\[' || true
echo "load after: $(uptime | sed 's/.*load average: //')"
