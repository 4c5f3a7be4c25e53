#!/usr/bin/env python3
"""Reference pixel classifier for the sandstone protocol (issue 4).

scikit-image multiscale_basic_features (defaults) + scikit-learn RandomForestClassifier(100, n_jobs=2).
Train: slices 0000 and 0200, 2000 randomly sampled labelled pixels per class per slice (seed below).
Predict: the other 7 slices; score per-class IoU against labels/.
Prints one JSON object with timings (seconds) and scores.
"""
import json, sys, time
import numpy as np
import tifffile
from skimage.feature import multiscale_basic_features
from sklearn.ensemble import RandomForestClassifier

data = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/sandstone-xrm"
seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
train_slices = ["0000", "0200"]
test_slices = ["0050", "0100", "0150", "0250", "0300", "0350", "0400"]
rng = np.random.default_rng(seed)

def load(kind, s):
    return tifffile.imread(f"{data}/{kind}/Sandstone_Versa{s}.tif")

t_features = 0.0
c_train0 = time.process_time()
X, y = [], []
train_pixels = 0
t_train0 = time.perf_counter()
for s in train_slices:
    image, labels = load("images", s), load("labels", s)
    t0 = time.perf_counter()
    feats = multiscale_basic_features(image)
    t_features += time.perf_counter() - t0
    train_pixels += image.size
    for c in (1, 2, 3, 4):
        idx = np.flatnonzero(labels.ravel() == c)
        pick = rng.choice(idx, size=min(2000, idx.size), replace=False)
        X.append(feats.reshape(-1, feats.shape[-1])[pick]); y.append(np.full(pick.size, c))
X = np.concatenate(X); y = np.concatenate(y)
t0 = time.perf_counter()
rf = RandomForestClassifier(n_estimators=100, n_jobs=2, random_state=seed).fit(X, y)
t_fit = time.perf_counter() - t0
t_train = time.perf_counter() - t_train0
c_train = time.process_time() - c_train0
c_pred0 = time.process_time()

inter = np.zeros(5); union = np.zeros(5); correct = 0; total = 0
t_feat_pred = 0.0; t_pred = 0.0; pred_pixels = 0
for s in test_slices:
    image, truth = load("images", s), load("labels", s)
    t0 = time.perf_counter()
    feats = multiscale_basic_features(image)
    t1 = time.perf_counter()
    pred = rf.predict(feats.reshape(-1, feats.shape[-1])).reshape(image.shape)
    t2 = time.perf_counter()
    t_feat_pred += t1 - t0; t_pred += t2 - t1; pred_pixels += image.size
    for c in (1, 2, 3, 4):
        inter[c] += np.sum((pred == c) & (truth == c)); union[c] += np.sum((pred == c) | (truth == c))
    correct += np.sum(pred == truth); total += truth.size
c_pred = time.process_time() - c_pred0
iou = [inter[c] / union[c] for c in (1, 2, 3, 4)]
mp = pred_pixels / 1e6
print(json.dumps({
    "tool": "scikit-image multiscale_basic_features + scikit-learn RandomForestClassifier(100, n_jobs=2)",
    "feature_count": int(X.shape[1]), "training_rows": int(X.shape[0]),
    "train_seconds": round(t_train, 3), "fit_seconds": round(t_fit, 3),
    "features_seconds_per_megapixel": round(t_feat_pred / mp, 3),
    "predict_seconds_per_megapixel": round(t_pred / mp, 3),
    "features_plus_predict_seconds_per_megapixel": round((t_feat_pred + t_pred) / mp, 3),
    "train_cpu_seconds": round(c_train, 3),
    "predict_cpu_seconds_per_megapixel": round(c_pred / mp, 3),
    "iou": [round(v, 4) for v in iou], "mean_iou": round(float(np.mean(iou)), 4),
    "pixel_accuracy": round(correct / total, 4),
}))
