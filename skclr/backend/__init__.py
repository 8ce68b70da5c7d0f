"""The Keras backend skclr runs on, behind one small interface.

Everything outside this package uses ``keras.ops`` and public Keras API; what a backend must do
itself lives in one module per backend: ``_tensorflow`` (TensorFlow's process-wide state, seeding,
thread pools, the compiled sweep and rate-table functions). Keras's JAX and PyTorch backends are
refused by name when a fit starts (:func:`check_backend`).
"""

from __future__ import annotations

import keras

from skclr.backend._tensorflow import (
    SweepFunctions,
    batched_dataset,
    env_threads,
    fit_session,
    in_keras_steps,
    is_dataset,
    limit_threads,
    op_determinism_enabled,
    register_tensor_like,
    schedule_rates,
    seeded_section,
)

__all__ = [
    "SUPPORTED",
    "SweepFunctions",
    "batched_dataset",
    "check_backend",
    "env_threads",
    "fit_session",
    "in_keras_steps",
    "is_dataset",
    "limit_threads",
    "op_determinism_enabled",
    "register_tensor_like",
    "schedule_rates",
    "seeded_section",
]

SUPPORTED = ("tensorflow",)


def check_backend() -> None:
    """Raise ``RuntimeError`` naming the backend when Keras runs on one skclr does not support."""
    name = keras.backend.backend()
    if name not in SUPPORTED:
        raise RuntimeError(
            f"skclr runs on Keras's TensorFlow backend; Keras is configured with {name!r} "
            "(KERAS_BACKEND or ~/.keras/keras.json). Set KERAS_BACKEND=tensorflow before importing Keras."
        )
