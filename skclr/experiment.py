"""The seed's experiment as a cross-validated comparison of training configurations.

Used by ``python -m skclr compare``; usable from Python too. Each fold fits the
preprocessing on its training part only, then trains every configuration on it
with the test part as Keras validation data, so per-epoch held-out curves come
for free.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import joblib
import keras
import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.metrics import accuracy_score, log_loss, r2_score, root_mean_squared_error
from sklearn.model_selection import RepeatedKFold, RepeatedStratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import LabelEncoder, OneHotEncoder, StandardScaler

from skclr._monitor import FailedTrainingWarning
from skclr.estimator import CLRClassifier, CLRRegressor, DivergenceError
from skclr._catalogue import SCHEDULES

__all__ = [
    "SEED_CONFIGS",
    "TASKS",
    "Comparison",
    "compare",
    "make_estimator",
    "make_preprocessor",
    "resolve_configs",
    "validate_configs",
]

#: The seed's configurations (DESIGN.md), plus one-cycle and cosine: name -> (description, params).
SEED_CONFIGS: dict[str, tuple[str, dict]] = {
    "adam": ("Adam, defaults", {}),
    "adam_clip_decay": ("Adam, clipvalue=1, time decay", dict(schedule="time", clipvalue=1.0)),
    "linear_decay": ("polynomial power 1, 1e-3 -> 1e-4", dict(schedule="linear", end_lr=1e-4)),
    "clr_exp_range": (
        "CLR exp_range 1e-5..1e-3",
        dict(schedule="exp_range", base_lr=1e-5, max_lr=1e-3, step_size=2.0, gamma=0.99),
    ),
    "finder_adam_decay": (
        "range test -> Adam lr, clip, decay",
        dict(schedule="time", clipvalue=1.0, lr_finder=True),
    ),
    "finder_clr": (
        "range test -> CLR triangular bounds",
        dict(schedule="triangular", step_size=2.0, lr_finder=True),
    ),
    "one_cycle": ("one-cycle, max from range test", dict(schedule="one_cycle", lr_finder=True)),
    "cosine": ("cosine, 1 epoch warm-up", dict(schedule="cosine", warmup=1.0)),
}
BASELINES = ("adam", "adam_clip_decay")
#: The seed's held-out accuracy of its configurations (a classification figure, DESIGN.md).
SEED_ACCURACY = {"adam": 0.8600, "adam_clip_decay": 0.8609, "clr_exp_range": 0.8619, "finder_clr": 0.8655}


def resolve_configs(names: list[str] | None = None, lr_finder: bool = False) -> dict[str, tuple[str, dict]]:
    """Pick configurations by name: a seed configuration or any schedule name.

    ``lr_finder=True`` adds the range test to every configuration.
    """
    if not names:
        configs = dict(SEED_CONFIGS)
    else:
        configs = {}
        for name in names:
            if name in SEED_CONFIGS:
                configs[name] = SEED_CONFIGS[name]
            elif name in SCHEDULES:
                configs[name] = (f"schedule={name!r}", {"schedule": name})
            else:
                valid = ", ".join([*SEED_CONFIGS, *(s for s in SCHEDULES if s not in SEED_CONFIGS)])
                raise ValueError(f"Unknown configuration {name!r}. Valid names are: {valid}.")
    if lr_finder:
        configs = {name: (text, {**params, "lr_finder": True}) for name, (text, params) in configs.items()}
    return configs


@dataclass(frozen=True)
class Task:
    """What differs between comparing classifiers and regressors."""

    estimator: type
    splitter: type
    scores: tuple[str, str]  # the first is the main one; higher is better for it
    curve: str  # per-epoch Keras history entry the baseline is reached on
    metrics: tuple[str, ...]  # Keras metrics to record per epoch


#: ``compare(task=...)``: classification by accuracy and log-loss, regression by R² and RMSE.
TASKS = {
    "classification": Task(CLRClassifier, RepeatedStratifiedKFold, ("accuracy", "log_loss"), "val_accuracy", ("accuracy",)),
    "regression": Task(CLRRegressor, RepeatedKFold, ("r2", "rmse"), "val_loss", ()),
}


#: More distinct numeric values than this make ``detect_task`` read a target as continuous.
MAX_AUTO_CLASSES = 30


def detect_task(y) -> str:
    """"regression" for a numeric target with fractional values or more than 30 distinct ones."""
    from sklearn.utils.multiclass import type_of_target

    values = np.asarray(y)
    if type_of_target(values) in ("continuous", "continuous-multioutput"):
        return "regression"
    numeric = np.issubdtype(values.dtype, np.number)
    return "regression" if numeric and len(np.unique(values)) > MAX_AUTO_CLASSES else "classification"


def make_estimator(
    params: dict, *, epochs: int, batch_size: int, random_state: int, task: str = "classification", **extra
) -> CLRClassifier | CLRRegressor:
    """The estimator of one configuration, with the task's held-out metric recorded per epoch."""
    kind = TASKS[task]
    return kind.estimator(
        **{"epochs": epochs, "batch_size": batch_size, "metrics": list(kind.metrics) or None,
           "random_state": random_state, **extra, **params}
    )  # fmt: skip


