"""Helpers shared by the benchmark scripts: timed runs, markdown tables, cached cross-validation,
measurements per Keras backend in child processes.

Run as ``python benchmarks/_common.py SCRIPT IN OUT`` it is such a child (:func:`in_child`).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib
import importlib.util
import json
import os
import pickle
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

#: The fields a cache key may name; an entry starts with its key's fields, in the key's order.
KEY_FIELDS = ("set", "row", "folds", "fold", "settings")


def read_cache(cache: Path | None, key: Sequence[str]) -> dict[tuple, dict]:
    """The finished fits a JSON-lines cache holds, keyed by the values of its ``key`` fields
    (``settings`` defaults to "full", what entries without it were run with)."""
    done = {}
    if cache is not None and cache.exists():
        for line in cache.read_text().splitlines():
            entry = json.loads(line)
            done[tuple(entry.get(field, "full") if field == "settings" else entry[field] for field in key)] = entry
    return done


def append_cache(cache: Path | None, entry: dict) -> None:
    """Add a finished fit to the cache, so that a rerun does not fit it again."""
    if cache is not None:
        with cache.open("a") as file:
            file.write(json.dumps(entry) + "\n")


class Fold(NamedTuple):
    """One fold of one set: its number (every model of the fold is seeded with it) and its two parts."""

    index: int
    X_train: Any
    y_train: np.ndarray
    X_test: Any
    y_test: np.ndarray


def cross_validate_rows(
    sets: Sequence[str],
    rows: Sequence[str],
    folds: int,
    fit: Callable[[str, Fold], dict],
    *,
    load: Callable[[str], tuple[Any, np.ndarray, str]],
    stratified: bool,
    settings: str | Callable[[str], str],
    progress: Callable[[dict], str],
    cache: Path | None = None,
    key: Sequence[str] = KEY_FIELDS,
    label: Callable[[str], str] = str,
    prepare: Callable[[Fold], Fold] | None = None,
    complete: Callable[[dict], bool] | None = None,
    messages: Callable[[dict], Sequence[str]] = lambda entry: entry.get("warnings", ()),
) -> list[dict]:
    """Fit every row on every fold of every set, or read the fit from ``cache``; one entry per fit.

    The loop the cross-validation benchmarks share: for each set, ``folds`` shuffled splits
    (``random_state=0``, so every row and every run sees the same folds); for each fold, the rows
    whose entry the cache lacks are fitted, printed and appended to the cache at once, so an
    interrupted run resumes where it stopped.

    Parameters
    ----------
    sets, rows : sequence of str
        The data sets (names ``load`` knows) and the rows (names ``fit`` knows).
    folds : int
        Number of folds per set.
    fit : callable
        ``fit(row, fold)`` fits the row on ``fold.X_train, fold.y_train``, scores it on the test
        part and returns the record to cache (JSON-serializable).
    load : callable
        ``load(set)`` returns the set's features (a DataFrame), its target (an array) and a
        one-line description, printed before the set's fits.
    stratified : bool
        Split with ``StratifiedKFold`` (classification) rather than ``KFold``.
    settings : str or callable
        What else a cached fit is valid for (epochs, row limits, the skclr code), or
        ``settings(row)`` where it differs by row.
    progress : callable
        ``progress(entry)`` is the text printed after a fit's fold and row label.
    cache : path, optional
        JSON-lines file of finished fits (:func:`read_cache`, :func:`append_cache`).
    key : sequence of str, default=KEY_FIELDS
        The fields of :data:`KEY_FIELDS` that identify a cached fit; each entry starts with them, in
        this order, then holds the record ``fit`` returned.
    label : callable, default=str
        ``label(row)`` is the name under which a row's fits are cached and reported.
    prepare : callable, optional
        ``prepare(fold)`` returns the fold its rows are fitted on (a preprocessing they share);
        called once per fold, and only when a row of the fold must be fitted.
    complete : callable, optional
        ``complete(entry)`` is False for a cached entry that lacks a part this run asks for: the
        fit is done again and its new entry replaces the old.
    messages : callable
        ``messages(entry)`` are the warnings printed under a fit's line (default: its ``warnings``).

    Returns
    -------
    list of dict
        One entry per (set, row, fold), in that order.
    """
    unknown = [field for field in key if field not in KEY_FIELDS]
    if unknown:
        raise ValueError(f"key names {unknown}; a cache key is made of {KEY_FIELDS}")
    settings_of = settings if callable(settings) else lambda row: settings

    def key_of(name: str, row: str, fold: int) -> tuple:
        fields = {"set": name, "row": label(row), "folds": folds, "fold": fold, "settings": settings_of(row)}
        return tuple(fields[field] for field in key)

    def finished(found: dict | None) -> bool:
        return found is not None and (complete is None or complete(found))

    done = read_cache(cache, key)
    splitter = (StratifiedKFold if stratified else KFold)(n_splits=folds, shuffle=True, random_state=0)
    width = max((len(label(row)) for row in rows), default=0)
    for name in sets:
        X, y, text = load(name)
        print(f"# {text}", flush=True)
        for index, (train, test) in enumerate(splitter.split(X, y)):
            todo = [row for row in rows if not finished(done.get(key_of(name, row, index)))]
            if not todo:
                continue
            fold = Fold(index, X.iloc[train], y[train], X.iloc[test], y[test])
            if prepare is not None:
                fold = prepare(fold)
            for row in todo:
                entry_key = key_of(name, row, index)
                entry = {**dict(zip(key, entry_key)), **fit(row, fold)}
                done[entry_key] = entry
                print(f"  fold {index} {label(row):<{width}}  {progress(entry)}", flush=True)
                for message in messages(entry):
                    print(f"    {message}", flush=True)
                append_cache(cache, entry)
    return [done[key_of(name, row, fold)] for name in sets for row in rows for fold in range(folds)]


#: The rows :func:`mlp_rows` makes: scikit-learn's MLP, the yardstick of a comparison.
MLP_ROWS = ("mlp_default", "mlp_reference")


def mlp_rows(mlp: type) -> dict[str, tuple[str, Callable[[int, int | None], object]]]:
    """scikit-learn's ``mlp`` (``MLPClassifier`` or ``MLPRegressor``) as a comparison's rows.

    ``mlp_default`` is its defaults; ``mlp_reference`` has the hidden layers of skclr's reference
    network. Each is ``(label, factory(seed, epochs))``: ``epochs`` is None for the MLP's own stopping
    rule; smoke runs pass a small number, and the MLP then gets at most 10 iterations per epoch.
    """
    from skclr.models import DEFAULT_HIDDEN

    def iterations(epochs: int | None) -> dict:
        return {} if epochs is None else {"max_iter": 10 * epochs}

    return {
        "mlp_default": (
            f"{mlp.__name__}()",
            lambda seed, epochs: mlp(random_state=seed, **iterations(epochs)),
        ),
        "mlp_reference": (
            f"{mlp.__name__}(hidden_layer_sizes={DEFAULT_HIDDEN})",
            lambda seed, epochs: mlp(hidden_layer_sizes=DEFAULT_HIDDEN, random_state=seed, **iterations(epochs)),
        ),
    }


def alternate(runs: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """Time each callable ``repeats`` times, interleaved so drift hits all alike.

    Rounds alternate the order (A B, then B A, ...) so that no side always runs first, and the
    garbage of the previous run is collected before each timed run rather than inside it.
    """
    times: dict[str, list[float]] = {name: [] for name in runs}
    order = list(runs)
    for round_ in range(repeats):
        for name in order if round_ % 2 == 0 else order[::-1]:
            gc.collect()
            start = time.perf_counter()
            runs[name]()
            times[name].append(time.perf_counter() - start)
    return times


def median_ratio(times: dict[str, list[float]], numerator: str, denominator: str) -> float:
    """Median of the per-round ratios: each round's pair ran back to back."""
    return statistics.median(a / b for a, b in zip(times[numerator], times[denominator]))


