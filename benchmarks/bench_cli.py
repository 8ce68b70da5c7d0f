"""The main job, ``python -m skclr compare`` (its default run), timed per Keras backend.

Each run is a fresh process, as a user starts it: ``python -m skclr compare --quiet`` on the
bundled digits data, output to a temporary folder, wall time from start to exit (imports, worker
processes, compilation, training, figures). Rows:

- ``tensorflow``: ``--backend tensorflow``;
- ``jax, cold cache``: ``--backend jax`` with an empty JAX compilation cache (a new
  ``XDG_CACHE_HOME``): the first run on a machine;
- ``jax, warm cache``: the same again, with the cache the cold run filled: every later run;
- with ``--baseline DIR`` (a checkout of an earlier skclr, e.g. ``d0f864e``, before the JAX
  backend), its default run on TensorFlow, the yardstick of issue 29's target: the default run on
  JAX at most 0.5x its time, with the same accuracies within the fold-to-fold noise.

Columns: wall seconds, ratio to the baseline (else to this code on TensorFlow), the mean accuracy
over the configurations, and the largest difference (absolute) of a configuration's mean accuracy from the
TensorFlow run's, beside the largest fold-to-fold standard deviation of the two runs: a different
backend draws different random numbers, so accuracies move within that noise.

    python benchmarks/bench_cli.py [--baseline DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import checkout_name, markdown_table

ROOT = Path(__file__).resolve().parents[1]
TARGET = 0.5  # issue 29: JAX's default run at most half the baseline's


def timed_compare(code: Path, backend: str | None, cache_home: str, quick: bool) -> tuple[float, dict]:
    """Wall seconds of one ``compare`` run of the skclr in ``code``, and its results.json."""
    with tempfile.TemporaryDirectory(prefix="skclr-bench-cli-") as folder:
        argv = [sys.executable, "-m", "skclr", "compare", "--quiet", "--output", folder]
        argv += ["--backend", backend] if backend else []
        argv += ["--epochs", "2", "--folds", "2", "--schedules", "adam,one_cycle"] if quick else []
        env = {**os.environ, "PYTHONPATH": str(code), "XDG_CACHE_HOME": cache_home}
        env.pop("KERAS_BACKEND", None)  # --backend chooses; the baseline's CLI knows only TensorFlow
        env.pop("JAX_COMPILATION_CACHE_DIR", None)
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=folder)
        seconds = time.perf_counter() - start
        if done.returncode:
            raise RuntimeError(f"{' '.join(argv[1:])} failed ({done.returncode}):\n{done.stderr}")
        return seconds, json.loads(Path(folder, "results.json").read_text())


def run(quick: bool = False, baseline: str | None = None) -> list[dict]:
    runs = {}
    with tempfile.TemporaryDirectory(prefix="skclr-bench-cache-") as caches:
        if baseline:
            runs[f"{checkout_name(baseline)}, tensorflow"] = timed_compare(Path(baseline), None, caches + "/base", quick)
        runs["tensorflow"] = timed_compare(ROOT, "tensorflow", caches + "/tf", quick)
        runs["jax, cold cache"] = timed_compare(ROOT, "jax", caches + "/jax", quick)
        runs["jax, warm cache"] = timed_compare(ROOT, "jax", caches + "/jax", quick)
    yardstick_name = next(iter(runs))
    yardstick = runs[yardstick_name][0]
    tf = runs["tensorflow"][1]["results"]
    rows = []
    for name, (seconds, result) in runs.items():
        results = result["results"]
        differences = [abs(results[c]["accuracy_mean"] - tf[c]["accuracy_mean"]) for c in results if c in tf]
        noise = [max(results[c]["accuracy_std"], tf[c]["accuracy_std"]) for c in results if c in tf]
        rows.append({
            "run": name, "backend": result.get("backend", "tensorflow"), "wall s": seconds,
            f"× {yardstick_name}": seconds / yardstick,
            "mean accuracy": sum(r["accuracy_mean"] for r in results.values()) / len(results),
            "largest Δ accuracy vs tensorflow": max(differences),
            "largest fold std": max(noise),
            "target": f"<= {TARGET}" if name.startswith("jax") and baseline else "-",
        })  # fmt: skip
    return rows


def verdicts(rows: list[dict]) -> list[dict]:
    out = []
    for row in rows:
        if row["target"] == "-":
            continue
        ratio = next(value for key, value in row.items() if key.startswith("×"))
        within = row["largest Δ accuracy vs tensorflow"] <= row["largest fold std"]
        out.append({"run": row["run"], "time": f"{ratio:.3g}x", "target": row["target"],
                    "met": "yes" if ratio <= TARGET else "NO",
                    "accuracies within the fold noise": "yes" if within else "NO"})  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 configurations, 2 folds, 2 epochs")
    parser.add_argument("--baseline", help="checkout of an earlier skclr whose default run is the yardstick")
    args = parser.parse_args()
    rows = run(quick=args.quick, baseline=args.baseline)
    print(markdown_table(rows))
    print()
    print(markdown_table(verdicts(rows)))


if __name__ == "__main__":
    main()