def validate_configs(configs: dict[str, tuple[str, dict]], **settings) -> None:
    """Raise ``ValueError`` naming the first configuration that cannot train with ``settings``."""
    for name, (_, params) in configs.items():
        try:
            make_estimator(params, **settings)._validate_params()
        except ValueError as error:
            raise ValueError(f"configuration {name!r}: {error}") from None


def make_preprocessor() -> ColumnTransformer:
    """Impute and scale numeric columns; impute and one-hot encode the others."""
    return ColumnTransformer(
        [
            ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
             make_column_selector(dtype_include="number")),
            ("categorical", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                          OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
             make_column_selector(dtype_exclude="number")),
        ],  # fmt: skip
        verbose_feature_names_out=False,
    )


@dataclass
class Comparison:
    """Results of :func:`compare`: one row per (fold, configuration), per-epoch curves, range tests."""

    configs: dict[str, tuple[str, dict]]
    task: str = "classification"
    folds: list[dict] = field(default_factory=list)
    curves: dict[str, dict[str, list[list[float]]]] = field(default_factory=dict)
    finders: dict = field(default_factory=dict)
    #: The Keras backend the fits ran on, as each fit's process reported it (", "-joined if several).
    backends: list[str] = field(default_factory=list)

    @property
    def backend(self) -> str:
        """The Keras backend that trained the fits (``keras.backend.backend()`` where they ran)."""
        return ", ".join(self.backends)

    def summary(self) -> pd.DataFrame:
        """Mean and standard deviation over folds x repeats, and epochs to the best baseline's curve.

        The baseline is reached when the mean held-out accuracy (classification) climbs to, or
        the mean held-out loss (regression) falls to, the best baseline's final value.
        """
        folds = pd.DataFrame(self.folds)
        main, other = TASKS[self.task].scores
        stats = folds.groupby("config", sort=False).agg(
            **{f"{main}_mean": (main, "mean"), f"{main}_std": (main, "std"),
               f"{other}_mean": (other, "mean"), f"{other}_std": (other, "std")},
            fit_seconds=("fit_seconds", "mean"), failed=("diverged", "sum"),
            warned=("warning", "count"),  # trained, but collapsed or no better than a constant
        )  # fmt: skip
        baselines = [name for name in BASELINES if name in stats.index] or [stats.index[0]]
        curve = TASKS[self.task].curve
        if curve == "val_accuracy":  # the accuracy the baselines reach on the held-out folds
            target = stats.loc[baselines, f"{main}_mean"].max()
        else:  # their lowest final held-out loss
            target = min(np.nanmean(self.curves[name][curve], axis=0)[-1] for name in baselines)
        stats["epochs_to_baseline"] = [self._epochs_to(name, curve, target) for name in stats.index]
        stats.insert(0, "description", [self._description(name) for name in stats.index])
        stats.attrs.update(target=float(target), curve=curve, baselines=baselines, scores=(main, other))
        return stats

    def _description(self, name: str) -> str:
        text = self.configs[name][0]
        seed = SEED_ACCURACY.get(name) if self.task == "classification" else None
        return text if seed is None else f"{text} (seed: {seed:.4f})"

    def range_test_bounds(self) -> pd.DataFrame:
        """Per configuration with a range test: the rates it set in each fold and their spread (max/min).

        Only the rates the configuration's schedule trains with: ``max_lr`` (and ``base_lr``) for
        the cyclical ones, ``learning_rate`` for the others.
        """
        folds = pd.DataFrame(self.folds)
        if "finder_spread" not in folds:
            return pd.DataFrame()
        rows = {}
        for name, runs in folds.dropna(subset=["finder_spread"]).groupby("config", sort=False):
            rates = [rate for rate in ("max_lr", "base_lr", "learning_rate") if runs.get(rate, pd.Series()).notna().any()]
            row = {rate: " ".join(f"{x:.2g}" for x in runs[rate]) for rate in rates}
            row.update(spread=runs[rates[0]].max() / runs[rates[0]].min(), sweeps_spread=runs["finder_spread"].max())
            rows[name] = row
        return pd.DataFrame.from_dict(rows, orient="index")

    def mean_curve(self, config: str, key: str) -> np.ndarray:
        runs = self.curves.get(config, {}).get(key, [])
        return np.nanmean(np.array(runs, dtype=float), axis=0) if runs else np.array([])

    def _epochs_to(self, config: str, key: str, target: float) -> float:
        curve = self.mean_curve(config, key)
        # Keras reports in float32: allow its rounding
        reached = np.flatnonzero(curve >= target - 1e-6 if key == "val_accuracy" else curve <= target + 1e-6)
        return float(reached[0] + 1) if reached.size else float("nan")