def ratio_row(benchmark: str, setting: str, times: dict[str, list[float]], numerator: str, denominator: str,
              target: str = "-", columns: tuple[str, str] = ("skclr s", "reference s")) -> dict:
    """A table row: the two sides' median seconds and the median of their per-round ratios."""
    return {"benchmark": benchmark, "setting": setting,
            columns[0]: statistics.median(times[numerator]), columns[1]: statistics.median(times[denominator]),
            "ratio": median_ratio(times, numerator, denominator), "target": target}  # fmt: skip


def markdown_table(rows: list[dict]) -> str:
    """Rows of one table as markdown; floats to four significant digits, other values as given."""
    if not rows:
        return "(no rows)"
    header = list(rows[0])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in row.values()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


@functools.cache
def code_version() -> str:
    """A digest of the installed skclr's source: a cache of finished fits is valid for this code only.

    Computed once per process (a script asks for it at every fit it looks up). Covers the backend
    modules (``skclr/backend``) too.
    """
    import hashlib

    # found, not imported: a process that must not import Keras (the MLP's) asks too
    digest = hashlib.sha1()
    for path in sorted(Path(importlib.util.find_spec("skclr").origin).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def checkout_name(checkout: str) -> str:
    """``skclr <commit>`` of a git checkout of skclr (a ``--baseline``), else its path."""
    commit = subprocess.run(["git", "-C", checkout, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return f"skclr {commit.stdout.strip()}" if commit.returncode == 0 else checkout


def timed_fit(model, X_train, y_train, diverges=(), **fit_params) -> tuple[float, list[str], bool]:
    """Seconds, warnings, and whether the fit raised one of ``diverges`` (then its message is a warning):
    a fit that fails so counts, as NaN, and is never dropped."""
    import warnings

    start, diverged = time.perf_counter(), False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.fit(X_train, y_train, **fit_params)
        except diverges as error:
            diverged = True
            warnings.warn(f"{type(error).__name__}: {error}", RuntimeWarning)
    seconds = time.perf_counter() - start
    return seconds, sorted({f"{w.category.__name__}: {str(w.message)[:160]}" for w in caught}), diverged


#: Keras's backends skclr runs on, in the order the benchmarks measure them.
BACKENDS = ("tensorflow", "jax")


def installed_backends() -> list[str]:
    """The backends of :data:`BACKENDS` this interpreter can import (found, not imported)."""
    return [name for name in BACKENDS if importlib.util.find_spec(name) is not None]


def in_child(script: str, function: str, backend: str | None, env: dict[str, str | None] | None = None,
             **kwargs) -> Any:
    """``function(**kwargs)`` of ``benchmarks/<script>.py``, called in a fresh process of this interpreter.

    Keras's backend is fixed once Keras is imported, so each backend's measurements run in a
    process of their own, with ``KERAS_BACKEND=backend``; ``backend=None`` is for a process that
    must not import Keras (scikit-learn's MLP, timed without TensorFlow's or JAX's threads in the
    process). ``env`` adds variables to the child's environment (None removes one). Arguments and
    result travel pickled; the child's output goes to this process's. The children of one script
    run one after the other, never at the same time.
    """
    env = {**os.environ, "KERAS_BACKEND": backend, **(env or {})}
    env = {name: value for name, value in env.items() if value is not None}
    with tempfile.TemporaryDirectory(prefix="skclr-bench-") as folder:
        inputs, output = Path(folder, "in.pkl"), Path(folder, "out.pkl")
        inputs.write_bytes(pickle.dumps((function, kwargs)))
        sys.stdout.flush()
        subprocess.run([sys.executable, __file__, script, str(inputs), str(output)], env=env, check=True)
        return pickle.loads(output.read_bytes())


def per_backend(script: str, function: str, backends: Sequence[str] | None = None, **kwargs) -> list[dict]:
    """The rows ``function(**kwargs)`` of ``script`` returns, measured in a child per backend
    (default: every installed one), each row led by a ``backend`` column."""
    rows = []
    for backend in backends or installed_backends():
        print(f"# {script}: {backend}", file=sys.stderr, flush=True)
        rows += [{"backend": backend, **row} for row in in_child(script, function, backend, **kwargs)]
    return rows


def target_verdicts(rows: list[dict]) -> list[dict]:
    """One line per row with a target ("<= x": its ratio; "<= x s": its seconds): met or not."""
    lines = []
    for row in rows:
        target = str(row.get("target", "-"))
        if not target.startswith("<="):
            continue
        seconds = target.endswith(" s")
        value = row["skclr s"] if seconds else row["ratio"]
        limit = float(target[2:].removesuffix(" s"))
        lines.append({"backend": row.get("backend", "-"), "benchmark": row["benchmark"],
                      "measured": f"{value:.3g}{' s' if seconds else 'x'}", "target": target,
                      "met": "yes" if value <= limit else "NO"})  # fmt: skip  (nan is not met)
    return lines


@contextlib.contextmanager
def epoch_ends():
    """``time.perf_counter()`` at each epoch's end of the skclr fits run inside, in the list it yields.

    Read from skclr's own per-epoch monitor (wrapped here, for the benchmarks only), not from a
    callback of ours: a user's callback stops skclr sharing its compiled steps across fits (each
    fit would be traced, on JAX compiled, again) and so would change what is timed.
    """
    from skclr._monitor import EpochMonitor

    ends: list[float] = []
    original = EpochMonitor.on_epoch_end

    def timed(self, epoch, logs=None):  # the fit's epochs only: the range test's sweep has no monitor
        ends.append(time.perf_counter())
        return original(self, epoch, logs)

    EpochMonitor.on_epoch_end = timed
    try:
        yield ends
    finally:
        EpochMonitor.on_epoch_end = original


def warm_epoch(ends: Sequence[float]) -> float:
    """Seconds per epoch after the first (which traces the steps): the mean of the second and later."""
    return (ends[-1] - ends[0]) / (len(ends) - 1) if len(ends) > 1 else float("nan")


def _serve_child(script: str, inputs: str, output: str) -> None:
    function, kwargs = pickle.loads(Path(inputs).read_bytes())
    result = getattr(importlib.import_module(script), function)(**kwargs)
    asked = os.environ.get("KERAS_BACKEND")
    if asked and "keras" in sys.modules:  # a row labelled with one backend is never measured on another
        running = sys.modules["keras"].backend.backend()
        if running != asked:
            raise RuntimeError(f"{script}.{function} ran on Keras's {running} backend, not on {asked}")
    Path(output).write_bytes(pickle.dumps(result))


if __name__ == "__main__":
    _serve_child(*sys.argv[1:])
