"""Every private Keras attribute skclr reads or writes, each with the reason it needs it.

Keras 3 offers no public way to do these; each function is one line over the internal it names, so
that a Keras release that moves one breaks here, in one place, with a clear name.
"""

from __future__ import annotations

import sys

import keras

__all__ = [
    "compile_config",
    "compute_loss",
    "excludes_some_from_weight_decay",
    "fn_kwargs",
    "import_tensorflow_for_serialization_only_once_imported",
    "keras_step_loop",
    "optimizer_rate",
    "set_rate_untracked",
    "set_untracked",
    "symbolic_build",
]


def compute_loss(model: keras.Model, x, y, y_pred, sample_weight=None, training: bool = False):
    """The model's compiled loss (loss weights, regularization losses and all) on one batch.

    ``Model.compute_loss`` is public but rejects a call without ``x`` on some models and feeds the
    loss tracker; the range test and the divergence check need the loss of one batch exactly as
    ``train_step`` computes it: ``Trainer._compute_loss``.
    """
    return model._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training)


def optimizer_rate(optimizer: keras.optimizers.Optimizer):
    """What the optimizer's rate follows (a variable, a schedule, or skclr's stand-in): the public
    ``learning_rate`` property evaluates a schedule at the current step instead."""
    return optimizer._learning_rate


def set_untracked(owner, name: str, value) -> None:
    """Set an attribute without Keras's tracking: a variable set through ``setattr`` would join the
    owner's variable list (and what it saves), which must stay the model's own."""
    object.__setattr__(owner, name, value)


def compile_config(model: keras.Model) -> dict | None:
    """The arguments ``compile`` was called with, objects as given (``get_compile_config`` serializes
    them, losing a custom metric's identity); None for a model never compiled."""
    return getattr(getattr(model, "_compile_config", None), "config", None)


def symbolic_build(model: keras.Model, batch: tuple) -> None:
    """Create the model's, its loss's and its optimizer's variables from a batch's shapes, as the first
    ``fit`` does, without running a step (``Trainer._symbolic_build``)."""
    model._symbolic_build(data_batch=batch)


def fn_kwargs(part) -> dict:
    """The keyword arguments a wrapped loss or metric function is called with (``LossFunctionWrapper``,
    ``MeanMetricWrapper``): settings that their configuration may leave out."""
    return getattr(part, "_fn_kwargs", None) or {}


def keras_step_loop(model: keras.Model, step):
    """The function ``fit`` calls with its state and batch iterator, around ``step(state, batch)``, as
    Keras's JAX trainer makes it (``_make_function``: ``steps_per_execution`` steps per call), for a
    ``step`` other than its own ``jax.jit`` of ``train_step`` or ``test_step``."""
    return model._make_function(step)


def excludes_some_from_weight_decay(optimizer: keras.optimizers.Optimizer) -> bool:
    """Whether ``exclude_from_weight_decay()`` was called, which the optimizer's configuration does not
    record."""
    return hasattr(optimizer, "_exclude_from_weight_decay")


def set_rate_untracked(optimizer: keras.optimizers.Optimizer, rate) -> None:
    """Make ``rate`` (a variable or schedule) what the optimizer's rate follows, without tracking: the
    public setter would add a new rate variable to the optimizer's variables (and what it saves)."""
    object.__setattr__(optimizer, "_learning_rate", rate)


class _TensorFlowOnceImported:
    """Keras's lazy ``tensorflow`` module as its serialization code sees it: available only once
    something else imported TensorFlow. ``serialize_keras_object`` (every ``get_config``) asks
    ``tf.available`` to test ``isinstance(obj, tf.TensorShape)``, which imports TensorFlow, about
    3 s of a JAX process; no object can be TensorFlow's before TensorFlow is imported."""

    def __init__(self, lazy):
        self._lazy = lazy

    @property
    def available(self) -> bool:
        return sys.modules.get("tensorflow") is not None and self._lazy.available

    def __getattr__(self, name):
        return getattr(self._lazy, name)


def import_tensorflow_for_serialization_only_once_imported() -> None:
    """Let ``keras.src.saving.serialization_lib`` use TensorFlow only once it is imported (see
    ``_TensorFlowOnceImported``); the same answers for every object, without the import."""
    from keras.src.saving import serialization_lib

    if not isinstance(serialization_lib.tf, _TensorFlowOnceImported):
        serialization_lib.tf = _TensorFlowOnceImported(serialization_lib.tf)
