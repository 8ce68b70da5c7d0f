"""Speed of a CLRClassifier fit, of its range test, and of a grid search, against plain Keras.

Data: 4000 x 20, 4 classes; the reference DNN, batch 38, 11 epochs, one-cycle with max_lr=1e-2.
Rows (ratios of medians of rounds run back to back, A B then B A):

1. ``CLRClassifier(schedule="one_cycle").fit`` against a hand-written Keras fit of the same model
   and schedule (target <= 0.6);
2. the same fit with ``lr_finder=True`` against the fit without it (target <= 1.15), at 11 epochs
   and at 20 (the range-test quality benchmark's length);
3. ``GridSearchCV`` over 4 schedules x 5 folds against the plain-Keras loop of the same grid
   (build, compile, fit, predict per fold).

Run it with another skclr on ``PYTHONPATH`` to compare versions: the plain-Keras side is the same.

    python benchmarks/bench_speed.py [--quick]
"""

from __future__ import annotations

import argparse
import math

from _common import alternate, markdown_table, ratio_row

import keras
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skclr import CLRClassifier, reference_dnn
from skclr.schedules import make_schedule

GRID = ["constant", "cosine", "triangular", "one_cycle"]


def run(quick: bool = False) -> list[dict]:
    n, epochs, batch, rounds, folds = (1000, 3, 38, 1, 2) if quick else (4000, 11, 38, 3, 5)
    X, y = make_classification(n_samples=n, n_features=20, n_informative=10, n_classes=4, random_state=0)
    X = X.astype("float32")

    def keras_fit(X_fit, y_fit, name="one_cycle"):
        steps_per_epoch = math.ceil(len(X_fit) / batch)
        model = reference_dnn(20, 4)
        schedule = make_schedule(name, steps_per_epoch=steps_per_epoch, epochs=epochs, max_lr=1e-2)
        model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy")
        model.fit(X_fit, y_fit, epochs=epochs, batch_size=batch, verbose=0)
        return model

    def skclr_fit(**params):
        params = {"epochs": epochs, **params}
        return CLRClassifier(schedule="one_cycle", max_lr=1e-2, batch_size=batch, **params).fit(X, y)

    def keras_grid():
        for name in GRID:
            for train, test in StratifiedKFold(folds).split(X, y):
                model = keras_fit(X[train], y[train], name)
                (model.predict(X[test], verbose=0).argmax(axis=1) == y[test]).mean()

    def skclr_grid():
        estimator = CLRClassifier(max_lr=1e-2, epochs=epochs, batch_size=batch)
        GridSearchCV(estimator, {"schedule": GRID}, cv=StratifiedKFold(folds)).fit(X, y)

    keras_fit(X, y), skclr_fit()  # warm-up: imports, first graph traces
    fits = alternate(
        {"skclr": skclr_fit, "keras": lambda: keras_fit(X, y), "skclr + range test": lambda: skclr_fit(lr_finder=True),
         "skclr 20": lambda: skclr_fit(epochs=20), "skclr 20 + range test": lambda: skclr_fit(epochs=20, lr_finder=True)},
        rounds,
    )  # fmt: skip
    grids = alternate({"skclr": skclr_grid, "keras": keras_grid}, 1)
    setting = f"{n}x20, 4 classes, {epochs} epochs, batch {batch}"
    per_fit = f"{setting}, {rounds} rounds"
    return [
        ratio_row("CLRClassifier(one_cycle).fit vs Keras Model.fit", per_fit, fits, "skclr", "keras", "<= 0.6"),
        ratio_row("lr_finder=True vs the same fit without it", per_fit, fits, "skclr + range test", "skclr", "<= 1.15"),
        ratio_row("lr_finder=True vs the same fit without it, 20 epochs", per_fit.replace(f"{epochs} epochs", "20 epochs"),
                  fits, "skclr 20 + range test", "skclr 20", "<= 1.15"),
        ratio_row(f"GridSearchCV {len(GRID)} schedules x {folds} folds vs the plain-Keras loop", setting, grids,
                  "skclr", "keras"),
    ]  # fmt: skip

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small settings (smoke test)")
    rows = run(quick=parser.parse_args().quick)
    print(markdown_table(rows))
