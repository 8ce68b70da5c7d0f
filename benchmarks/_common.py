"""Helpers shared by the benchmark scripts: alternating timed runs, markdown tables, caches of finished fits."""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


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


def code_version() -> str:
    """A digest of the installed skclr's source: a cache of finished fits is valid for this code only."""
    import hashlib
    from pathlib import Path

    import skclr

    digest = hashlib.sha1()
    for path in sorted(Path(skclr.__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
