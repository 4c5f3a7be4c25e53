"""Synthetic benchmark image: 4096×4096 binary mask (uint8 0/1) with ~19 000 random grains.

python3 make_data.py OUT.png   (seeded; grains are ellipses with radii 3–11 px, some touching)
"""
import sys
import numpy as np
from PIL import Image

rng = np.random.default_rng(2026)
size = 4096
mask = np.zeros((size, size), np.uint8)
count = 34000
cy = rng.uniform(0, size, count); cx = rng.uniform(0, size, count)
ra = rng.uniform(3, 11, count); rb = ra * rng.uniform(0.4, 1.0, count); theta = rng.uniform(0, np.pi, count)
for y0, x0, a, b, t in zip(cy, cx, ra, rb, theta):
    r = int(np.ceil(a)) + 1
    ys, xs = np.mgrid[max(0, int(y0) - r):min(size, int(y0) + r + 1), max(0, int(x0) - r):min(size, int(x0) + r + 1)]
    dy, dx = ys - y0, xs - x0
    u = dx * np.cos(t) + dy * np.sin(t); v = -dx * np.sin(t) + dy * np.cos(t)
    inside = (u / a) ** 2 + (v / b) ** 2 <= 1
    mask[ys[inside], xs[inside]] = 1
Image.fromarray(mask).save(sys.argv[1])