def compare(
    X: pd.DataFrame | np.ndarray,
    y,
    configs: dict[str, tuple[str, dict]] | None = None,
    *,
    epochs: int = 20,
    batch_size: int = 38,
    folds: int = 3,
    repeats: int = 1,
    random_state: int = 0,
    estimator_params: dict | None = None,
    progress: Callable[[str], None] | None = None,
    task: str | None = None,
    jobs: int = 1,
) -> Comparison:
    """Cross-validate every configuration on the same folds.

    Parameters
    ----------
    X : DataFrame or array of shape (n_samples, n_features)
        Raw features; numeric and categorical columns, missing values allowed.
    y : array-like of shape (n_samples,)
        Class labels, or a continuous target for regression.
    configs : dict, optional
        ``{name: (description, CLRClassifier params)}``; default :data:`SEED_CONFIGS`.
    epochs, batch_size : int
        Training length and batch size of every configuration (seed: 50 and 38).
    folds, repeats : int
        Stratified K-fold, repeated with different shuffles.
    random_state : int
        Seeds the folds and each fit.
    estimator_params : dict, optional
        Extra ``CLRClassifier`` parameters for every configuration.
    progress : callable, optional
        Called with a one-line message after each fit.
    task : {"classification", "regression"}, optional
        Default: regression for a continuous ``y``. Regression reports R² and RMSE in the
        target's units; ``CLRRegressor`` standardizes the target of each training fold itself.
    jobs : int, default=1
        Folds run at once, each in a worker process (joblib; -1: one per core). Every fit is
        seeded by ``random_state`` and its fold, so the results do not depend on ``jobs``.

    Returns
    -------
    Comparison
    """
    configs = SEED_CONFIGS if configs is None else configs
    task = detect_task(y) if task is None else task
    kind = TASKS[task]
    settings = dict(epochs=epochs, batch_size=batch_size, random_state=random_state, task=task,
                    **(estimator_params or {}))  # fmt: skip
    validate_configs(configs, **settings)
    X = pd.DataFrame(X) if not isinstance(X, pd.DataFrame) else X
    X = X.set_axis(X.columns.astype(str), axis=1)  # a copy: the caller's frame stays as it was
    if task == "classification":
        labels = LabelEncoder().fit(np.asarray(y))
        y = labels.transform(np.asarray(y))
    else:
        y = np.asarray(y, dtype="float64")
    splitter = kind.splitter(n_splits=folds, n_repeats=repeats, random_state=random_state)
    result = Comparison(configs=configs, task=task)
    total, done = folds * repeats * len(configs), 0
    main = kind.scores[0]

    def record(fit: dict) -> None:
        """Add one fit to the result (in the order of the sequential run) and report it."""
        nonlocal done
        row, finder = fit["row"], fit["finder"]
        result.folds.append(row)
        if fit["backend"] not in result.backends:
            result.backends.append(fit["backend"])
        for key, values in fit["curves"].items():
            result.curves.setdefault(row["config"], {}).setdefault(key, []).append(values)
        if finder is not None:
            result.finders.setdefault(row["config"], finder)
        done += 1
        if progress is not None:
            outcome = "diverged" if row["diverged"] else f"{main} {row[main]:.3f}"
            outcome += "  (training failed: see the fold's warning)" if row.get("warning") else ""
            used = [f" {rate} {row[rate]:.2g}" for rate in _RATES if finder is not None and rate in row]
            bounds = "  range test:" + "".join(used) if used else ""
            progress(f"[{done:>{len(str(total))}}/{total}] fold {row['split'] + 1}/{folds * repeats} "
                     f"{row['config']:<18} {outcome}  {row['fit_seconds']:.1f} s{bounds}")  # fmt: skip

    splits = list(enumerate(splitter.split(X, y)))
    if jobs == 1 or len(splits) == 1:  # in this process, reporting each fit as it ends
        for split, (train, test) in splits:
            _fold(X, y, train, test, split, configs, settings, on_fit=record)
        return result
    # Each fold in a worker process: the same seeds (random_state + split), so the same results.
    run = joblib.delayed(_fold)
    for fold in joblib.Parallel(n_jobs=jobs, return_as="generator")(
        run(X, y, train, test, split, configs, settings) for split, (train, test) in splits
    ):
        for fit in fold:
            record(fit)
    return result


