"""The seed's experiment as a cross-validated comparison of training configurations.

Used by ``python -m skclr compare``; usable from Python too. Each fold fits the
preprocessing on its training part only, then trains every configuration on it
with the test part as Keras validation data, so per-epoch held-out curves come
for free.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.impute import SimpleImputer
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import LabelEncoder, OneHotEncoder, StandardScaler

from skclr.estimator import CLRClassifier, DivergenceError
from skclr.schedules import SCHEDULES

__all__ = [
    "SEED_CONFIGS",
    "Comparison",
    "compare",
    "make_estimator",
    "make_preprocessor",
    "resolve_configs",
    "validate_configs",
]

#: The seed's configurations (DESIGN.md), plus one-cycle and cosine: name -> (description, params).
SEED_CONFIGS: dict[str, tuple[str, dict]] = {
    "adam": ("Adam, defaults (seed: 0.8600)", {}),
    "adam_clip_decay": ("Adam, clipvalue=1, time decay (seed: 0.8609)", dict(schedule="time", clipvalue=1.0)),
    "linear_decay": ("polynomial power 1, 1e-3 -> 1e-4", dict(schedule="linear", end_lr=1e-4)),
    "clr_exp_range": (
        "CLR exp_range 1e-5..1e-3 (seed: 0.8619)",
        dict(schedule="exp_range", base_lr=1e-5, max_lr=1e-3, step_size=2.0, gamma=0.99),
    ),
    "finder_adam_decay": (
        "range test -> Adam lr, clip, decay",
        dict(schedule="time", clipvalue=1.0, lr_finder=True),
    ),
    "finder_clr": (
        "range test -> CLR triangular bounds (seed: 0.8655)",
        dict(schedule="triangular", step_size=2.0, lr_finder=True),
    ),
    "one_cycle": ("one-cycle, max from range test", dict(schedule="one_cycle", lr_finder=True)),
    "cosine": ("cosine, 1 epoch warm-up", dict(schedule="cosine", warmup=1.0)),
}
BASELINES = ("adam", "adam_clip_decay")


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


def make_estimator(params: dict, *, epochs: int, batch_size: int, random_state: int, **extra) -> CLRClassifier:
    """The CLRClassifier of one configuration, with held-out accuracy recorded per epoch."""
    return CLRClassifier(
        **{"epochs": epochs, "batch_size": batch_size, "metrics": ["accuracy"],
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
    folds: list[dict] = field(default_factory=list)
    curves: dict[str, dict[str, list[list[float]]]] = field(default_factory=dict)
    finders: dict = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """Mean and standard deviation over folds x repeats, and epochs to the baseline's accuracy."""
        folds = pd.DataFrame(self.folds)
        stats = folds.groupby("config", sort=False).agg(
            accuracy_mean=("accuracy", "mean"), accuracy_std=("accuracy", "std"),
            log_loss_mean=("log_loss", "mean"), log_loss_std=("log_loss", "std"),
            fit_seconds=("fit_seconds", "mean"), failed=("diverged", "sum"),
        )  # fmt: skip
        baselines = [name for name in BASELINES if name in stats.index] or [stats.index[0]]
        target = stats.loc[baselines, "accuracy_mean"].max()
        stats["epochs_to_baseline"] = [self._epochs_to(name, target) for name in stats.index]
        stats.insert(0, "description", [self.configs[name][0] for name in stats.index])
        stats.attrs["target_accuracy"] = target
        stats.attrs["baselines"] = baselines
        return stats

    def mean_curve(self, config: str, key: str) -> np.ndarray:
        runs = self.curves.get(config, {}).get(key, [])
        return np.nanmean(np.array(runs, dtype=float), axis=0) if runs else np.array([])

    def _epochs_to(self, config: str, target: float) -> float:
        curve = self.mean_curve(config, "val_accuracy")
        reached = np.flatnonzero(curve >= target - 1e-6)  # Keras reports accuracy in float32
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
) -> Comparison:
    """Cross-validate every configuration on the same folds.

    Parameters
    ----------
    X : DataFrame or array of shape (n_samples, n_features)
        Raw features; numeric and categorical columns, missing values allowed.
    y : array-like of shape (n_samples,)
        Class labels.
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

    Returns
    -------
    Comparison
    """
    configs = SEED_CONFIGS if configs is None else configs
    settings = dict(epochs=epochs, batch_size=batch_size, random_state=random_state, **(estimator_params or {}))
    validate_configs(configs, **settings)
    X = pd.DataFrame(X) if not isinstance(X, pd.DataFrame) else X
    X = X.set_axis(X.columns.astype(str), axis=1)  # a copy: the caller's frame stays as it was
    labels = LabelEncoder().fit(np.asarray(y))
    y = labels.transform(np.asarray(y))
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=random_state)
    result = Comparison(configs=configs)
    total = folds * repeats * len(configs)
    done = 0
    for split, (train, test) in enumerate(splitter.split(X, y)):
        preprocessor = clone(make_preprocessor()).fit(X.iloc[train])
        X_train = preprocessor.transform(X.iloc[train]).astype("float32")
        X_test = preprocessor.transform(X.iloc[test]).astype("float32")
        for name, (_, params) in configs.items():
            clf = make_estimator(params, **{**settings, "random_state": random_state + split})
            start = time.perf_counter()
            row = {"config": name, "split": split}
            try:
                clf.fit(X_train, y[train], validation_data=(X_test, y[test]))
                proba = clf.predict_proba(X_test)
                row.update(
                    accuracy=accuracy_score(y[test], proba.argmax(axis=1)),
                    log_loss=log_loss(y[test], proba, labels=np.arange(len(labels.classes_))),
                    diverged=False,
                )
            except DivergenceError as error:
                row.update(accuracy=np.nan, log_loss=np.nan, diverged=True, error=str(error))
            row["fit_seconds"] = time.perf_counter() - start
            result.folds.append(row)
            history = getattr(clf, "history_", {})
            for key in ("val_accuracy", "val_loss", "lr"):
                values = list(history.get(key, []))
                values += [np.nan] * (epochs - len(values))  # a diverged run stops early
                result.curves.setdefault(name, {}).setdefault(key, []).append(values)
            if hasattr(clf, "lr_finder_") and name not in result.finders:
                result.finders[name] = clf.lr_finder_
            done += 1
            if progress is not None:
                outcome = "diverged" if row["diverged"] else f"accuracy {row['accuracy']:.3f}"
                progress(f"[{done:>{len(str(total))}}/{total}] fold {split + 1}/{folds * repeats} "
                         f"{name:<18} {outcome}  {row['fit_seconds']:.1f} s")  # fmt: skip
    return result
