#!/usr/bin/env python3
"""The real-data pixel-classification suite: Cleave (the CLI, as a user runs it) against the
scikit-image + scikit-learn reference, in one run.

Sets: the five SEM sets of ../shared/data/pixel-suite (protocol in its README: from every training
image 1000 labelled pixels per class, seeded; predict test/ and different_test/; mean over classes
of the per-class IoU pooled over the split's images) and the sandstone XRM protocol (train on slices
0000 and 0200 with 2000 pixels per class per slice, predict the other seven slices).

Cleave column: `cleave train --image I --labels L … --pixels-per-class N --seed 0 --model M` and
`cleave predict --model M --out D <test images>` with default options (every output written),
timed as whole commands. Extra variants (--variant NAME='TRAIN ARGS|PREDICT ARGS') add columns;
with several variants the leave-one-set-out table says which variant the other sets would choose
for each held-out set and what it scores there.

Reference column: skimage.feature.multiscale_basic_features (σ 0.5–16, intensity + edges +
texture) on img_as_float(image) + sklearn RandomForestClassifier(n_estimators=100,
random_state=0, n_jobs=2); features + predict timed in-process.

usage: suite.py CLEAVE DATA_DIR [--out DIR] [--sets a,b] [--skip-reference] [--variant NAME='T|P' …]
                                [--unet-steps N] [--markdown FILE]
"""
import argparse, glob, json, os, subprocess, sys, time
import numpy as np
import tifffile

SUITE = [
    # set, training split, evaluated splits, pixels per class per training image
    ("nasa-super2", "train", ["test", "different_test"], 1000),
    ("nasa-super3", "train", ["test", "different_test"], 1000),
    ("nasa-super4", "train", ["test"], 1000),
    ("nasa-ebc2", "train", ["test"], 1000),
    ("nasa-ebc3", "train", ["test"], 1000),
]
SANDSTONE_TRAIN = ["0000", "0200"]
SANDSTONE_TEST = ["0050", "0100", "0150", "0250", "0300", "0350", "0400"]


def pairs(data, name, split):
    """(image, labels) paths of one split, sorted by name."""
    if name == "sandstone":
        slices = SANDSTONE_TRAIN if split == "train" else SANDSTONE_TEST
        base = os.path.join(data, "sandstone-xrm")
        return [(f"{base}/images/Sandstone_Versa{s}.tif", f"{base}/labels/Sandstone_Versa{s}.tif") for s in slices]
    folder = os.path.join(data, "pixel-suite", name, split)
    images = sorted(glob.glob(os.path.join(folder, "images", "*.tif")))
    return [(i, os.path.join(folder, "labels", os.path.basename(i))) for i in images]


def tasks(data, only):
    out = []
    for name, train, splits, per_class in SUITE:
        if not only or name in only:
            out.append((name, train, splits, per_class))
    if not only or "sandstone" in only:
        out.append(("sandstone", "train", ["test"], 2000))
    return out


class Scores:
    """Per-class intersection and union pooled over a split's images."""
    def __init__(self, classes):
        self.classes = classes
        self.inter = {c: 0 for c in classes}
        self.union = {c: 0 for c in classes}

    def add(self, predicted, truth):
        for c in self.classes:
            p, t = predicted == c, truth == c
            self.inter[c] += int(np.count_nonzero(p & t))
            self.union[c] += int(np.count_nonzero(p | t))

    def iou(self):
        return [self.inter[c] / self.union[c] if self.union[c] else float("nan") for c in self.classes]

    def miou(self):
        return float(np.nanmean(self.iou()))


def classes_of(label_paths):
    values = set()
    for p in label_paths:
        values.update(int(v) for v in np.unique(tifffile.imread(p)) if v != 0)
    return sorted(values)


def run(cmd, log):
    start = time.perf_counter()
    result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.perf_counter() - start
    with open(log, "a") as f:
        f.write("$ " + " ".join(cmd) + f"\n{result.stdout}\n({seconds:.2f} s, exit {result.returncode})\n")
    if result.returncode != 0:
        sys.exit(f"suite: command failed (see {log}): {' '.join(cmd)}\n{result.stdout[-2000:]}")
    return seconds, result.stdout


