"""Learning from picks (issue 18 item 4), leave-one-tile-out on the labelled real sets.

Usage: python3 bench/locator/pick_learning.py CLEAVE [DATA]   (DATA = ../shared/data/tem-microcrystals)

Per set and held-out tile (the grid and all other flags are the defaults, --grid 4x4 as labelled):
  1. train: `cleave locate OTHER_TILES --grid 4x4 --no-pictures`; the simulated user picks the
     cluster with the best F1 against the training tiles' own labels (what a user sees on the
     overlays), then `... --pick N --save-model m.json` (centroids + pick classifier).
  2. held-out tile, three routes as a user types them:
       clustering   `cleave locate TILE --grid 4x4` (a fresh clustering, automatic pick)
       centroids    `cleave locate TILE --grid 4x4 --model m.json --no-classifier`
       classifier   `cleave locate TILE --grid 4x4 --model m.json`
  3. Python reference in the same run: scikit-learn RandomForestClassifier (100 trees, the same
     defaults) trained on the same table (the training run's patches.csv features scaled with
     the model's scaler, the clusters as classes) predicts the held-out patches; and, as an upper
     bound that picks cannot reach, the same forest trained on the training tiles' hand labels.
Scores: F1 of the positive patches among the picked ones, pooled over the held-out tiles
(dataset1: B partial + C crystal positive, A negative; fibres: X positive, F negative, M ignored).
"""
import csv, json, os, subprocess, sys, tempfile
import numpy as np
from sklearn.ensemble import RandomForestClassifier

CLEAVE = sys.argv[1]
DATA = sys.argv[2] if len(sys.argv) > 2 else '../shared/data/tem-microcrystals'
SETS = [('dataset1-graphite-30kx', {'B', 'C'}, set()), ('asbestos-fibres-holey-film', {'X'}, {'M'})]
META = ['image', 'row', 'col', 'x', 'y', 'width', 'height', 'cluster', 'heat', 'picked']


def run(args):
    out = subprocess.run([CLEAVE, 'locate', *args], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f'cleave locate {" ".join(args)} failed: {out.stderr.strip()}')
    return out.stdout


def table(folder):
    rows = list(csv.DictReader(open(folder + '/patches.csv')))
    features = [k for k in rows[0] if k not in META]
    return rows, features


def f1_counts(picked, positive):
    tp = sum(p and q for p, q in zip(picked, positive)); fp = sum(p and not q for p, q in zip(picked, positive))
    fn = sum(q and not p for p, q in zip(picked, positive))
    return np.array([tp, fp, fn])


def f1(c):
    tp, fp, fn = c
    p = tp / max(1, tp + fp); r = tp / max(1, tp + fn)
    return 2 * p * r / max(1e-9, p + r), p, r


def main():
    work = tempfile.mkdtemp()
    for name, positives, ignored in SETS:
        folder = f'{DATA}/{name}'
        labels = {(l['image'], int(l['row']), int(l['col'])): l['class'] for l in csv.DictReader(open(folder + '/patch-labels.csv'))}
        tiles = sorted(f for f in os.listdir(folder) if f.endswith('.tif'))
        totals = {k: np.zeros(3, int) for k in ['clustering', 'centroids', 'classifier', 'sklearn (clusters)', 'sklearn (hand labels)']}
        agreement = [0, 0]
        print(f'== {name}: leave-one-tile-out, {len(tiles)} folds')
        for held in tiles:
            train = [f'{folder}/{t}' for t in tiles if t != held]
            t_out, m = f'{work}/{name}-{held}-train', f'{work}/{name}-{held}.json'
            run([*train, '--out', t_out, '--grid', '4x4', '--no-pictures'])
            rows, feats = table(t_out)
            k = max(int(r['cluster']) for r in rows) + 1
            def scored(r):
                c = labels.get((r['image'], int(r['row']), int(r['col'])))
                return c is not None and c not in ignored
            best = max(range(k), key=lambda c: (f1(f1_counts([int(r['cluster']) == c for r in rows if scored(r)],
                                                              [labels[(r['image'], int(r['row']), int(r['col']))] in positives for r in rows if scored(r)]))[0], -c))
            run([*train, '--out', t_out, '--grid', '4x4', '--no-pictures', '--pick', str(best), '--save-model', m])
            rows, feats = table(t_out)
            model = json.load(open(m))
            assert model['version'] == 3 and model.get('tails') is None and model.get('classifier')
            center, scale = np.array(model['scaler']['center']), np.array(model['scaler']['scale'])
            results = {}
            for route, extra in [('clustering', []), ('centroids', ['--model', m, '--no-classifier']), ('classifier', ['--model', m])]:
                out = f'{work}/{name}-{held}-{route}'
                run([f'{folder}/{held}', '--out', out, '--grid', '4x4', '--no-pictures', *extra])
                results[route] = table(out)[0]
            held_rows = results['classifier']
            # The reference forests: the training run's non-dark patches, scaled with the model's scaler.
            train_rows = [r for r in rows if int(r['cluster']) < k]
            X = (np.array([[float(r[f]) for f in feats] for r in train_rows]) - center) / scale
            y = np.array([int(r['cluster']) for r in train_rows])
            Xh = (np.array([[float(r[f]) for f in feats] for r in held_rows]) - center) / scale
            dark_held = [int(r['cluster']) >= k for r in held_rows]
            forest = RandomForestClassifier(n_estimators=100, random_state=0).fit(X, y)
            sk_cluster = forest.predict(Xh)
            sk_picked = [(not d) and c == best for c, d in zip(sk_cluster, dark_held)]
            for r, c, d in zip(held_rows, sk_cluster, dark_held):
                if not d: agreement[0] += int(r['cluster']) == c; agreement[1] += 1
            hand = [(r, labels.get((r['image'], int(r['row']), int(r['col'])))) for r in train_rows]
            hand = [(r, c) for r, c in hand if c is not None and c not in ignored]
            Xl = (np.array([[float(r[f]) for f in feats] for r, _ in hand]) - center) / scale
            yl = np.array([c in positives for _, c in hand])
            hand_picked = RandomForestClassifier(n_estimators=100, random_state=0).fit(Xl, yl).predict(Xh) if yl.any() else np.zeros(len(Xh), bool)
            line = [f'  {held}: pick {best} of {k}']
            for route in ['clustering', 'centroids', 'classifier', 'sklearn (clusters)', 'sklearn (hand labels)']:
                source = results.get(route, held_rows)
                picked = {'sklearn (clusters)': sk_picked, 'sklearn (hand labels)': list(hand_picked)}.get(route)
                if picked is None: picked = [r['picked'] == '1' for r in source]
                keep = [i for i, r in enumerate(source) if (lab := labels.get((r['image'], int(r['row']), int(r['col'])))) is not None and lab not in ignored]
                positive = [labels[(source[i]['image'], int(source[i]['row']), int(source[i]['col']))] in positives for i in keep]
                c = f1_counts([bool(picked[i]) for i in keep], positive)
                totals[route] += c
                line.append(f'{route} {c[0]}/{c[1]}/{c[2]}')
            print('; '.join(line) + '  (tp/fp/fn)')
        for route, c in totals.items():
            F, P, R = f1(c)
            print(f'  pooled {route:22s} F1 {F:.3f}  precision {P:.3f}  recall {R:.3f}  (tp {c[0]}, fp {c[1]}, fn {c[2]})')
        print(f'  Cleave forest vs scikit-learn forest: same cluster on {agreement[0]}/{agreement[1]} held-out patches')


main()