_RATES = ("max_lr", "base_lr", "learning_rate")


def _fold(X, y, train, test, split: int, configs: dict, settings: dict, on_fit=None) -> list[dict]:
    """Every configuration on one fold, preprocessing fitted on its training part: per fit, the
    fold's row (scores, seconds, the rates a range test set), per-epoch curves and the range test."""
    task, epochs = settings["task"], settings["epochs"]
    main, other = TASKS[task].scores
    preprocessor = clone(make_preprocessor()).fit(X.iloc[train])
    X_train = preprocessor.transform(X.iloc[train]).astype("float32")
    X_test = preprocessor.transform(X.iloc[test]).astype("float32")
    y_train, y_test = y[train], y[test]
    fits = []
    for name, (_, params) in configs.items():
        estimator = make_estimator(params, **{**settings, "random_state": settings["random_state"] + split})
        start = time.perf_counter()
        row = {"config": name, "split": split}
        try:
            row["warning"] = _fit_noting_failure(estimator, X_train, y_train, validation_data=(X_test, y_test))
            row.update(_scores(estimator, X_test, y_test, task), diverged=False)
        except DivergenceError as error:
            row.update({main: np.nan, other: np.nan}, diverged=True, error=str(error))
        row["fit_seconds"] = time.perf_counter() - start
        history = getattr(estimator, "history_", {})
        # a diverged run stops early
        curves = {key: [*history.get(key, []), *[np.nan] * (epochs - len(history.get(key, [])))]
                  for key in ("val_accuracy", "val_loss", "lr")}  # fmt: skip
        finder = getattr(estimator, "lr_finder_", None)
        if finder is not None:  # the rates this fold's range test set, and how far its sweeps agreed
            row.update({rate: getattr(estimator, f"{rate}_") for rate in _RATES if hasattr(estimator, f"{rate}_")})
            row["finder_spread"] = finder.spread_
        fits.append({"row": row, "curves": curves, "finder": finder, "backend": keras.backend.backend()})
        if on_fit is not None:
            on_fit(fits[-1])
    return fits


def _fit_noting_failure(estimator, X, y, **fit_args) -> str | None:
    """Fit; a failed training's warning (collapse, no better than a constant) is the fold's to
    report, not a stray Python warning. ``fit`` warns last, with the model fully trained, so the
    fold's scores still count."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", FailedTrainingWarning)
            estimator.fit(X, y, **fit_args)
    except FailedTrainingWarning as warning:
        return str(warning)
    return None


def _scores(estimator, X_test, y_test, task: str) -> dict:
    """The task's two held-out scores; regression's in the target's own units."""
    if task == "classification":
        proba = estimator.predict_proba(X_test)
        return {
            "accuracy": accuracy_score(y_test, proba.argmax(axis=1)),
            "log_loss": log_loss(y_test, proba, labels=np.arange(proba.shape[1])),
        }
    predicted = estimator.predict(X_test)
    return {"r2": r2_score(y_test, predicted), "rmse": root_mean_squared_error(y_test, predicted)}