def cleave_column(cleave, data, task, variant, out, log):
    name, train_split, splits, per_class = task
    train_args, predict_args = variant
    work = os.path.join(out, "cleave", variant_key(variant), name)
    os.makedirs(work, exist_ok=True)
    model = os.path.join(work, "model.json")
    cmd = [cleave, "train", "--model", model, "--pixels-per-class", str(per_class), "--seed", "0"]
    for image, labels in pairs(data, name, train_split):
        cmd += ["--image", image, "--labels", labels]
    train_seconds, _ = run(cmd + train_args, log)
    rows = {}
    for split in splits:
        items = pairs(data, name, split)
        dest = os.path.join(work, split)
        seconds, _ = run([cleave, "predict", "--model", model, "--out", dest] + predict_args + [i for i, _ in items], log)
        scores = Scores(classes_of([l for _, l in items]))
        pixels = 0
        for image, labels in items:
            stem = os.path.splitext(os.path.basename(image))[0]
            predicted = tifffile.imread(os.path.join(dest, f"{stem}-labels.tif"))
            truth = tifffile.imread(labels)
            scores.add(predicted, truth)
            pixels += truth.size
        rows[split] = {"iou": scores.iou(), "miou": scores.miou(), "seconds": seconds,
                       "megapixels": pixels / 1e6, "train_seconds": train_seconds}
    return rows


def reference_column(data, task):
    from skimage.feature import multiscale_basic_features
    from skimage.util import img_as_float
    from sklearn.ensemble import RandomForestClassifier

    def features(image):
        return multiscale_basic_features(img_as_float(image), sigma_min=0.5, sigma_max=16)

    name, train_split, splits, per_class = task
    rng = np.random.default_rng(0)
    X, y = [], []
    t0 = time.perf_counter()
    for image_path, label_path in pairs(data, name, train_split):
        image, labels = tifffile.imread(image_path), tifffile.imread(label_path).ravel()
        f = features(image)
        f = f.reshape(-1, f.shape[-1])
        for c in sorted(int(v) for v in np.unique(labels) if v != 0):
            idx = np.flatnonzero(labels == c)
            pick = rng.choice(idx, size=min(per_class, idx.size), replace=False)
            X.append(f[pick]); y.append(np.full(pick.size, c))
    rf = RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=2).fit(np.concatenate(X), np.concatenate(y))
    train_seconds = time.perf_counter() - t0
    rows = {}
    for split in splits:
        items = pairs(data, name, split)
        scores = Scores(classes_of([l for _, l in items]))
        seconds = 0.0; pixels = 0
        for image_path, label_path in items:
            image, truth = tifffile.imread(image_path), tifffile.imread(label_path)
            t = time.perf_counter()
            f = features(image)
            predicted = rf.predict(f.reshape(-1, f.shape[-1])).reshape(truth.shape)
            seconds += time.perf_counter() - t
            scores.add(predicted, truth)
            pixels += truth.size
        rows[split] = {"iou": scores.iou(), "miou": scores.miou(), "seconds": seconds,
                       "megapixels": pixels / 1e6, "train_seconds": train_seconds}
    return rows


def unet_column(cleave, data, task, steps, out, log):
    """Cleave's U-Net trained on the dense labels of the same training images with a fixed step budget."""
    name, train_split, splits, _ = task
    work = os.path.join(out, "unet", name)
    os.makedirs(work, exist_ok=True)
    model = os.path.join(work, "model.json")
    cmd = [cleave, "train", "--method", "unet", "--model", model, "--steps", str(steps), "--seed", "1"]
    for image, labels in pairs(data, name, train_split):
        cmd += ["--image", image, "--labels", labels]
    train_seconds, _ = run(cmd, log)
    rows = {}
    for split in splits:
        items = pairs(data, name, split)
        dest = os.path.join(work, split)
        seconds, _ = run([cleave, "predict", "--model", model, "--out", dest] + [i for i, _ in items], log)
        scores = Scores(classes_of([l for _, l in items]))
        pixels = 0
        for image, labels in items:
            stem = os.path.splitext(os.path.basename(image))[0]
            truth = tifffile.imread(labels)
            scores.add(tifffile.imread(os.path.join(dest, f"{stem}-labels.tif")), truth)
            pixels += truth.size
        rows[split] = {"iou": scores.iou(), "miou": scores.miou(), "seconds": seconds,
                       "megapixels": pixels / 1e6, "train_seconds": train_seconds}
    return rows


def variant_key(variant):
    train_args, predict_args = variant
    text = " ".join(train_args) + "|" + " ".join(predict_args)
    return "default" if text == "|" else "".join(ch if ch.isalnum() or ch in "-_.=" else "_" for ch in text)[:80]


def parse_variant(text):
    name, _, spec = text.partition("=")
    train, _, predict = spec.partition("|")
    return name, (train.split(), predict.split())


