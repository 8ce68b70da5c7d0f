"""The compiled copies that fits of one architecture share, and the rule that says which models may.

Tracing Keras's train step, or the range test's sweep step, costs about a second per fit on two
cores. A fit of a model that ``shareable`` accepts therefore runs on a *copy*: a model rebuilt
from its configuration and compiled from its compile configuration, loaded with its whole state
(``state_variables``: weights, seed-generator states, optimizer variables) and, after training,
emptied back into it. The copy and its traced steps stay on this shelf for the next fit with the
same key (another fold, another candidate of a grid search). Two kinds of copies share the shelf:
the training runner (``skclr._runner``) and the range test's scratch copy (``skclr._sweep``).

A copy is right only if the model is fully described by its configuration and its variables:
otherwise the user gets another network's training with no word. So ``shareable`` is an
allowlist, checked over every sublayer of nested models: Keras layers verified to keep all their
state in variables and all their settings in their configuration. A preprocessing layer that
``adapt`` fills (``Normalization`` keeps its adapted mean as a tensor, not read from its
variables), ``Lambda``, custom layers and anything else train and sweep on their own model.
"""

from __future__ import annotations

import json
import threading
import types
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import keras

from skclr import backend
from skclr._keras_internals import excludes_some_from_weight_decay, fn_kwargs, optimizer_rate
from skclr._optimizer import inner

__all__ = [
    "KEPT",
    "architecture_key",
    "clear",
    "compiled_copy",
    "config_says_all",
    "give_back",
    "keys",
    "mark_runner_only",
    "shareable",
    "state_variables",
    "take",
]

#: Keys whose copies the process keeps (each copy holds a model and its traced steps): the most
#: recently used, training runners and sweep copies together.
KEPT = 8

_lock = threading.Lock()
_shelf: OrderedDict[tuple[str, str], list] = OrderedDict()  # (kind, key) -> idle copies; most recent last

#: Keras layers whose whole state is in their variables and whose settings are in their
#: configuration (each checked: a copy rebuilt from the configuration and loaded with the
#: variables computes what the layer computes). Exact classes: a subclass may add either.
SHAREABLE_LAYERS = frozenset({
    keras.layers.InputLayer,
    keras.layers.Dense,
    keras.layers.Dropout,
    keras.layers.LeakyReLU,
    keras.layers.ReLU,
    keras.layers.Activation,
    keras.layers.Softmax,
    keras.layers.ELU,
    keras.layers.PReLU,
    keras.layers.BatchNormalization,  # moving statistics are (non-trainable) variables
    keras.layers.LayerNormalization,
    keras.layers.GaussianNoise,  # random layers: their seed-generator states are variables
    keras.layers.GaussianDropout,
    keras.layers.AlphaDropout,
    keras.layers.Flatten,
    keras.layers.Reshape,
})  # fmt: skip


def shareable(model: keras.Model) -> bool:
    """Whether a copy rebuilt from ``model``'s configurations and loaded with ``state_variables(model)``
    trains exactly as ``model`` would.

    That is a ``keras.Sequential`` whose every layer, inside nested ``Sequential`` models too, is
    one of ``SHAREABLE_LAYERS`` with Keras's own activations, regularizers and constraints, not
    quantized; compiled with Keras's own optimizer and a loss named by a string or Keras's own
    loss whose configuration holds all its settings.
    """
    if type(model) is not keras.Sequential or not _layers_shareable(model):
        return False
    optimizer, loss = getattr(model, "optimizer", None), getattr(model, "loss", None)
    if optimizer is None or not all(_keras_made(part) for part in (optimizer, inner(optimizer))):
        return False
    if excludes_some_from_weight_decay(inner(optimizer)):
        return False  # set by exclude_from_weight_decay(), which the configuration does not record
    if isinstance(loss, str):
        return True
    return _keras_made(loss) and config_says_all(loss)  # keras.losses.Huber leaves out its delta


def _layers_shareable(sequential: keras.Sequential) -> bool:
    for layer in sequential.layers:
        if type(layer) is keras.Sequential:
            if not _layers_shareable(layer):
                return False
        elif type(layer) not in SHAREABLE_LAYERS or not _settings_shareable(layer):
            return False
    return True


def _settings_shareable(layer: keras.layers.Layer) -> bool:
    """Whether the functions and objects a layer computes with are Keras's own, rebuilt alike."""
    if getattr(layer.dtype_policy, "quantization_mode", None) is not None:
        return False  # quantized weights carry scales and modes beyond the plain layer's
    for value in vars(layer).values():
        if isinstance(value, types.FunctionType) and not _keras_made(value):
            return False  # a custom activation, serialized by name, may be redefined under it
        if isinstance(value, (keras.regularizers.Regularizer, keras.constraints.Constraint)):
            if not (_keras_made(value) and config_says_all(value)):
                return False
    return True


def _keras_made(part) -> bool:
    module = part.__module__ if isinstance(part, types.FunctionType) else type(part).__module__
    return (module or "").startswith("keras.")


def _without_seeds(config):
    """``config`` without its ``seed`` entries (initializers, Dropout and other random layers)."""
    if isinstance(config, dict):
        return {key: _without_seeds(value) for key, value in config.items() if key != "seed"}
    if isinstance(config, list):
        return [_without_seeds(value) for value in config]
    return config


def _without_names(sequential_config: dict) -> dict:
    """A ``Sequential``'s configuration without its own and its layers' names, nested models' included."""
    sequential_config.pop("name", None)
    for layer in sequential_config["layers"]:
        if layer.get("class_name") == "Sequential":
            _without_names(layer["config"])
        else:
            layer["config"].pop("name", None)
    return sequential_config


