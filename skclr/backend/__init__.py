"""The Keras backend skclr runs on, behind one small interface.

Everything outside this package uses ``keras.ops`` and public Keras API (Keras's private attributes
only through ``skclr._keras_internals``); what a backend must do
itself lives in one module per backend, chosen from ``keras.backend.backend()`` when skclr is
imported: ``_tensorflow`` (TensorFlow's process-wide state, seeding, thread pools, the compiled sweep
and rate-table functions) and ``_jax`` (the same for JAX). Keras's other backends (PyTorch, NumPy,
OpenVINO) are refused by name when a fit or a range test starts (:func:`check_backend`).
"""

from __future__ import annotations

import contextlib

import keras

if keras.backend.backend() == "jax":
    from skclr._keras_internals import import_tensorflow_for_serialization_only_once_imported
    from skclr.backend import _jax as _module

    import_tensorflow_for_serialization_only_once_imported()  # no TensorFlow start-up on JAX
else:  # TensorFlow; an unsupported backend gets TensorFlow's functions, refused by check_backend
    from skclr.backend import _tensorflow as _module

__all__ = [
    "NAME",
    "PROGRAM_PER_SWEEP_LENGTH",
    "STATELESS_STEPS",
    "SUPPORTED",
    "SweepFunctions",
    "applied_rates",
    "assign_state",
    "batched_dataset",
    "check_backend",
    "env_threads",
    "fit_session",
    "in_keras_steps",
    "inference_loss_function",
    "is_dataset",
    "keep_compiled_steps",
    "limit_threads",
    "op_determinism_enabled",
    "register_tensor_like",
    "schedule_rates",
    "seeded_section",
]

SUPPORTED = ("tensorflow", "jax")
#: The backend Keras runs on (read once: Keras's backend is fixed when Keras is imported).
NAME = keras.backend.backend()

STATELESS_STEPS = _module.STATELESS_STEPS
PROGRAM_PER_SWEEP_LENGTH = _module.PROGRAM_PER_SWEEP_LENGTH
applied_rates = _module.applied_rates
assign_state = _module.assign_state
batched_dataset = _module.batched_dataset
env_threads = _module.env_threads
in_keras_steps = _module.in_keras_steps
inference_loss_function = _module.inference_loss_function
is_dataset = _module.is_dataset
keep_compiled_steps = _module.keep_compiled_steps
limit_threads = _module.limit_threads
op_determinism_enabled = _module.op_determinism_enabled
register_tensor_like = _module.register_tensor_like
schedule_rates = _module.schedule_rates
seeded_section = _module.seeded_section


def check_backend() -> None:
    """Raise ``RuntimeError`` naming the backend when Keras runs on one skclr does not support."""
    if NAME not in SUPPORTED:
        raise RuntimeError(
            f"skclr runs on Keras's TensorFlow and JAX backends; Keras is configured with {NAME!r} "
            "(KERAS_BACKEND or ~/.keras/keras.json), whose compiled train step skclr cannot share or "
            "drive. Set KERAS_BACKEND=tensorflow or KERAS_BACKEND=jax before importing Keras."
        )


@contextlib.contextmanager
def fit_session(*, seeded: bool, new_model: bool = True, n_threads: int | None = None):
    """Wrap one skclr fit (see the backend module's ``fit_session``); refuses an unsupported backend."""
    check_backend()
    with _module.fit_session(seeded=seeded, new_model=new_model, n_threads=n_threads):
        yield


class SweepFunctions(_module.SweepFunctions):
    """The range test's compiled steps (see the backend module's ``SweepFunctions``); refuses an
    unsupported backend."""

    def __init__(self, model, rate):
        check_backend()
        super().__init__(model, rate)
