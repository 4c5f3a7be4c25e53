# Variants of the Locator's line check (LocatorLines) on Cleave's own clusterings, and the
# leave-one-set-out choice of its settings. Usage (after bench/locator/line_check.sh OUT):
#   python3 bench/locator/line_check.py OUT [DATA]
# Each set's run OUT/<set>-off was made with --no-line-check (the clustering and pick without the
# check); this script recomputes the line strength of every patch with scipy (per patch less its
# least-squares plane, mode 'reflect', ridge = σ²·max(λ₁ − |λ₂|, 0), percentile / patch median), applies the rule (largest
# unpicked cluster = film; unpicked patches above Q3 + f·IQR of its strengths join the pick)
# and scores the pick. Scores: asbestos = F1 of X patches (M left out); dataset1 = F1 of
# crystal patches (C and B) among picked; synthetic = particle-patch F1 (score_run.py).
import csv, json, os, sys, itertools
import numpy as np, tifffile
from scipy import ndimage as ndi
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import score_run

def detrend(p):
    # The patch less its least-squares plane (LocatorLines.strength: no crease at the reflected border).
    h, w = p.shape; y, x = np.mgrid[0:h, 0:w]; x = x - (w - 1) / 2; y = y - (h - 1) / 2
    return p - x * (x * p).sum() / (x * x).sum() - y * (y * p).sum() / (y * y).sum()

def ridge(a, s):
    hxx = ndi.gaussian_filter(a, s, order=(0, 2)); hyy = ndi.gaussian_filter(a, s, order=(2, 0)); hxy = ndi.gaussian_filter(a, s, order=(1, 1))
    tr = (hxx + hyy) / 2; d = np.sqrt(((hxx - hyy) / 2) ** 2 + hxy ** 2)
    return s * s * np.clip((tr + d) - np.abs(tr - d), 0, None)

SIGMAS, PERCENTILES, FENCES = (2.0, 3.0), (99.0, 99.9), (1.5, 3.0)

def strengths(run, folder):
    rows = list(csv.DictReader(open(run + '/patches.csv'))); cache = {}; out = {}
    for r in rows:
        if r['image'] not in cache: cache[r['image']] = tifffile.imread(folder + '/' + r['image']).astype(np.float64)
        x, y, w, h = int(r['x']), int(r['y']), int(r['width']), int(r['height'])
        p = cache[r['image']][y:y + h, x:x + w]; med = np.median(p)
        for s in SIGMAS:
            R = ridge(detrend(p), s)
            for q in PERCENTILES: out.setdefault((s, q), []).append(np.percentile(R, q) / med if med > 0 else 0.0)
    return rows, {k: np.array(v) for k, v in out.items()}

def rule(rows, L, dark, fence_k):
    cl = np.array([int(r['cluster']) for r in rows]); pk = np.array([r['picked'] == '1' for r in rows])
    kept = cl != dark if dark is not None else np.ones(len(rows), bool)
    picked = cl[pk][0] if pk.any() else -1
    sizes = np.bincount(cl[kept], minlength=cl.max() + 1); sizes[picked] = -1
    film = int(np.argmax(sizes))
    q1, q3 = np.percentile(L[cl == film], [25, 75]); fence = q3 + fence_k * (q3 - q1)
    add = kept & ~pk & (L > fence)
    return pk | add, int(add.sum())

def score(name, ref, rows, picked):
    if name == 'dataset1':
        lab = {(l['image'], int(l['row']), int(l['col'])): l['class'] for l in csv.DictReader(open(ref))}
        t = np.array([lab[(r['image'], int(r['row']), int(r['col']))] for r in rows]); pos = t != 'A'
        tp = int((picked & pos).sum()); fp = int((picked & ~pos).sum()); fn = int((~picked & pos).sum())
        return dict(f1=round(2 * tp / max(1, 2 * tp + fp + fn), 3), tp=tp, fp=fp, fn=fn)
    tmp = '/tmp/line_check_score'; os.makedirs(tmp, exist_ok=True)
    with open(tmp + '/patches.csv', 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys())); w.writeheader()
        for r, p in zip(rows, picked): r = dict(r); r['picked'] = '1' if p else '0'; w.writerow(r)
    s = score_run.synthetic(tmp, ref) if os.path.isdir(ref) else score_run.labelled(tmp, ref)
    return {k: s[k] for k in ('f1', 'tp', 'fp', 'fn', 'picked_half_bar') if k in s}

OUT = sys.argv[1]; D = (sys.argv[2] if len(sys.argv) > 2 else '../shared/data') + '/tem-microcrystals'
sets = [('asbestos', D + '/asbestos-fibres-holey-film', D + '/asbestos-fibres-holey-film/patch-labels.csv'),
        ('dataset1', D + '/dataset1-graphite-30kx', D + '/dataset1-graphite-30kx/patch-labels.csv'),
        ('dataset2', D + '/dataset2-graphite-3kx-gridbars', None)]
sets += [(f's1-c{c}-a{a}', f'{OUT}/s1-c{c}-a{a}', f'{OUT}/s1-c{c}-a{a}') for c in ('0.1', '0.3', '0.5', '0.8') for a in ('0', '37')]
sets += [(f'e{s}', f'{OUT}/e{s}', f'{OUT}/e{s}') for s in (1, 2)]
variants = list(itertools.product(SIGMAS, PERCENTILES, FENCES))
table = {}
for name, folder, ref in sets:
    run = f'{OUT}/{name}-off'
    if not os.path.exists(run + '/patches.csv'): print('missing', run); continue
    dark = json.load(open(run + '/summary.json')).get('dark_group')
    rows, L = strengths(run, folder)
    pk = np.array([r['picked'] == '1' for r in rows])
    base = score(name, ref, rows, pk) if ref else dict(picked=int(pk.sum()))
    print(f'{name:12s} no check       ', base)
    for s, q, f in variants:
        picked, added = rule(rows, L[(s, q)], dark, f)
        r = score(name, ref, rows, picked) if ref else dict(picked=int(picked.sum()))
        r['added'] = added; table[(name, (s, q, f))] = r
        print(f'{name:12s} σ {s} p{q} fence {f}', r)
scored = [n for n, _, ref in sets if ref and (n, variants[0]) in table]
# Synthetic cells count as one set ("synthetic", mean F1) in the leave-one-set-out choice.
groups = {'asbestos': ['asbestos'], 'dataset1': ['dataset1'], 'synthetic': [n for n in scored if n.startswith(('s1-', 'e'))]}
def mean_f1(group, v): return float(np.mean([table[(n, v)]['f1'] for n in groups[group]]))
print('\nleave-one-set-out (variant chosen by mean F1 over the other groups; ties → the listed default σ 3 p99.9 fence 3 first):')
default = (3.0, 99.9, 3.0); order = [default] + [v for v in variants if v != default]
for held in groups:
    best = max(order, key=lambda v: np.mean([mean_f1(g, v) for g in groups if g != held]))
    print(f'  held out {held:10s}: chosen σ {best[0]} p{best[1]} fence {best[2]} → held-out F1 {mean_f1(held, best):.3f} (default {mean_f1(held, default):.3f})')
