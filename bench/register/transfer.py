"""`cleave transfer` (issue 21, item 2) on sandstone: a model trained from a registered synthetic EDS map
of slice 0000 against one trained from the true labels of 0000, both scored on slices 0050-0400.

Both models use the same training options (cleave train defaults, 2000 labelled pixels per class,
seed 1); the only difference is where the labels come from. Prints mean IoU over the eight slices
for both, the difference, and the phase fractions (predicted, all eight slices) against the truth.

Usage: python3 bench/register/transfer.py CLEAVE DATA_DIR [--out DIR] [--erode-factor F] [--mirror] [--map-seed S]
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np
import tifffile

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import make_eds_map  # noqa: E402

SLICES = ["0050", "0100", "0150", "0200", "0250", "0300", "0350", "0400"]


def miou(truth, pred, classes=(1, 2, 3, 4)):
    ious = []
    for c in classes:
        t, p = truth == c, pred == c
        ious.append((t & p).sum() / max(1, (t | p).sum()))
    return float(np.mean(ious)), ious


def run(cmd):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr}")
    return time.perf_counter() - t0, r.stdout


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cleave"); p.add_argument("data")
    p.add_argument("--out", default="bench/out/transfer")
    p.add_argument("--erode-factor", default="1")
    p.add_argument("--mirror", action="store_true")
    p.add_argument("--map-seed", type=int, default=1, help="seed of the synthetic map's relabelled border pixels")
    p.add_argument("--extra", default="", help="more cleave transfer options, e.g. --extra=--border-check")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    sand = f"{a.data}/sandstone-xrm"
    img = lambda s: f"{sand}/images/Sandstone_Versa{s}.tif"
    lab = lambda s: f"{sand}/labels/Sandstone_Versa{s}.tif"
    labels0 = tifffile.imread(lab("0000"))
    moving, truth = make_eds_map.make(labels0, 2.0, 17, a.mirror, (12, -7), 0.1, True, a.map_seed)
    eds = f"{a.out}/eds.tif"
    tifffile.imwrite(eds, moving)
    seconds, out = run([a.cleave, "transfer", eds, img("0000"), "--out", f"{a.out}/transfer", "--erode-factor", a.erode_factor,
                        *a.extra.split(), "--predict", *[img(s) for s in SLICES]])
    print(out.strip().splitlines()[0]); print(out.strip().splitlines()[1])
    print(f"cleave transfer (register + erode + train + predict 8 slices): {seconds:.1f} s")
    run([a.cleave, "train", "--image", img("0000"), "--labels", lab("0000"), "--pixels-per-class", "2000", "--seed", "1",
         "--model", f"{a.out}/true.json"])
    run([a.cleave, "predict", "--model", f"{a.out}/true.json", "--out", f"{a.out}/true", *[img(s) for s in SLICES]])
    truth_all, transfer_all, true_all = [], [], []
    for s in SLICES:
        truth_all.append(tifffile.imread(lab(s)))
        transfer_all.append(tifffile.imread(f"{a.out}/transfer/Sandstone_Versa{s}-labels.tif"))
        true_all.append(tifffile.imread(f"{a.out}/true/Sandstone_Versa{s}-labels.tif"))
    T, X, R = (np.stack(v) for v in (truth_all, transfer_all, true_all))
    mx, ix = miou(T, X)
    mr, ir = miou(T, R)
    print(f"mIoU on 0050-0400: transferred labels {mx:.4f} (per class {', '.join(f'{v:.3f}' for v in ix)}), "
          f"true labels {mr:.4f} (per class {', '.join(f'{v:.3f}' for v in ir)}); difference {mr - mx:+.4f} (target <= 0.02)")
    for c in (1, 2, 3, 4):
        print(f"  class {c}: fraction truth {100 * (T == c).mean():.2f} %, transferred {100 * (X == c).mean():.2f} %, "
              f"true-label model {100 * (R == c).mean():.2f} %")


if __name__ == "__main__":
    main()
