"""The reference network of the seed experiment."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral

import keras
import numpy as np

__all__ = ["reference_dnn", "DEFAULT_HIDDEN", "seed_dropout"]

DEFAULT_HIDDEN = (64, 128, 256, 128, 128)


def seed_dropout(n_layers: int) -> tuple[float, ...]:
    """The seed's dropout pattern for any depth: 0.1 after each hidden layer, 0.4 after the last."""
    return (0.1,) * (n_layers - 1) + (0.4,)


def reference_dnn(
    n_features: int,
    n_classes: int | Sequence[int],
    hidden_layer_sizes: Sequence[int] = DEFAULT_HIDDEN,
    dropout: float | Sequence[float] | None = None,
    negative_slope: float = 0.1,
    seed: int | None = None,
    output_activation: str = "softmax",
) -> keras.Model:
    """Build the seed's DNN: Dense -> LeakyReLU -> Dropout blocks and a softmax output.

    The model is returned uncompiled; it outputs one probability per class (two
    for a binary problem), to be trained with (sparse) categorical cross-entropy.
    With ``output_activation="linear"`` it is the regression network: one value per
    target column, to be trained with mean squared error.

    Parameters
    ----------
    n_features : int
        Width of the input.
    n_classes : int or sequence of int
        Number of output units: classes (>= 2) for softmax, labels or target columns (>= 1)
        otherwise. A sequence gives one output layer per entry on the same hidden layers (a
        functional model with one output per target column: multiclass-multioutput targets).
    hidden_layer_sizes : sequence of int, default=(64, 128, 256, 128, 128)
        Units of each hidden Dense layer.
    dropout : float, sequence of float or None, default=None
        Dropout rate after each hidden layer; a single float applies to all. None is
        the seed's pattern, :func:`seed_dropout`: (0.1, 0.1, 0.1, 0.1, 0.4) for five layers.
    negative_slope : float, default=0.1
        Slope of LeakyReLU for negative inputs.
    seed : int, optional
        Seeds every initializer and dropout layer from a private generator. Keras's
        default seeds come from Python's global ``random``, which other threads (a Dask
        worker's event loop, say) may draw from at the same time.
    output_activation : str, default="softmax"
        Activation of the output layer; ``"linear"`` for regression, ``"sigmoid"`` for multilabel
        targets (one independent probability per label).

    Returns
    -------
    keras.Model
        An uncompiled ``keras.Sequential``; a functional ``keras.Model`` with one output per entry
        when ``n_classes`` is a sequence.

    Examples
    --------
    >>> from skclr import reference_dnn
    >>> model = reference_dnn(n_features=20, n_classes=3)
    >>> [layer.units for layer in model.layers if hasattr(layer, "units")]
    [64, 128, 256, 128, 128, 3]
    """
    sizes = tuple(hidden_layer_sizes)
    if dropout is None:
        rates = seed_dropout(len(sizes))
    elif isinstance(dropout, (int, float)):
        rates = (dropout,) * len(sizes)
    else:
        rates = tuple(dropout)
    if len(rates) != len(sizes):
        raise ValueError(
            f"`dropout` needs one rate per hidden layer: got {len(rates)} rates for "
            f"{len(sizes)} layers (hidden_layer_sizes={sizes})."
        )
    single = isinstance(n_classes, Integral)
    heads = [n_classes] if single else list(n_classes)
    if not heads or min(heads) < (2 if output_activation == "softmax" else 1):
        raise ValueError(f"`n_classes` is too small for a {output_activation} output. Received: n_classes={n_classes}")
    draw = np.random.RandomState(seed).randint if seed is not None else lambda high: None

    def dense(units: int, **kwargs) -> keras.layers.Dense:
        return keras.layers.Dense(units, kernel_initializer=keras.initializers.GlorotUniform(seed=draw(2**31 - 1)), **kwargs)

    layers: list[keras.layers.Layer] = [keras.Input(shape=(n_features,))]
    for units, rate in zip(sizes, rates):
        layers += [
            dense(units),
            keras.layers.LeakyReLU(negative_slope=negative_slope),
            keras.layers.Dropout(rate, seed=draw(2**31 - 1)),
        ]
    if single:
        layers.append(dense(n_classes, activation=output_activation))
        return keras.Sequential(layers, name="reference_dnn")
    hidden = layers[0]
    for layer in layers[1:]:
        hidden = layer(hidden)
    outputs = [dense(int(units), activation=output_activation, name=f"output_{i}")(hidden) for i, units in enumerate(heads)]
    return keras.Model(layers[0], outputs, name="reference_dnn")
