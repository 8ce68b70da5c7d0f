"""Keras's traced train and test steps, shared by the fits of one architecture in a process.

Tracing Keras's train (and test) step costs about a second per fit on two cores: more than
several epochs of the reference network on a tabular set, and a grid search or cross-validation
pays it at every fit of the same architecture. A model that ``skclr._shelf.shareable`` accepts
therefore trains on a *runner*: a copy of its architecture kept on the process's shelf
(``skclr._shelf``) per training key, loaded with the model's whole state (weights, seed-generator
states, optimizer variables) before ``keras.Model.fit`` and emptied back into the model after it.
The model the estimator returns is its own; it was just not the object Keras's loop ran on.

On TensorFlow, validation arrays reach Keras as a plain ``tf.data`` pipeline of the batches Keras
would cut (``validation_batches``): Keras's own array pipeline costs a new, heavier iterator at every
epoch's evaluation, as much as a tenth of a small fit. On JAX they go as given (``skclr.backend``).

On JAX a jitted step reads only the state passed to it, so a runner's rate table is two variables
of the copy's optimizer (``skclr._shelf.mark_runner_only`` keeps them out of the state it shares
with the model), state goes between model and copy as copies (the step donates its buffers), and
the copy (and a model trained on its own) is built before its fit (``build_from_first_row``).

The runner's rate is a per-step table (``RateTable``) filled from the fit's schedule, so a new
schedule, new bounds from the range test or another fold's length need no new trace, and a
constant rate shares the runner of the schedules: its rate variable is not part of the state a
runner takes (``state_variables(..., with_rate=False)``), training never changes it. Every fit
that may use a runner does, the first one included: a fit's result never depends on what the
process ran before it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import keras
import numpy as np
from keras.optimizers.schedules import LearningRateSchedule

from skclr import _shelf, backend
from skclr._keras_internals import compile_config, optimizer_rate, set_rate_untracked, symbolic_build
from skclr._optimizer import inner
from skclr._shelf import architecture_key, compiled_copy, config_says_all, mark_runner_only, state_variables

__all__ = ["RateTable", "Runner", "build_from_first_row", "training_copy", "training_key", "validation_batches"]


#: The optimizer's step counter's dtype: int64, which JAX has only in its 64-bit mode (steps fit int32).
_STEP_DTYPE = "int32" if backend.NAME == "jax" else "int64"


class RateTable(LearningRateSchedule):
    """The rate at each step read from a table: the runner's schedule, refilled at every fit.

    The table holds the rates of steps ``start`` onwards (a fit goes on from the optimizer's
    iterations, which a model trained before it has moved on). Steps past the table's end keep
    its last rate. The history reports them from a copy in memory (:meth:`applied`). Never saved:
    the model the estimator returns carries the real schedule.
    """

    def __init__(self, capacity: int, optimizer: keras.optimizers.Optimizer | None = None):
        if optimizer is None:
            self.values = keras.Variable(np.zeros(capacity, "float32"), trainable=False, name="rate_table")
            self.start = keras.Variable(0, dtype=_STEP_DTYPE, trainable=False, name="rate_table_start")
        else:
            # A jitted step (JAX) reads a variable outside its state as a constant of its trace: the
            # table joins the state as the optimizer's own variables, which state_variables leaves out.
            self.values = optimizer.add_variable((capacity,), dtype="float32", name="rate_table")
            self.start = optimizer.add_variable((), dtype=_STEP_DTYPE, name="rate_table_start")
            for variable in (self.values, self.start):
                mark_runner_only(variable)
        self._applied, self._first = np.zeros(0, "float32"), 0

    @property
    def capacity(self) -> int:
        return int(self.values.shape[0])

    def fill(self, rates: np.ndarray, start: int = 0) -> None:
        padded = np.full(self.capacity, rates[-1], dtype="float32")
        padded[: len(rates)] = rates
        self.values.assign(padded)
        self.start.assign(start)
        self._applied, self._first = padded, start

    def applied(self, step: int) -> float:
        """The rate the steps read at iteration ``step`` (``__call__``), from the copy in memory."""
        return float(self._applied[min(max(step - self._first, 0), self.capacity - 1)])

    def __call__(self, step):
        index = keras.ops.clip(keras.ops.cast(step, _STEP_DTYPE) - self.start, 0, self.capacity - 1)
        return keras.ops.take(self.values, keras.ops.cast(index, "int32"))

    def get_config(self) -> dict:
        return {"capacity": self.capacity}


def schedule_rates(schedule, steps: int, start: int = 0, compiled: bool = True) -> np.ndarray:
    """The schedule's rate at steps ``start .. start + steps - 1``, computed as the train step computes it.

    Each rate comes from the same ops on a scalar step as inside Keras's train step (compiled as
    the step is: ``compiled``, the model's ``jit_compile``, matters on JAX, whose uncompiled steps
    run op by op), so a fit on a runner trains bit for bit as the same fit on its own model would.
    """
    if not isinstance(schedule, LearningRateSchedule):
        return np.full(steps, float(schedule), dtype="float32")
    return backend.schedule_rates(schedule, steps, start, compiled)


def training_key(model: keras.Model, data: tuple) -> str | None:
    """What Keras's train and test steps compute for ``model`` on ``data``, when its configuration
    says all of it.

    The sweep's architecture key (layers, optimizer and loss without names, seeds or rate), what
    the train step adds to the sweep's (the metrics, ``jit_compile`` as the model has it now, which
    may have been set after compile, the steps per call), the
    shapes and dtypes of the state a runner is loaded with, and each array's dtype and shape past
    the rows: a trace made for one target shape and relaxed to another would lose the rank that
    Keras's loss code needs.
    """
    architecture = architecture_key(model)
    if architecture is None or model.run_eagerly or not _metrics_config_says_all(model):
        return None
    compiled = model.get_compile_config()
    extra = {key: compiled.get(key) for key in ("metrics", "weighted_metrics", "auto_scale_loss")}
    extra["jit_compile"] = model.jit_compile  # the compile configuration keeps the value given to compile
    # without a constant rate's variable (a schedule has none): the runner reads the rate from its table
    variables = [[list(v.shape), str(v.dtype)] for v in state_variables(model, with_rate=False)]
    try:
        return json.dumps([architecture, extra, model.steps_per_execution, variables, _signature(data)], sort_keys=True)
    except (TypeError, ValueError):
        return None


def _metrics_config_says_all(model: keras.Model) -> bool:
    """Whether each metric is a name or a Keras metric whose configuration says all it computes (the
    runner compiles its metrics from the configuration: a custom one may leave out a setting, or
    be redefined under the same name)."""
    compiled = compile_config(model)
    if compiled is None:
        return False
    metrics = [m for key in ("metrics", "weighted_metrics") for m in keras.tree.flatten(compiled.get(key))]
    return all(
        m is None or isinstance(m, str)
        or ((getattr(m, "__module__", None) or "").startswith("keras.") and config_says_all(m))
        for m in metrics
    )  # fmt: skip


def _signature(data) -> list:
    """Dtype and shape past the rows of every array in ``data`` (None for a missing part)."""
    def describe(leaf):
        return None if leaf is None else [str(getattr(leaf, "dtype", type(leaf).__name__)), list(np.shape(leaf)[1:])]

    return keras.tree.map_structure(describe, data)


class Runner:
    """A copy of a compiled model's architecture whose traced steps serve every fit with its key.

    A fit takes it off the shelf (``skclr._shelf``) while it trains; two threads fitting the same
    architecture each get their own.
    """

    def __init__(self, key: str, model: keras.Model):
        self.key = key
        self.model = compiled_copy(model)
        rate = optimizer_rate(inner(self.model.optimizer))
        if isinstance(rate, keras.Variable):
            mark_runner_only(rate)  # never read again: the rate comes from the table (``load``)
        self.table: RateTable | None = None

    @classmethod
    def take(cls, model: keras.Model, data: tuple) -> Runner | None:
        """A shelved runner for ``model``'s training key on ``data``, a new one, or None if it cannot be shared."""
        key = training_key(model, data)
        return _shelf.take("train", key, model, lambda: cls(key, model), with_rate=False)

    def load(self, model: keras.Model, steps: int) -> None:
        """Give the runner ``model``'s whole state and its schedule's rate for each of ``steps`` steps."""
        optimizer = inner(model.optimizer)
        schedule, start = optimizer_rate(optimizer), int(optimizer.iterations)
        rates = schedule_rates(schedule, steps, start, compiled=bool(self.model.jit_compile))
        backend.assign_state(state_variables(self.model, with_rate=False), state_variables(model, with_rate=False))
        if self.table is None or self.table.capacity < len(rates):
            # a longer table is a new variable: the steps are traced again, once per doubling
            capacity = 1 << max(len(rates) - 1, 1).bit_length()
            self.table = RateTable(capacity, inner(self.model.optimizer) if backend.STATELESS_STEPS else None)
            # untracked, as the range test's rate: the optimizer's variable list stays the model's
            set_rate_untracked(inner(self.model.optimizer), self.table)
            self.model.train_function = self.model.test_function = None
            backend.keep_compiled_steps(self.model, self.key)  # on JAX, for the next process as well
        self.table.fill(rates, start)
        self.model.reset_metrics()

    def unload(self, model: keras.Model) -> None:
        """Give ``model`` the runner's state after training."""
        backend.assign_state(state_variables(model, with_rate=False), state_variables(self.model, with_rate=False))
        history = vars(self.model).pop("history", None)  # set by Keras's History on the model it trains
        if history is not None:
            history.set_model(model)
            model.history = history

    def give_back(self) -> None:
        _shelf.give_back("train", self.key, self)


