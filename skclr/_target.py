"""``CLRRegressor``'s target scaling: the target encoder scikeras fits on the first ``fit``, and the
validation target scaled with it."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from skclr._fit_run import INITIALIZE, FitRun
from skclr._plan import TrainingPlan

__all__ = ["TargetScaler", "TargetScaling"]

#: The largest target Keras can train on: it computes the loss in float32.
FLOAT32_MAX = float(np.finfo(np.float32).max)


class TargetScaler(TransformerMixin, BaseEstimator):
    """``CLRRegressor``'s target encoder for scikeras: each column less its mean, divided by its
    standard deviation (weighted), or no scaling; and the target's shape, restored in ``predict``.

    Parameters
    ----------
    standardize : bool
        False keeps mean 0 and scale 1.
    sample_weight : ndarray of shape (n_samples,) or None
        Weights of the rows ``fit`` sees; all zero counts as none. Data, not a setting: ``fit``
        resets it to None, so that the fitted encoder (and the estimator's pickle) holds no rows.
    n_train : int or None
        Rows Keras trains on, the first ``n_train`` (the rest are ``validation_split``'s): only
        they enter the mean and scale. None: all. Reset to None by ``fit``, as ``sample_weight``.
    """

    def __init__(
        self, standardize: bool = True, sample_weight: np.ndarray | None = None, n_train: int | None = None
    ):
        self.standardize = standardize
        self.sample_weight = sample_weight
        self.n_train = n_train

    def fit(self, y: np.ndarray) -> TargetScaler:
        columns = np.reshape(np.asarray(y, dtype=np.float64), (len(y), -1))
        self.n_outputs_ = columns.shape[1]
        self.n_outputs_expected_ = 1  # scikeras: the model has one output tensor
        self._y_shape = np.shape(y)
        self.mean_ = np.zeros(self.n_outputs_)
        self.scale_ = np.ones(self.n_outputs_)
        if self.standardize:
            weights = self.sample_weight
            weights = None if weights is None or not np.any(weights) else np.asarray(weights, dtype=np.float64)
            if self.n_train is not None:  # the validation_split tail is validation, not training
                columns = columns[: self.n_train]
                weights = None if weights is None else weights[: self.n_train]
                weights = weights if weights is not None and np.any(weights) else None
            self.mean_, std = _mean_and_std(columns, weights)
            constant = std <= 10 * np.finfo(np.float64).eps * np.maximum(np.abs(self.mean_), 1.0)
            self.scale_ = np.where(constant, 1.0, std)
        self.sample_weight = self.n_train = None
        return self

    def transform(self, y: np.ndarray) -> np.ndarray:
        n_outputs = 1 if np.ndim(y) == 1 else np.shape(y)[1]
        if n_outputs != self.n_outputs_:
            raise ValueError(  # scikeras's words, which users' code may match
                f"Detected ``y`` to have {n_outputs} outputs with ``y.shape = {np.shape(y)}``, but the "
                f"regressor was fitted on {self.n_outputs_}."
            )
        with np.errstate(over="ignore", invalid="ignore"):  # refused below, by name
            if np.ndim(y) == 1:
                scaled = (np.asarray(y, dtype=np.float64) - self.mean_[0]) / self.scale_[0]
            else:
                scaled = (np.asarray(y, dtype=np.float64) - self.mean_) / self.scale_
        if not np.all(np.abs(scaled) <= FLOAT32_MAX):  # a training target, in the network's float32
            largest = np.max(np.abs(np.asarray(y, dtype=np.float64)))
            how = ("less target_mean_ and divided by target_scale_" if self.standardize
                   else "unscaled (standardize_target=False)")  # fmt: skip
            raise ValueError(
                f"y does not fit float32, the dtype in which the network trains: {how}, it holds values "
                f"beyond float32's largest finite value {FLOAT32_MAX:.4g} (y's largest absolute value is "
                f"{largest:.4g}). Rescale y, e.g. divide it by a power of ten"
                + (", or set standardize_target=True." if not self.standardize else ".")
            )
        return scaled

    def inverse_transform(self, y: np.ndarray) -> np.ndarray:
        """The network's output (float32) in the target's units and shape, as float64."""
        columns = np.reshape(np.asarray(y, dtype=np.float64), (len(y), -1))
        return (columns * self.scale_ + self.mean_).reshape(-1, *self._y_shape[1:])

    def get_metadata(self) -> dict:
        """What scikeras sets on the estimator."""
        return {"n_outputs_": self.n_outputs_, "n_outputs_expected_": self.n_outputs_expected_,
                "target_mean_": self.mean_, "target_scale_": self.scale_}  # fmt: skip


def _mean_and_std(columns: np.ndarray, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Each column's (weighted) mean and standard deviation, without overflow for any finite column.

    Each column is first divided by the power of two at or just below its largest absolute value, so that
    the squared deviations stay below 16; a power of two scales every step exactly, so the result is
    bit for bit that of the unscaled formula whenever the latter does not overflow.
    """
    largest = np.max(np.abs(columns), axis=0) if len(columns) else np.zeros(columns.shape[1])
    power = np.ldexp(1.0, np.frexp(np.where(largest > 0, largest, 1.0))[1] - 1)  # 2**1023 at most
    scaled = columns / power
    mean = np.average(scaled, axis=0, weights=weights)
    std = np.sqrt(np.average((scaled - mean) ** 2, axis=0, weights=weights))
    return mean * power, std * power


class TargetScaling:
    """``standardize_target`` for a scikeras regressor: fitted with the first ``fit``'s sample weights
    (the current run's, ``skclr._fit_run``)."""

    @property
    def target_encoder(self) -> TargetScaler:
        """What scikeras fits on the first ``fit``'s target: ``standardize_target``'s scaling (none
        for ``initialize``)."""
        run = getattr(self, "_run", None)  # the call that fits it (skclr._fit_run), with its weights
        standardize = self.standardize_target and (run is None or run.scales_target)
        if run is None:
            return TargetScaler(standardize)
        return TargetScaler(standardize, run.sample_weight, run.target_rows)

    def initialize(self, X, y=None):
        """scikeras's ``initialize``: ``model_`` ready for inference without training.

        The model is used as given (a pretrained one predicts the target in its own units), so no
        scaling is fitted; ``partial_fit`` and ``warm_start`` fits go on on that scale.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None

        Returns
        -------
        self
        """
        with FitRun(self, INITIALIZE).running():
            return super().initialize(X, y)

    def _fit(self, X, y, sample_weight, **kwargs) -> None:
        # scikeras fits target_encoder on y alone: the run tells it the rows Keras trains on
        plan = TrainingPlan.from_fit_args(len(y), {**self._routed("fit"), **kwargs})
        self._run.target_rows = plan.n_train if plan.n_train < len(y) else None
        super()._fit(X, y, sample_weight, **kwargs)

    def _train(self, X, y, sample_weight, fit_args: dict, warm_start: bool) -> None:
        validation = fit_args.get("validation_data")
        # Keras compares y_val with the output; a user's own target_encoder (scikeras's route) has no scaling
        if validation is not None and getattr(self.target_encoder_, "standardize", False):
            if not isinstance(validation, (tuple, list)) or len(validation) not in (2, 3):
                raise TypeError(
                    "CLRRegressor scales the target of validation_data as it scales y: give it as "
                    f"(X_val, y_val) or (X_val, y_val, sample_weight_val); got {type(validation).__name__}."
                )
            X_val, y_val, *rest = validation
            y_val = self.target_encoder_.transform(np.asarray(y_val, dtype=np.float64))
            fit_args["validation_data"] = (X_val, y_val, *rest)
        super()._train(X, y, sample_weight, fit_args, warm_start)
