"""Each bad input of the test suite: the error it raises and how long until it is raised.

Imports the cases from tests/test_validation.py so the table and the tests cannot drift apart.

    python benchmarks/bench_errors.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from _common import markdown_table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_validation import BAD_DATA, BAD_PARAMS, X, y  # noqa: E402

from skclr import CLRClassifier  # noqa: E402

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
