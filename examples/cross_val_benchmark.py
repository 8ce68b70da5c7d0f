"""cross_val_score as a benchmark: schedules against scikit-learn's MLPClassifier on the same folds.

MLPClassifier is the simplest alternative a scikit-learn user would reach for; the folds are
fixed by one StratifiedKFold object so every model sees the same splits.
"""

import time

from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skclr import CLRClassifier


def main(quick: bool = False) -> dict[str, float]:
    X, y = load_digits(return_X_y=True)
    if quick:
        X, y = X[:400], y[:400]
    epochs = 2 if quick else 20
    folds = StratifiedKFold(n_splits=2 if quick else 3, shuffle=True, random_state=0)
    models = {
        "MLPClassifier (sklearn)": MLPClassifier(max_iter=epochs * 5, random_state=0),
        "CLRClassifier constant": CLRClassifier(epochs=epochs, random_state=0),
        "CLRClassifier one_cycle": CLRClassifier(schedule="one_cycle", max_lr=5e-3, epochs=epochs, random_state=0),
    }
    results = {}
    for name, model in models.items():
        start = time.perf_counter()
        scores = cross_val_score(make_pipeline(StandardScaler(), model), X, y, cv=folds)
        results[name] = scores.mean()
        print(f"{name:<26} accuracy {scores.mean():.4f} ± {scores.std():.4f}  {time.perf_counter() - start:5.1f} s")
    return results


if __name__ == "__main__":
    main()
