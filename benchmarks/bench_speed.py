"""Speed of a CLRClassifier fit, of its range test, and of a grid search, against plain Keras.

Data: 4000 x 20, 4 classes; the reference DNN, batch 38, 11 epochs, one-cycle with max_lr=1e-2.
Every row is measured per Keras backend (TensorFlow, and JAX where installed), each backend in a
process of its own (``_common.per_backend``), skclr against plain Keras on the same backend. Rows
(ratios of medians of rounds run back to back, A B then B A):

1. ``CLRClassifier(schedule="one_cycle").fit`` against a hand-written Keras fit of the same model
   and schedule (target <= 0.6 on TensorFlow; on JAX plain Keras compiles each new model, so the
   whole fit is no yardstick there), and the same fits' warm epoch (the mean of the second and
   later epochs; target <= 1.2 on JAX, issue 29);
2. the same fit with ``lr_finder=True`` against the fit without it (target <= 1.15), at 11 epochs
   and at 20 (the range-test quality benchmark's length), and with a new ``random_state`` at every
   fit (per-fold seeds, repeated CV). The warm-up runs every timed fit once, untimed (on JAX a
   fit of a new length compiles its steps), so these
   rows are every fit of a grid search but its first: that one also traces the sweep
   (``bench_finder.py`` measures a first range test);
3. ``GridSearchCV`` over 4 schedules x 5 folds against the plain-Keras loop of the same grid
   (build, compile, fit, predict per fold);
4. with ``--baseline DIR`` (a checkout of an earlier skclr, e.g. ``git worktree add ../skclr-base
   d0f864e``, the code before the JAX backend), the same grid search with this skclr against that
   one (target <= 1.05, issue 29: TensorFlow gets no slower, within the rounds' noise), each in a
   fresh process that reports the grid's own time, alternated; on TensorFlow only (TensorFlow must
   not get slower; an earlier skclr may not run on JAX).

    python benchmarks/bench_speed.py [--quick] [--baseline DIR] [--backends tensorflow jax]

Needs both backends installed to measure both: ``pip install '.[bench,jax]'``.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import time
from pathlib import Path

from _common import (BACKENDS, alternate, checkout_name, epoch_ends, markdown_table, per_backend, ratio_row, target_verdicts,
                     warm_epoch)  # fmt: skip

import keras
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV, StratifiedKFold

import skclr
from skclr import CLRClassifier, reference_dnn
from skclr._catalogue import make_schedule

GRID = ["constant", "cosine", "triangular", "one_cycle"]

GRID_IN_A_NEW_PROCESS = r"""
import os, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from skclr import CLRClassifier

n, epochs, batch, folds = map(int, sys.argv[1:5])
X, y = make_classification(n_samples=n, n_features=20, n_informative=10, n_classes=4, random_state=0)
X = X.astype("float32")
estimator = CLRClassifier(max_lr=1e-2, epochs=epochs, batch_size=batch)
start = time.perf_counter()
GridSearchCV(estimator, {"schedule": sys.argv[5].split(",")}, cv=StratifiedKFold(folds)).fit(X, y)
print(time.perf_counter() - start)
"""


def grid_seconds(skclr_root: Path, n: int, epochs: int, batch: int, folds: int) -> float:
    """The grid search's own seconds (imports excluded) in a fresh process running the skclr in ``skclr_root``."""
    env = {**os.environ, "PYTHONPATH": str(skclr_root)}
    args = [sys.executable, "-c", GRID_IN_A_NEW_PROCESS, *map(str, (n, epochs, batch, folds)), ",".join(GRID)]
    out = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


class _EpochClock(keras.callbacks.Callback):
    """``time.perf_counter()`` at each epoch's end of a plain Keras fit (epoch hooks only)."""

    def __init__(self, ends: list[float]):
        super().__init__()
        self.ends = ends

    def on_epoch_end(self, epoch, logs=None):
        self.ends.append(time.perf_counter())


def run(quick: bool = False, baseline: str | None = None, backends: list[str] | None = None) -> list[dict]:
    """The rows of every backend (each measured in a child process), led by a ``backend`` column."""
    return per_backend("bench_speed", "measure", backends, quick=quick, baseline=baseline)


verdicts = target_verdicts


