"""The reference network of the seed experiment."""

from __future__ import annotations

from collections.abc import Sequence

import keras

__all__ = ["reference_dnn", "DEFAULT_HIDDEN", "DEFAULT_DROPOUT"]

DEFAULT_HIDDEN = (64, 128, 256, 128, 128)
DEFAULT_DROPOUT = (0.1, 0.1, 0.1, 0.1, 0.4)


def reference_dnn(
    n_features: int,
    n_classes: int,
    hidden_layer_sizes: Sequence[int] = DEFAULT_HIDDEN,
    dropout: float | Sequence[float] = DEFAULT_DROPOUT,
    negative_slope: float = 0.1,
) -> keras.Model:
    """Build the seed's DNN: Dense -> LeakyReLU -> Dropout blocks and a softmax output.

    The model is returned uncompiled; it outputs one probability per class (two
    for a binary problem), to be trained with (sparse) categorical cross-entropy.

    Parameters
    ----------
    n_features : int
        Width of the input.
    n_classes : int
        Number of output units, >= 2.
    hidden_layer_sizes : sequence of int, default=(64, 128, 256, 128, 128)
        Units of each hidden Dense layer.
    dropout : float or sequence of float, default=(0.1, 0.1, 0.1, 0.1, 0.4)
        Dropout rate after each hidden layer; a single float applies to all.
    negative_slope : float, default=0.1
        Slope of LeakyReLU for negative inputs.

    Returns
    -------
    keras.Model
        An uncompiled ``keras.Sequential``.

    Examples
    --------
    >>> from skclr import reference_dnn
    >>> model = reference_dnn(n_features=20, n_classes=3)
    >>> [layer.units for layer in model.layers if hasattr(layer, "units")]
    [64, 128, 256, 128, 128, 3]
    """
    sizes = tuple(hidden_layer_sizes)
    rates = (dropout,) * len(sizes) if isinstance(dropout, (int, float)) else tuple(dropout)
    if len(rates) != len(sizes):
        raise ValueError(
            f"`dropout` needs one rate per hidden layer: got {len(rates)} rates for "
            f"{len(sizes)} layers (hidden_layer_sizes={sizes})."
        )
    if n_classes < 2:
        raise ValueError(f"`n_classes` must be >= 2. Received: n_classes={n_classes}")
    layers: list[keras.layers.Layer] = [keras.Input(shape=(n_features,))]
    for units, rate in zip(sizes, rates):
        layers += [
            keras.layers.Dense(units),
            keras.layers.LeakyReLU(negative_slope=negative_slope),
            keras.layers.Dropout(rate),
        ]
    layers.append(keras.layers.Dense(n_classes, activation="softmax"))
    return keras.Sequential(layers, name="reference_dnn")
