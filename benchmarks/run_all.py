"""Run every benchmark and write one markdown report (default skclr-output/benchmarks.md).

    python benchmarks/run_all.py [--quick] [--output FILE] [--baseline DIR]

Run it on an otherwise idle machine: each script alternates the things it compares, but a
busy neighbour still adds noise. Ratios below 1 mean skclr is faster.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

from _common import machine, markdown_table

SCRIPTS = {
    "Speed against plain Keras: one fit, the range test, a grid search": "bench_speed",
    "Overhead against plain Keras": "bench_overhead",
    "Range-test cost": "bench_finder",
    "Time to accuracy per schedule (digits), and scikit-learn's MLPClassifier": "bench_schedules",
    "Regression on scikit-learn's diabetes data, against MLPRegressor": "bench_regression",
    "Grid search: one process, loky, Dask": "bench_parallel",
    "Memory per fit in one process": "bench_memory",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small settings (smoke test)")
    parser.add_argument("--output", default="skclr-output/benchmarks.md")
    parser.add_argument("--baseline", help="checkout of an earlier skclr for bench_speed.py's version row")
    args = parser.parse_args()
    sections = [f"# skclr benchmarks\n\nMachine: {machine()}. Date: {time.strftime('%Y-%m-%d')}."]
    for title, module in SCRIPTS.items():
        start = time.perf_counter()
        options = {"baseline": args.baseline} if module == "bench_speed" and args.baseline else {}
        rows = importlib.import_module(module).run(quick=args.quick, **options)
        table = markdown_table(rows)
        sections.append(f"## {title}\n\n{table}\n\n({time.perf_counter() - start:.0f} s)")
        print(sections[-1], flush=True)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("\n\n".join(sections) + "\n")
    print(f"\nwritten to {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
