"""Learning-rate schedules as in-graph, serializable Keras ``LearningRateSchedule`` objects.

Keras already ships time-based (``InverseTimeDecay``), step and exponential
(``ExponentialDecay``), linear and polynomial (``PolynomialDecay``) and cosine
(``CosineDecay``) schedules; :func:`make_schedule` builds those. This module adds
only what Keras lacks: Smith's cyclical rates (:class:`CyclicalLearningRate`) and
the one-cycle policy (:class:`OneCycle`).

Schedule classes count in optimizer iterations. :func:`make_schedule` takes
lengths in epochs (floats allowed) and converts them with ``steps_per_epoch``.
Nothing here imports scikit-learn or scikeras.
"""

from __future__ import annotations

import math
from numbers import Real

import keras
from keras import ops
from keras.optimizers.schedules import (
    CosineDecay,
    ExponentialDecay,
    InverseTimeDecay,
    LearningRateSchedule,
    PolynomialDecay,
)

__all__ = [
    "CYCLIC_SCHEDULES",
    "SCHEDULES",
    "CyclicalLearningRate",
    "OneCycle",
    "make_schedule",
    "schedule_values",
]

#: Names accepted by :func:`make_schedule` and ``CLRClassifier(schedule=...)``.
SCHEDULES = (
    "constant",
    "time",
    "step",
    "linear",
    "polynomial",
    "exponential",
    "cosine",
    "triangular",
    "triangular2",
    "exp_range",
    "one_cycle",
)
#: Schedules that move between ``base_lr`` and ``max_lr`` rather than decaying ``learning_rate``.
CYCLIC_SCHEDULES = ("triangular", "triangular2", "exp_range", "one_cycle")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


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
        self.base_lr = base_lr
        self.max_lr = max_lr
        self.step_size = step_size
        self.mode = mode
        self.gamma = gamma
        self.name = name

    def __call__(self, step):
        with keras.name_scope(self.name):
            base_lr = ops.convert_to_tensor(self.base_lr)
            dtype = base_lr.dtype
            step = ops.cast(step, dtype)
            step_size = ops.cast(self.step_size, dtype)
            cycle = ops.floor(1.0 + step / (2.0 * step_size))
            x = ops.abs(step / step_size - 2.0 * cycle + 1.0)
            height = (ops.cast(self.max_lr, dtype) - base_lr) * ops.maximum(0.0, 1.0 - x)
            if self.mode == "triangular2":
                height = height / ops.power(2.0, cycle - 1.0)
            elif self.mode == "exp_range":
                height = height * ops.power(ops.cast(self.gamma, dtype), step)
            return base_lr + height

    def get_config(self) -> dict:
        return {
            "base_lr": self.base_lr,
            "max_lr": self.max_lr,
            "step_size": self.step_size,
            "mode": self.mode,
            "gamma": self.gamma,
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
        self.anneal = anneal
        self.name = name

    def _anneal(self, start, end, pct):
        if self.anneal == "cos":
            return end + (start - end) / 2.0 * (1.0 + ops.cos(math.pi * pct))
        return start + (end - start) * pct

    def __call__(self, step):
        with keras.name_scope(self.name):
            peak = ops.convert_to_tensor(self.max_lr)
            dtype = peak.dtype
            initial = peak / self.div_factor
            final = initial / self.final_div_factor
            last = float(self.total_steps - 1)
            # PyTorch's phase boundary; kept as a float, exactly as OneCycleLR does.
            up_end = float(self.pct_start * self.total_steps - 1)
            step = ops.minimum(ops.cast(step, dtype), last)
            # Guard the 0/0 of an empty first phase (PyTorch raises there).
            up_pct = step / max(up_end, 1e-12)
            down_pct = (step - up_end) / (last - up_end)
            return ops.where(
                step <= up_end,
                self._anneal(initial, peak, up_pct),
                self._anneal(peak, final, down_pct),
            )

    def get_config(self) -> dict:
        return {
            "max_lr": self.max_lr,
            "total_steps": self.total_steps,
            "pct_start": self.pct_start,
            "div_factor": self.div_factor,
            "final_div_factor": self.final_div_factor,
            "anneal": self.anneal,
            "name": self.name,
        }


def _iterations(epochs: float, steps_per_epoch: int, name: str) -> int:
    """Convert a length in epochs to a positive number of iterations."""
    _require(
        isinstance(epochs, Real) and math.isfinite(epochs) and epochs > 0,
        f"`{name}` must be a positive number of epochs. Received: {name}={epochs!r}",
    )
    return max(1, round(epochs * steps_per_epoch))


def make_schedule(
    name: str,
    *,
    steps_per_epoch: int,
    epochs: int,
    learning_rate: float = 1e-3,
    base_lr: float | None = None,
    max_lr: float | None = None,
    step_size: float = 4.0,
    gamma: float = 0.95,
    power: float = 2.0,
    decay: float | None = None,
    drop: float = 0.5,
    drop_every: float = 10.0,
    pct_start: float = 0.3,
    warmup: float = 0.0,
    end_lr: float = 0.0,
) -> LearningRateSchedule | float:
    """Build the schedule called ``name``; lengths are in epochs.

    Parameters
    ----------
    name : str
        One of :data:`SCHEDULES`.
    steps_per_epoch : int
        Optimizer iterations per epoch, used to convert every length below.
    epochs : int
        Length of training; the decaying schedules reach ``end_lr`` at its end.
    learning_rate : float, default=1e-3
        Initial (or constant) rate of the non-cyclic schedules.
    base_lr, max_lr : float, optional
        Bounds of the cyclic schedules. ``max_lr`` defaults to ``learning_rate``
        and ``base_lr`` to ``max_lr / 4`` (Smith's rule of thumb: 1/3-1/4 of max).
        ``one_cycle`` starts at ``max_lr / 25`` whatever ``base_lr`` is.
    step_size : float, default=4.0
        Half cycle of the cyclical schedules, in epochs (Smith: 2-10).
    gamma : float, default=0.95
        Factor per epoch: the rate of ``"exponential"``, the amplitude of ``"exp_range"``.
    power : float, default=2.0
        Exponent of ``"polynomial"`` (``"linear"`` is power 1).
    decay : float, optional
        Keras-2 ``decay`` of ``"time"``: ``lr = learning_rate / (1 + decay * t)`` per
        iteration ``t``. Defaults to ``learning_rate / epochs``, the seed's rule of thumb.
    drop : float, default=0.5
        Factor applied every ``drop_every`` epochs by ``"step"``.
    drop_every : float, default=10.0
        Interval of ``"step"``, in epochs.
    pct_start : float, default=0.3
        Rising fraction of ``"one_cycle"``.
    warmup : float, default=0.0
        Linear warm-up of ``"cosine"`` from 0 to ``learning_rate``, in epochs.
    end_lr : float, default=0.0
        Final rate of ``"linear"``, ``"polynomial"`` and ``"cosine"``.

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
    """
    _require(
        name in SCHEDULES, f"Unknown schedule {name!r}. Valid names are: {', '.join(SCHEDULES)}."
    )
    _require(
        learning_rate > 0, f"`learning_rate` must be > 0. Received: learning_rate={learning_rate}"
    )
    total = max(1, int(epochs) * int(steps_per_epoch))

    if name == "constant":
        return float(learning_rate)
    if name == "time":
        decay = learning_rate / epochs if decay is None else decay
        _require(decay >= 0, f"`decay` must be >= 0. Received: decay={decay}")
        return InverseTimeDecay(learning_rate, decay_steps=1, decay_rate=decay)
    if name == "step":
        _require(0 < drop <= 1, f"`drop` must be in (0, 1]. Received: drop={drop}")
        every = _iterations(drop_every, steps_per_epoch, "drop_every")
        return ExponentialDecay(learning_rate, every, decay_rate=drop, staircase=True)
    if name == "exponential":
        _require(0 < gamma <= 1, f"`gamma` must be in (0, 1]. Received: gamma={gamma}")
        return ExponentialDecay(learning_rate, steps_per_epoch, decay_rate=gamma)
    if name in ("linear", "polynomial", "cosine"):
        _require(
            0 <= end_lr < learning_rate,
            f"`end_lr` must be in [0, learning_rate). Received: end_lr={end_lr}, "
            f"learning_rate={learning_rate}",
        )
    if name in ("linear", "polynomial"):
        _require(power > 0, f"`power` must be > 0. Received: power={power}")
        return PolynomialDecay(
            learning_rate, total, end_learning_rate=end_lr, power=1.0 if name == "linear" else power
        )
    if name == "cosine":
        _require(warmup >= 0, f"`warmup` must be >= 0 epochs. Received: warmup={warmup}")
        warmup_steps = round(warmup * steps_per_epoch)
        _require(
            warmup_steps < total,
            f"`warmup` ({warmup} epochs) must be shorter than training ({epochs} epochs).",
        )
        return CosineDecay(
            0.0 if warmup_steps else learning_rate,
            decay_steps=total - warmup_steps,
            alpha=end_lr / learning_rate,
            warmup_target=learning_rate if warmup_steps else None,
            warmup_steps=warmup_steps,
        )

    max_lr = learning_rate if max_lr is None else max_lr
    base_lr = max_lr / 4.0 if base_lr is None else base_lr
    _require(max_lr > 0, f"`max_lr` must be > 0. Received: max_lr={max_lr}")
    _require(base_lr > 0, f"`base_lr` must be > 0. Received: base_lr={base_lr}")
    _require(
        base_lr < max_lr,
        f"`base_lr` must be < `max_lr`. Received: base_lr={base_lr}, max_lr={max_lr}",
    )
    if name == "one_cycle":
        return OneCycle(max_lr, total_steps=max(2, total), pct_start=pct_start)
    _require(0 < gamma <= 1, f"`gamma` must be in (0, 1]. Received: gamma={gamma}")
    return CyclicalLearningRate(
        base_lr,
        max_lr,
        step_size=_iterations(step_size, steps_per_epoch, "step_size"),
        mode=name,
        # gamma is per epoch here, per iteration in the schedule class.
        gamma=gamma ** (1.0 / steps_per_epoch),
    )


def schedule_values(schedule: LearningRateSchedule | float, steps: int):
    """Return the rates at iterations ``0 .. steps - 1`` as a NumPy array, without training.

    Examples
    --------
    >>> from skclr.schedules import CyclicalLearningRate, schedule_values
    >>> schedule_values(CyclicalLearningRate(0.1, 0.5, step_size=2), 5).round(2).tolist()
    [0.1, 0.3, 0.5, 0.3, 0.1]
    """
    import numpy as np

    if not callable(schedule):
        return np.full(steps, float(schedule))
    try:  # one vectorized call; schedules with a scalar `cond` (warm-up) need a loop
        values = ops.convert_to_numpy(schedule(ops.arange(steps)))
        if np.shape(values) == (steps,):
            return values.astype(float)
    except Exception:
        pass
    return np.array([float(schedule(step)) for step in range(steps)])
