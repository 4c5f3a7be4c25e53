"""One-off check of the chosen default bank on the issue-4 protocol (sklearn forest as a stand-in
for Cleave's): train on 0000 + 0200 (2000 random labelled px/class/slice), predict the 7 others.
Run once for the record after the bank was chosen on the training slices; not used for tuning.
Usage: python3 bench/filters/protocol_check.py [bank ...]   (banks from bank_selection.py)
"""
import sys
sys.argv, banks = sys.argv[:1], sys.argv[1:] or ['skimage', 'lean']
src = open(__file__.replace('protocol_check.py', 'bank_selection.py')).read().split('slices = {s: load(s)')[0]
exec(src)
train, test = ['0000', '0200'], ['0050', '0100', '0150', '0250', '0300', '0350', '0400']
for bank in banks:
    X, y = [], []
    for i, s in enumerate(train):
        img, lab = load(s); F = features_for(bank, img)
        idx = sample(lab, 1000 + i)
        X.append(F.reshape(-1, F.shape[-1])[idx]); y.append(lab.ravel()[idx])
    rf = RandomForestClassifier(100, n_jobs=2, random_state=0).fit(np.concatenate(X), np.concatenate(y))
    # Class frequencies of the training label images (the balanced sampling hides them from the forest).
    prior = np.array([sum(np.sum(load(s)[1] == k) for s in train) for k in (1, 2, 3, 4)], float); prior /= prior.sum()
    inter = np.zeros(4); union = np.zeros(4); inter_s = np.zeros(4); union_s = np.zeros(4)
    inter_p = np.zeros(4); union_p = np.zeros(4)
    for s in test:
        img, lab = load(s); F = features_for(bank, img)
        P = rf.predict_proba(F.reshape(-1, F.shape[-1])).reshape(lab.shape + (4,))
        for smooth, (I, U) in ((0, (inter, union)), (1.5, (inter_s, union_s)), ('prior', (inter_p, union_p))):
            if smooth == 'prior': Q = P * prior
            else: Q = P if smooth == 0 else np.stack([ndi.gaussian_filter(P[..., k], smooth) for k in range(4)], -1)
            p = Q.argmax(-1) + 1
            for k in range(4):
                I[k] += np.sum((lab == k + 1) & (p == k + 1)); U[k] += np.sum((lab == k + 1) | (p == k + 1))
    for name, I, U in (('', inter, union), ('+prob smoothing 1.5', inter_s, union_s), ('+prior correction', inter_p, union_p)):
        r = I / U
        print(f'{bank:10s}{name:20s} IoU ' + ' '.join(f'{v:.3f}' for v in r) + f'  mean {r.mean():.4f}', flush=True)