def architecture_key(model: keras.Model) -> str | None:
    """What a sweep step computes, for a ``shareable`` model; else None.

    The layers' and the optimizer's configurations, the loss, and the process-wide settings
    traced into the step. Left out: names, which change with every model; the swept rate; and
    seeds, which only choose the initial weights and seed-generator states, and a copy loads
    those from the model before it runs.
    """
    if not shareable(model):
        return None  # the configuration may not say all the model computes
    try:
        layers = _without_names(_without_seeds(model.get_config()))
        compiled = model.get_compile_config()
        settings = {key: compiled[key] for key in ("optimizer", "loss", "loss_weights")}
        settings["optimizer"]["config"].pop("name", None)
        settings["optimizer"]["config"].pop("learning_rate", None)
        wrapper = type(model.optimizer).__name__  # a LossScaleOptimizer under a mixed-precision policy
        return json.dumps(
            [layers, settings, wrapper, keras.config.floatx(), backend.op_determinism_enabled()],
            sort_keys=True,
        )
    except (TypeError, ValueError, KeyError, AttributeError):  # not serializable as plain data
        return None


def config_says_all(part) -> bool:
    """Whether a copy made from ``part``'s configuration has all its settings.

    Not every Keras object's configuration does: ``keras.losses.Huber`` leaves out its ``delta``,
    so a copy compiled from it would train with ``delta=1``. The settings compared are the plain
    attributes and, for a wrapped function (``LossFunctionWrapper``, ``MeanMetricWrapper``), the
    keyword arguments it is called with.
    """
    try:
        copy = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(part))
        return bool(_settings(copy) == _settings(part))
    except Exception:  # noqa: BLE001 -- not rebuilt from its configuration (or not comparable): not shared
        return False


def _settings(part) -> dict:
    plain = (bool, int, float, str, type(None))
    settings = {key: value for key, value in vars(part).items() if key != "name" and isinstance(value, plain)}
    keywords = fn_kwargs(part)
    settings.update({f"fn_kwargs.{key}": value for key, value in keywords.items()})
    return settings


def state_variables(model: keras.Model, with_rate: bool = True) -> list:
    """Everything a training step reads and changes: weights, seed-generator states, optimizer state
    and, unless ``with_rate`` is False, the optimizer's rate variable (a constant rate has one, a
    schedule none; a training runner reads its rate from its own table).

    The optimizer is built before a copy is loaded, so the list is the same before and after a fit.
    """
    rate = None if with_rate else optimizer_rate(inner(model.optimizer))
    optimizer_state = (v for v in model.optimizer.variables if not getattr(v, _RUNNER_ONLY, False) and v is not rate)
    return [*model.variables, *optimizer_state]


_RUNNER_ONLY = "_skclr_runner_only"


def mark_runner_only(variable) -> None:
    """Leave ``variable`` (an optimizer variable of a copy, such as a runner's rate table) out of
    ``state_variables``: the copy's alone, it is neither loaded from a model nor given back to one."""
    setattr(variable, _RUNNER_ONLY, True)


def compiled_copy(model: keras.Model) -> keras.Model:
    """A new model of ``model``'s architecture, compiled as it is, its optimizer built (state not loaded)."""
    copy = keras.models.clone_model(model)
    copy.compile_from_config(model.get_compile_config())
    copy.steps_per_execution = model.steps_per_execution
    # may be set after compile, which the compile configuration misses (``take`` checks it held)
    copy.jit_compile = model.jit_compile
    optimizer = copy.optimizer
    if not optimizer.built:
        optimizer.build(copy.trainable_variables)
    return copy


def take(kind: str, key: str | None, model: keras.Model, make: Callable[[], Any], with_rate: bool = True) -> Any:
    """An idle copy of ``kind`` ("train" or "sweep") for ``key``, or a new one from ``make()``;
    None when ``key`` is None or the copy's state (``state_variables(..., with_rate)``) cannot hold ``model``'s.

    The copy is the caller's until ``give_back``; two threads with one key each get their own.
    """
    if key is None:
        return None
    with _lock:
        idle = _shelf.get((kind, key))
        copy = idle.pop() if idle else None
    if copy is None:
        try:
            copy = make()
        except Exception:  # noqa: BLE001 -- not rebuilt from its configuration: the model runs itself
            return None
    mine, its = state_variables(model, with_rate), state_variables(copy.model, with_rate)
    if [(v.shape, v.dtype) for v in mine] != [(v.shape, v.dtype) for v in its]:
        return None  # not the same variables after all
    if copy.model.jit_compile != model.jit_compile:
        return None  # Keras refused the copy XLA (it does while op determinism is on): not the same steps
    return copy


def give_back(kind: str, key: str, copy: Any) -> None:
    """Put a copy taken for ``key`` back, for the next fit; the least recently used keys beyond
    ``KEPT`` go (with their traced steps)."""
    with _lock:
        _shelf.setdefault((kind, key), []).append(copy)
        _shelf.move_to_end((kind, key))
        while len(_shelf) > KEPT:
            _shelf.popitem(last=False)


def keys(kind: str | None = None) -> list[str]:
    """The keys with idle copies (of ``kind``, or all), least recently used first."""
    return [key for shelf_kind, key in _shelf if kind is None or shelf_kind == kind]


def clear() -> None:
    """Drop every idle copy (the next fit of each architecture traces its steps again)."""
    with _lock:
        _shelf.clear()
