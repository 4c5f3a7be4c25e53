"""Independent check of `cleave lithology` on the simulated sandstone scans: the region classes
are derived again here with numpy/scipy (the rules in `cleave lithology --help`), the grey-mean
baseline is fitted again, and both accuracies are recomputed from Cleave's <stem>-blocks.csv.

Usage: python3 bench/lithology/reference.py SIM OUT TRAIN... -- TEST...
  SIM: the folder simulate.py wrote; OUT: cleave lithology's --out; names like 0000.
"""
import csv, json, os, sys
import numpy as np
import tifffile
from scipy import ndimage as ndi

sim, out = sys.argv[1], sys.argv[2]
rest = sys.argv[3:]
train, test = rest[:rest.index("--")], rest[rest.index("--") + 1:]
B, S, PORE = 64, 4, 1
summary = json.load(open(os.path.join(out, "summary.json")))

def measure(labels):
    rows, cols = labels.shape[0] // B, labels.shape[1] // B
    pore = labels == PORE
    blocks = pore[:rows * B, :cols * B].reshape(rows, B, cols, B)
    empty = blocks.mean(axis=(1, 3)) >= 0.9
    border = np.zeros_like(empty); border[0, :] = border[-1, :] = border[:, 0] = border[:, -1] = True
    lab, _ = ndi.label(empty)                      # 4-connectivity in the block grid
    seeds = np.isin(lab, np.unique(lab[border & empty])) & empty
    comp, n = ndi.label(pore, structure=np.ones((3, 3)))
    outside_ids = np.unique(comp[:rows * B, :cols * B].reshape(rows, B, cols, B)[seeds.nonzero()[0], :, seeds.nonzero()[1], :])
    outside_ids = outside_ids[outside_ids > 0]
    outside = np.isin(comp, outside_ids)
    inside_pore = pore & ~outside
    ic, m = ndi.label(inside_pore, structure=np.ones((3, 3)))
    crack = np.zeros(m + 1, bool)
    for i, sl in enumerate(ndi.find_objects(ic), start=1):
        ys, xs = np.nonzero(ic[sl] == i)
        if len(xs) < 2: continue
        xs = xs + sl[1].start; ys = ys + sl[0].start
        a, b, c = xs.var(), ys.var(), np.mean(xs * ys) - xs.mean() * ys.mean()
        root = np.sqrt((a - b) ** 2 / 4 + c * c)
        major, minor = (a + b) / 2 + root, max((a + b) / 2 - root, 1 / 12)
        crack[i] = np.sqrt(major / minor) >= 6 and 4 * np.sqrt(major) >= B
    out_share = outside[:rows * B, :cols * B].reshape(rows, B, cols, B).mean(axis=(1, 3))
    inside = (~outside)[:rows * B, :cols * B].reshape(rows, B, cols, B).sum(axis=(1, 3))
    pores = inside_pore[:rows * B, :cols * B].reshape(rows, B, cols, B).sum(axis=(1, 3))
    cracks = crack[ic][:rows * B, :cols * B].reshape(rows, B, cols, B).sum(axis=(1, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        return out_share.ravel(), (pores / inside).ravel(), np.where(inside > 0, cracks / np.maximum(inside, 1), 0).ravel()

def classes(m, t):
    o, p, f = m
    c = np.where(p >= t, 3, 2)
    c = np.where(f >= 0.02, 4, c)
    return np.where((o >= 0.5) | ~np.isfinite(p), 1, c)

def read(name):
    return tifffile.imread(f"{sim}/labels/Sandstone_Versa{name}.tif"), tifffile.imread(f"{sim}/low/Sandstone_Versa{name}.tif").astype(float)

def block_means(low, rows, cols):
    b = B // S
    return low[:rows * b, :cols * b].reshape(rows, b, cols, b).mean(axis=(1, 3)).ravel()

tm = [measure(read(n)[0]) for n in train]
allm = [np.concatenate(x) for x in zip(*tm)]
o, p, f = allm
sample = (o < 0.5) & np.isfinite(p) & (f < 0.02)
t = float(np.median(p[sample]))
print(f"porosity threshold: reference {t:.6f}, Cleave {summary['porosityThreshold']:.6f}")
ytrain = np.concatenate([classes(m, t) for m in tm])
means = np.concatenate([block_means(read(n)[1], read(n)[0].shape[0] // B, read(n)[0].shape[1] // B) for n in train])
# Baseline: classes ordered by median mean; best threshold between neighbours (first minimum).
present = sorted(set(ytrain.tolist()), key=lambda c: (np.sort(means[ytrain == c])[len(means[ytrain == c]) // 2], c))
ths = []
for lo, hi in zip(present, present[1:]):
    sel = (ytrain == lo) | (ytrain == hi)
    order = np.argsort(means[sel], kind="stable"); v = means[sel][order]; y = ytrain[sel][order]
    err = int((y == lo).sum()); best = (err, v[0])
    for j in range(len(v)):
        err += -1 if y[j] == lo else 1
        th = (v[j] + v[j + 1]) / 2 if j + 1 < len(v) else v[j] + 1
        if err < best[0]: best = (err, th)
    ths.append(max(best[1], ths[-1] if ths else -np.inf))
print(f"baseline thresholds: reference {np.round(ths, 4).tolist()}, Cleave {np.round(summary['baseline']['thresholds'], 4).tolist()}")
total = dict(n=0, forest=0, base=0, base_ref=0)
for n in test:
    labels, low = read(n)
    truth = classes(measure(labels), t)
    rows = list(csv.DictReader(open(f"{out}/Sandstone_Versa{n}-blocks.csv")))
    cols = labels.shape[1] // B
    for r in rows:
        i = int(r["block_row"]) * cols + int(r["block_column"])
        if int(r["block_row"]) >= labels.shape[0] // B or int(r["block_column"]) >= cols: continue
        total["n"] += 1
        total["forest"] += int(r["class"]) == truth[i]
        total["base"] += int(r["baseline_class"]) == truth[i]
        total["base_ref"] += present[int(np.searchsorted(ths, float(r["grey_mean"]), side="right"))] == truth[i]
acc = summary.get("accuracy", {})
print(f"blocks {total['n']}: forest {total['forest'] / total['n']:.4f} (Cleave says {acc.get('forest', float('nan')):.4f}), "
      f"baseline {total['base'] / total['n']:.4f} (Cleave says {acc.get('baseline', float('nan')):.4f}; reference thresholds {total['base_ref'] / total['n']:.4f})")
