#!/usr/bin/env python3
"""Synthetic FIB-SEM-like artefacts on clean slices, exactly as issue 7 defines them (seeded).

For an image I (float) of height H with intensity range R = max(I) - min(I), row y, column x:
    out = I * shading(y) + c(x) * growth(y) + n(x, y)
    c(x) ~ N(0, (0.08 R)^2)        per-column curtaining offset, one per column
    growth(y) = 0.3 + 0.7 y / (H-1) curtains grow from 0.3x at the top to 1x at the bottom
    shading(y) = 0.75 + 0.5 y / (H-1)   x0.75 at the top to x1.25 at the bottom
    n ~ N(0, (0.06 R)^2)            Gaussian noise per pixel
Written as float32 TIFF (no clipping, no rounding).

Usage: artefacts.py OUT_DIR SEED IMAGE...   (writes OUT_DIR/<stem>.tif for every IMAGE)
"""
import os
import sys

import numpy as np
import tifffile


def with_artefacts(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    img = image.astype(np.float64)
    h, w = img.shape
    r = float(img.max() - img.min())
    y = np.arange(h, dtype=np.float64)[:, None] / (h - 1)
    curtains = rng.normal(0.0, 0.08 * r, size=w)[None, :]
    growth = 0.3 + 0.7 * y
    shading = 0.75 + 0.5 * y
    noise = rng.normal(0.0, 0.06 * r, size=(h, w))
    return (img * shading + curtains * growth + noise).astype(np.float32)


def main() -> None:
    out, seed, images = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    os.makedirs(out, exist_ok=True)
    for k, path in enumerate(images):
        rng = np.random.default_rng([seed, k])
        stem = os.path.splitext(os.path.basename(path))[0]
        tifffile.imwrite(os.path.join(out, stem + ".tif"), with_artefacts(tifffile.imread(path), rng))
        print(os.path.join(out, stem + ".tif"))


if __name__ == "__main__":
    main()
