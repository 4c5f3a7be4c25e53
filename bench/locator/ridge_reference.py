# Reference numbers for darkRidgeStrength (CleaveFilters) and LocatorLines.strength (CleavePipelines):
# the formula image of Tests/CleaveFiltersTests/RidgeTests.swift, scipy.ndimage Gaussian derivatives
# (truncate 4, mode 'reflect'), ridge = σ²·max(λ₁ − |λ₂|, 0). Usage: python3 bench/locator/ridge_reference.py
import numpy as np
from scipy import ndimage as ndi
def image(w=48, h=40):
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    d = np.abs(0.6 * x - y + 5) / np.sqrt(1.36)
    r2 = (x - 36) ** 2 + (y - 30) ** 2
    v = 1000 + 30 * np.sin(0.37 * x) * np.cos(0.23 * y) + ((x * 7 + y * 13) % 11) * 2 - 120 * np.exp(-d * d / (2 * 1.2 ** 2)) - 150 * np.exp(-r2 / (2 * 2.0 ** 2))
    return v.astype(np.float32).astype(np.float64)
def ridge(a, s):
    hxx = ndi.gaussian_filter(a, s, order=(0, 2)); hyy = ndi.gaussian_filter(a, s, order=(2, 0)); hxy = ndi.gaussian_filter(a, s, order=(1, 1))
    tr = (hxx + hyy) / 2; d = np.sqrt(((hxx - hyy) / 2) ** 2 + hxy ** 2)
    return s * s * np.clip((tr + d) - np.abs(tr - d), 0, None)
a = image()
points = [(0, 0), (11, 10), (20, 25), (30, 36), (5, 47), (39, 0), (17, 20), (35, 40)]
for s in (1.5, 3.0):
    R = ridge(a, s)
    print(f"sigma {s}: points", [round(float(R[p]), 6) for p in points], "sum", round(float(R.sum()), 4), "max", round(float(R.max()), 6))
def detrend(p):
    h, w = p.shape; y, x = np.mgrid[0:h, 0:w]; x = x - (w - 1) / 2; y = y - (h - 1) / 2
    return p - x * (x * p).sum() / (x * x).sum() - y * (y * p).sum() / (y * y).sum()
# LocatorLinesTests.strengthMatchesScipy: LocatorLines.strength = percentile(ridge(patch less its plane), 99.9) / median(patch)
y, x = np.mgrid[0:50, 0:60].astype(np.float64)
b = (1000 + ((x * 7 + y * 13) % 11) * 4 - 80 * np.exp(-((x - 0.5 * y - 10) ** 2 / 1.25) / (2 * 1.5 ** 2))).astype(np.float32).astype(np.float64)
p = b[3:47, 5:55]
print("line strength, 60x50 formula, x 5..<55 y 3..<47:", repr(float(np.percentile(ridge(detrend(p), 3.0), 99.9) / np.median(p))))
# a tilted patch without a line: 1000 + ((7x + 13y) mod 11)·4 + 3x + 2y; without the plane removal the reflected border creases
t = (1000 + ((x * 7 + y * 13) % 11) * 4 + 3 * x + 2 * y).astype(np.float32).astype(np.float64); q = t[3:47, 5:55]
print("tilted:", repr(float(np.percentile(ridge(detrend(q), 3.0), 99.9) / np.median(q))), "without plane removal:", repr(float(np.percentile(ridge(q, 3.0), 99.9) / np.median(q))))
