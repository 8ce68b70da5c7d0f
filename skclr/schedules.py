"""Learning-rate schedules that Keras lacks, as in-graph, serializable ``LearningRateSchedule`` objects.

Smith's cyclical rates (:class:`CyclicalLearningRate`), the one-cycle policy
(:class:`OneCycle`) and a schedule started afresh at a later iteration (:class:`Restarted`).
They count in optimizer iterations, are written with ``keras.ops`` and check their own
arguments on construction, as Keras's schedules do. They work on a plain Keras model;
this module imports neither scikit-learn nor scikeras. The estimators' named schedules
(lengths in epochs) are built in ``skclr._catalogue``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Real

import keras
from keras import ops
from keras.optimizers.schedules import LearningRateSchedule

__all__ = ["CyclicalLearningRate", "OneCycle", "Restarted"]


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _is_whole(value, minimum: int) -> bool:
    """``value`` is a finite whole number >= ``minimum``; ``int()`` of NaN or inf would raise its own error."""
    return isinstance(value, Real) and math.isfinite(value) and float(value).is_integer() and value >= minimum


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
            _is_whole(total_steps, 2),
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
            _is_whole(start, 0), f"Argument `start` must be an integer >= 0. Received: start={start!r}"
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
