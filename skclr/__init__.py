"""skclr: learning-rate schedules and the LR range test as scikit-learn hyperparameters for Keras.

The public names load on first use, so that ``python -m skclr`` can quiet TensorFlow's
start-up log before TensorFlow is imported.
"""

import importlib

__all__ = [
    "CLRClassifier", "CLRRegressor", "DivergenceError", "FailedTrainingWarning", "LRFinder", "reference_dnn", "__version__"
]
__version__ = "0.1.0"

_HOMES = {
    "CLRClassifier": "skclr.estimator",
    "CLRRegressor": "skclr.estimator",
    "DivergenceError": "skclr._monitor",
    "FailedTrainingWarning": "skclr._monitor",
    "LRFinder": "skclr.finder",
    "reference_dnn": "skclr.models",
}


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'skclr' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
