"""Release what TensorFlow keeps, process-wide, for every model that was ever fitted.

Two caches grow by one entry per traced ``tf.function`` and are never trimmed:

* TensorFlow's global gradient registry. Under the default distribution strategy, the Keras
  optimizer's gradient all-reduce runs through ``tf.custom_gradient`` at every trace, which in graph
  mode registers a uniquely named function ("CustomGradient-N") that is never removed. Its closure
  keeps the whole traced train step alive (~4 MB per fit of a small model).
* The eager context's kernel cache, which keeps the instantiated (optimized, executable) form of
  every function ever called, long after the function itself was deleted (~0.6 MB per fit; see
  tensorflow/tensorflow#40171). Keras's ``clear_session`` and ``tf.random.set_seed`` clear it too.

Both are only needed while a function is being traced or run, so once no skclr fit is in
progress in the process, the entries added meanwhile can go. The kernel cache is only cleared
after fits that built a new model: a later ``partial_fit`` on the same model reuses its kernels.
"""

from __future__ import annotations

import contextlib
import threading

_lock = threading.Lock()
_active = 0
_known: set[str] = set()
_new_kernels = False


def _registry() -> dict | None:
    from tensorflow.python.framework import ops

    registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    return registry if isinstance(registry, dict) else None  # a private TF structure: tolerate change


def _clear_kernel_cache() -> None:
    from tensorflow.python.eager import context

    clear = getattr(context.context(), "clear_kernel_cache", None)  # what clear_session calls
    if clear is not None:
        clear()


@contextlib.contextmanager
def released_tf_caches(new_model: bool = True):
    """When the last skclr fit running in the process ends, release TensorFlow's per-trace caches.

    Fits running at the same time in other threads keep the gradient entries until every fit is
    over, since a trace needs its entry until the trace ends.

    Parameters
    ----------
    new_model : bool, default=True
        Whether this fit builds and traces a new model, whose kernels are worth releasing after it.
    """
    global _active, _known, _new_kernels
    registry = _registry()
    with _lock:
        if _active == 0:
            _known = set(registry or ())
        _active += 1
        _new_kernels = _new_kernels or new_model
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                if registry is not None:
                    for name in [n for n in registry if n not in _known and n.startswith("CustomGradient-")]:
                        registry.pop(name, None)
                if _new_kernels:
                    _clear_kernel_cache()
                    _new_kernels = False
