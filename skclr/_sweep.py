"""The range test's sweep: its batches, its traced steps, and the model it runs on.

A sweep step is Keras's ``train_step`` without the metrics, at a rate set inside the graph.
The steps run on the model itself (its state snapshotted and put back afterwards) or, for a
model that ``skclr._shelf.shareable`` accepts, on a copy of its architecture that the process
keeps on its shelf, so that the folds and candidates of a grid search reuse one trace.
"""

from __future__ import annotations

import collections.abc
import contextlib
import itertools
from collections.abc import Callable, Iterator

import keras
import numpy as np

from skclr import _shelf, backend
from skclr._keras_internals import symbolic_build
from skclr._optimizer import swept_rate
from skclr._shelf import architecture_key, compiled_copy, config_says_all, state_variables

__all__ = [
    "Batches",
    "Scratch",
    "SweepSteps",
    "architecture_key",  # the rule and the key live in skclr._shelf; named here for the sweep's users
    "build",
    "chunked",
    "config_says_all",
    "sweep_model",
]

#: Sweep steps per graph call. Divergence is checked after each call, so at most this many
#: steps minus one run past it (their results are dropped, and the model is restored anyway).
STEPS_PER_CALL = 10


class Batches:
    """The ``(x, y, sample_weight)`` batches of each sweep, every sweep in its own order.

    Arrays (or dicts and lists of them) are reshuffled at each pass with ``rng``. A dataset's
    first sweep takes its batches as they come, pass after pass; the later sweeps take the
    batches of its first pass (all the first sweep used, if the pass is longer) in an order
    drawn from ``rng`` at each pass. A ``tf.data.Dataset``'s batches are kept in memory for
    that (``keep``); a ``PyDataset`` is indexed again.
    """

    def __init__(self, x, y, sample_weight, batch_size: int, rng, keep: bool):
        if isinstance(x, collections.abc.Iterator):
            raise TypeError(
                f"LRFinder.find cannot sweep a {type(x).__name__}: an iterator can be read only once, and "
                "the sweeps read their batches in several orders. Pass arrays, a tf.data.Dataset or a "
                "keras.utils.PyDataset."
            )
        self.rng, self.keep = rng, keep
        self.dataset = backend.is_dataset(x)
        self._recorded: list[tuple] = []
        if self.dataset:
            if y is not None or sample_weight is not None:
                raise ValueError(
                    "With a dataset as x, y and sample_weight come from its batches: pass y=None."
                )
            self.data = x
            return
        if y is None:
            raise ValueError(
                "LRFinder.find needs y for array inputs (only a dataset's batches carry their targets)."
            )
        # pandas objects index columns with X[idx]; rows are what the sweep needs
        self.parts = tuple(
            None if a is None else keras.tree.map_structure(_rows, a) for a in (x, y, sample_weight)
        )
        lengths = {len(a) for part in self.parts if part is not None for a in keras.tree.flatten(part)}
        if len(lengths) != 1 or 0 in lengths:
            raise ValueError(
                "x, y and sample_weight must hold the same, non-zero number of samples; "
                f"got {sorted(lengths)}."
            )
        self.n = lengths.pop()
        self.size = min(int(batch_size), self.n)

    def sweep(self, first: bool) -> Iterator[tuple]:
        """A new, endless stream of batches: the first sweep's, or another order."""
        if not self.dataset:
            return self._arrays()
        if isinstance(self.data, keras.utils.PyDataset):
            return self._indexed(first)
        return self._streamed() if first else self._reordered()

    def can_reorder(self) -> bool:
        """Whether another sweep can see other batches than the first (known after the first sweep)."""
        if not self.dataset:
            return self.size < self.n  # one full batch per pass is the same whatever the order
        if isinstance(self.data, keras.utils.PyDataset):
            return len(self.data) > 1
        return len(self._recorded) > 1

    def _arrays(self) -> Iterator[tuple]:
        passes = self.n // self.size
        while True:
            order = self.rng.permutation(self.n)
            for i in range(passes):
                idx = order[i * self.size : (i + 1) * self.size]
                yield tuple(
                    None if a is None else keras.tree.map_structure(lambda v, idx=idx: v[idx], a)
                    for a in self.parts
                )

    def _indexed(self, first: bool) -> Iterator[tuple]:
        while True:
            n = len(self.data)
            if n == 0:
                raise ValueError("The dataset given to LRFinder.find yields no batch.")
            for i in range(n) if first else self.rng.permutation(n):
                yield keras.utils.unpack_x_y_sample_weight(self.data[int(i)])
            self.data.on_epoch_end()

    def _streamed(self) -> Iterator[tuple]:
        self._recorded = []
        for n_pass in itertools.count():
            empty = True
            for element in self.data:
                empty = False
                batch = keras.utils.unpack_x_y_sample_weight(element)
                if n_pass == 0 and self.keep:
                    self._recorded.append(batch)
                yield batch
            if empty:
                raise ValueError("The dataset given to LRFinder.find yields no batch.")

    def _reordered(self) -> Iterator[tuple]:
        while True:
            for i in self.rng.permutation(len(self._recorded)):
                yield self._recorded[i]


