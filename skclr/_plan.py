"""What ``keras.Model.fit`` will actually run: the one source for schedule lengths and the range test."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["TrainingPlan"]

KERAS_DEFAULT_BATCH_SIZE = 32


@dataclass(frozen=True)
class TrainingPlan:
    """Samples, batch size, steps per epoch and epochs of one call to ``keras.Model.fit``.

    Attributes
    ----------
    n_train : int
        Samples Keras trains on: all of them, less the ``validation_split`` tail that
        Keras holds out when no ``validation_data`` is given.
    batch_size : int
        Samples per step.
    steps_per_epoch : int
        Optimizer iterations per epoch.
    epochs : int
        Epochs this call runs.
    """

    n_train: int
    batch_size: int
    steps_per_epoch: int
    epochs: int

    @classmethod
    def from_fit_args(cls, n_samples: int, fit_args: dict) -> TrainingPlan:
        """The plan of ``model.fit(x, y, **fit_args)`` on ``n_samples`` rows, computed as Keras does.

        Raises ``ValueError`` when ``validation_split`` leaves no sample on one side.
        """
        split = 0.0 if fit_args.get("validation_data") is not None else fit_args.get("validation_split") or 0.0
        n_train = math.floor(n_samples * (1.0 - split)) if split else n_samples  # Keras's own rounding
        if not 0 < n_train <= n_samples or (split and n_train == n_samples):
            raise ValueError(
                f"validation_split={split} cannot split {n_samples} samples into a training and a "
                "validation part; use a larger data set or another validation_split."
            )
        batch_size = fit_args.get("batch_size") or KERAS_DEFAULT_BATCH_SIZE
        steps = fit_args.get("steps_per_epoch") or math.ceil(n_train / batch_size)
        epochs = fit_args["epochs"] - fit_args.get("initial_epoch", 0)
        return cls(n_train=n_train, batch_size=batch_size, steps_per_epoch=steps, epochs=epochs)
