"""Simulated low-resolution scans of the sandstone slices: every SxS block of the full-resolution
image averaged (a detector pixel S times larger), rounded to 8 bits, and the labels cropped to
whole blocks so the two grids agree.

Usage: python3 bench/lithology/simulate.py DATA OUT [S]   (DATA = ../shared/data)
"""
import os, sys
import numpy as np
import tifffile

data, out = sys.argv[1], sys.argv[2]
s = int(sys.argv[3]) if len(sys.argv) > 3 else 4
src = os.path.join(data, "sandstone-xrm")
if not os.path.isdir(src):
    sys.exit(f"simulate.py: {src} is missing (the shared sandstone-xrm data set)")
os.makedirs(os.path.join(out, "low"), exist_ok=True)
os.makedirs(os.path.join(out, "labels"), exist_ok=True)
for name in sorted(os.listdir(os.path.join(src, "images"))):
    image = tifffile.imread(os.path.join(src, "images", name)).astype(np.float64)
    labels = tifffile.imread(os.path.join(src, "labels", name))
    h, w = (image.shape[0] // s) * s, (image.shape[1] // s) * s
    low = image[:h, :w].reshape(h // s, s, w // s, s).mean(axis=(1, 3))
    tifffile.imwrite(os.path.join(out, "low", name), np.rint(low).astype(np.uint8))
    tifffile.imwrite(os.path.join(out, "labels", name), labels[:h, :w])
print(f"wrote {out}/low and {out}/labels (x{s})")
