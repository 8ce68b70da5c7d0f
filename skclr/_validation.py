"""What the estimators check before any model is built: parameters alone, their combinations, the data.

Every rule that involves more than one parameter is in ``_check_combination``; data errors are
scikit-learn's own messages (``validate_data``), plus text in ``X`` named by column, and values
that are finite in ``X`` (or ``sample_weight``) but not in the float dtype the model computes in.
"""

from __future__ import annotations

import keras
import numpy as np
from pandas.api.types import is_numeric_dtype
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from skclr._plan import TrainingPlan
from skclr._scikeras import input_dtype
from skclr.finder import LRFinder
from skclr._catalogue import MOMENTUM_SCHEDULES

__all__ = ["LR_FINDER_NESTED", "Validation"]


class Validation:
    """The estimators' checks; they raise ``ValueError`` (or ``TypeError``) naming the problem."""

    def _validate_params(self, schedule_epochs: int | None = None) -> None:
        """Single-parameter rules, then the rules that combine several; nothing needs data."""
        super()._validate_params()
        self._check_combination(self._configured_epochs() if schedule_epochs is None else schedule_epochs)

    def _check_combination(self, schedule_epochs: int) -> None:
        """Every rule that involves more than one parameter, in one place."""
        if self._uses_reference_network():
            self._check_reference()
        else:
            self._builder_settings(self._user_builder())  # refuses a setting the builder ignores
        if hasattr(self, "optimizer__learning_rate"):
            raise ValueError(
                "optimizer__learning_rate would be overridden by the schedule; set learning_rate "
                "(or base_lr/max_lr for the cyclical schedules) instead."
            )
        if self.weight_decay is not None and hasattr(self, "optimizer__weight_decay"):
            raise ValueError(
                f"weight_decay={self.weight_decay!r} and optimizer__weight_decay="
                f"{self.optimizer__weight_decay!r} set the same thing: give one of them."
            )
        nested = [key for key in vars(self) if key.startswith("lr_finder__")]
        if nested:
            raise ValueError(LR_FINDER_NESTED.format(name=nested[0], value=self.lr_finder))
        if isinstance(self.schedule, str):
            self._settings().check(self.schedule, schedule_epochs)
        elif self.lr_finder:
            raise ValueError(
                "lr_finder cannot set the rates of a schedule instance, whose rates are fixed; "
                "use a schedule name (e.g. schedule='triangular') with lr_finder, or run "
                "LRFinder().find(model, X, y) yourself and build the schedule from its result."
            )
        if isinstance(self.lr_finder, LRFinder):
            self.lr_finder._validate_params()
        if self.cycle_momentum and not (
            self.schedule in MOMENTUM_SCHEDULES if isinstance(self.schedule, str) else hasattr(self.schedule, "momentum")
        ):
            raise ValueError(
                f"cycle_momentum needs a schedule with a momentum cycle, one of {MOMENTUM_SCHEDULES} (or a "
                f"schedule instance with a momentum(step) method); got schedule={self.schedule!r}."
            )
        if (self.base_momentum is not None or self.max_momentum is not None) and not self.cycle_momentum:
            raise ValueError("base_momentum and max_momentum bound the cycled momentum: set cycle_momentum=True.")
        if (self.base_momentum is not None or self.max_momentum is not None) and not isinstance(self.schedule, str):
            raise ValueError(
                "base_momentum and max_momentum set the momentum of a named schedule; a schedule instance "
                "cycles the momentum of its own momentum(step): set its bounds when you build it."
            )
        bounds = self._momentum_bounds()
        if bounds and bounds.get("base_momentum", 0.0) > bounds.get("max_momentum", 1.0):
            raise ValueError(f"base_momentum must be <= max_momentum. Received: {bounds}")

    def _validate_fit_input(self, X, y, sample_weight, fit_kwargs: dict, schedule_epochs: int, new_model: bool):
        """Check parameters, data (scikit-learn's messages) and the training plan before any model is built."""
        self._validate_params(schedule_epochs)
        # dtype=None: scikeras converts X itself; this pass checks shape, finiteness, sparsity, names.
        # Only the reference network needs 2-D X; a builder's model may take images or sequences.
        allow_nd = not self._uses_reference_network()
        array, y = validate_data(self, X, y, reset=new_model, dtype=None, allow_nd=allow_nd, **self._target_checks)
        _require_numeric(X, array)
        dtype = input_dtype(None if new_model else getattr(self, "model_", None))
        _require_in_range(array, dtype, "X")
        if sample_weight is not None:  # a copy: scikeras multiplies class weights into it in place
            sample_weight = _check_sample_weight(
                sample_weight, np.empty((len(y), 0)), ensure_non_negative=True, copy=True
            )
            # scikeras casts the weights to Keras's floatx
            _require_in_range(sample_weight, np.dtype(keras.backend.floatx()), "sample_weight")
        TrainingPlan.from_fit_args(len(y), {**self._routed("fit"), **fit_kwargs})
        return X, y, sample_weight

    def _validate_predict_input(self, X):
        check_is_fitted(self, "model_")
        array = validate_data(self, X, reset=False, dtype=None, allow_nd=not self._uses_reference_network())
        _require_in_range(array, input_dtype(self.model_), "X")
        return array


LR_FINDER_NESTED = (
    "{name} sets a setting of an LRFinder, but lr_finder={value!r}: pass lr_finder=LRFinder() "
    "(in a grid: {{'lr_finder': [LRFinder()], '{name}': [...]}}), or give the LRFinder its settings directly."
)


def _require_in_range(array: np.ndarray, dtype: np.dtype, name: str) -> None:
    """Refuse a finite value that the model's float ``dtype`` cannot hold.

    scikit-learn's finiteness check runs on the data as given (float64); Keras then casts it to the
    model's dtype (float32), where 1e39 becomes inf and the predictions NaN. scikit-learn's MLP
    computes in float64 and would answer; a Keras model cannot, so the value is refused by name.
    """
    if dtype.kind != "f" or array.dtype.kind not in "iufO":
        return
    limit = np.finfo(dtype).max
    info = np.finfo if array.dtype.kind == "f" else np.iinfo
    if array.dtype.kind != "O" and info(array.dtype).max <= limit:
        return  # every value of array's dtype fits (float32 X for a float32 model)
    values = array.astype(np.float64) if array.dtype.kind == "O" else array
    outside = np.abs(values) > limit
    if not outside.any():
        return
    where = tuple(int(i) for i in np.argwhere(outside)[0])
    at = f"row {where[0]}, column {where[1]}" if len(where) == 2 else f"index {where}"
    raise ValueError(
        f"{name} holds {values[where]:.4g} ({at}), which does not fit {dtype}, the model's dtype "
        f"(largest finite value {limit:.4g}): the network computes in {dtype} (scikit-learn's MLP in "
        f"float64), where it would become inf and the loss and predictions NaN. Rescale {name}, e.g. "
        "with a StandardScaler in a Pipeline."
    )


def _require_numeric(X, array: np.ndarray) -> None:
    """Refuse text in X with the offending DataFrame columns named."""
    if array.dtype.kind not in "OUS":
        return
    try:
        array.astype(np.float64)
    except ValueError:
        columns = getattr(X, "columns", None)
        names = [str(c) for c in columns if not is_numeric_dtype(X[c])] if columns is not None else []
        where = f" Non-numeric columns: {names}." if names else ""
        raise ValueError(
            "X must be numeric; it holds text." + where + " Encode categorical columns first, "
            "e.g. with a OneHotEncoder in a Pipeline (see `python -m skclr compare --data`)."
        ) from None
