"""Release the traced graphs TensorFlow would otherwise keep for every fitted model (~4 MB each).

Under the default distribution strategy, the Keras optimizer's gradient all-reduce runs through
``tf.custom_gradient`` at every trace. In graph mode, each custom gradient registers a uniquely
named function ("CustomGradient-N") in TensorFlow's global gradient registry and never removes
it; that function's closure keeps the whole traced train step alive. The registry entry is only
read while the graph is being traced, so once no fit is tracing, the entries added meanwhile can go.
"""

from __future__ import annotations

import contextlib
import threading

_lock = threading.Lock()
_active = 0
_known: set[str] = set()


def _registry() -> dict | None:
    from tensorflow.python.framework import ops

    registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    return registry if isinstance(registry, dict) else None  # a private TF structure: tolerate change


@contextlib.contextmanager
def released_custom_gradients():
    """Drop the custom-gradient entries registered while skclr fits ran, when the last one ends.

    Fits running at the same time in other threads of the process keep theirs until every fit
    is over, since a trace needs its entry until the trace ends.
    """
    global _active, _known
    registry = _registry()
    if registry is None:
        yield
        return
    with _lock:
        if _active == 0:
            _known = set(registry)
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                for name in [n for n in registry if n not in _known and n.startswith("CustomGradient-")]:
                    registry.pop(name, None)
