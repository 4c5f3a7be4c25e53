"""Validate Cleave feature stacks (from `cleave features`) on the two training slices only:
train on 0000 (2000 random labelled px/class), score all of 0200, and the reverse.
Usage: python3 bench/filters/evaluate_cleave_features.py DIR [DIR ...]   (stacks concatenated)
"""
import sys, numpy as np, tifffile
from sklearn.ensemble import RandomForestClassifier
D = '/work/shared/data/sandstone-xrm/'
def stack(s):
    return np.concatenate([tifffile.imread(f'{d}/Sandstone_Versa{s}-features.tif').reshape(-1, 1024 * 996).T
                           for d in sys.argv[1:]], 1)
def sample(lab, seed):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.choice(np.flatnonzero(lab == k), 2000, replace=False) for k in (1, 2, 3, 4)])
F = {s: stack(s) for s in ('0000', '0200')}
L = {s: tifffile.imread(f'{D}labels/Sandstone_Versa{s}.tif').ravel() for s in F}
res = []
for tr, va in (('0000', '0200'), ('0200', '0000')):
    idx = sample(L[tr], 42)
    p = RandomForestClassifier(100, n_jobs=2, random_state=0).fit(F[tr][idx], L[tr][idx]).predict(F[va])
    res.append([np.sum((L[va] == k) & (p == k)) / np.sum((L[va] == k) | (p == k)) for k in (1, 2, 3, 4)])
r = np.mean(res, 0)
print(' + '.join(sys.argv[1:]), f'F={F["0000"].shape[1]}', 'IoU ' + ' '.join(f'{v:.3f}' for v in r), f'mean {r.mean():.4f}')
