"""Learning-rate schedules as in-graph, serializable Keras ``LearningRateSchedule`` objects.

Keras already ships time-based (``InverseTimeDecay``), step and exponential
(``ExponentialDecay``), linear and polynomial (``PolynomialDecay``) and cosine
(``CosineDecay``) schedules; :func:`make_schedule` builds those. This module adds
only what Keras lacks: Smith's cyclical rates (:class:`CyclicalLearningRate`) and
the one-cycle policy (:class:`OneCycle`).

Schedule classes count in optimizer iterations. :func:`make_schedule` takes
lengths in epochs (floats allowed) and converts them with ``steps_per_epoch``.
Nothing here imports scikeras; the settings' rules use scikit-learn's parameter constraints.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from numbers import Integral, Real

import keras
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
from sklearn.utils._param_validation import Interval, validate_parameter_constraints

__all__ = [
    "CYCLIC_SCHEDULES",
    "ENDING_SCHEDULES",
    "MOMENTUM_SCHEDULES",
    "SCHEDULES",
    "SCHEDULE_TRAITS",
    "CyclicalLearningRate",
    "OneCycle",
    "Restarted",
    "ScheduleSettings",
    "ScheduleTraits",
    "make_schedule",
    "schedule_values",
]


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _check_momentum_bounds(base_momentum: float, max_momentum: float) -> None:
    _require(
        0 <= base_momentum <= max_momentum < 1,
        "Arguments `base_momentum` and `max_momentum` must satisfy 0 <= base_momentum <= max_momentum < 1. "
        f"Received: base_momentum={base_momentum}, max_momentum={max_momentum}",
    )


@keras.saving.register_keras_serializable(package="skclr")
class CyclicalLearningRate(LearningRateSchedule):
    """Smith's cyclical learning rate (triangular, triangular2, exp_range).

    The rate rises linearly from ``base_lr`` to ``max_lr`` over ``step_size``
    iterations and falls back over the next ``step_size``. With
    ``cycle = floor(1 + t / (2 * step_size))`` and
    ``x = |t / step_size - 2 * cycle + 1|`` the rate at iteration ``t`` is
    ``base_lr + (max_lr - base_lr) * max(0, 1 - x) * scale``, where ``scale`` is
    1 (``"triangular"``), ``1 / 2 ** (cycle - 1)`` (``"triangular2"``) or
    ``gamma ** t`` (``"exp_range"``). These are the values of PyTorch's
    ``CyclicLR`` with ``step_size_up == step_size_down``.

    Parameters
    ----------
    base_lr : float
        Lower bound of the cycle, > 0.
    max_lr : float
        Upper bound of the cycle, > ``base_lr``.
    step_size : int or float
        Half a cycle, in optimizer iterations, > 0. Smith recommends 2-10 epochs' worth.
    mode : {"triangular", "triangular2", "exp_range"}, default="triangular"
        How the amplitude changes from cycle to cycle.
    gamma : float, default=1.0
        Per-iteration amplitude factor of ``"exp_range"``, in (0, 1].
    base_momentum, max_momentum : float, default=0.8, 0.9
        Bounds of :meth:`momentum`, which moves opposite to the rate (PyTorch's
        ``CyclicLR`` defaults with ``cycle_momentum=True``).
    name : str, default="CyclicalLearningRate"
        Name scope of the graph ops.

    References
    ----------
    L. N. Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017,
    arXiv:1506.01186.

    Examples
    --------
    >>> from skclr.schedules import CyclicalLearningRate
    >>> clr = CyclicalLearningRate(base_lr=0.001, max_lr=0.006, step_size=4)
    >>> [round(float(clr(t)), 5) for t in (0, 2, 4, 6, 8)]
    [0.001, 0.0035, 0.006, 0.0035, 0.001]
    """

    MODES = ("triangular", "triangular2", "exp_range")

    def __init__(
        self,
        base_lr: float,
        max_lr: float,
        step_size: float,
        mode: str = "triangular",
        gamma: float = 1.0,
        base_momentum: float = 0.8,
        max_momentum: float = 0.9,
        name: str = "CyclicalLearningRate",
    ):
        super().__init__()
        _require(base_lr > 0, f"Argument `base_lr` must be > 0. Received: base_lr={base_lr}")
        _require(
            max_lr > base_lr,
            f"Argument `max_lr` must be > `base_lr`. Received: base_lr={base_lr}, max_lr={max_lr}",
        )
        _require(step_size > 0, f"Argument `step_size` must be > 0. Received: step_size={step_size}")
        _require(
            mode in self.MODES, f"Argument `mode` must be one of {self.MODES}. Received: mode={mode!r}"
        )
        _require(0 < gamma <= 1, f"Argument `gamma` must be in (0, 1]. Received: gamma={gamma}")
        _check_momentum_bounds(base_momentum, max_momentum)
        self.base_lr = base_lr
        self.max_lr = max_lr
        self.step_size = step_size
        self.mode = mode
        self.gamma = gamma
        self.base_momentum = base_momentum
        self.max_momentum = max_momentum
        self.name = name

    def _wave(self, step):
        """Position in the cycle, 0 at the bounds and 1 at the peak, times the mode's amplitude."""
        step = ops.cast(step, "float32")
        step_size = ops.cast(self.step_size, "float32")
        cycle = ops.floor(1.0 + step / (2.0 * step_size))
        wave = ops.maximum(0.0, 1.0 - ops.abs(step / step_size - 2.0 * cycle + 1.0))
        if self.mode == "triangular2":
            wave = wave / ops.power(2.0, cycle - 1.0)
        elif self.mode == "exp_range":
            wave = wave * ops.power(ops.cast(self.gamma, "float32"), step)
        return wave

    def __call__(self, step):
        with keras.name_scope(self.name):
            base_lr = ops.convert_to_tensor(self.base_lr, "float32")
            return base_lr + (ops.cast(self.max_lr, "float32") - base_lr) * self._wave(step)

    def momentum(self, step):
        """Momentum at ``step``: ``max_momentum`` where the rate is lowest, ``base_momentum`` at its peak."""
        with keras.name_scope(self.name):
            top = ops.convert_to_tensor(self.max_momentum, "float32")
            return top - (top - ops.cast(self.base_momentum, "float32")) * self._wave(step)

    def get_config(self) -> dict:
        return {
            "base_lr": self.base_lr,
            "max_lr": self.max_lr,
            "step_size": self.step_size,
            "mode": self.mode,
            "gamma": self.gamma,
            "base_momentum": self.base_momentum,
            "max_momentum": self.max_momentum,
            "name": self.name,
        }


