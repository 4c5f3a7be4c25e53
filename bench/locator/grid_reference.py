"""The study's Python approach on a tile set: statistics per patch with numpy/scipy/scikit-image,
then scikit-learn z-score + KMeans(3). Same statistics as `cleave locate --features all`.
Usage: python3 grid_reference.py FOLDER ROWS COLS"""
import sys, glob, time
import numpy as np, tifffile
from scipy import stats, ndimage
from skimage.feature import graycomatrix, graycoprops
from sklearn.preprocessing import StandardScaler
from sklearn.cluster import KMeans

t0 = time.perf_counter()
folder, R, C = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
files = sorted(glob.glob(folder + '/*.tif'))
images = [tifffile.imread(f) for f in files]
film = np.median(np.concatenate([i.ravel() for i in images]))
rows = []
for im in images:
    g = ndimage.gaussian_gradient_magnitude(im.astype(np.float64), 2.0)
    H, W = im.shape
    for r in range(R):
        for c in range(C):
            sl = (slice(r * H // R, (r + 1) * H // R), slice(c * W // C, (c + 1) * W // C))
            p = im[sl]; a = p.astype(np.float64).ravel(); gp = g[sl].ravel()
            m, s = a.mean(), a.std()
            h, e = np.histogram(a, bins=1024); k = np.argmax(h)
            q = np.percentile(a, [1, 5, 25, 50, 75, 95, 99])
            lo, hi = a.min(), a.max()
            qz = np.minimum(((p - lo) * (32 / max(hi - lo, 1e-12))).astype(int), 31).astype(np.uint8)
            G = graycomatrix(qz, [1], [0, np.pi / 4, np.pi / 2, 3 * np.pi / 4], levels=32, symmetric=True, normed=True)
            rows.append([m, s, s / m, stats.skew(a), stats.kurtosis(a), (e[k] + e[k + 1]) / 2, lo, hi, hi - lo, q[3],
                         q[0], q[1], q[2], q[4], q[5], q[6], q[4] - q[2], q[3] - q[0], q[6] - q[3], (a < 0.8 * film).mean(),
                         gp.mean(), gp.std(), np.percentile(gp, 95)] +
                        [graycoprops(G, prop).mean() for prop in ['contrast', 'homogeneity', 'energy', 'correlation', 'entropy']])
X = StandardScaler().fit_transform(np.array(rows))
labels = KMeans(3, n_init=10, random_state=0).fit_predict(X)
print(f"python grid: {len(rows)} patches x {X.shape[1]} features, sizes {np.bincount(labels).tolist()}, {time.perf_counter() - t0:.3f} s")
