#!/bin/bash
# The real-data pixel-classification suite (issue 17): Cleave's CLI with default options, exactly as a
# user runs it (every output written), and the scikit-image + scikit-learn reference, in one run.
# Writes bench/suite/RESULTS-latest.md (the tables) and bench/out/suite/ (models, predictions, log).
#
# usage: bench/suite/run.sh [--unet-steps N] [--variant NAME='TRAIN ARGS|PREDICT ARGS' …] [--sets a,b]
#   --unet-steps N   add Cleave's U-Net (dense labels of the same training images, N steps) as a column
#   --variant        add a Cleave column with other flags; with several, a leave-one-set-out table
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA="${CLEAVE_SHARED_DATA:-$(pwd)/../shared/data}"
[ -d "$DATA/pixel-suite" ] || { echo "bench/suite: $DATA/pixel-suite is missing (the suite needs ../shared/data)" >&2; exit 1; }
python3 -c 'import numpy, tifffile, skimage, sklearn' 2>/dev/null || python3 -m pip install -q numpy tifffile scikit-image scikit-learn
swift build -c release --product cleave >&2
python3 - <<'PY'
import skimage, sklearn, numpy, scipy
print(f"reference versions: scikit-image {skimage.__version__}, scikit-learn {sklearn.__version__}, numpy {numpy.__version__}, scipy {scipy.__version__}")
PY
python3 bench/suite/suite.py "$(pwd)/.build/release/cleave" "$DATA" --out bench/out/suite \
  --markdown bench/suite/RESULTS-latest.md --json bench/out/suite/latest.json "$@"
