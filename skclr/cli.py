"""Command line: ``python -m skclr compare | find-lr | schedules``.

``compare`` reproduces the seed's experiment with cross-validation on a CSV file or,
by default, on scikit-learn's bundled digits data (1,797 8x8 images, 10 classes).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_OUTPUT = "skclr-output"


class CLIError(Exception):
    """A user error: printed as one line on stderr, exit status 2."""


def load_data(path: str | None, target: str | None, task: str = "auto") -> tuple[pd.DataFrame, pd.Series, str, str]:
    """Read ``path`` (CSV) and split off ``target``; without a path, the bundled digits data.

    Returns features, target, a one-line description and the task ("auto" detects regression
    from a continuous target).
    """
    from skclr.experiment import detect_task

    if path is None:
        from sklearn.datasets import load_digits

        digits = load_digits(as_frame=True)
        return digits.data, digits.target, "digits (scikit-learn, 1797 x 64, 10 classes)", "classification"
    if target is None:
        raise CLIError("--data needs --target, the name of the label column")
    file = Path(path)
    if not file.is_file():
        raise CLIError(f"no such file: {path}")
    try:
        frame = pd.read_csv(file)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise CLIError(f"cannot read {path} as CSV: {error}") from None
    if target not in frame.columns:
        raise CLIError(f"no column {target!r} in {path}; columns are: {', '.join(map(str, frame.columns))}")
    unlabeled = int(frame[target].isna().sum())
    frame = frame.dropna(subset=[target])
    y = frame.pop(target)
    task = detect_task(y) if task == "auto" else task
    if task == "classification" and y.nunique() < 2:
        raise CLIError(f"target {target!r} has {y.nunique()} class(es); at least 2 are needed")
    if task == "regression" and not pd.api.types.is_numeric_dtype(y):
        raise CLIError(f"target {target!r} is not numeric; regression needs numbers")
    if frame.shape[1] == 0:
        raise CLIError(f"{path} has no feature columns besides {target!r}")
    dropped = f"; {unlabeled} rows without a {target!r} value dropped" if unlabeled else ""
    kind = f"{y.nunique()} classes" if task == "classification" else "continuous target"
    return frame, y, f"{file.name} ({len(frame)} x {frame.shape[1]}, {kind}{dropped})", task


def _progress(quiet: bool):
    if quiet:
        return None
    return lambda line: print(line, file=sys.stderr, flush=True)


def _format_table(summary: pd.DataFrame) -> str:
    main, other = summary.attrs["scores"]
    header = (f"{'configuration':<18} {main.replace('_', '-'):>15} {other.replace('_', '-'):>15} {'fit s':>6} "
              f"{'epochs*':>7}  description")  # fmt: skip
    lines = [header, "-" * len(header)]
    for name, row in summary.iterrows():
        epochs = "-" if np.isnan(row.epochs_to_baseline) else f"{row.epochs_to_baseline:.0f}"
        failed = f"  ({row.failed:.0f} diverged)" if row.failed else ""
        lines.append(
            f"{name:<18} {row[main + '_mean']:>7.4f} ± {row[main + '_std']:<5.3f} "
            f"{row[other + '_mean']:>7.4f} ± {row[other + '_std']:<5.3f} {row.fit_seconds:>6.1f} {epochs:>7}  "
            f"{row.description}{failed}"
        )
    return "\n".join(lines)


def cmd_compare(args) -> int:
    from skclr.experiment import compare, resolve_configs, validate_configs

    if args.folds < 2:
        raise CLIError("--folds must be at least 2")
    X, y, described, task = load_data(args.data, args.target, args.task)
    try:
        configs = resolve_configs(args.schedules.split(",") if args.schedules else None, args.lr_finder)
        validate_configs(configs, epochs=args.epochs, batch_size=args.batch_size, random_state=args.seed, task=task)
    except ValueError as error:
        raise CLIError(str(error)) from None
    folds = args.folds
    if task == "classification" and y.value_counts().min() < folds:
        raise CLIError(f"the rarest class has {y.value_counts().min()} samples; --folds {folds} needs {folds} "
                       "(--task regression for a numeric target)")  # fmt: skip
    print(f"data: {described}; {len(configs)} configurations x {folds} folds x {args.repeats} repeats, "
          f"{args.epochs} epochs each", file=sys.stderr)  # fmt: skip
    result = compare(
        X, y, configs, epochs=args.epochs, batch_size=args.batch_size, folds=folds,
        repeats=args.repeats, random_state=args.seed, progress=_progress(args.quiet), task=task, jobs=args.jobs,
    )  # fmt: skip
    summary = result.summary()
    print()
    print(_format_table(summary))
    measure = "accuracy reaches" if summary.attrs["curve"] == "val_accuracy" else "loss (standardized MSE) falls to"
    print(f"\n* epochs until the mean held-out {measure} the best baseline's "
          f"({', '.join(summary.attrs['baselines'])}: {summary.attrs['target']:.4f}); - = never")  # fmt: skip
    bounds = result.range_test_bounds()
    if len(bounds):
        print("\nrates set by the range test per fold (spread: largest / smallest of the first; "
              "sweeps: worst disagreement in a fold)")
        for name, row in bounds.iterrows():
            rates = [f"{rate} {row[rate]}" for rate in ("max_lr", "base_lr", "learning_rate") if isinstance(row.get(rate), str)]
            print(f"{name:<18} {'  '.join(rates)} (spread {row.spread:.2f}; sweeps {row.sweeps_spread:.2f})")
    _save_comparison(result, summary, Path(args.output), vars(args), described)
    print(f"results and figures in {args.output}/")
    return 0


def _save_comparison(result, summary: pd.DataFrame, output: Path, settings: dict, described: str) -> None:
    output.mkdir(parents=True, exist_ok=True)
    summary.to_csv(output / "results.csv")
    pd.DataFrame(result.folds).to_csv(output / "folds.csv", index=False)
    payload = {
        "data": described,
        "settings": {k: v for k, v in settings.items() if k != "func"},
        "task": result.task,
        "baseline_target": summary.attrs["target"],
        "results": json.loads(summary.to_json(orient="index")),
    }
    (output / "results.json").write_text(json.dumps(payload, indent=2))
    _save_figure(output / "comparison.png", lambda plotting: plotting.plot_comparison(result))
    if result.finders:
        name, finder = next(iter(result.finders.items()))
        _save_figure(output / "lr_finder.png", lambda plotting: plotting.plot_lr_finder(
            finder, title=f"range test, first fold ({name})"))  # fmt: skip


def _save_figure(path: Path, draw) -> bool:
    """Save the figure ``draw(skclr.plotting)`` returns; without matplotlib, say so and skip it."""
    try:
        import matplotlib
    except ImportError:
        print(f'{path.name} skipped: pip install "skclr[plot]" for matplotlib', file=sys.stderr)
        return False
    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    from skclr import plotting

    figure = draw(plotting)
    figure = getattr(figure, "figure", figure)  # an Axes or a Figure
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def cmd_find_lr(args) -> int:
    from skclr import LRFinder
    from skclr.experiment import TASKS, make_preprocessor

    X, y, described, task = load_data(args.data, args.target, args.task)
    features = make_preprocessor().fit_transform(X).astype("float32")
    if task == "regression":  # the loss is read on a standardized target, as compare trains
        y = (y - y.mean()) / (y.std() or 1.0)
    settings = dict(min_lr=args.min_lr, max_lr=args.max_lr, num_iter=args.num_iter, n_sweeps=args.n_sweeps)
    finder = LRFinder(**{key: value for key, value in settings.items() if value is not None})
    estimator = TASKS[task].estimator(lr_finder=finder, batch_size=args.batch_size, random_state=args.seed)
    try:
        finder = estimator.find_lr(features, y)
    except ValueError as error:
        raise CLIError(str(error)) from None
    base, top = finder.clr_bounds()
    print(f"data: {described}")
    print(f"swept {len(finder.lrs_)} steps from {finder.lrs_[0]:.2g} to {finder.lrs_[-1]:.2g}"
          f"{' (stopped: loss diverged)' if finder.diverged_ else ''}")  # fmt: skip
    for rule in ("valley", "steep", "minimum"):
        print(f"suggestion ({rule}): {finder.suggest(rule):.3g}")
    print(f"CLR bounds: base_lr={base:.3g}, max_lr={top:.3g} "
          f"({finder.n_sweeps_} sweeps; their max_lr picks differ by a factor {finder.spread_:.2f})")  # fmt: skip
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    if _save_figure(output / "lr_finder.png", lambda plotting: plotting.plot_lr_finder(finder)):
        print(f"plot: {output / 'lr_finder.png'}")
    return 0


def cmd_schedules(args) -> int:
    from skclr._catalogue import SCHEDULES

    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    if not _save_figure(output / "schedules.png", lambda plotting: plotting.plot_all_schedules(args.epochs)):
        raise CLIError('drawing schedules needs matplotlib: pip install "skclr[plot]"')
    print(f"{len(SCHEDULES)} schedules over {args.epochs} epochs: {output / 'schedules.png'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m skclr", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def data_options(sub):
        sub.add_argument("--data", help="CSV file (default: scikit-learn's digits)")
        sub.add_argument("--target", help="label column of --data")
        sub.add_argument("--output", default=DEFAULT_OUTPUT, help=f"folder for results (default {DEFAULT_OUTPUT})")
        sub.add_argument("--seed", type=int, default=0)
        sub.add_argument("--batch-size", type=_positive_int, default=38, help="seed: 38")
        sub.add_argument("--task", choices=("auto", "classification", "regression"), default="auto",
                         help="auto: regression (R2, RMSE) for a numeric target with fractions or > 30 values")  # fmt: skip

    compare = commands.add_parser("compare", help="cross-validated comparison of the seed's configurations")
    data_options(compare)
    compare.add_argument("--schedules", help="comma-separated configuration or schedule names")
    compare.add_argument("--epochs", type=_positive_int, default=20)
    compare.add_argument("--folds", type=_positive_int, default=3)
    compare.add_argument("--repeats", type=_positive_int, default=1)
    compare.add_argument("--lr-finder", action="store_true", help="run the range test in every configuration")
    compare.add_argument("--quiet", action="store_true", help="no progress lines")
    compare.add_argument("--jobs", type=_jobs, default=-1,
                         help="folds trained at once, each in a worker process (default -1: one per core); "
                              "the results are the same for any value")  # fmt: skip
    compare.set_defaults(func=cmd_compare)

    find = commands.add_parser("find-lr", help="learning-rate range test on the reference DNN")
    data_options(find)
    find.add_argument("--min-lr", type=float, help="first rate of the sweep (default: LRFinder's)")
    find.add_argument("--max-lr", type=float, help="last rate of the sweep (default: LRFinder's)")
    find.add_argument("--num-iter", type=_positive_int, help="steps per sweep (default: LRFinder's)")
    find.add_argument("--n-sweeps", type=_positive_int, help="sweeps with other batch orders (default: LRFinder's)")
    find.set_defaults(func=cmd_find_lr)

    draw = commands.add_parser("schedules", help="draw every schedule")
    draw.add_argument("--output", default=DEFAULT_OUTPUT)
    draw.add_argument("--epochs", type=_positive_int, default=40)
    draw.set_defaults(func=cmd_schedules)
    return parser


def _jobs(text: str) -> int:
    value = int(text)
    if value == 0 or value < -1:
        raise argparse.ArgumentTypeError(f"must be a positive integer or -1 (one per core), got {text}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CLIError as error:
        print(f"skclr: error: {error}", file=sys.stderr)
        return 2
