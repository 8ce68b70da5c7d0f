"""The estimators' named schedules: names, traits, settings in epochs, their rules and builders.

Keras already ships time-based (``InverseTimeDecay``), step and exponential
(``ExponentialDecay``), linear and polynomial (``PolynomialDecay``) and cosine
(``CosineDecay``, ``CosineDecayRestarts``) schedules; :func:`make_schedule` builds those,
and :mod:`skclr.schedules` adds what Keras lacks (:class:`~skclr.schedules.CyclicalLearningRate`,
:class:`~skclr.schedules.OneCycle`).

:func:`make_schedule` takes lengths in epochs (floats allowed) and converts them to
optimizer iterations with ``steps_per_epoch``. The settings' rules use scikit-learn's
parameter constraints, which ``CLRClassifier`` adds to its own; nothing here imports scikeras.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from numbers import Integral, Real

import numpy as np
from keras import ops
from keras.optimizers.schedules import (
    CosineDecay,
    CosineDecayRestarts,
    ExponentialDecay,
    InverseTimeDecay,
    LearningRateSchedule,
    PolynomialDecay,
)
from skclr._sklearn_internals import Interval, validate_parameter_constraints

from skclr.schedules import CyclicalLearningRate, OneCycle

__all__ = [
    "CYCLIC_SCHEDULES",
    "ENDING_SCHEDULES",
    "MOMENTUM_SCHEDULES",
    "SCHEDULES",
    "SCHEDULE_TRAITS",
    "SETTING_CONSTRAINTS",
    "ScheduleSettings",
    "ScheduleTraits",
    "make_schedule",
    "schedule_values",
]


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


# -- named schedules: settings in epochs, one builder per name ------------------------------


@dataclass(frozen=True)
class ScheduleTraits:
    """What a named schedule reads from its settings and how its rate moves.

    Attributes
    ----------
    uses_learning_rate : bool
        Its rates start from (or are) ``learning_rate``.
    uses_base_lr, uses_max_lr : bool
        Its rates come from these bounds. ``max_lr`` defaults to ``learning_rate``, so a
        schedule that uses ``max_lr`` reads ``learning_rate`` only as that default.
    uses_end_lr : bool
        It decays towards ``end_lr``.
    ends : bool
        It reaches a final rate on the last iteration of the planned training and stays there,
        so a new plan (another ``fit``) must start it afresh.
    cyclical : bool
        The rate returns to where it started, again and again, with no end.
    momentum : bool
        The schedule has a ``momentum(step)`` method, moving opposite to the rate
        (PyTorch's ``cycle_momentum=True``).
    """

    uses_learning_rate: bool = False
    uses_base_lr: bool = False
    uses_max_lr: bool = False
    uses_end_lr: bool = False
    ends: bool = False
    cyclical: bool = False
    momentum: bool = False


_DECAY = ScheduleTraits(uses_learning_rate=True)
_TO_END_LR = ScheduleTraits(uses_learning_rate=True, uses_end_lr=True, ends=True)
_SMITH = ScheduleTraits(uses_base_lr=True, uses_max_lr=True, cyclical=True, momentum=True)

#: The traits of each name accepted by :func:`make_schedule` and ``CLRClassifier(schedule=...)``.
#: ``one_cycle`` is one rise and one fall that ends, so not cyclical; it ignores ``base_lr``
#: and starts at ``max_lr / 25``.
SCHEDULE_TRAITS: dict[str, ScheduleTraits] = {
    "constant": _DECAY,
    "time": _DECAY,
    "step": _DECAY,
    "linear": _TO_END_LR,
    "polynomial": _TO_END_LR,
    "exponential": _DECAY,
    "cosine": _TO_END_LR,
    "cosine_restarts": ScheduleTraits(uses_learning_rate=True, uses_end_lr=True, cyclical=True),
    "triangular": _SMITH,
    "triangular2": _SMITH,
    "exp_range": _SMITH,
    "one_cycle": ScheduleTraits(uses_max_lr=True, ends=True, momentum=True),
}

#: Names accepted by :func:`make_schedule` and ``CLRClassifier(schedule=...)``.
SCHEDULES = tuple(SCHEDULE_TRAITS)
#: Schedules whose rate comes back to its start periodically, without end.
CYCLIC_SCHEDULES = tuple(name for name, traits in SCHEDULE_TRAITS.items() if traits.cyclical)
#: Schedules that reach their final rate on the last iteration of the planned training.
ENDING_SCHEDULES = tuple(name for name, traits in SCHEDULE_TRAITS.items() if traits.ends)
#: Schedules with a ``momentum(step)`` method, which ``cycle_momentum`` needs.
MOMENTUM_SCHEDULES = tuple(name for name, traits in SCHEDULE_TRAITS.items() if traits.momentum)


class _WholeNumber(Interval):
    """An ``Interval`` of reals that also requires a whole value: ``2`` and ``2.0``, not ``2.5``."""

    def is_satisfied_by(self, val) -> bool:
        return super().is_satisfied_by(val) and float(val).is_integer()

    def __str__(self) -> str:
        _, _, interval = super().__str__().split(" ", 2)  # "a float in the range [1.0, inf)"
        return f"a whole number (int or float) {interval}"


_POSITIVE = Interval(Real, 0, None, closed="neither")
_NON_NEGATIVE = Interval(Real, 0, None, closed="left")
_FRACTION = Interval(Real, 0, 1, closed="right")

#: Rules for each setting on its own; ``CLRClassifier`` adds them to its ``_parameter_constraints``.
SETTING_CONSTRAINTS: dict[str, list] = {
    "learning_rate": [_POSITIVE],
    "base_lr": [_POSITIVE, None],
    "max_lr": [_POSITIVE, None],
    "step_size": [_POSITIVE],
    "gamma": [_FRACTION],
    "power": [_POSITIVE],
    "decay": [_NON_NEGATIVE, None],
    "drop": [_FRACTION],
    "drop_every": [_POSITIVE],
    "pct_start": [Interval(Real, 0, 1, closed="neither")],
    "warmup": [_NON_NEGATIVE],
    "end_lr": [_NON_NEGATIVE],
    "restart_every": [_POSITIVE],
    # PyTorch's CosineAnnealingWarmRestarts takes an integer T_mult; a fraction would lose parity.
    "restart_mult": [_WholeNumber(Real, 1, None, closed="left")],
}


@dataclass(frozen=True)
class ScheduleSettings:
    """Settings of the named schedules, lengths in epochs. Its defaults are the only ones skclr has.

    ``CLRClassifier`` takes the same names as parameters, with these defaults; see
    :func:`make_schedule` for what each one means.
    """

    learning_rate: float = 1e-3
    base_lr: float | None = None
    max_lr: float | None = None
    step_size: float = 4.0
    gamma: float = 0.95
    power: float = 2.0
    decay: float | None = None
    drop: float = 0.5
    drop_every: float = 10.0
    pct_start: float = 0.3
    warmup: float = 0.0
    end_lr: float = 0.0
    restart_every: float = 10.0
    restart_mult: float = 2.0

    def __post_init__(self):
        validate_parameter_constraints(SETTING_CONSTRAINTS, asdict(self), caller_name="make_schedule")

    def bounds(self) -> tuple[float, float]:
        """``(base_lr, max_lr)``: ``max_lr`` defaults to ``learning_rate``, ``base_lr`` to ``max_lr / 4``."""
        max_lr = self.learning_rate if self.max_lr is None else self.max_lr
        return (max_lr / 4.0 if self.base_lr is None else self.base_lr), max_lr

    def check(self, name: str, epochs: float) -> None:
        """Raise ``ValueError`` if schedule ``name`` cannot run with these settings for ``epochs``.

        The rules that involve more than one setting; each setting alone is checked on creation.
        Only the settings that ``name`` uses (:data:`SCHEDULE_TRAITS`) are compared.
        """
        _require(name in SCHEDULES, f"Unknown schedule {name!r}. Valid names are: {', '.join(SCHEDULES)}.")
        traits = SCHEDULE_TRAITS[name]
        if traits.uses_base_lr and traits.uses_max_lr:
            base_lr, max_lr = self.bounds()
            _require(
                base_lr < max_lr, f"`base_lr` must be < `max_lr`. Received: base_lr={base_lr}, max_lr={max_lr}"
            )
        if traits.uses_learning_rate and traits.uses_end_lr:
            _require(
                self.end_lr < self.learning_rate,
                f"`end_lr` must be < `learning_rate`. Received: end_lr={self.end_lr}, "
                f"learning_rate={self.learning_rate}",
            )
        if name == "cosine":
            _require(
                self.warmup < epochs,
                f"`warmup` ({self.warmup} epochs) must be shorter than training ({epochs} epochs).",
            )


def _iterations(epochs: float, steps_per_epoch: int) -> int:
    """A positive length in epochs as a whole number of iterations (at least one)."""
    return max(1, round(epochs * steps_per_epoch))


def _last_iteration(steps_per_epoch: int, epochs: int) -> int:
    """Iteration at which an ending schedule reaches its final rate: the last one training runs.

    A single-iteration plan is planned as two: its final rate (0 by default) would train nothing.
    """
    return max(1, epochs * steps_per_epoch - 1)


def _time(s: ScheduleSettings, steps_per_epoch: int, epochs: int):
    decay = s.learning_rate / epochs if s.decay is None else s.decay
    return InverseTimeDecay(s.learning_rate, decay_steps=1, decay_rate=decay)


def _step(s: ScheduleSettings, steps_per_epoch: int, epochs: int):
    every = _iterations(s.drop_every, steps_per_epoch)
    return ExponentialDecay(s.learning_rate, every, decay_rate=s.drop, staircase=True)


def _exponential(s: ScheduleSettings, steps_per_epoch: int, epochs: int):
    return ExponentialDecay(s.learning_rate, steps_per_epoch, decay_rate=s.gamma)


def _polynomial(power: float | None):
    def build(s: ScheduleSettings, steps_per_epoch: int, epochs: int):
        last = _last_iteration(steps_per_epoch, epochs)
        return PolynomialDecay(s.learning_rate, last, end_learning_rate=s.end_lr, power=power or s.power)

    return build


def _cosine(s: ScheduleSettings, steps_per_epoch: int, epochs: int):
    last = _last_iteration(steps_per_epoch, epochs)
    # check() keeps warmup < epochs; rounding to iterations must not eat the whole decay.
    warmup = min(round(s.warmup * steps_per_epoch), last - 1)
    return CosineDecay(
        0.0 if warmup else s.learning_rate,
        decay_steps=last - warmup,
        alpha=s.end_lr / s.learning_rate,
        warmup_target=s.learning_rate if warmup else None,
        warmup_steps=warmup,
    )


def _cosine_restarts(s: ScheduleSettings, steps_per_epoch: int, epochs: int):
    # SGDR: Keras's CosineDecayRestarts with m_mul=1 and alpha = end_lr / learning_rate is
    # PyTorch's CosineAnnealingWarmRestarts(T_0, T_mult, eta_min=end_lr).
    first = _iterations(s.restart_every, steps_per_epoch)
    return CosineDecayRestarts(s.learning_rate, first, t_mul=s.restart_mult, m_mul=1.0, alpha=s.end_lr / s.learning_rate)


def _cyclical(mode: str):
    def build(s: ScheduleSettings, steps_per_epoch: int, epochs: int):
        base_lr, max_lr = s.bounds()
        step_size = _iterations(s.step_size, steps_per_epoch)
        # gamma is per epoch here, per iteration in the schedule class.
        return CyclicalLearningRate(base_lr, max_lr, step_size, mode=mode, gamma=s.gamma ** (1.0 / steps_per_epoch))

    return build


def _one_cycle(s: ScheduleSettings, steps_per_epoch: int, epochs: int):
    # OneCycle ends on iteration total_steps - 1, the same convention as _last_iteration.
    total_steps = _last_iteration(steps_per_epoch, epochs) + 1
    return OneCycle(s.bounds()[1], total_steps=total_steps, pct_start=s.pct_start)


_BUILDERS: dict[str, Callable[[ScheduleSettings, int, int], LearningRateSchedule | float]] = {
    "constant": lambda s, steps_per_epoch, epochs: float(s.learning_rate),
    "time": _time,
    "step": _step,
    "linear": _polynomial(power=1.0),
    "polynomial": _polynomial(power=None),
    "exponential": _exponential,
    "cosine": _cosine,
    "cosine_restarts": _cosine_restarts,
    "triangular": _cyclical("triangular"),
    "triangular2": _cyclical("triangular2"),
    "exp_range": _cyclical("exp_range"),
    "one_cycle": _one_cycle,
}


def make_schedule(name: str, *, steps_per_epoch: int, epochs: int, **settings) -> LearningRateSchedule | float:
    """Build the schedule called ``name``; lengths are in epochs.

    The schedules that end (:data:`ENDING_SCHEDULES`: ``linear``, ``polynomial``, ``cosine``,
    ``one_cycle``) reach their final rate (``end_lr``, or ``one_cycle``'s ``max_lr / 25 / 1e4``)
    on iteration ``epochs * steps_per_epoch - 1``, the last one that training runs, and stay
    there after it. A plan of a single iteration is planned as two, so that its one iteration
    does not run at the final rate (0 by default, which would train nothing).

    Parameters
    ----------
    name : str
        One of :data:`SCHEDULES`; :data:`SCHEDULE_TRAITS` says which settings each one uses.
    steps_per_epoch : int
        Optimizer iterations per epoch, used to convert every length below.
    epochs : int
        Length of training; the ending schedules reach their final rate on its last iteration.
    **settings
        Fields of :class:`ScheduleSettings` (defaults in brackets):

        - ``learning_rate`` (1e-3): initial (or constant) rate of the non-cyclic schedules.
        - ``base_lr``, ``max_lr`` (None): bounds of the cyclic schedules. ``max_lr`` defaults
          to ``learning_rate`` and ``base_lr`` to ``max_lr / 4`` (Smith: 1/3-1/4 of max).
          ``one_cycle`` starts at ``max_lr / 25`` whatever ``base_lr`` is.
        - ``step_size`` (4.0): half cycle of the cyclical schedules, in epochs (Smith: 2-10).
        - ``gamma`` (0.95): factor per epoch of ``"exponential"`` and of the ``"exp_range"`` amplitude.
        - ``power`` (2.0): exponent of ``"polynomial"`` (``"linear"`` is power 1).
        - ``decay`` (None): Keras-2 ``decay`` of ``"time"``, ``lr = learning_rate / (1 + decay * t)``
          per iteration ``t``; defaults to ``learning_rate / epochs``, the seed's rule of thumb.
        - ``drop`` (0.5), ``drop_every`` (10.0): factor of ``"step"`` and its interval in epochs.
        - ``pct_start`` (0.3): rising fraction of ``"one_cycle"``.
        - ``warmup`` (0.0): linear warm-up of ``"cosine"`` from 0 to ``learning_rate``, in epochs.
        - ``end_lr`` (0.0): final rate of ``"linear"``, ``"polynomial"`` and ``"cosine"``, and the
          lowest rate of ``"cosine_restarts"``.
        - ``restart_every`` (10.0), ``restart_mult`` (2.0): ``"cosine_restarts"`` (SGDR, Loshchilov &
          Hutter 2017) anneals from ``learning_rate`` to ``end_lr`` over ``restart_every`` epochs, then
          restarts, each period ``restart_mult`` times longer than the one before. ``restart_mult``
          is a whole number (``2`` or ``2.0``), as PyTorch's ``T_mult``.

    Returns
    -------
    keras.optimizers.schedules.LearningRateSchedule or float
        A float for ``"constant"``, else a schedule called with the iteration.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid ones) or an impossible setting.

    Examples
    --------
    >>> from skclr._catalogue import make_schedule
    >>> clr = make_schedule("triangular", steps_per_epoch=10, epochs=20, max_lr=0.01)
    >>> clr.step_size, clr.base_lr
    (40, 0.0025)
    >>> linear = make_schedule("linear", steps_per_epoch=4, epochs=2, learning_rate=1e-3, end_lr=1e-4)
    >>> round(float(linear(0)), 6), round(float(linear(7)), 6)
    (0.001, 0.0001)
    """
    _require(
        isinstance(steps_per_epoch, Integral) and steps_per_epoch >= 1,
        f"`steps_per_epoch` must be a positive integer. Received: steps_per_epoch={steps_per_epoch!r}",
    )
    _require(
        isinstance(epochs, Integral) and epochs >= 1,
        f"`epochs` must be a positive integer. Received: epochs={epochs!r}",
    )
    resolved = ScheduleSettings(**settings)
    resolved.check(name, epochs)
    return _BUILDERS[name](resolved, int(steps_per_epoch), int(epochs))


def schedule_values(schedule: LearningRateSchedule | float, steps: int):
    """Return the rates at iterations ``0 .. steps - 1`` as a NumPy array, without training.

    Examples
    --------
    >>> from skclr._catalogue import schedule_values
    >>> from skclr.schedules import CyclicalLearningRate
    >>> schedule_values(CyclicalLearningRate(0.1, 0.5, step_size=2), 5).round(2).tolist()
    [0.1, 0.3, 0.5, 0.3, 0.1]
    """
    if not callable(schedule):
        return np.full(steps, float(schedule))
    try:  # one vectorized call; schedules with a scalar `cond` (warm-up) need a loop
        values = ops.convert_to_numpy(schedule(ops.arange(steps)))
        if np.shape(values) == (steps,):
            return values.astype(float)
    except Exception:
        pass
    return np.array([float(schedule(step)) for step in range(steps)])
