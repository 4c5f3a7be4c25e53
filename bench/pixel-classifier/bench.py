#!/usr/bin/env python3
"""Sandstone pixel-classifier protocol: Cleave vs the scikit-image/scikit-learn reference, same run.

Protocol (issue 4): train on slices 0000 and 0200 with 2000 randomly sampled labelled pixels per
class per slice (seeded), predict the other 7 slices, score per-class IoU against labels/.
Then predict one 8192x8192 image (sandstone slices tiled) and report peak RSS and time.

Then a 1024x1024xN uint16 multi-page TIFF stack (sandstone slices; N = --stack-planes, default 64)
is predicted: `cleave predict` streams it plane by plane; peak RSS and time are reported.

Cleave's predictions run with --timings: besides the whole CLI run (reading, writing every output
file), the in-process "features + forest" time per megapixel is what compares like with like with
the reference's features + predict numbers.

usage: bench.py CLEAVE_BINARY DATA_DIR [--skip-reference] [--skip-large] [--skip-stack] [--stack-planes N]
"""
import json, os, re, subprocess, sys, tempfile, time
import numpy as np
import tifffile

here = os.path.dirname(os.path.abspath(__file__))
cleave, data = sys.argv[1], sys.argv[2]
skip_reference = "--skip-reference" in sys.argv
skip_large = "--skip-large" in sys.argv
skip_stack = "--skip-stack" in sys.argv
stack_planes = int(sys.argv[sys.argv.index("--stack-planes") + 1]) if "--stack-planes" in sys.argv else 64
train = ["0000", "0200"]
test = ["0050", "0100", "0150", "0250", "0300", "0350", "0400"]
img = lambda s: f"{data}/images/Sandstone_Versa{s}.tif"
lab = lambda s: f"{data}/labels/Sandstone_Versa{s}.tif"
work = tempfile.mkdtemp(prefix="cleave-pixel-bench-")

