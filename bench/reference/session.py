"""How good are the workbench's implicit reference labels? (issue 22, item 6)

A scripted user works on a real labelled slice whose labels are the hidden truth, through the HTTP
API exactly as the page calls it: paints strokes (some spill over class borders, as quick strokes
do), makes slips and undoes them at once, clusters and picks the cluster that looks like a phase,
trains, predicts, accepts, paints corrections where the accepted result is wrong, and accepts
again. After each step the reference labels the workbench derives (GET /reference/labels.tif and
/provenance.tif) are compared with the truth per provenance class: strong (painted), weak (picked
cluster or accepted result), and the discarded slips.

Usage: python3 bench/reference/session.py HOST PORT IMAGE LABELS [SEED]
(bench/reference/run.sh starts `cleave serve` and calls this.)
"""
import io, os, random, sys

import numpy as np
import tifffile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))
from workbench_client import Workbench, stroke_maker  # noqa: E402

HOST, PORT, IMAGE, LABELS = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
SEED = int(sys.argv[5]) if len(sys.argv) > 5 else 7
CLASSES = [(1, "pore", "#0072b2"), (2, "grain", "#e69f00"), (3, "clay", "#009e73"), (4, "bright", "#cc79a7")]
RADIUS, LENGTH = 4, 24


def scores(reference, provenance, truth, kind):
    """Pixels, accuracy and mean IoU of the labels with this provenance, the IoU averaged over the
    classes these labels assign (a picked cluster names one class; the others are not its claim)."""
    mask = provenance == kind
    n = int(mask.sum())
    if n == 0:
        return n, float("nan"), float("nan")
    ref, tru = reference[mask], truth[mask]
    ious = []
    for value, _, _ in CLASSES:
        a, b = ref == value, tru == value
        if a.any():
            ious.append((a & b).sum() / (a | b).sum())
    return n, float((ref == tru).mean()), float(np.mean(ious))