@keras.saving.register_keras_serializable(package="skclr")
class OneCycle(LearningRateSchedule):
    """Smith's one-cycle policy, two-phase as in fast.ai and PyTorch's ``OneCycleLR``.

    The rate anneals from ``max_lr / div_factor`` up to ``max_lr`` until iteration
    ``pct_start * total_steps - 1``, then down to
    ``max_lr / (div_factor * final_div_factor)`` at iteration ``total_steps - 1``,
    where it stays. The values equal PyTorch's ``OneCycleLR(three_phase=False)``
    with the same arguments at every iteration.

    Parameters
    ----------
    max_lr : float
        Peak rate, > 0.
    total_steps : int
        Iterations in the cycle, >= 2.
    pct_start : float, default=0.3
        Fraction of the cycle spent increasing the rate, in (0, 1).
    div_factor : float, default=25.0
        ``initial rate = max_lr / div_factor``, > 0.
    final_div_factor : float, default=1e4
        ``final rate = initial rate / final_div_factor``, > 0.
    anneal : {"cos", "linear"}, default="cos"
        Shape of each phase.
    base_momentum, max_momentum : float, default=0.85, 0.95
        Bounds of :meth:`momentum`, which anneals from ``max_momentum`` down to
        ``base_momentum`` while the rate rises and back while it falls (PyTorch's
        ``OneCycleLR`` defaults with ``cycle_momentum=True``).
    name : str, default="OneCycle"
        Name scope of the graph ops.

    References
    ----------
    L. N. Smith, "A disciplined approach to neural network hyper-parameters",
    arXiv:1803.09820.

    Examples
    --------
    >>> from skclr.schedules import OneCycle
    >>> sched = OneCycle(max_lr=0.01, total_steps=100)
    >>> round(float(sched(0)), 6), round(float(sched(29)), 6)
    (0.0004, 0.01)
    """

    ANNEALS = ("cos", "linear")

    def __init__(
        self,
        max_lr: float,
        total_steps: int,
        pct_start: float = 0.3,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        anneal: str = "cos",
        base_momentum: float = 0.85,
        max_momentum: float = 0.95,
        name: str = "OneCycle",
    ):
        super().__init__()
        _require(max_lr > 0, f"Argument `max_lr` must be > 0. Received: max_lr={max_lr}")
        _require(
            int(total_steps) == total_steps and total_steps >= 2,
            f"Argument `total_steps` must be an integer >= 2. Received: total_steps={total_steps}",
        )
        _require(
            0 < pct_start < 1, f"Argument `pct_start` must be in (0, 1). Received: pct_start={pct_start}"
        )
        _require(div_factor > 0, f"Argument `div_factor` must be > 0. Received: div_factor={div_factor}")
        _require(
            final_div_factor > 0,
            f"Argument `final_div_factor` must be > 0. Received: final_div_factor={final_div_factor}",
        )
        _require(
            anneal in self.ANNEALS,
            f"Argument `anneal` must be one of {self.ANNEALS}. Received: anneal={anneal!r}",
        )
        self.max_lr = max_lr
        self.total_steps = int(total_steps)
        self.pct_start = pct_start
        self.div_factor = div_factor
        self.final_div_factor = final_div_factor
        _check_momentum_bounds(base_momentum, max_momentum)
        self.anneal = anneal
        self.base_momentum = base_momentum
        self.max_momentum = max_momentum
        self.name = name

    def _anneal(self, start, end, pct):
        if self.anneal == "cos":
            return end + (start - end) / 2.0 * (1.0 + ops.cos(math.pi * pct))
        return start + (end - start) * pct

    def _phases(self, step, start, middle, end):
        """Anneal ``start`` -> ``middle`` over the first phase and ``middle`` -> ``end`` over the second."""
        start, middle, end = (ops.cast(value, "float32") for value in (start, middle, end))
        last = float(self.total_steps - 1)
        # PyTorch's phase boundary; kept as a float, exactly as OneCycleLR does.
        up_end = float(self.pct_start * self.total_steps - 1)
        step = ops.minimum(ops.cast(step, "float32"), last)
        # Guard the 0/0 of an empty first phase (PyTorch raises there).
        up_pct = step / max(up_end, 1e-12)
        down_pct = (step - up_end) / (last - up_end)
        return ops.where(
            step <= up_end, self._anneal(start, middle, up_pct), self._anneal(middle, end, down_pct)
        )

    def __call__(self, step):
        with keras.name_scope(self.name):
            peak = ops.convert_to_tensor(self.max_lr, "float32")
            initial = peak / self.div_factor
            return self._phases(step, initial, peak, initial / self.final_div_factor)

    def momentum(self, step):
        """Momentum at ``step``: ``max_momentum`` -> ``base_momentum`` while the rate rises, then back."""
        with keras.name_scope(self.name):
            return self._phases(step, self.max_momentum, self.base_momentum, self.max_momentum)

    def get_config(self) -> dict:
        return {
            "max_lr": self.max_lr,
            "total_steps": self.total_steps,
            "pct_start": self.pct_start,
            "div_factor": self.div_factor,
            "final_div_factor": self.final_div_factor,
            "anneal": self.anneal,
            "base_momentum": self.base_momentum,
            "max_momentum": self.max_momentum,
            "name": self.name,
        }


