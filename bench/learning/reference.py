"""scikit-learn reference for the CleaveLearning benchmark (same files, same protocol).

  reference.py assign FILE ROWS COLUMNS K SAMPLE   KMeans fitted on a seeded SAMPLE-row sample, predict all rows
  reference.py recluster FILE ROWS COLUMNS K...    KMeans(k) fitted on all rows (cached features, new k)
  reference.py agglomerative FILE ROWS COLUMNS K N  ward / average linkage and silhouette on the first N rows

Prints `TIME <name> <seconds>` lines (best of 3) that run.sh pairs with Cleave's.
"""
import sys, time
import numpy as np
from sklearn.cluster import KMeans, AgglomerativeClustering
from sklearn.metrics import silhouette_score

mode, path, rows, columns = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
X = np.fromfile(path, dtype=np.float32).reshape(rows, columns)
rng = np.random.default_rng(0)

def best_of(f, repeats=3):
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter(); out = f(); best = min(best, time.perf_counter() - t0)
    return best, out

if mode == "assign":
    k, sample = int(sys.argv[5]), int(sys.argv[6])
    def run():
        idx = rng.choice(rows, sample, replace=False)
        km = KMeans(k, n_init=1, random_state=0).fit(X[idx])
        return km.predict(X)
    t, labels = best_of(run)
    print(f"sklearn kmeans k={k} fit(sample {sample}) + predict {rows} rows: {t:.3f} s; sizes {sorted(np.bincount(labels).tolist())}")
    print(f"TIME assign-k{k} {t:.6f}")
elif mode == "agglomerative":
    k, n = int(sys.argv[5]), int(sys.argv[6])
    Y = X[:n]
    for linkage in ("ward", "average"):
        t0 = time.perf_counter(); labels = AgglomerativeClustering(k, linkage=linkage).fit_predict(Y); t = time.perf_counter() - t0
        print(f"sklearn agglomerative {linkage} n={n} k={k}: {t:.3f} s")
        print(f"TIME agglomerative-{linkage}-{n} {t:.6f}")
        if linkage == "ward":
            t0 = time.perf_counter(); s = silhouette_score(Y, labels); t = time.perf_counter() - t0
            print(f"sklearn silhouette n={n}: {s:.4f} in {t:.3f} s")
            print(f"TIME silhouette-{n} {t:.6f}")
else:
    for k in map(int, sys.argv[5:]):
        t, km = best_of(lambda: KMeans(k, random_state=0).fit(X))
        print(f"sklearn recluster k={k} (n_init=auto): {t * 1000:.1f} ms, inertia {km.inertia_:.6g}, iterations {km.n_iter_}")
        print(f"TIME recluster-k{k} {t:.6f}")