def _rows(array):
    return np.asarray(array) if hasattr(array, "iloc") else array


def chunked(steps) -> Iterator[tuple[int, list]]:
    """``(index of the first step, steps)`` for each graph call's worth of ``steps``."""
    steps, start = iter(steps), 0
    while chunk := list(itertools.islice(steps, STEPS_PER_CALL)):
        yield start, chunk
        start += len(chunk)


def build(model: keras.Model, batch: tuple) -> None:
    """Create every variable of the model, its loss and its optimizer from a batch's shapes.

    Variables created inside the first trace would cost a second trace, and the snapshot taken
    before the sweep would miss them.
    """
    try:
        symbolic_build(model, batch)
    except Exception as error:  # noqa: BLE001 -- Keras's own message names the layer, ours the fix
        raise ValueError(
            "LRFinder.find could not build the model from the first batch of x; give the model a "
            f"keras.Input or build it first (model.build(input_shape)). Keras said: {error}"
        ) from error
    if not model.built:
        raise ValueError("LRFinder.find could not build the model; give it a keras.Input or build it first.")


class SweepSteps:
    """Runs several sweep steps in one graph call and returns each step's own loss.

    A step is Keras's ``train_step`` without the metrics: the loss of the batch before the
    update, then the update at the step's rate (assigned to ``rate`` inside the graph).
    One trace serves every call: the number of steps and the batch size are left open.
    """

    def __init__(self, model: keras.Model, rate: keras.Variable):
        self.model, self.rate = model, rate
        self.functions = backend.SweepFunctions(model, rate)

    def __call__(self, rates, batches: list[tuple], validation_data: tuple | None = None) -> tuple[list, list]:
        losses, val_losses = [], []
        for start, stop in _equal_shape_runs(batches):  # a dataset's short last batch cannot be stacked
            parts = [_stack([batch[part] for batch in batches[start:stop]]) for part in range(3)]
            validation = None if validation_data is None else tuple(validation_data[:2])
            function = self.functions.get(parts, validation)
            inputs = [part for part in parts if part is not None]
            loss, val = function(*inputs, np.asarray(rates[start:stop], dtype="float32"), *(validation or ()))
            losses += np.asarray(loss, dtype="float64").tolist()
            val_losses += np.asarray(val, dtype="float64").tolist() if validation else [None] * (stop - start)
        return losses, val_losses


def _equal_shape_runs(batches: list[tuple]) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` of each run of consecutive batches whose arrays have the same shapes."""

    def shapes(batch):
        return [np.shape(a) for part in batch if part is not None for a in keras.tree.flatten(part)]

    start = 0
    for i in range(1, len(batches) + 1):
        if i == len(batches) or shapes(batches[i]) != shapes(batches[start]):
            yield start, i
            start = i


def _stack(parts: list):
    """Stack the same part (x, y or sample weights) of several batches along a new first axis."""
    if parts[0] is None:
        return None
    return keras.tree.map_structure(lambda *arrays: np.stack([np.asarray(a) for a in arrays]), *parts)


@contextlib.contextmanager
def sweep_model(model: keras.Model) -> Iterator[tuple[SweepSteps, Callable[[], None]]]:
    """Yield the sweep's steps and a function that puts the swept model back in ``model``'s state.

    A model that ``skclr._shelf.shareable`` accepts is swept on a scratch copy of its
    architecture, kept on the process's shelf: its traced steps serve every later model of the
    same architecture and settings (the folds and candidates of a grid search), so only the first
    range test pays the trace. ``model`` itself is then never changed. Any other model is swept
    in place and put back on exit, its optimizer's variable list untouched.
    """
    scratch = Scratch.take(model)
    swept = model if scratch is None else scratch.model
    state = [variable.numpy() for variable in state_variables(model)]

    def reset() -> None:
        for variable, value in zip(state_variables(swept), state):
            variable.assign(value)

    if scratch is None:
        with swept_rate(model.optimizer) as rate:
            try:
                yield SweepSteps(model, rate), reset
            finally:
                reset()
                model.reset_metrics()
        return
    reset()
    try:
        yield scratch.steps, reset
    finally:
        scratch.give_back()


class Scratch:
    """A copy of a compiled model's architecture, with its sweep steps, shared (through
    ``skclr._shelf``) by the models that have the same architecture key. A thread has it to
    itself while it sweeps."""

    def __init__(self, key: str, model: keras.Model):
        self.key = key
        self.model = compiled_copy(model)
        # The copy is swept for life: it keeps the rate variable (untracked, so its variable
        # list stays the one of the models it serves) until the process drops it.
        self._rate = contextlib.ExitStack()
        self.steps = SweepSteps(self.model, self._rate.enter_context(swept_rate(self.model.optimizer)))

    @classmethod
    def take(cls, model: keras.Model) -> Scratch | None:
        """The shelved copy for ``model``'s architecture, a new one, or None if it cannot be shared."""
        key = architecture_key(model)
        return _shelf.take("sweep", key, model, lambda: cls(key, model))

    def give_back(self) -> None:
        _shelf.give_back("sweep", self.key, self)
