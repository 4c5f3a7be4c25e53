#!/usr/bin/env bash
# U-Net engine speed, Cleave vs PyTorch (CPU) in one run, same architecture:
# depth 4, width 16, batch norm, bilinear up-sampling (+3x3 conv), 3 input channels, 4 classes.
#   training step = forward + softmax cross-entropy + backward + AdamW on 8x3x128x128
#   inference     = forward (running statistics) on 1x3x1024x1024
# Prints wall and process-CPU seconds (median of the repeats) and the Cleave/PyTorch ratios.
# On a shared machine the CPU-time ratio is the steadier number.
# Usage: bench/unet-engine/run.sh            (THREADS=2 STEPS=5 SIZE=1024 REPEATS=3 by default)
#        TORCH_PYTHON=/path/to/python ...     (a Python with torch; default /work/venv-torch/bin/python, then python3)
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS=${THREADS:-2}
STEPS=${STEPS:-5}
SIZE=${SIZE:-1024}
REPEATS=${REPEATS:-3}
OUT=$(mktemp -d)
uptime
CLEAVE_THREADS=$THREADS CLEAVE_BENCH=1 CLEAVE_BENCH_STEPS=$STEPS CLEAVE_BENCH_INFERENCE_SIZE=$SIZE \
  CLEAVE_BENCH_INFERENCE_REPEATS=$REPEATS \
  swift test -c release --disable-testable-imports --filter EngineBenchmark 2>&1 | grep '"engine"' > "$OUT/cleave.json"
cat "$OUT/cleave.json"
PY=${TORCH_PYTHON:-/work/venv-torch/bin/python}
if ! "$PY" -c 'import torch' 2>/dev/null; then PY=python3; fi
if "$PY" -c 'import torch' 2>/dev/null; then
  "$PY" bench/unet-engine/torch_unet.py --threads "$THREADS" --steps "$STEPS" --inference-size "$SIZE" \
    --inference-repeats "$REPEATS" > "$OUT/torch.json"
  cat "$OUT/torch.json"
  python3 - "$OUT/cleave.json" "$OUT/torch.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); t = json.load(open(sys.argv[2]))
for key, label in [("train_step", "training step 8x3x128x128"), ("inference", f"inference 1x3x{c['inference_size']}^2")]:
    print(f"{label}: Cleave wall {c[key + '_wall']:.3f} s CPU {c[key + '_cpu']:.3f} s | "
          f"PyTorch wall {t[key + '_wall']:.3f} s CPU {t[key + '_cpu']:.3f} s | "
          f"ratio wall {c[key + '_wall'] / t[key + '_wall']:.2f} CPU {c[key + '_cpu'] / t[key + '_cpu']:.2f}")
PY
else
  echo "PyTorch not importable: compare with the issue's numbers (training step ~0.34 s, inference 1024^2 ~1.6 s, 2 threads)"
fi
uptime
