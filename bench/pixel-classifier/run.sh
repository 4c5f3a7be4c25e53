#!/bin/bash
# Pixel-classifier benchmark: Cleave vs scikit-image + scikit-learn on the sandstone protocol.
# usage: bench/pixel-classifier/run.sh [--skip-reference] [--skip-large] [--skip-stack] [--stack-planes N]
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA="${CLEAVE_SHARED_DATA:-$(pwd)/../shared/data}/sandstone-xrm"
swift build -c release --product cleave >&2
python3 bench/pixel-classifier/bench.py "$(pwd)/.build/release/cleave" "$DATA" "$@"
