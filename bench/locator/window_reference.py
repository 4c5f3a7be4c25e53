"""Vectorised numpy/scipy sliding-window moments (uniform_filter of x..x^4) on one image, then
scikit-learn KMeans(3) fitted on a 1 % sample and predicting every window.
Usage: python3 window_reference.py IMAGE.tif WINDOW"""
import sys, time
import numpy as np, tifffile
from scipy.ndimage import uniform_filter
from sklearn.cluster import KMeans

t0 = time.perf_counter()
im = tifffile.imread(sys.argv[1]).astype(np.float64); w = int(sys.argv[2])
c = im.mean(); d = im - c
m1 = uniform_filter(d, w); m2 = uniform_filter(d * d, w); m3 = uniform_filter(d ** 3, w); m4 = uniform_filter(d ** 4, w)
var = np.maximum(m2 - m1 ** 2, 1e-12)
mean = m1 + c; std = np.sqrt(var)
skew = (m3 - 3 * m1 * m2 + 2 * m1 ** 3) / var ** 1.5
kurt = (m4 - 4 * m1 * m3 + 6 * m1 ** 2 * m2 - 3 * m1 ** 4) / var ** 2 - 3
X = np.stack([mean, std, skew, kurt], -1).reshape(-1, 4).astype(np.float32)
X = (X - X.mean(0)) / X.std(0)
t1 = time.perf_counter()
rng = np.random.default_rng(0)
sample = X[rng.choice(len(X), len(X) // 100, replace=False)]
km = KMeans(3, n_init=1, random_state=0).fit(sample)
labels = km.predict(X)
print(f"python window: {len(X)} windows, moments {t1 - t0:.3f} s, kmeans {time.perf_counter() - t1:.3f} s, total {time.perf_counter() - t0:.3f} s, sizes {np.bincount(labels).tolist()}")