def fmt(v):
    return "—" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cleave"); ap.add_argument("data")
    ap.add_argument("--out", default="bench/out/suite")
    ap.add_argument("--sets", default="")
    ap.add_argument("--skip-reference", action="store_true")
    ap.add_argument("--reference-cache", default=None, help="JSON of reference rows to reuse (written after a reference run)")
    ap.add_argument("--variant", action="append", default=[])
    ap.add_argument("--unet-steps", type=int, default=0)
    ap.add_argument("--markdown", default=None)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    log = os.path.join(args.out, "commands.log")
    only = [s for s in args.sets.split(",") if s]
    variants = [("cleave (defaults)", ([], []))] + [parse_variant(v) for v in args.variant]

    results = {}  # (set, split) -> column -> row
    cache = {}
    if args.reference_cache and os.path.exists(args.reference_cache):
        cache = json.load(open(args.reference_cache))
    for task in tasks(args.data, only):
        name = task[0]
        if not args.skip_reference:
            key = name
            if key in cache:
                ref = cache[key]
            else:
                print(f"suite: reference on {name}", file=sys.stderr, flush=True)
                ref = reference_column(args.data, task)
                cache[key] = ref
            for split, row in ref.items():
                results.setdefault((name, split), {})["reference"] = row
        for vname, variant in variants:
            print(f"suite: {vname} on {name}", file=sys.stderr, flush=True)
            for split, row in cleave_column(args.cleave, args.data, task, variant, args.out, log).items():
                results.setdefault((name, split), {})[vname] = row
        if args.unet_steps > 0:
            print(f"suite: unet on {name}", file=sys.stderr, flush=True)
            for split, row in unet_column(args.cleave, args.data, task, args.unet_steps, args.out, log).items():
                results.setdefault((name, split), {})[f"unet ({args.unet_steps} steps)"] = row
    if args.reference_cache and not args.skip_reference:
        json.dump(cache, open(args.reference_cache, "w"), indent=1)

    columns = ([] if args.skip_reference else ["reference"]) + [v for v, _ in variants] + \
        ([f"unet ({args.unet_steps} steps)"] if args.unet_steps > 0 else [])
    lines = []
    lines.append("| set / split | " + " | ".join(columns) + (" | Δ defaults − reference |" if "reference" in columns else " |"))
    lines.append("|---" * (len(columns) + 1 + ("reference" in columns)) + "|")
    means = {c: [] for c in columns}
    for (name, split), row in results.items():
        cells = [fmt(row[c]["miou"]) if c in row else "—" for c in columns]
        for c in columns:
            if c in row: means[c].append(row[c]["miou"])
        delta = ""
        if "reference" in row:
            delta = f" | {row['cleave (defaults)']['miou'] - row['reference']['miou']:+.3f}"
        lines.append(f"| {name} {split} | " + " | ".join(cells) + delta + " |")
    lines.append("| **mean** | " + " | ".join(f"**{np.mean(means[c]):.3f}**" for c in columns) +
                 (f" | **{np.mean(means['cleave (defaults)']) - np.mean(means['reference']):+.3f}** |" if "reference" in columns else " |"))
    lines.append("")
    lines.append("Per-class IoU and time (prediction of the split: whole `cleave predict` command; reference: features + predict in-process):")
    lines.append("")
    lines.append("| set / split | column | IoU per class | mIoU | predict s | MP | s/MP | train s |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for (name, split), row in results.items():
        for c in columns:
            if c not in row: continue
            r = row[c]
            lines.append(f"| {name} {split} | {c} | " + " / ".join(f"{v:.2f}" for v in r["iou"]) +
                         f" | {r['miou']:.3f} | {r['seconds']:.2f} | {r['megapixels']:.2f} | {r['seconds'] / r['megapixels']:.2f} | {r['train_seconds']:.2f} |")

    if len(variants) > 1:
        # Leave one set out: for each set, the variant the other sets would choose (best mean mIoU
        # over their splits), and what it scores on the held-out set.
        lines.append("")
        lines.append("Leave-one-set-out choice among the Cleave variants (chosen by the mean mIoU of the other sets' splits):")
        lines.append("")
        lines.append("| held-out set | chosen by the others | its mIoU there | best variant there |")
        lines.append("|---|---|---|---|")
        set_names = sorted({n for n, _ in results})
        vnames = [v for v, _ in variants]
        for held in set_names:
            def mean_other(v):
                return np.mean([row[v]["miou"] for (n, _), row in results.items() if n != held and v in row])
            chosen = max(vnames, key=mean_other)
            held_rows = [(s, row) for (n, s), row in results.items() if n == held]
            score = np.mean([row[chosen]["miou"] for _, row in held_rows])
            best = max(vnames, key=lambda v: np.mean([row[v]["miou"] for _, row in held_rows]))
            lines.append(f"| {held} | {chosen} | {score:.3f} | {best} |")
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f: f.write(text + "\n")
    if args.json:
        json.dump({f"{n} {s}": row for (n, s), row in results.items()}, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    main()
