"""Time to accuracy per schedule on digits, against scikit-learn's MLPClassifier on the same folds.

Each configuration of skclr.experiment trains for a fixed number of epochs with the held-out
fold as Keras validation data; MLPClassifier (Adam, same batch size and initial rate) is
trained epoch by epoch with partial_fit and scored after each. "epochs to X" reads the mean
held-out curve; "seconds to X" prorates each model's mean fit time by that epoch count (the
range test's cost is part of the fit time).

    python benchmarks/bench_schedules.py [--quick]
"""

from __future__ import annotations

import argparse
import time

from _common import markdown_table

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from skclr.experiment import compare, resolve_configs

TARGET = 0.95


def mlp_curve(X, y, folds, epochs: int, batch: int) -> tuple[np.ndarray, float]:
    curves, seconds = [], []
    for train, test in folds:
        scaler = StandardScaler().fit(X[train])
        X_train, X_test = scaler.transform(X[train]), scaler.transform(X[test])
        mlp = MLPClassifier(hidden_layer_sizes=(64, 128, 256, 128, 128), batch_size=batch,
                            learning_rate_init=1e-3, random_state=0)  # fmt: skip
        start, curve = time.perf_counter(), []
        for _ in range(epochs):
            mlp.partial_fit(X_train, y[train], classes=np.unique(y))
            curve.append(mlp.score(X_test, y[test]))
        seconds.append(time.perf_counter() - start)
        curves.append(curve)
    return np.mean(curves, axis=0), float(np.mean(seconds))


def first_epoch(curve: np.ndarray, target: float) -> float:
    reached = np.flatnonzero(curve >= target - 1e-6)
    return float(reached[0] + 1) if reached.size else float("nan")


def run(quick: bool = False) -> list[dict]:
    epochs, n_folds, batch = (3, 2, 38) if quick else (15, 3, 38)
    X, y = load_digits(return_X_y=True)
    names = ["adam", "adam_clip_decay", "clr_exp_range", "finder_clr", "one_cycle", "cosine"]
    result = compare(X, y, resolve_configs(names), epochs=epochs, batch_size=batch, folds=n_folds)
    summary = result.summary()
    rows = []
    for name in names:
        curve = result.mean_curve(name, "val_accuracy")
        epochs_to = first_epoch(curve, TARGET)
        rows.append({"model": name, f"epochs to {TARGET}": epochs_to,
                     f"s to {TARGET}": summary.loc[name, "fit_seconds"] * epochs_to / epochs,
                     "final accuracy": summary.loc[name, "accuracy_mean"],
                     "fit s": summary.loc[name, "fit_seconds"]})  # fmt: skip
    folds = list(StratifiedKFold(n_folds, shuffle=True, random_state=0).split(X, y))
    curve, seconds = mlp_curve(X, y, folds, epochs, batch)
    epochs_to = first_epoch(curve, TARGET)
    rows.append({"model": "sklearn MLPClassifier", f"epochs to {TARGET}": epochs_to,
                 f"s to {TARGET}": seconds * epochs_to / epochs, "final accuracy": float(curve[-1]),
                 "fit s": seconds})  # fmt: skip
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small settings (smoke test)")
    print(markdown_table(run(parser.parse_args().quick)))