def timed(cmd):
    """Runs cmd under /usr/bin/time -v; returns (wall seconds, peak RSS MB, stdout, CPU seconds, stderr)."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stdout}\n{p.stderr}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1)) / 1024
    cpu = sum(float(re.search(rf"{k} time \(seconds\): ([0-9.]+)", p.stderr).group(1)) for k in ("User", "System"))
    return wall, rss, p.stdout, cpu, p.stderr

def core_timings(stderr):
    """(wall s/MP, CPU s/MP) of 'features + forest' from `cleave predict --timings`."""
    m = re.search(r"features \+ forest\s+[0-9.]+\s+[0-9.]+\s+([0-9.]+)\s+([0-9.]+)", stderr)
    return (float(m.group(1)), float(m.group(2))) if m else (None, None)

def score(pred_dir):
    C = np.zeros((5, 5))
    for s in test:
        t = tifffile.imread(lab(s)); p = tifffile.imread(f"{pred_dir}/Sandstone_Versa{s}-labels.tif")
        np.add.at(C, (t.ravel(), p.ravel()), 1)
    iou = [C[c, c] / (C[c, :].sum() + C[:, c].sum() - C[c, c]) for c in (1, 2, 3, 4)]
    return [round(float(v), 4) for v in iou], round(float(np.mean(iou)), 4), round(float(np.trace(C) / C.sum()), 4)

megapixels = sum(tifffile.imread(img(s)).size for s in test) / 1e6

ref = None
if not skip_reference:
    p = subprocess.run([sys.executable, f"{here}/reference.py", data, "0"], capture_output=True, text=True, check=True)
    ref = json.loads(p.stdout.strip().splitlines()[-1])

model = f"{work}/model.json"
train_cmd = [cleave, "train", "--model", model, "--pixels-per-class", "2000", "--seed", "0"]
for s in train: train_cmd += ["--image", img(s), "--labels", lab(s)]
train_wall, train_rss, train_out, train_cpu, _ = timed(train_cmd)
out = f"{work}/out"
predict_wall, predict_rss, _, predict_cpu, predict_err = timed([cleave, "predict", "--timings", "--model", model, "--out", out] + [img(s) for s in test])
core_wall, core_cpu = core_timings(predict_err)
iou, miou, acc = score(out)
cleave_result = {
    "train_seconds": round(train_wall, 3), "train_peak_rss_mb": round(train_rss),
    "predict_seconds": round(predict_wall, 3),
    "features_plus_predict_seconds_per_megapixel": round(predict_wall / megapixels, 3),
    "predict_peak_rss_mb": round(predict_rss),
    "train_cpu_seconds": round(train_cpu, 3),
    "predict_cpu_seconds_per_megapixel": round(predict_cpu / megapixels, 3),
    "in_process_features_plus_forest_seconds_per_megapixel": core_wall,
    "in_process_features_plus_forest_cpu_seconds_per_megapixel": core_cpu,
    "iou": iou, "mean_iou": miou, "pixel_accuracy": acc,
    "oob": re.search(r"out-of-bag accuracy: ([0-9.]+)", train_out).group(1),
}

large = None
if not skip_large:
    tiles = [tifffile.imread(img(s)) for s in train + test]
    big = np.zeros((8192, 8192), np.uint8)
    k = 0
    for y in range(0, 8192, 1024):
        for x in range(0, 8192, 996):
            t = tiles[k % len(tiles)]; k += 1
            h, w = min(1024, 8192 - y), min(996, 8192 - x)
            big[y:y + h, x:x + w] = t[:h, :w]
    big_path = f"{work}/large-8192.tif"
    tifffile.imwrite(big_path, big)
    del big, tiles
    wall, rss, _, cpu, _ = timed([cleave, "predict", "--model", model, "--out", f"{work}/large", big_path])
    large = {"seconds": round(wall, 2), "peak_rss_mb": round(rss), "megapixels": 67.1,
             "seconds_per_megapixel": round(wall / 67.108864, 3),
             "cpu_seconds_per_megapixel": round(cpu / 67.108864, 3)}

stack = None
if not skip_stack:
    slices = [tifffile.imread(img(s)) for s in train + test]
    stack_path = f"{work}/stack-1024x1024x{stack_planes}.tif"
    with tifffile.TiffWriter(stack_path, bigtiff=True) as w:
        for z in range(stack_planes):
            plane = np.zeros((1024, 1024), np.uint16)
            t = slices[z % len(slices)]
            plane[:, :996] = t
            plane[:, 996:] = t[:, :28]
            w.write(plane, contiguous=True)
    del slices
    wall, rss, _, cpu, err = timed([cleave, "predict", "--timings", "--model", model, "--out", f"{work}/stack", stack_path])
    mp = 1024 * 1024 * stack_planes / 1e6
    stack = {"planes": stack_planes, "megapixels": round(mp, 1), "seconds": round(wall, 1), "cpu_seconds": round(cpu, 1),
             "peak_rss_mb": round(rss), "seconds_per_megapixel": round(wall / mp, 3),
             "in_process_features_plus_forest_per_megapixel_wall_cpu": core_timings(err)}

print(json.dumps({"reference": ref, "cleave": cleave_result, "large_8192": large, "stack": stack, "work": work}, indent=1))
print()
print(f"{'':34s} {'reference':>12s} {'cleave':>10s} {'ratio':>7s}")
def row(name, r, c):
    ratio = f"{r / c:6.1f}x" if r and c else ""
    print(f"{name:34s} {r if r is not None else '-':>12} {c:>10} {ratio:>7s}")
if ref:
    row("train (features + fit), s", ref["train_seconds"], cleave_result["train_seconds"])
    row("features + predict, s per MP", ref["features_plus_predict_seconds_per_megapixel"], cleave_result["features_plus_predict_seconds_per_megapixel"])
    row("train CPU s", ref["train_cpu_seconds"], cleave_result["train_cpu_seconds"])
    row("features + predict CPU s per MP", ref["predict_cpu_seconds_per_megapixel"], cleave_result["predict_cpu_seconds_per_megapixel"])
    row("in-process features+forest s/MP", ref["features_plus_predict_seconds_per_megapixel"], core_wall)
    row("in-process features+forest CPU s/MP", ref["predict_cpu_seconds_per_megapixel"], core_cpu)
    print(f"{'mean IoU':34s} {ref['mean_iou']:>12} {miou:>10}")
    print(f"{'IoU per class':34s} {ref['iou']} {iou}")
else:
    print("cleave:", cleave_result)
if large:
    print(f"8192x8192 predict: {large['seconds']} s, peak RSS {large['peak_rss_mb']} MB")
if stack:
    print(f"1024x1024x{stack['planes']} uint16 stack predict (streamed): {stack['seconds']} s wall, {stack['cpu_seconds']} s CPU, peak RSS {stack['peak_rss_mb']} MB")
