"""Choosing the default FilterBank without touching the 7 test slices.

Mirrors Cleave's features with scipy (same kernels, reflect boundary) and compares banks with
scikit-learn's RandomForestClassifier(100) using only the two TRAINING slices of the issue-4
protocol: train on 0000 (2000 random labelled px/class), validate on all of 0200, and vice versa.

Run: python3 bench/filters/bank_selection.py [bank ...]
"""
import sys, time
import numpy as np, scipy.ndimage as ndi, tifffile
from skimage.feature import multiscale_basic_features
from sklearn.ensemble import RandomForestClassifier

D = '/work/shared/data/sandstone-xrm/'
def load(s):
    return (tifffile.imread(f'{D}images/Sandstone_Versa{s}.tif').astype(np.float32),
            tifffile.imread(f'{D}labels/Sandstone_Versa{s}.tif'))

S = [0.7, 1.0, 1.6, 3.5, 5.0, 10.0]
g = lambda a, s, o=0: ndi.gaussian_filter(a, s, order=o, mode='reflect')

def eig2(a, b, c):
    m = (a + c) / 2; r = np.sqrt(b * b + ((a - c) / 2) ** 2)
    return [m + r, m - r]

def feats(img, spec):
    out = []
    for name, scales in spec:
        for s in scales:
            if name == 'gaussian': out.append(img if s == 0 else g(img, s))
            elif name == 'ggm': out.append(ndi.gaussian_gradient_magnitude(img, s))
            elif name == 'log': out.append(ndi.gaussian_laplace(img, s))
            elif name == 'dog': out.append(g(img, 0.66 * s) - g(img, s))
            elif name == 'hessian': out += eig2(g(img, s, (2, 0)), g(img, s, (1, 1)), g(img, s, (0, 2)))
            elif name == 'st':
                gr, gc = g(img, s, (1, 0)), g(img, s, (0, 1))
                out += eig2(g(gr * gr, s / 2), g(gr * gc, s / 2), g(gc * gc, s / 2))
            else:
                w = 2 * int(2 * s + 0.5) + 1
                if name == 'mean': out.append(ndi.uniform_filter(img, w))
                elif name == 'std':
                    m = ndi.uniform_filter(img, w); out.append(np.sqrt(np.maximum(ndi.uniform_filter(img * img, w) - m * m, 0)))
                elif name == 'min': out.append(ndi.minimum_filter(img, w))
                elif name == 'max': out.append(ndi.maximum_filter(img, w))
    return np.stack(out, -1).astype(np.float32)

BANKS = {
    'skimage': None,
    'ilastik': [('gaussian', [0.3] + S), ('log', S), ('ggm', S), ('dog', S), ('st', S), ('hessian', S)],
    'default0': [('gaussian', [0] + S), ('ggm', S), ('log', S), ('hessian', S), ('st', S), ('std', [1.0, 1.6, 3.5])],
    'gauss_only': [('gaussian', [0] + S)],
    'g_ggm_hess': [('gaussian', [0] + S), ('ggm', S), ('hessian', S)],
    'g_ggm_hess_st': [('gaussian', [0] + S), ('ggm', S), ('hessian', S), ('st', S)],
    'g_ggm_hess_log': [('gaussian', [0] + S), ('ggm', S), ('log', S), ('hessian', S)],
    'g_ggm_hess_win': [('gaussian', [0] + S), ('ggm', S), ('hessian', S), ('std', [1.0, 1.6, 3.5]), ('min', [1.0, 1.6]), ('max', [1.0, 1.6])],
    'default1': [('gaussian', [0] + S), ('ggm', S), ('log', S), ('hessian', S), ('st', S),
                 ('std', [1.0, 1.6, 3.5]), ('min', [1.0, 1.6]), ('max', [1.0, 1.6])],
    'win2': [('gaussian', [0] + S), ('ggm', S), ('hessian', S), ('st', S),
             ('std', [1.0, 1.6, 3.5]), ('min', [0.7, 1.0, 1.6, 3.5]), ('max', [0.7, 1.0, 1.6, 3.5])],
    'win3': [('gaussian', [0] + S), ('ggm', S), ('hessian', S),
             ('std', [0.7, 1.0, 1.6, 3.5, 5.0]), ('min', [0.7, 1.0, 1.6, 3.5, 5.0]), ('max', [0.7, 1.0, 1.6, 3.5, 5.0])],
    'win2_16': [('gaussian', [0] + S + [16.0]), ('ggm', S + [16.0]), ('hessian', S), ('st', S),
             ('std', [1.0, 1.6, 3.5]), ('min', [0.7, 1.0, 1.6, 3.5]), ('max', [0.7, 1.0, 1.6, 3.5])],
    'win_mean': [('gaussian', [0] + S), ('ggm', S), ('hessian', S),
             ('mean', [1.0, 3.5]), ('std', [1.0, 1.6, 3.5]), ('min', [1.0, 1.6, 3.5]), ('max', [1.0, 1.6, 3.5])],
    'lean': [('gaussian', [0] + S), ('ggm', S), ('hessian', S),
             ('std', [0.7, 1.0, 1.6, 3.5]), ('min', [0.7, 1.0, 1.6, 3.5]), ('max', [0.7, 1.0, 1.6, 3.5])],
}

def features_for(bank, img):
    if BANKS[bank] is None:
        return multiscale_basic_features(img / 255.0)
    return feats(img, BANKS[bank])

def sample(lab, seed):
    rng = np.random.default_rng(seed); idx = []
    for k in (1, 2, 3, 4):
        where = np.flatnonzero(lab.ravel() == k)
        idx.append(rng.choice(where, 2000, replace=False))
    return np.concatenate(idx)

def iou(t, p):
    return [np.sum((t == k) & (p == k)) / np.sum((t == k) | (p == k)) for k in (1, 2, 3, 4)]

slices = {s: load(s) for s in ('0000', '0200')}
for bank in (sys.argv[1:] or BANKS):
    t0 = time.time()
    F = {s: features_for(bank, slices[s][0]) for s in slices}
    tf = time.time() - t0
    res = []
    for tr, va in (('0000', '0200'), ('0200', '0000')):
        idx = sample(slices[tr][1], 42)
        X = F[tr].reshape(-1, F[tr].shape[-1])[idx]; y = slices[tr][1].ravel()[idx]
        rf = RandomForestClassifier(100, n_jobs=2, random_state=0).fit(X, y)
        p = rf.predict(F[va].reshape(-1, F[va].shape[-1])).reshape(slices[va][1].shape)
        res.append(iou(slices[va][1], p))
    r = np.mean(res, 0)
    print(f'{bank:16s} F={F["0000"].shape[-1]:3d} feat {tf:5.1f}s  IoU ' + ' '.join(f'{v:.3f}' for v in r) + f'  mean {r.mean():.4f}', flush=True)