@keras.saving.register_keras_serializable(package="skclr")
class Restarted(LearningRateSchedule):
    """``schedule`` started afresh at iteration ``start``: the rate at ``t`` is ``schedule(t - start)``.

    ``CLRClassifier`` uses it when a warm-started ``fit`` plans a schedule that ends
    (``linear``, ``cosine``, ``one_cycle``...) again, since the optimizer's iteration
    count goes on across fits. It has a ``momentum(step)``, shifted the same way, exactly
    when ``schedule`` has one.

    Parameters
    ----------
    schedule : LearningRateSchedule
        The schedule to run, counted from ``start``.
    start : int
        Iteration at which ``schedule`` starts, >= 0. Before it, ``schedule(0)``.
    name : str, default="Restarted"
        Name scope of the graph ops.

    Examples
    --------
    >>> from skclr.schedules import OneCycle, Restarted
    >>> later = Restarted(OneCycle(max_lr=0.01, total_steps=100), start=500)
    >>> float(later(529)) == float(OneCycle(max_lr=0.01, total_steps=100)(29))
    True
    """

    def __init__(self, schedule: LearningRateSchedule, start: int, name: str = "Restarted"):
        super().__init__()
        _require(
            isinstance(schedule, LearningRateSchedule),
            f"Argument `schedule` must be a LearningRateSchedule. Received: schedule={schedule!r}",
        )
        _require(
            int(start) == start and start >= 0, f"Argument `start` must be an integer >= 0. Received: start={start}"
        )
        self.schedule = schedule
        self.start = int(start)
        self.name = name

    def _shifted(self, step):
        return ops.maximum(ops.convert_to_tensor(step) - self.start, 0)

    def __call__(self, step):
        with keras.name_scope(self.name):
            return self.schedule(self._shifted(step))

    @property
    def momentum(self) -> Callable:
        """``schedule.momentum`` shifted like the rate; absent (``hasattr`` is False) if ``schedule`` has none.

        A property rather than a method, so that code asking ``hasattr(schedule, "momentum")``
        (as ``cycle_momentum`` does) gets the inner schedule's answer.
        """
        inner = self.schedule.momentum  # AttributeError when the inner schedule has no momentum

        def momentum(step):
            with keras.name_scope(self.name):
                return inner(self._shifted(step))

        return momentum

    def get_config(self) -> dict:
        return {
            "schedule": keras.saving.serialize_keras_object(self.schedule),
            "start": self.start,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config: dict) -> Restarted:
        return cls(**{**config, "schedule": keras.saving.deserialize_keras_object(config["schedule"])})


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
    >>> from skclr.schedules import make_schedule
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
    >>> from skclr.schedules import CyclicalLearningRate, schedule_values
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
