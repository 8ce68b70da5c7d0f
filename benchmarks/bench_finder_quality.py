"""Does the range test pick rates that win? 5-fold CV on real tabular data.

Sets: the six CSVs of ``../shared/data/`` (rows without a target dropped, as ``compare --data``
does) and scikit-learn's digits, breast cancer and wine. Each fold is preprocessed as
``compare --data`` does (impute, scale, one-hot; fitted on the training part). Rows:

- ``adam_50``: constant Adam 1e-3 for 50 epochs, the seed's baseline;
- ``fixed_3e-3`` / ``fixed_1e-2`` / ``fixed_3e-2``: one-cycle with that ``max_lr``, 20 epochs
  (the grid a user would run without a range test);
- ``finder``: one-cycle with ``lr_finder=True`` (the defaults), 20 epochs; ``--label`` names it,
  so that runs of different code can share one ``--cache`` file (before/after tables).

Columns: accuracy and log-loss mean +- std, the worst fold's accuracy, the per-fold ``max_lr_`` /
``base_lr_`` and their spread (max/min), and fit seconds. Then, per set, the issue's targets.

    python benchmarks/bench_finder_quality.py [--quick] [--sets spam7 wine] [--cache FILE] [--label NAME]

``--quick``: 3 folds, at most 1500 rows per set. Results are appended to ``--cache`` (JSON lines)
and read back from it, so a rerun only fits what is missing.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

from _common import markdown_table

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import StratifiedKFold

from skclr import CLRClassifier
from skclr.cli import load_data
from skclr.experiment import make_preprocessor

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CSV_SETS = {"attrition": "Attrition", "wa_churn": "churn", "lending_club": "Class", "HMDA": "deny",
            "spam7": "yesno", "Chile": "vote"}  # fmt: skip
SKLEARN_SETS = {"digits": load_digits, "breast_cancer": load_breast_cancer, "wine": load_wine}
FIXED = {"fixed_3e-3": 3e-3, "fixed_1e-2": 1e-2, "fixed_3e-2": 3e-2}
BATCH = 38


def load(name: str, max_rows: int | None) -> tuple[pd.DataFrame, np.ndarray, str]:
    if name in SKLEARN_SETS:
        bunch = SKLEARN_SETS[name](as_frame=True)
        X, y, text = bunch.data, bunch.target, f"{name} ({len(bunch.data)} x {bunch.data.shape[1]})"
    else:
        X, y, text, _ = load_data(str(DATA / f"{name}.csv"), CSV_SETS[name])
    y = np.unique(np.asarray(y), return_inverse=True)[1]
    if max_rows and len(X) > max_rows:
        keep = np.random.default_rng(0).choice(len(X), max_rows, replace=False)
        X, y, text = X.iloc[keep], y[keep], f"{text}, {max_rows} rows drawn"
    return X.reset_index(drop=True), y, text


def row_params(row: str) -> dict:
    if row == "adam_50":
        return dict(schedule="constant", epochs=50)
    if row in FIXED:
        return dict(schedule="one_cycle", max_lr=FIXED[row], epochs=20)
    return dict(schedule="one_cycle", lr_finder=True, epochs=20)


def fit_fold(X_train, y_train, X_test, y_test, row: str, seed: int) -> dict:
    estimator = CLRClassifier(batch_size=BATCH, random_state=seed, **row_params(row))
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimator.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    proba = estimator.predict_proba(X_test)
    record = {"accuracy": accuracy_score(y_test, proba.argmax(axis=1)),
              "log_loss": log_loss(y_test, proba, labels=np.arange(proba.shape[1])),
              "max_lr": estimator.max_lr_, "base_lr": estimator.base_lr_, "seconds": seconds,
              "warnings": sorted({str(w.message)[:120] for w in caught})}  # fmt: skip
    finder = getattr(estimator, "lr_finder_", None)
    if finder is not None:  # the curve, to study rules without refitting
        record["curve"] = {"lrs": finder.lrs_.tolist(), "losses": finder.losses_.tolist(),
                           "diverged": bool(finder.diverged_)}  # fmt: skip
    return record


def run(sets: list[str], rows: list[str], folds: int, max_rows: int | None, cache: Path | None, label: str):
    done = {}
    if cache is not None and cache.exists():
        for line in cache.read_text().splitlines():
            entry = json.loads(line)
            done[entry["set"], entry["fold"], entry["row"]] = entry
    names = {row: (label if row == "finder" else row) for row in rows}
    for name in sets:
        X, y, text = load(name, max_rows)
        print(f"# {text}", flush=True)
        splits = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0).split(X, y)
        for fold, (train, test) in enumerate(splits):
            todo = [row for row in rows if (name, fold, names[row]) not in done]
            if not todo:
                continue
            preprocessor = clone(make_preprocessor()).fit(X.iloc[train])
            X_train, X_test = (preprocessor.transform(X.iloc[part]).astype("float32") for part in (train, test))
            for row in todo:
                entry = {"set": name, "fold": fold, "row": names[row],
                         **fit_fold(X_train, y[train], X_test, y[test], row, seed=fold)}  # fmt: skip
                done[name, fold, names[row]] = entry
                print(f"  fold {fold} {names[row]:<16} acc {entry['accuracy']:.4f} max_lr {entry['max_lr']:.2e} "
                      f"{entry['seconds']:.1f} s", flush=True)  # fmt: skip
                if cache is not None:
                    with cache.open("a") as file:
                        file.write(json.dumps(entry) + "\n")
    return [entry for entry in done.values() if entry["set"] in sets and entry["fold"] < folds]


def summarize(entries: list[dict]) -> tuple[list[dict], list[dict]]:
    frame = pd.DataFrame(entries)
    table, verdicts = [], []
    for (name, row), part in frame.groupby(["set", "row"], sort=False):
        table.append({"set": name, "row": row,
                      "accuracy": f"{part.accuracy.mean():.4f} +- {part.accuracy.std():.4f}",
                      "log-loss": f"{part.log_loss.mean():.4f} +- {part.log_loss.std():.4f}",
                      "worst fold": f"{part.accuracy.min():.4f}",
                      "max_lr_ per fold": " ".join(f"{v:.1e}" for v in part.max_lr),
                      "max_lr_ spread": f"{part.max_lr.max() / part.max_lr.min():.2f}",
                      "base_lr_ spread": f"{part.base_lr.max() / part.base_lr.min():.2f}",
                      "fit s": f"{part.seconds.mean():.1f}"})  # fmt: skip
    for name, part in frame.groupby("set", sort=False):
        means = part.groupby("row").accuracy.mean()
        fixed = [row for row in FIXED if row in means]
        if not fixed:
            continue
        best_row = means[fixed].idxmax()
        best_fixed = means[best_row]
        for row in [best_row, *(r for r in means.index if r not in FIXED)]:
            mine = part[part.row == row]
            spread = mine.max_lr.max() / mine.max_lr.min()
            checks = {
                "vs best fixed": means[row] - best_fixed,
                "vs adam_50": means[row] - means.get("adam_50", np.nan),
                "worst - best fixed": mine.accuracy.min() - best_fixed,
            }
            ok = (checks["vs best fixed"] >= -0.005 and not checks["vs adam_50"] < -0.01
                  and checks["worst - best fixed"] >= -0.02 and spread <= 3)  # fmt: skip
            verdicts.append({"set": name, "row": f"{row} (best fixed)" if row == best_row else row,
                             "accuracy": f"{mine.accuracy.mean():.4f}", "log-loss": f"{mine.log_loss.mean():.3f}",
                             "max_lr_ median": f"{mine.max_lr.median():.1e}",
                             **{k: f"{v:+.4f}" for k, v in checks.items()}, "max_lr_ spread": f"{spread:.2f}",
                             "targets met": "-" if row in FIXED or row == "adam_50" else ("yes" if ok else "NO")})  # fmt: skip
    return table, verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 folds, at most 1500 rows per set")
    parser.add_argument("--sets", nargs="+", default=[*CSV_SETS, *SKLEARN_SETS], choices=[*CSV_SETS, *SKLEARN_SETS])
    parser.add_argument("--rows", nargs="+", default=["adam_50", *FIXED, "finder"], choices=["adam_50", *FIXED, "finder"])
    parser.add_argument("--cache", type=Path, help="JSON-lines file of finished fits, read and appended")
    parser.add_argument("--label", default="finder", help="name of the lr_finder row (default: finder)")
    args = parser.parse_args()
    folds, max_rows = (3, 1500) if args.quick else (5, None)
    entries = run(args.sets, args.rows, folds, max_rows, args.cache, args.label)
    table, verdicts = summarize(entries)
    print(markdown_table(table))
    if verdicts:
        print()
        print(markdown_table(verdicts))


if __name__ == "__main__":
    main()
