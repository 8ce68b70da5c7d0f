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


def load_data(path: str | None, target: str | None) -> tuple[pd.DataFrame, pd.Series, str]:
    """Read ``path`` (CSV) and split off ``target``; without a path, the bundled digits data."""
    if path is None:
        from sklearn.datasets import load_digits

        digits = load_digits(as_frame=True)
        return digits.data, digits.target, "digits (scikit-learn, 1797 x 64, 10 classes)"
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
    frame = frame.dropna(subset=[target])
    y = frame.pop(target)
    if y.nunique() < 2:
        raise CLIError(f"target {target!r} has {y.nunique()} class(es); at least 2 are needed")
    if frame.shape[1] == 0:
        raise CLIError(f"{path} has no feature columns besides {target!r}")
    return frame, y, f"{file.name} ({len(frame)} x {frame.shape[1]}, {y.nunique()} classes)"


def _progress(quiet: bool):
    if quiet:
        return None
    return lambda line: print(line, file=sys.stderr, flush=True)


def _format_table(summary: pd.DataFrame) -> str:
    header = f"{'configuration':<18} {'accuracy':>15} {'log-loss':>15} {'fit s':>6} {'epochs*':>7}  description"
    lines = [header, "-" * len(header)]
    for name, row in summary.iterrows():
        epochs = "-" if np.isnan(row.epochs_to_baseline) else f"{row.epochs_to_baseline:.0f}"
        failed = f"  ({row.failed:.0f} diverged)" if row.failed else ""
        lines.append(
            f"{name:<18} {row.accuracy_mean:>7.4f} ± {row.accuracy_std:<5.3f} "
            f"{row.log_loss_mean:>7.4f} ± {row.log_loss_std:<5.3f} {row.fit_seconds:>6.1f} {epochs:>7}  "
            f"{row.description}{failed}"
        )
    return "\n".join(lines)


def cmd_compare(args) -> int:
    from skclr.experiment import compare, resolve_configs, validate_configs

    if args.folds < 2:
        raise CLIError("--folds must be at least 2")
    X, y, described = load_data(args.data, args.target)
    try:
        configs = resolve_configs(args.schedules.split(",") if args.schedules else None, args.lr_finder)
        validate_configs(configs, epochs=args.epochs, batch_size=args.batch_size, random_state=args.seed)
    except ValueError as error:
        raise CLIError(str(error)) from None
    folds = args.folds
    if y.value_counts().min() < folds:
        raise CLIError(f"the rarest class has {y.value_counts().min()} samples; --folds {folds} needs {folds}")
    print(f"data: {described}; {len(configs)} configurations x {folds} folds x {args.repeats} repeats, "
          f"{args.epochs} epochs each", file=sys.stderr)  # fmt: skip
    result = compare(
        X, y, configs, epochs=args.epochs, batch_size=args.batch_size, folds=folds,
        repeats=args.repeats, random_state=args.seed, progress=_progress(args.quiet),
    )  # fmt: skip
    summary = result.summary()
    print()
    print(_format_table(summary))
    print(f"\n* epochs until the mean held-out accuracy reaches the best baseline's "
          f"({', '.join(summary.attrs['baselines'])}: {summary.attrs['target_accuracy']:.4f}); - = never")  # fmt: skip
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
        "target_accuracy": summary.attrs["target_accuracy"],
        "results": json.loads(summary.to_json(orient="index")),
    }
    (output / "results.json").write_text(json.dumps(payload, indent=2))
    try:
        _save_figures(result, output)
    except ImportError:
        print('figures skipped: pip install "skclr[plot]" for matplotlib', file=sys.stderr)


