"""Each bad input of the test suite: the error it raises and how long until it is raised.

Reads the cases from tests/test_validation.py so the table and the tests cannot drift apart
(that file needs the test extra: pytest, hypothesis).

    python benchmarks/bench_errors.py
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

from _common import markdown_table

from skclr import CLRClassifier

TESTS = Path(__file__).resolve().parents[1] / "tests"


def _test_module(name: str):
    """Import ``tests/NAME.py`` by its path, under its own name (test_validation imports ``conftest``)."""
    spec = importlib.util.spec_from_file_location(name, TESTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_test_module("conftest")
validation = _test_module("test_validation")
BAD_DATA, BAD_PARAMS, X, y = validation.BAD_DATA, validation.BAD_PARAMS, validation.X, validation.y

TINY = dict(hidden_layer_sizes=(8,), dropout=0.0, epochs=2, batch_size=16)


def attempt(clf, *args, **kwargs) -> tuple[str, float]:
    start = time.perf_counter()
    try:
        clf.fit(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - we report whatever is raised
        elapsed = time.perf_counter() - start
        message = str(error).splitlines()[0]
        return f"{type(error).__name__}: {message[:110]}", elapsed
    return "no error!", time.perf_counter() - start


def run(quick: bool = False) -> list[dict]:
    CLRClassifier(**TINY).fit(X, y)  # warm-up so imports do not count
    rows = []
    for case, (make, _, _) in BAD_DATA.items():
        Xb, yb, weights = make()
        error, elapsed = attempt(CLRClassifier(**TINY), Xb, yb, sample_weight=weights)
        rows.append({"bad input": case, "error": error, "ms": elapsed * 1e3})
    for case, (params, _) in BAD_PARAMS.items():
        error, elapsed = attempt(CLRClassifier(**{**TINY, **params}), X, y)
        rows.append({"bad input": case, "error": error, "ms": elapsed * 1e3})
    return rows


if __name__ == "__main__":
    print(markdown_table(run()))
