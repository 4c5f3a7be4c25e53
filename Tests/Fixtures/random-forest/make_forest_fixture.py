# Generates random-forest-classification.csv and prints scikit-learn's accuracy on it.
# Columns: label, f0..f9. Rows 0..999 train, 1000..1499 test.
import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
X, y = make_classification(n_samples=1500, n_features=10, n_informative=5, n_redundant=2,
                           n_classes=3, n_clusters_per_class=2, class_sep=1.0, random_state=0)
np.savetxt("random-forest-classification.csv", np.column_stack([y, X]), delimiter=",",
           fmt=["%d"] + ["%.6f"] * 10)
X = np.loadtxt("random-forest-classification.csv", delimiter=",")[:, 1:].astype(np.float32)
accs = []
for seed in range(5):
    rf = RandomForestClassifier(100, random_state=seed).fit(X[:1000], y[:1000])
    accs.append(rf.score(X[1000:], y[1000:]))
print("sklearn test accuracy per seed", accs, "mean", np.mean(accs))
rf = RandomForestClassifier(100, random_state=0, oob_score=True).fit(X[:1000], y[:1000])
print("oob", rf.oob_score_, "importances", np.round(rf.feature_importances_, 3))