def build_from_first_row(model: keras.Model, data: tuple) -> None:
    """Build the compiled loss and metrics of the model Keras will train (on JAX) from the first row
    of ``data`` (x, y, sample weights first), as the first fit would.

    On JAX, ``fit`` builds what is unbuilt from a batch it draws from its shuffled arrays: a draw
    from NumPy's generator that moves the batch order of the whole fit. A runner is never built by
    the model's own use, and the model itself is not either (its untrained loss is measured
    statelessly, ``backend.inference_loss_function``): both are built here, before the seeded fit.
    """
    first = keras.tree.map_structure(lambda array: None if array is None else array[:1], tuple(data[:3]))
    symbolic_build(model, first)


@contextlib.contextmanager
def training_copy(model: keras.Model, steps: int, data: tuple, shareable: bool) -> Iterator[keras.Model]:
    """Yield the model Keras should train for ``steps`` steps on ``data`` (every array Keras gets:
    x, y, sample weights, validation data): a runner loaded with ``model``'s state and schedule (put
    back into ``model`` on exit), or, when ``shareable`` is False or the model's configuration does
    not say all it computes, ``model`` itself."""
    runner = Runner.take(model, data) if shareable else None
    if runner is None:
        if backend.STATELESS_STEPS:
            build_from_first_row(model, data)
        yield model
        return
    runner.load(model, steps)
    if backend.STATELESS_STEPS:
        build_from_first_row(runner.model, data)
    try:
        yield runner.model
    finally:
        runner.unload(model)
    runner.give_back()  # a failed run's runner may hold half a trace: dropped


def validation_batches(validation_data, batch_size: int):
    """``validation_data`` (``(x, y)`` or ``(x, y, sample_weight)`` of NumPy arrays, or of dicts,
    lists and tuples of them for several inputs or outputs) as a ``tf.data`` pipeline of the
    batches Keras would cut from it, in order, floats as ``floatx`` (on JAX: those arrays, for
    Keras's own pipeline; see ``skclr.backend``); anything else as given.

    A list of arrays is several inputs (or outputs), as in Keras's own array pipeline, which turns
    lists into tuples: ``tf.data`` would stack a list into one tensor.
    """
    if not isinstance(validation_data, tuple) or not 2 <= len(validation_data) <= 3:
        return validation_data
    leaves = keras.tree.flatten(validation_data)
    if not all(isinstance(leaf, np.ndarray) for leaf in leaves) or len({len(leaf) for leaf in leaves}) != 1:
        return validation_data  # Keras's own adapter takes (and refuses) the rest
    def as_keras_does(array):
        return array.astype(keras.config.floatx()) if array.dtype.kind == "f" else array

    arrays = keras.tree.lists_to_tuples(keras.tree.map_structure(as_keras_does, validation_data))
    return backend.batched_dataset(arrays, batch_size)
