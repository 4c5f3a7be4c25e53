#!/usr/bin/env python3
"""Class-fraction estimators on every real labelled set: cc, pcc, acc, pacc (issue 21).

For each set, Cleave is run as a user runs it (`cleave train` with the suite protocol, `cleave
predict` of each evaluated split, one call per split; for the transfer case `cleave transfer`), and
the pooled estimates of `class-fractions.json` (every estimator's value per class, the interval of
the requested one) are compared with the class fractions of the truth masks of the same images.

Sets (protocols as bench/suite/suite.py): nasa-super2, -super3, -super4, -ebc2, -ebc3 (pixel-suite:
1000 labelled pixels per class per training image, seed 0; test/ and different_test/ predicted),
sandstone (train 0000 + 0200, 2000 per class; predict the other seven slices) and
sandstone-transfer (the issue's case: the synthetic ×2 EDS map of 0000 registered to the grey image
of 0000, `cleave transfer` defaults, slices 0050–0400). The two sandstone rows are one set in the
leave-one-set-out table (same material and slices).

Error of an estimator on a split: absolute difference of estimate and truth in percentage points,
per class; a set's score is the mean over its splits of the mean over classes. Leave-one-set-out:
for each set, the estimator with the lowest score over the other sets, and its score on that set.
Also: the Python reference (bench/fractions/reference.py) recomputes acc and pacc from the model's
out-of-bag calibration and Cleave's cc / pcc, and the largest difference to Cleave's values is
printed (must be ~1e-4 %, the CSV rounding); interval coverage = how often the truth lies in the
95 % interval of the requested estimator.

usage: run.py CLEAVE DATA_DIR [--out DIR] [--sets a,b] [--fractions EST] [--markdown FILE]
"""
import argparse, glob, json, os, subprocess, sys, time
import numpy as np
import tifffile

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "register"))
import reference  # noqa: E402

ESTIMATORS = ["cc", "pcc", "acc", "pacc"]
SUITE = [("nasa-super2", ["test", "different_test"], 1000), ("nasa-super3", ["test", "different_test"], 1000),
         ("nasa-super4", ["test"], 1000), ("nasa-ebc2", ["test"], 1000), ("nasa-ebc3", ["test"], 1000)]
SANDSTONE_TRAIN = ["0000", "0200"]
SANDSTONE_TEST = ["0050", "0100", "0150", "0250", "0300", "0350", "0400"]
TRANSFER_TEST = ["0050", "0100", "0150", "0200", "0250", "0300", "0350", "0400"]


def run(cmd, log):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    log.write("$ " + " ".join(cmd) + "\n" + r.stdout + r.stderr + "\n")
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr}")
    return time.perf_counter() - t0, r.stdout


def truth_fractions(label_paths, classes):
    counts = np.zeros(len(classes))
    for p in label_paths:
        t = tifffile.imread(p)
        for i, c in enumerate(classes):
            counts[i] += (t == c).sum()
    return counts / counts.sum()


def evaluate(out_dir, model_path, label_paths):
    """One split: the pooled estimates of class-fractions.json against the truth."""
    info = json.load(open(os.path.join(out_dir, "class-fractions.json")))
    pooled = info["pooled"]
    classes = [c["value"] for c in pooled["classes"]]
    truth = truth_fractions(label_paths, classes)
    est = {e: np.array([c.get(f"{e}_percent", np.nan) for c in pooled["classes"]]) / 100 for e in ESTIMATORS}
    interval = [c.get("interval_percent") for c in pooled["classes"]]
    covered = [lo / 100 <= t <= hi / 100 for (lo, hi), t in zip(interval, truth)] if all(interval) else []
    # The reference recomputes acc / pacc from the model's calibration and Cleave's cc / pcc.
    calibration = json.load(open(model_path))["forest"]["outOfBagCalibration"]
    ref = reference.estimates(calibration, est["cc"], est["pcc"])
    diff = max((abs(ref[e] - est[e]).max() if ref[e] is not None and not np.isnan(est[e]).any() else 0) for e in ("acc", "pacc"))
    return {"classes": classes, "truth": truth, "est": est, "used": pooled.get("estimator"), "check": pooled.get("check"),
            "condition": pooled.get("condition_number"), "covered": covered, "interval": interval, "reference_diff": diff,
            "conditions": reference.conditions(calibration)}


def suite_set(cleave, data, name, splits, per_class, out, fractions, log):
    base = os.path.join(data, "pixel-suite", name)
    work = os.path.join(out, name)
    os.makedirs(work, exist_ok=True)
    model = os.path.join(work, "model.json")
    cmd = [cleave, "train", "--model", model, "--pixels-per-class", str(per_class), "--seed", "0"]
    for image in sorted(glob.glob(os.path.join(base, "train", "images", "*.tif"))):
        cmd += ["--image", image, "--labels", image.replace("/images/", "/labels/")]
    run(cmd, log)
    results = {}
    for split in splits:
        images = sorted(glob.glob(os.path.join(base, split, "images", "*.tif")))
        dest = os.path.join(work, split)
        run([cleave, "predict", "--model", model, "--out", dest, "--fractions", fractions] + images, log)
        results[split] = evaluate(dest, model, [i.replace("/images/", "/labels/") for i in images])
    return results