def main():
    rng = random.Random(SEED)
    truth = tifffile.imread(LABELS)
    careful = stroke_maker(truth, rng, RADIUS, LENGTH)
    quick = stroke_maker(truth, rng, RADIUS, LENGTH, stay_inside=False)
    wb = Workbench(HOST, PORT, user="bench-reference-0001", session="bench-reference-session")
    project = wb.call("POST", "/api/projects", {"name": "implicit-reference"})
    image = wb.upload(project["id"], IMAGE)
    wb.ensure_classes(project["id"], CLASSES)
    H, W = truth.shape
    rows, interactions, slips = [], 0, []

    def checkpoint(what):
        reference = tifffile.imread(io.BytesIO(wb.call("GET", f"/api/images/{image['id']}/reference/labels.tif")))
        provenance = tifffile.imread(io.BytesIO(wb.call("GET", f"/api/images/{image['id']}/reference/provenance.tif")))
        strong, weak = scores(reference, provenance, truth, 2), scores(reference, provenance, truth, 1)
        # A discarded slip must not be in the reference: its points do not carry the slip's class as strong labels.
        leaked = sum(int(provenance[int(y), int(x)] == 2 and reference[int(y), int(x)] == value and truth[int(y), int(x)] != value)
                     for value, points in slips for x, y in points)
        rows.append((interactions, what, strong, weak, (provenance > 0).mean(), len(slips), leaked))
        print(f"{interactions:3d} {what:34s} strong {strong[0]:7d} px acc {strong[1]:.3f} mIoU {strong[2]:.3f} | "
              f"weak {weak[0]:7d} px acc {weak[1]:.3f} mIoU {weak[2]:.3f} | labelled {100 * rows[-1][4]:5.1f} % | "
              f"slips {len(slips)} (leaked {leaked} px)", flush=True)

    def paint(value, maker):
        nonlocal interactions
        wb.call("POST", f"/api/images/{image['id']}/strokes",
                wb.session({"class": value, "radius": RADIUS, "points": maker(value)}))
        interactions += 1

    def slip():
        """A stroke with the wrong class, undone at once (the page's Ctrl+Z within seconds)."""
        nonlocal interactions
        value = rng.choice([1, 2])
        wrong = 2 if value == 1 else 1
        points = careful(value)
        wb.call("POST", f"/api/images/{image['id']}/strokes", wb.session({"class": wrong, "radius": RADIUS, "points": points}))
        wb.call("POST", f"/api/images/{image['id']}/strokes/undo", wb.session({}))
        slips.append((wrong, points))
        interactions += 2

    def train_predict_accept():
        nonlocal interactions
        trained = wb.wait(wb.call("POST", f"/api/images/{image['id']}/train", wb.session({"bank": "default"})))
        predicted = wb.wait(wb.call("POST", f"/api/images/{image['id']}/predict",
                                    wb.session({"modelId": trained["result"]["modelId"]})))
        pid = predicted["result"]["predictionId"]
        wb.call("POST", f"/api/predictions/{pid}/accept", wb.session({}))
        interactions += 3
        return tifffile.imread(io.BytesIO(wb.call("GET", f"/api/predictions/{pid}/labels.tif")))

    checkpoint("start")
    for round_ in range(2):                     # 2 careful strokes per class, one slip
        for value, _, _ in CLASSES:
            paint(value, careful)
        slip()
    checkpoint("8 careful strokes, 2 slips undone")
    for value, _, _ in CLASSES:                 # quick strokes: they may spill over borders
        for _ in range(3):
            paint(value, quick)
    checkpoint("+12 quick strokes")

    # Cluster, then pick the cluster that looks most like one phase (the user judges by eye; here
    # the purest cluster against the truth at 3 000 random pixels stands in for that judgement).
    job = wb.wait(wb.call("POST", f"/api/images/{image['id']}/cluster",
                          wb.session({"mode": "grid", "gridRows": 64, "gridColumns": 64, "clusterCount": 4, "excludeDark": False})))
    cid = job["result"]["clusteringId"]
    votes = {}
    for _ in range(3000):
        x, y = rng.randrange(W), rng.randrange(H)
        c = wb.call("GET", f"/api/clusterings/{cid}/at?x={x}&y={y}")["cluster"]
        if c is not None:
            votes.setdefault(c, []).append(int(truth[y, x]))
    best = max(votes, key=lambda c: (max(np.bincount(votes[c], minlength=5)) / len(votes[c]), len(votes[c])))
    value = int(np.bincount(votes[best], minlength=5).argmax())
    purity = max(np.bincount(votes[best], minlength=5)) / len(votes[best])
    wb.call("POST", f"/api/clusterings/{cid}/pick", wb.session({"cluster": best, "name": CLASSES[value - 1][1], "class": value}))
    interactions += 2
    checkpoint(f"cluster k=4, pick ({CLASSES[value - 1][1]}, {purity:.2f} pure)")

    predicted = train_predict_accept()
    checkpoint("train, predict, accept")
    # Corrections: strokes of the true class where the accepted result is wrong (largest errors first).
    wrong = (predicted != truth) & (truth > 0)
    for _ in range(12):
        ys, xs = np.nonzero(wrong)
        if len(xs) == 0:
            break
        k = rng.randrange(len(xs))
        x, y, value = int(xs[k]), int(ys[k]), int(truth[ys[k], xs[k]])
        wb.call("POST", f"/api/images/{image['id']}/strokes",
                wb.session({"class": value, "radius": 2, "points": [[x, y], [min(W - 1, x + 4), y]]}))
        wrong[max(0, y - 6):y + 7, max(0, x - 6):x + 11] = False
        interactions += 1
    checkpoint("+12 correction strokes")
    train_predict_accept()
    checkpoint("train, predict, accept again")

    print("\n| interactions | step | strong px | strong accuracy | strong mIoU | weak px | weak accuracy | weak mIoU | labelled | slips (leaked px) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n, what, s, w, cov, ns, leaked in rows:
        fmt = lambda v: "–" if v != v else f"{v:.3f}"
        print(f"| {n} | {what} | {s[0]} | {fmt(s[1])} | {fmt(s[2])} | {w[0]} | {fmt(w[1])} | {fmt(w[2])} | {100 * cov:.1f} % | {ns} ({leaked}) |")
    if rows[-1][6]:
        sys.exit("FAIL: an undone slip reached the reference labels")


if __name__ == "__main__":
    main()
