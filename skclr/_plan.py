"""What one ``fit`` runs: the Keras loop (``TrainingPlan``) and the rate the optimizer follows (``SchedulePlan``).

``TrainingPlan`` is the one source for schedule lengths and the range test's data; ``SchedulePlan``
is rebuilt from the estimator's current parameters at every ``fit``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from keras.optimizers.schedules import LearningRateSchedule

from skclr._catalogue import SCHEDULE_TRAITS, ScheduleSettings, make_schedule
from skclr.schedules import Restarted

__all__ = ["SchedulePlan", "TrainingPlan"]

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

    @property
    def steps(self) -> int:
        """Optimizer iterations this call runs."""
        return self.steps_per_epoch * self.epochs


@dataclass(frozen=True)
class SchedulePlan:
    """The rate the optimizer runs in one call to ``fit``, built from the estimator's current parameters.

    Attributes
    ----------
    schedule : LearningRateSchedule or float
        What the optimizer's rate becomes.
    rates : dict
        The rates the schedule is built from (``learning_rate``, ``base_lr``, ``max_lr``: only
        those it uses; none for a schedule instance); the estimator's fitted ``*_`` attributes.
    end : int or None
        For a schedule that ends, the first iteration past the planned training.
    """

    schedule: LearningRateSchedule | float
    rates: dict
    end: int | None

    @classmethod
    def build(cls, schedule: str | LearningRateSchedule, settings: ScheduleSettings, *, steps_per_epoch: int,
              epochs: int, start: int, momentum: dict) -> SchedulePlan:  # fmt: skip
        """Plan ``schedule`` for ``epochs`` epochs from iteration ``start``.

        A schedule that ends starts afresh at ``start`` (a warm-started fit plans it again for its
        own data and epochs); the others, and a schedule instance, go on counting the optimizer's
        iterations. ``momentum`` (``base_momentum``/``max_momentum``) replaces the defaults of a
        schedule's ``momentum(step)``.
        """
        if not isinstance(schedule, str):
            return cls(schedule, {}, None)
        built = make_schedule(schedule, steps_per_epoch=steps_per_epoch, epochs=epochs, **vars(settings))
        traits = SCHEDULE_TRAITS[schedule]
        if momentum and traits.momentum:
            built = type(built).from_config({**built.get_config(), **momentum})
        if traits.ends and start:
            built = Restarted(built, start)
        base_lr, max_lr = settings.bounds()
        values = {"learning_rate": settings.learning_rate, "base_lr": base_lr, "max_lr": max_lr}
        rates = {name: value for name, value in values.items() if getattr(traits, f"uses_{name}")}
        return cls(built, rates, start + steps_per_epoch * epochs if traits.ends else None)