def sandstone(cleave, data, out, fractions, log):
    sand = os.path.join(data, "sandstone-xrm")
    img = lambda s: f"{sand}/images/Sandstone_Versa{s}.tif"
    lab = lambda s: f"{sand}/labels/Sandstone_Versa{s}.tif"
    work = os.path.join(out, "sandstone")
    os.makedirs(work, exist_ok=True)
    model = os.path.join(work, "model.json")
    cmd = [cleave, "train", "--model", model, "--pixels-per-class", "2000", "--seed", "0"]
    for s in SANDSTONE_TRAIN:
        cmd += ["--image", img(s), "--labels", lab(s)]
    run(cmd, log)
    run([cleave, "predict", "--model", model, "--out", os.path.join(work, "test"), "--fractions", fractions]
        + [img(s) for s in SANDSTONE_TEST], log)
    results = {"protocol": evaluate(os.path.join(work, "test"), model, [lab(s) for s in SANDSTONE_TEST])}
    # The transfer case (bench/register/transfer.py's map: ×2, 17°, shift (12, −7), 10 % noise, seed 1).
    import make_eds_map
    moving, _ = make_eds_map.make(tifffile.imread(lab("0000")), 2.0, 17, False, (12, -7), 0.1, True, 1)
    eds = os.path.join(work, "eds.tif")
    tifffile.imwrite(eds, moving)
    dest = os.path.join(work, "transfer")
    run([cleave, "transfer", eds, img("0000"), "--out", dest, "--fractions", fractions, "--predict"]
        + [img(s) for s in TRANSFER_TEST], log)
    results["transfer"] = evaluate(dest, os.path.join(dest, "model.json"), [lab(s) for s in TRANSFER_TEST])
    return results


def score(result, estimator):
    return float(np.mean(np.abs(result["est"][estimator] - result["truth"]))) * 100


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cleave"); p.add_argument("data")
    p.add_argument("--out", default="bench/out/fractions")
    p.add_argument("--sets", default="")
    p.add_argument("--fractions", default="pacc", help="estimator whose interval is computed (all four are always reported)")
    p.add_argument("--markdown")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    only = set(a.sets.split(",")) if a.sets else None
    log = open(os.path.join(a.out, "log.txt"), "w")
    sets = {}
    t0 = time.perf_counter()
    for name, splits, per_class in SUITE:
        if only is None or name in only:
            sets[name] = suite_set(a.cleave, a.data, name, splits, per_class, a.out, a.fractions, log)
    if only is None or "sandstone" in only:
        sets["sandstone"] = sandstone(a.cleave, a.data, a.out, a.fractions, log)
    seconds = time.perf_counter() - t0

    lines = [f"Per split: absolute error of each estimator in percentage points, mean over classes (largest class error in brackets); "
             f"truth and estimates in % per class; the 95 % interval of `--fractions {a.fractions}`.", "",
             "| set / split | truth % | " + " | ".join(f"{e} error" for e in ESTIMATORS)
             + f" | {a.fractions} % [95 % interval] | truth in interval | cond. acc / pacc |", "|---" * 8 + "|"]
    worst_ref = 0.0
    for name, splits in sets.items():
        for split, r in splits.items():
            errs = [f"{score(r, e):.2f} ({100 * np.abs(r['est'][e] - r['truth']).max():.2f})" for e in ESTIMATORS]
            est = r["est"][a.fractions] if r["used"] == a.fractions else r["est"][r["used"]]
            shown = " / ".join(f"{100 * v:.2f} [{lo:.2f}–{hi:.2f}]" if iv else f"{100 * v:.2f}"
                               for v, iv in zip(est, r["interval"]) for lo, hi in [iv or (0, 0)])
            cond = " / ".join(f"{c:.2f}" for c in r["conditions"])
            note = "" if r["used"] == a.fractions else f" (fell back to {r['used']})"
            lines.append(f"| {name} {split} | {' / '.join(f'{100 * t:.2f}' for t in r['truth'])} | " + " | ".join(errs)
                         + f" | {shown}{note} | {sum(r['covered'])}/{len(r['covered'])} | {cond} |")
            worst_ref = max(worst_ref, r["reference_diff"])
    set_scores = {name: {e: float(np.mean([score(r, e) for r in splits.values()])) for e in ESTIMATORS} for name, splits in sets.items()}
    lines += ["", "Leave-one-set-out (score = mean over the set's splits of the mean absolute class error, percentage points):", "",
              "| held-out set | chosen on the others | its error there | " + " | ".join(ESTIMATORS) + " |", "|---" * (3 + len(ESTIMATORS)) + "|"]
    for held in set_scores:
        others = [n for n in set_scores if n != held]
        if not others:
            continue
        chosen = min(ESTIMATORS, key=lambda e: np.mean([set_scores[n][e] for n in others]))
        lines.append(f"| {held} | {chosen} | {set_scores[held][chosen]:.2f} | "
                     + " | ".join(f"{set_scores[held][e]:.2f}" for e in ESTIMATORS) + " |")
    means = {e: np.mean([set_scores[n][e] for n in set_scores]) for e in ESTIMATORS}
    lines.append(f"| **mean over sets** | | | " + " | ".join(f"{means[e]:.2f}" for e in ESTIMATORS) + " |")
    lines += ["", f"Largest difference between Cleave's acc/pacc and the Python reference's: {worst_ref * 100:.5f} percentage points.",
              f"Whole run {seconds:.0f} s (every `cleave` command as a user types it)."]
    text = "\n".join(lines)
    print(text)
    if a.markdown:
        open(a.markdown, "w").write(text + "\n")


if __name__ == "__main__":
    main()