def _save_figures(result, output: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skclr.plotting import plot_lr_finder

    fig, (rates, accuracy, loss) = plt.subplots(1, 3, figsize=(16, 4.5))
    for name in result.configs:
        for ax, key in ((rates, "lr"), (accuracy, "val_accuracy"), (loss, "val_loss")):
            curve = result.mean_curve(name, key)
            ax.plot(np.arange(1, len(curve) + 1), curve, label=name)
    rates.set(title="learning rate (end of epoch, mean over folds)", xlabel="epoch", yscale="log")
    accuracy.set(title="held-out accuracy", xlabel="epoch")
    loss.set(title="held-out log-loss", xlabel="epoch")
    accuracy.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(output / "comparison.png", dpi=110)
    plt.close(fig)
    if result.finders:
        name, finder = next(iter(result.finders.items()))
        ax = plot_lr_finder(finder)
        ax.set_title(f"range test, first fold ({name})")
        ax.figure.savefig(output / "lr_finder.png", dpi=110)
        plt.close(ax.figure)


def cmd_find_lr(args) -> int:
    import keras

    from skclr.experiment import make_preprocessor
    from skclr.finder import LRFinder
    from skclr.models import reference_dnn

    X, y, described = load_data(args.data, args.target)
    features = make_preprocessor().fit_transform(X).astype("float32")
    labels = pd.factorize(y, sort=True)[0]
    keras.utils.set_random_seed(args.seed)
    model = reference_dnn(features.shape[1], int(labels.max()) + 1)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    finder = LRFinder(min_lr=args.min_lr, max_lr=args.max_lr, num_iter=args.num_iter)
    finder.find(model, features, labels, batch_size=args.batch_size)
    base, top = finder.clr_bounds()
    print(f"data: {described}")
    print(f"swept {len(finder.lrs_)} steps from {finder.lrs_[0]:.2g} to {finder.lrs_[-1]:.2g}"
          f"{' (stopped: loss diverged)' if finder.diverged_ else ''}")  # fmt: skip
    for rule in ("valley", "steep", "minimum"):
        print(f"suggestion ({rule}): {finder.suggest(rule):.3g}")
    print(f"CLR bounds: base_lr={base:.3g}, max_lr={top:.3g}")
    try:
        import matplotlib

        matplotlib.use("Agg")
        output = Path(args.output)
        output.mkdir(parents=True, exist_ok=True)
        finder.plot().figure.savefig(output / "lr_finder.png", dpi=110)
        print(f"plot: {output / 'lr_finder.png'}")
    except ImportError:
        print('plot skipped: pip install "skclr[plot]" for matplotlib', file=sys.stderr)
    return 0


def cmd_schedules(args) -> int:
    try:
        import matplotlib
    except ImportError:
        raise CLIError('drawing schedules needs matplotlib: pip install "skclr[plot]"') from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skclr.plotting import plot_schedule
    from skclr.schedules import SCHEDULES, make_schedule

    steps_per_epoch = 10
    fig, axes = plt.subplots(3, 4, figsize=(16, 9), sharex=True)
    for ax, name in zip(axes.flat, SCHEDULES):
        schedule = make_schedule(
            name, steps_per_epoch=steps_per_epoch, epochs=args.epochs, learning_rate=1e-2,
            base_lr=1e-3, max_lr=1e-2, drop_every=args.epochs / 5, warmup=args.epochs / 10,
            gamma=0.9, step_size=args.epochs / 8,
        )  # fmt: skip
        plot_schedule(schedule, steps=args.epochs * steps_per_epoch, ax=ax)
        ax.set_title(name)
    axes.flat[-1].set_visible(False)
    fig.tight_layout()
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    fig.savefig(output / "schedules.png", dpi=110)
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

    compare = commands.add_parser("compare", help="cross-validated comparison of the seed's configurations")
    data_options(compare)
    compare.add_argument("--schedules", help="comma-separated configuration or schedule names")
    compare.add_argument("--epochs", type=_positive_int, default=20)
    compare.add_argument("--folds", type=_positive_int, default=3)
    compare.add_argument("--repeats", type=_positive_int, default=1)
    compare.add_argument("--lr-finder", action="store_true", help="run the range test in every configuration")
    compare.add_argument("--quiet", action="store_true", help="no progress lines")
    compare.set_defaults(func=cmd_compare)

    find = commands.add_parser("find-lr", help="learning-rate range test on the reference DNN")
    data_options(find)
    find.add_argument("--min-lr", type=float, default=1e-7)
    find.add_argument("--max-lr", type=float, default=10.0)
    find.add_argument("--num-iter", type=_positive_int, default=100)
    find.set_defaults(func=cmd_find_lr)

    draw = commands.add_parser("schedules", help="draw every schedule")
    draw.add_argument("--output", default=DEFAULT_OUTPUT)
    draw.add_argument("--epochs", type=_positive_int, default=40)
    draw.set_defaults(func=cmd_schedules)
    return parser


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
