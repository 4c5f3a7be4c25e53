"""Benchmark data, written as raw float32 (row-major) for both Cleave and scikit-learn.

sliding.f32: 4096*4096 rows x 4 columns -- (mean, std, skewness, kurtosis) of 31x31 windows of a
             synthetic 16-bit image with dark particles on a noisy background, z-scored.
patches.f32: 100 000 rows x 30 columns -- a mixture of 6 Gaussian blobs of varied spread.
"""
import sys, numpy as np
from scipy import ndimage
out = sys.argv[1]
rng = np.random.default_rng(0)
n = 4096
img = rng.normal(20000, 1500, (n, n)).astype(np.float64)
yy, xx = np.mgrid[0:n, 0:n]
for _ in range(300):
    cy, cx, r = rng.integers(0, n), rng.integers(0, n), rng.integers(8, 40)
    y0, y1, x0, x1 = max(cy - r, 0), min(cy + r, n), max(cx - r, 0), min(cx + r, n)
    sub = (yy[y0:y1, x0:x1] - cy) ** 2 + (xx[y0:y1, x0:x1] - cx) ** 2 < r * r
    img[y0:y1, x0:x1][sub] -= 9000
img = np.clip(img, 0, 65535).astype(np.uint16).astype(np.float64)
m1 = ndimage.uniform_filter(img, 31, mode="reflect")
m2 = ndimage.uniform_filter(img * img, 31, mode="reflect")
m3 = ndimage.uniform_filter(img ** 3, 31, mode="reflect")
m4 = ndimage.uniform_filter(img ** 4, 31, mode="reflect")
var = np.maximum(m2 - m1 * m1, 1e-9)
std = np.sqrt(var)
skew = (m3 - 3 * m1 * m2 + 2 * m1 ** 3) / var ** 1.5
kurt = (m4 - 4 * m1 * m3 + 6 * m1 * m1 * m2 - 3 * m1 ** 4) / var ** 2 - 3
X = np.stack([m1.ravel(), std.ravel(), skew.ravel(), kurt.ravel()], axis=1)
X = (X - X.mean(0)) / X.std(0)
X.astype(np.float32).tofile(f"{out}/sliding.f32")
centers = rng.normal(0, 3, (6, 30))
labels = rng.integers(0, 6, 100_000)
P = centers[labels] + rng.normal(0, 1, (100_000, 30)) * rng.uniform(0.5, 2, 6)[labels, None]
P.astype(np.float32).tofile(f"{out}/patches.f32")
print("wrote", X.shape, P.shape)
