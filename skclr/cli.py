"""Command line: ``python -m skclr compare | find-lr | schedules``.

``compare`` reproduces the seed's experiment with cross-validation on a CSV file or,
by default, on scikit-learn's bundled digits data (1,797 8x8 images, 10 classes).

Every command checks its arguments, its output folder and its data before it starts TensorFlow
(so a mistake is reported in a moment) and before it trains (so no work is lost). A mistake is
one line on stderr, ``skclr: error: ...``, and exit status 2, as argparse reports a bad option;
a run that fails after it started (training, writing the results) exits with status 1.
Unless the user set ``TF_CPP_MIN_LOG_LEVEL``, it is set to 3 (no TensorFlow log), for the worker
processes too; a level the user set always holds (see :mod:`skclr._startup`).

Every command runs on the Keras backend ``--backend`` names, else on the user's ``KERAS_BACKEND``,
else on :func:`default_backend` (JAX where installed, else TensorFlow); ``--backend`` and a
different ``KERAS_BACKEND`` together are a mistake. The choice goes into ``KERAS_BACKEND`` before
Keras is imported, so the worker processes run on it too. ``~/.keras/keras.json`` is not a choice
here: Keras writes it itself on its first import. ``compare`` names the backend that trained in its
table and in ``results.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import lzma
import os
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_OUTPUT = "skclr-output"
#: The files each command writes into --output.
COMPARE_FILES = ("results.csv", "folds.csv", "results.json", "comparison.png", "lr_finder.png")
FIND_LR_FILES = ("lr_finder.png",)
SCHEDULES_FILES = ("schedules.png",)
# What reading a CSV raises for a file that is not one: pandas' parser and encoding errors, a
# damaged or mislabeled compressed file (gzip, bz2: OSError; truncated: EOFError; zip, tar, xz), a
# zip of several files (ValueError), a compression whose package is not installed (ImportError).
_UNREADABLE = (ValueError, OSError, EOFError, UnicodeError, ImportError, zipfile.BadZipFile, tarfile.TarError,
               lzma.LZMAError)  # fmt: skip


class CLIError(Exception):
    """A user error, printed as one line on stderr: exit status 2, or ``status`` (1: the run failed)."""

    def __init__(self, message: str, status: int = 2):
        super().__init__(message)
        self.status = status


#: The Keras backends the command line runs on (those skclr supports).
BACKENDS = ("tensorflow", "jax")


def default_backend() -> str:
    """The backend when neither ``--backend`` nor ``KERAS_BACKEND`` names one: JAX where it is
    installed, else TensorFlow (which skclr always installs).

    The faster one, as ``benchmarks/bench_cli.py`` measures the default ``compare``: on JAX it takes
    about half the TensorFlow run's time once JAX's compilation cache holds its programs, and about
    the same time on the first run (XLA compiles every configuration's steps)."""
    return "jax" if importlib.util.find_spec("jax") is not None else "tensorflow"


def choose_backend(option: str | None) -> str:
    """The backend a command runs on, set in ``KERAS_BACKEND`` for Keras and the worker processes;
    a CLIError, before Keras starts, for a conflict or a backend that is not installed.

    ``option`` (``--backend``) wins; else the user's ``KERAS_BACKEND``; else :func:`default_backend`.
    With Keras already imported (the command line called from Python), its backend is the one.
    """
    env = os.environ.get("KERAS_BACKEND") or None
    if option is not None and env is not None and env != option:
        raise CLIError(f"--backend {option} conflicts with KERAS_BACKEND={env} in the environment; "
                       "give one of them, or the same in both")  # fmt: skip
    name = option or env or default_backend()
    source = f"--backend {name}" if option else f"KERAS_BACKEND={name}" if env else f"the default backend {name}"
    if "keras" in sys.modules:  # Keras's backend is fixed when it is imported
        import keras

        running = keras.backend.backend()
        if option is not None and option != running:
            raise CLIError(f"{source}: Keras is already running on {running} in this process")
        return running
    if name not in BACKENDS:
        raise CLIError(f"{source}: skclr runs on Keras's {' and '.join(BACKENDS)} backends")
    if importlib.util.find_spec(name) is None:
        extra = ' "skclr[jax]"' if name == "jax" else " tensorflow"
        raise CLIError(f"{source}: {name} is not installed; pip install{extra}")
    os.environ["KERAS_BACKEND"] = name
    return name


def _start_keras() -> None:
    """Import Keras (on the backend :func:`choose_backend` set) with its start-up lines held to
    TF_CPP_MIN_LOG_LEVEL; register skclr's schedules.

    ``import skclr`` does both itself, except when it starts the command line (see
    :mod:`skclr`): the command line calls this once its arguments and data are checked.
    """
    from skclr import _startup

    _startup.import_keras()
    import skclr.schedules  # noqa: F401


def check_output(folder: str, files: tuple[str, ...]) -> Path:
    """``folder`` as a Path, if the command can write ``files`` into it; else a CLIError, before any work."""
    output = Path(folder)
    if output.exists() and not output.is_dir():
        raise CLIError(f"--output {folder} is a file; name a folder (it is created if missing)")
    existing = next(path for path in (output, *output.parents) if path.exists() or path == Path(path.anchor))
    if not existing.is_dir():
        raise CLIError(f"--output {folder}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise CLIError(f"--output {folder}: no permission to write in {existing}")
    for name in files:
        path = output / name
        if path.exists() and (not path.is_file() or not os.access(path, os.W_OK)):
            raise CLIError(f"--output {folder}: cannot overwrite {path}")
    return output


def read_data(path: str | None, target: str | None) -> tuple[pd.DataFrame, pd.Series, str, int]:
    """Read ``path`` (CSV, compressed as its name says) and split off ``target``; no path: digits.

    Returns features, target, the data's name and the number of rows dropped for a missing target.
    Uses pandas and scikit-learn only: no TensorFlow yet.
    """
    if path is None:
        from sklearn.datasets import load_digits

        digits = load_digits(as_frame=True)
        return digits.data, digits.target, "digits", 0
    if target is None:
        raise CLIError("--data needs --target, the name of the label column")
    file = Path(path)
    if not file.is_file():
        raise CLIError(f"no such file: {path}" if not file.exists() else f"not a file: {path}")
    try:
        frame = pd.read_csv(file)
    except _UNREADABLE as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise CLIError(f"cannot read {path} as CSV: {reason}") from None
    if target not in frame.columns:
        raise CLIError(f"no column {target!r} in {path}; columns are: {', '.join(map(str, frame.columns))}")
    numeric = frame.select_dtypes("number")
    infinite = {name: int(count) for name, count in np.isinf(numeric).sum().items() if count}
    if infinite:  # the imputer takes only NaN for missing: say which cells, before any work
        where = ", ".join(f"{name!r} ({count} rows)" for name, count in infinite.items())
        raise CLIError(f"{path} has infinite values in column {where}; remove them, or leave the cells "
                       "empty (a missing feature is imputed, a row without a target dropped)")  # fmt: skip
    unlabeled = int(frame[target].isna().sum())
    frame = frame.dropna(subset=[target])
    y = frame.pop(target)
    if frame.shape[1] == 0:
        raise CLIError(f"{path} has no feature columns besides {target!r}")
    return frame, y, file.name, unlabeled


def load_data(path: str | None, target: str | None, task: str = "auto") -> tuple[pd.DataFrame, pd.Series, str, str]:
    """Read ``path`` (CSV) and split off ``target``; without a path, the bundled digits data.

    Returns features, target, a one-line description and the task ("auto" detects regression
    from a continuous target).
    """
    return _with_task(*read_data(path, target), task=task, target=target, bundled=path is None)


def _with_task(frame: pd.DataFrame, y: pd.Series, name: str, unlabeled: int, *, task: str, target: str | None,
               bundled: bool) -> tuple[pd.DataFrame, pd.Series, str, str]:  # fmt: skip
    """Features, target, a one-line description and the task, checked for it (imports TensorFlow)."""
    from skclr.experiment import detect_task

    if bundled:
        return frame, y, "digits (scikit-learn, 1797 x 64, 10 classes)", "classification"
    task = detect_task(y) if task == "auto" else task
    if task == "classification" and y.nunique() < 2:
        raise CLIError(f"target {target!r} has {y.nunique()} class(es); at least 2 are needed")
    if task == "regression" and not pd.api.types.is_numeric_dtype(y):
        raise CLIError(f"target {target!r} is not numeric; regression needs numbers")
    dropped = f"; {unlabeled} rows without a {target!r} value dropped" if unlabeled else ""
    kind = f"{y.nunique()} classes" if task == "classification" else "continuous target"
    return frame, y, f"{name} ({len(frame)} x {frame.shape[1]}, {kind}{dropped})", task


def _progress(quiet: bool):
    if quiet:
        return None
    return lambda line: print(line, file=sys.stderr, flush=True)


def _format_table(summary: pd.DataFrame, backend: str) -> str:
    main, other = summary.attrs["scores"]
    header = (f"{'configuration':<18} {main.replace('_', '-'):>15} {other.replace('_', '-'):>15} {'fit s':>6} "
              f"{'epochs*':>7}  description")  # fmt: skip
    lines = [f"Keras backend: {backend}", header, "-" * len(header)]
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
    if args.folds < 2:
        raise CLIError("--folds must be at least 2")
    output = check_output(args.output, COMPARE_FILES)
    data = read_data(args.data, args.target)
    _start_keras()  # the arguments, output folder and file are fine: now TensorFlow
    from skclr.experiment import compare, resolve_configs, validate_configs

    X, y, described, task = _with_task(*data, task=args.task, target=args.target, bundled=args.data is None)
    try:
        configs = resolve_configs(args.schedules.split(",") if args.schedules else None, args.lr_finder)
        validate_configs(configs, epochs=args.epochs, batch_size=args.batch_size, random_state=args.seed, task=task)
    except ValueError as error:
        raise CLIError(str(error)) from None
    folds = args.folds
    if task == "classification" and y.value_counts().min() < folds:
        raise CLIError(f"the rarest class has {y.value_counts().min()} samples; --folds {folds} needs {folds} "
                       "(--task regression for a numeric target)")  # fmt: skip
    if task == "regression" and len(y) < 2 * folds:  # R² needs two held-out rows per fold
        raise CLIError(f"--folds {folds} needs at least {2 * folds} rows for regression (two held out per "
                       f"fold); {data[2]} has {len(y)}")  # fmt: skip
    print(f"data: {described}; {len(configs)} configurations x {folds} folds x {args.repeats} repeats, "
          f"{args.epochs} epochs each", file=sys.stderr)  # fmt: skip
    try:
        result = compare(
            X, y, configs, epochs=args.epochs, batch_size=args.batch_size, folds=folds,
            repeats=args.repeats, random_state=args.seed, progress=_progress(args.quiet), task=task, jobs=args.jobs,
        )  # fmt: skip
    except ValueError as error:  # data the checks above could not foresee (skclr says what and why)
        raise CLIError(f"training failed: {' '.join(str(error).split())}", status=1) from None
    summary = result.summary()
    print()
    print(_format_table(summary, result.backend))
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
    with _writing(output):
        _save_comparison(result, summary, output, vars(args), described)
    print(f"results and figures in {args.output}/")
    return 0


@contextlib.contextmanager
def _writing(output: Path) -> Iterator[None]:
    """An error writing into ``output`` (disk full, a folder removed meanwhile) as a one-line CLIError."""
    try:
        yield
    except OSError as error:
        raise CLIError(f"cannot write the results to {output}: {error}", status=1) from None


def _save_comparison(result, summary: pd.DataFrame, output: Path, settings: dict, described: str) -> None:
    output.mkdir(parents=True, exist_ok=True)
    summary.to_csv(output / "results.csv")
    pd.DataFrame(result.folds).to_csv(output / "folds.csv", index=False)
    payload = {
        "data": described,
        "settings": {k: v for k, v in settings.items() if k != "func"},
        "task": result.task,
        "backend": result.backend,
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
    output = check_output(args.output, FIND_LR_FILES)
    data = read_data(args.data, args.target)
    _start_keras()
    from skclr import LRFinder
    from skclr.experiment import TASKS, make_preprocessor

    X, y, described, task = _with_task(*data, task=args.task, target=args.target, bundled=args.data is None)
    features = make_preprocessor().fit_transform(X).astype("float32")
    if task == "regression":  # the loss is read on a standardized target, as compare trains
        y = (y - y.mean()) / (y.std() or 1.0)
    settings = dict(min_lr=args.min_lr, max_lr=args.max_lr, num_iter=args.num_iter, n_sweeps=args.n_sweeps)
    try:
        finder = LRFinder(**{key: value for key, value in settings.items() if value is not None})
        estimator = TASKS[task].estimator(lr_finder=finder, batch_size=args.batch_size, random_state=args.seed)
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
    with _writing(output):
        output.mkdir(parents=True, exist_ok=True)
        if _save_figure(output / "lr_finder.png", lambda plotting: plotting.plot_lr_finder(finder)):
            print(f"plot: {output / 'lr_finder.png'}")
    return 0


def cmd_schedules(args) -> int:
    output = check_output(args.output, SCHEDULES_FILES)
    _start_keras()
    from skclr._catalogue import SCHEDULES

    with _writing(output):
        output.mkdir(parents=True, exist_ok=True)
        drawn = _save_figure(output / "schedules.png", lambda plotting: plotting.plot_all_schedules(args.epochs))
    if not drawn:
        raise CLIError('drawing schedules needs matplotlib: pip install "skclr[plot]"')
    print(f"{len(SCHEDULES)} schedules over {args.epochs} epochs: {output / 'schedules.png'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m skclr", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    def backend_option(sub):
        sub.add_argument("--backend", choices=BACKENDS,
                         help="Keras backend (default: KERAS_BACKEND if set, "
                              "else jax where installed, else tensorflow; ~/.keras/keras.json, which Keras writes itself, is not read)")  # fmt: skip

    def data_options(sub):
        backend_option(sub)
        sub.add_argument("--data", help="CSV file (default: scikit-learn's digits)")
        sub.add_argument("--target", help="label column of --data")
        sub.add_argument("--output", default=DEFAULT_OUTPUT, help=f"folder for results (default {DEFAULT_OUTPUT})")
        sub.add_argument("--seed", type=_seed, default=0)
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
    backend_option(draw)
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


def _seed(text: str) -> int:
    value = int(text)
    if not 0 <= value < 2**32:  # what NumPy's and the folds' random states take
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to 2**32 - 1, got {text}")
    return value


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return its exit status (argparse exits itself, with 2, on a bad option)."""
    with _environment_restored("TF_CPP_MIN_LOG_LEVEL", "KERAS_BACKEND"):
        # Set before TensorFlow starts, here and in the worker processes, which inherit the environment.
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        args = build_parser().parse_args(argv)
        try:
            args.backend = choose_backend(args.backend)  # before Keras is imported
            return args.func(args)
        except CLIError as error:
            print(f"skclr: error: {error}", file=sys.stderr)
            return error.status


@contextlib.contextmanager
def _environment_restored(*names: str):
    """Put the named environment variables back as they were: main() called from Python sets them
    for its own run and its worker processes, not for the caller's next command."""
    before = {name: os.environ.get(name) for name in names}
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