def measure(quick: bool = False, baseline: str | None = None) -> list[dict]:
    """The rows on the backend Keras runs on in this process."""
    backend = keras.backend.backend()
    n, epochs, batch, rounds, folds = (1000, 3, 38, 1, 2) if quick else (4000, 11, 38, 5, 5)
    X, y = make_classification(n_samples=n, n_features=20, n_informative=10, n_classes=4, random_state=0)
    X = X.astype("float32")

    warm = {"skclr": [], "keras": []}  # the warm epochs of the fits timed as "skclr" and "keras"

    def keras_fit(X_fit, y_fit, name="one_cycle", ends=None):
        steps_per_epoch = math.ceil(len(X_fit) / batch)
        model = reference_dnn(20, 4)
        schedule = make_schedule(name, steps_per_epoch=steps_per_epoch, epochs=epochs, max_lr=1e-2)
        model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy")
        callbacks = [] if ends is None else [_EpochClock(ends)]
        model.fit(X_fit, y_fit, epochs=epochs, batch_size=batch, verbose=0, callbacks=callbacks)
        return model

    def skclr_fit(**params):
        params = {"epochs": epochs, **params}
        return CLRClassifier(schedule="one_cycle", max_lr=1e-2, batch_size=batch, **params).fit(X, y)

    def clocked_skclr_fit():
        with epoch_ends() as ends:
            skclr_fit()
        warm["skclr"].append(warm_epoch(ends))

    def clocked_keras_fit():
        ends = []
        keras_fit(X, y, ends=ends)
        warm["keras"].append(warm_epoch(ends))

    def keras_grid():
        for name in GRID:
            for train, test in StratifiedKFold(folds).split(X, y):
                model = keras_fit(X[train], y[train], name)
                (model.predict(X[test], verbose=0).argmax(axis=1) == y[test]).mean()

    def skclr_grid():
        estimator = CLRClassifier(max_lr=1e-2, epochs=epochs, batch_size=batch)
        GridSearchCV(estimator, {"schedule": GRID}, cv=StratifiedKFold(folds)).fit(X, y)

    seeds = iter(range(1, 10**6))  # a new seed for every seeded fit, as per-fold seeds or repeated CV give

    def seeded_fit(**params):
        return skclr_fit(random_state=next(seeds), **params)

    timed = {"skclr": clocked_skclr_fit, "keras": clocked_keras_fit, "skclr + range test": lambda: skclr_fit(lr_finder=True),
             "skclr 20": lambda: skclr_fit(epochs=20), "skclr 20 + range test": lambda: skclr_fit(epochs=20, lr_finder=True),
             "seeded": seeded_fit, "seeded + range test": lambda: seeded_fit(lr_finder=True)}  # fmt: skip
    for fit in timed.values():  # warm-up: imports, first traces (and compiles) of every kind of fit
        fit()
    warm["skclr"].clear(), warm["keras"].clear()
    fits = alternate(timed, rounds)
    grids = alternate({"skclr": skclr_grid, "keras": keras_grid}, 1)
    setting = f"{n}x20, 4 classes, {epochs} epochs, batch {batch}"
    per_fit = f"{setting}, {rounds} rounds"
    versions = []
    if baseline and backend == "tensorflow":
        here = Path(skclr.__file__).resolve().parent.parent
        times = {"skclr": [], "baseline": []}
        for round_ in range(1 if quick else 2):  # A B, then B A
            for name in ("skclr", "baseline") if round_ % 2 == 0 else ("baseline", "skclr"):
                times[name].append(grid_seconds(here if name == "skclr" else Path(baseline), n, epochs, batch, folds))
        versions.append(ratio_row(f"GridSearchCV {len(GRID)} schedules x {folds} folds vs the same on {checkout_name(baseline)}",
                                  f"{setting}, {len(times['skclr'])} rounds", times, "skclr", "baseline", "<= 1.05"))
    jax = backend == "jax"
    return [
        ratio_row("CLRClassifier(one_cycle).fit vs Keras Model.fit", per_fit, fits, "skclr", "keras",
                  "-" if jax else "<= 0.6"),
        ratio_row("warm epoch (mean of the 2nd and later) of the same fits vs Keras's", per_fit, warm, "skclr",
                  "keras", "<= 1.2" if jax else "-"),
        ratio_row("lr_finder=True vs the same fit without it", per_fit, fits, "skclr + range test", "skclr", "<= 1.15"),
        ratio_row("lr_finder=True vs the same fit without it, a new random_state each fit", per_fit, fits,
                  "seeded + range test", "seeded", "<= 1.15"),
        ratio_row("lr_finder=True vs the same fit without it, 20 epochs", per_fit.replace(f"{epochs} epochs", "20 epochs"),
                  fits, "skclr 20 + range test", "skclr 20", "<= 1.15"),
        ratio_row(f"GridSearchCV {len(GRID)} schedules x {folds} folds vs the plain-Keras loop", setting, grids,
                  "skclr", "keras"),
        *versions,
    ]  # fmt: skip

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small settings (smoke test)")
    parser.add_argument("--baseline", help="checkout of an earlier skclr to run the grid search against")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, help="default: every installed one")
    args = parser.parse_args()
    rows = run(quick=args.quick, baseline=args.baseline, backends=args.backends)
    print(markdown_table(rows))
    print()
    print(markdown_table(verdicts(rows)))
