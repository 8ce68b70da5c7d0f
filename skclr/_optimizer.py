"""The one place that reads or writes an optimizer's rate, clipping and momentum.

Under a mixed-precision policy Keras wraps the optimizer in a ``LossScaleOptimizer``, whose own
rate attribute is never used for the update: the rate lives on the inner optimizer. Every
function here unwraps first, so the range test, the schedule, ``history_["lr"]`` and the
divergence report all see the rate that moves the weights.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from numbers import Real

import keras
from keras.optimizers.schedules import LearningRateSchedule

from skclr import backend
from skclr._keras_internals import optimizer_rate, set_rate_untracked, set_untracked

__all__ = [
    "attach_rate",
    "check_momentum_can_cycle",
    "current_rate",
    "cycled_momentum",
    "cycled_momentum_value",
    "highest_rate",
    "inner",
    "momentum_name",
    "rate_at",
    "set_clipvalue",
    "set_weight_decay",
    "swept_rate",
]


def inner(optimizer: keras.optimizers.Optimizer) -> keras.optimizers.Optimizer:
    """The optimizer that applies the updates: ``optimizer`` itself, or the one a wrapper holds."""
    while hasattr(optimizer, "inner_optimizer"):
        optimizer = optimizer.inner_optimizer
    return optimizer


def rate_at(schedule, step: int) -> float:
    """The rate of a schedule, a variable or a float at iteration ``step``."""
    return float(schedule(step)) if isinstance(schedule, LearningRateSchedule) else float(schedule)


def current_rate(optimizer: keras.optimizers.Optimizer, compiled: bool = True) -> float:
    """The rate applied by the optimizer's most recent step (its first, before any step); ``compiled``:
    whether its steps are (the model's ``jit_compile``)."""
    return _applied_rates(optimizer, max(int(inner(optimizer).iterations) - 1, 0), 1, compiled)[0]


def highest_rate(optimizer: keras.optimizers.Optimizer, start: int, compiled: bool = True) -> float:
    """The highest rate the optimizer applied from iteration ``start`` to its most recent step."""
    stop = int(inner(optimizer).iterations)
    if stop <= start + 1:
        return current_rate(optimizer, compiled)
    return max(_applied_rates(optimizer, start, stop - start, compiled))


def _applied_rates(optimizer: keras.optimizers.Optimizer, start: int, steps: int, compiled: bool) -> list:
    """The rates the optimizer applied at iterations ``start .. start + steps - 1``."""
    rate = optimizer_rate(inner(optimizer))
    applied = getattr(rate, "applied", None)  # a runner's rate table (skclr._runner.RateTable): its copy
    if applied is not None:
        return [applied(step) for step in range(start, start + steps)]
    if isinstance(rate, LearningRateSchedule):
        return [float(r) for r in backend.applied_rates(rate, steps, start, compiled)]
    return [float(rate)] * steps  # a Variable: float() reads it without numpy's copy-keyword deprecation


def attach_rate(optimizer: keras.optimizers.Optimizer, rate: LearningRateSchedule | float, *,
                replaces_ours: bool = False) -> LearningRateSchedule | float:  # fmt: skip
    """Make ``rate`` (a schedule or a constant) the optimizer's rate; return what the optimizer runs.

    A schedule takes the place of the optimizer's rate variable for good. A constant can follow a
    schedule only where skclr put that schedule (``replaces_ours``): it then runs as a constant
    schedule, since a rate variable put back on a built optimizer would change the order of its
    saved variables. The rate is read when the train step is traced: the caller drops the
    model's traced functions.
    """
    optimizer = inner(optimizer)
    if not isinstance(rate, LearningRateSchedule) and not isinstance(optimizer_rate(optimizer), keras.Variable):
        if replaces_ours:
            rate = keras.optimizers.schedules.ExponentialDecay(float(rate), decay_steps=1, decay_rate=1.0)
            optimizer.learning_rate = rate
            return rate
        raise ValueError(
            "The model's optimizer was compiled with a learning-rate schedule, which a constant "
            "rate cannot replace; compile it with a float learning_rate or pick a schedule name."
        )
    optimizer.learning_rate = rate  # Keras's setter: a schedule replaces the rate variable
    return rate


@contextlib.contextmanager
def swept_rate(optimizer: keras.optimizers.Optimizer) -> Iterator[keras.Variable]:
    """Yield a variable that drives the optimizer's rate while the block runs.

    A rate variable is yielded as is (its value is the caller's to restore). A schedule is read
    at trace time, so it is swapped for a variable that the optimizer does not track (its
    variable list, and so what it saves, stays as it was) and put back on exit.
    """
    optimizer = inner(optimizer)
    original = optimizer_rate(optimizer)
    if isinstance(original, keras.Variable):
        yield original
        return
    swept = keras.Variable(0.0, trainable=False, name="lr_finder_rate")
    set_rate_untracked(optimizer, swept)  # optimizer.variables unchanged
    try:
        yield swept
    finally:
        set_rate_untracked(optimizer, original)


def set_clipvalue(optimizer: keras.optimizers.Optimizer, clipvalue: float | None) -> None:
    """Clip each gradient element to ``[-clipvalue, clipvalue]``; None leaves it unclipped."""
    optimizer = inner(optimizer)
    if clipvalue is not None and (optimizer.clipnorm or optimizer.global_clipnorm):
        raise ValueError("clipvalue cannot be combined with the clipnorm/global_clipnorm of the model's optimizer.")
    optimizer.clipvalue = clipvalue  # read when the train step is traced


def set_weight_decay(optimizer: keras.optimizers.Optimizer, weight_decay: float | None) -> None:
    """Decoupled weight decay at ``weight_decay`` times the rate per step; None or 0: none."""
    inner(optimizer).weight_decay = weight_decay or None  # read when the train step is traced


def momentum_name(optimizer: keras.optimizers.Optimizer) -> str | None:
    """``"beta_1"`` (Adam and kin) or ``"momentum"`` (SGD, RMSprop), whichever the optimizer has."""
    optimizer = inner(optimizer)
    return next((name for name in ("beta_1", "momentum") if hasattr(optimizer, name)), None)


def check_momentum_can_cycle(optimizer: keras.optimizers.Optimizer) -> None:
    """Raise ``ValueError`` unless the optimizer has a momentum that ``cycle_momentum`` can move."""
    name = momentum_name(optimizer)
    nominal = getattr(inner(optimizer), name, None) if name else None
    if not isinstance(nominal, Real) or nominal <= 0:
        raise ValueError(
            f"cycle_momentum needs an optimizer with beta_1 (adam, adamw, adamax, nadam) or with a "
            f"momentum > 0 (sgd, rmsprop: optimizer__momentum=0.9); {type(inner(optimizer)).__name__} has "
            f"{name or 'momentum'}={nominal!r}."
        )


@contextlib.contextmanager
def cycled_momentum(optimizer: keras.optimizers.Optimizer, schedule: LearningRateSchedule) -> Iterator[None]:
    """While the block runs, the momentum follows ``schedule.momentum(step)``, set in the graph.

    The optimizer computes its rate once per step, before it updates any weight; a stand-in
    schedule sets the momentum variable there, so the update reads the momentum of the same
    step. On exit the optimizer holds its own plain number again (it saves and reloads like any
    Keras optimizer). The caller drops the model's traced functions on both sides.
    """
    check_momentum_can_cycle(optimizer)
    optimizer = inner(optimizer)
    name = momentum_name(optimizer)
    nominal = getattr(optimizer, name)
    momentum = keras.Variable(nominal, trainable=False, name=f"cycled_{name}")
    # the stand-in computes as its variable (TensorFlow: a tensor conversion; JAX: __jax_array__)
    backend.register_tensor_like(_CycledMomentum, lambda value: value.variable.value)
    # Untracked, so the optimizer's saved variables do not change. SGD and
    # RMSprop test `momentum != 0` in Python: they get a stand-in that answers with the nominal value.
    set_untracked(optimizer, name, momentum if name == "beta_1" else _CycledMomentum(momentum, nominal))
    set_rate_untracked(optimizer, _MomentumDriver(schedule, momentum))
    try:
        yield
    finally:
        set_untracked(optimizer, name, nominal)
        set_rate_untracked(optimizer, schedule)


def cycled_momentum_value(optimizer: keras.optimizers.Optimizer) -> float | None:
    """The momentum of the last step while :func:`cycled_momentum` runs; None otherwise."""
    optimizer = inner(optimizer)
    name = momentum_name(optimizer)
    value = getattr(optimizer, name, None) if name else None
    value = getattr(value, "variable", value)
    if not isinstance(value, keras.Variable):
        return None
    driver = optimizer_rate(optimizer)
    if backend.NAME == "jax" and isinstance(driver, _MomentumDriver):
        # a jitted step's assignment to a variable outside its state is not kept: the schedule's value
        return float(driver.schedule.momentum(max(int(optimizer.iterations) - 1, 0)))
    return float(value)


class _MomentumDriver(LearningRateSchedule):
    """The rate of ``schedule``; computing it also sets ``variable`` to ``schedule.momentum(step)``.

    Never saved: it lives only inside :func:`cycled_momentum`.
    """

    def __init__(self, schedule: LearningRateSchedule, variable: keras.Variable):
        super().__init__()
        self.schedule = schedule
        self.variable = variable

    def __call__(self, step):
        self.variable.assign(keras.ops.cast(self.schedule.momentum(step), self.variable.dtype))
        return self.schedule(step)

    def get_config(self) -> dict:
        raise NotImplementedError("a fit-time helper; the optimizer holds the plain schedule outside fit")


class _CycledMomentum:
    """SGD's and RMSprop's ``momentum`` while it cycles: compared in Python (``!= 0``, ``> 0``) as
    the optimizer's own non-zero value, so their momentum branch is kept; a tensor (the
    variable, read in the graph at every step) wherever they compute with it."""

    def __init__(self, variable: keras.Variable, nominal: float):
        self.variable = variable
        self.nominal = nominal

    def __ne__(self, other):
        return self.nominal != other

    def __eq__(self, other):
        return self.nominal == other

    def __gt__(self, other):
        return self.nominal > other

    __hash__ = None
