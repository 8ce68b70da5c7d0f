"""skclr: learning-rate schedules and the LR range test as scikit-learn hyperparameters for Keras.

``import skclr`` imports Keras and :mod:`skclr.schedules`, which registers skclr's schedules
(``CyclicalLearningRate``, ``OneCycle``, ``Restarted``) with Keras, so that
``keras.models.load_model`` finds them in a model saved with one. The other public names load on
first use.

TensorFlow's console notices (CUDA not found, ``cuInit`` errors, oneDNN, CPU features; written by
its C++ log, some of them only at the first operation after the import) are held to
``TF_CPP_MIN_LOG_LEVEL``. Unless the user set that variable, ``import skclr`` sets it to ``"3"``
in ``os.environ`` before TensorFlow starts: no TensorFlow log, in this process and in the worker
processes it starts (joblib's loky workers inherit the environment), so a fit prints only
skclr's and Python's warnings. This also quiets the C++ log of the user's own TensorFlow code in
the process (its Python warnings and exceptions are unaffected); a user who wants the notices sets
``TF_CPP_MIN_LOG_LEVEL`` (``0`` shows all) before importing skclr. TensorFlow reads the variable
once: imported before skclr, it keeps the level it started with.

The command line (``python -m skclr`` and the ``skclr`` console script) is the exception: it
parses and checks its arguments before it starts TensorFlow, so that a bad argument fails in a
moment and TensorFlow's start-up log can be quieted first (see :mod:`skclr.cli`). The package
knows it is being started as the command line from ``sys.argv[0]``: Python sets it to ``"-m"``
while ``python -m skclr`` locates the module (documented for the ``-m`` option; ``sys.orig_argv``
names the module), and the console script runs as a file named ``skclr``. The command line imports
:mod:`skclr.schedules` itself before it trains.
"""

import importlib
import os
import sys

__all__ = [
    "CLRClassifier", "CLRRegressor", "DivergenceError", "FailedTrainingWarning", "LRFinder", "reference_dnn", "__version__"
]
__version__ = "0.1.0"

# Before TensorFlow starts (see the docstring); a level the user set is kept.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

_HOMES = {
    "CLRClassifier": "skclr.estimator",
    "CLRRegressor": "skclr.estimator",
    "DivergenceError": "skclr._monitor",
    "FailedTrainingWarning": "skclr._monitor",
    "LRFinder": "skclr.finder",
    "reference_dnn": "skclr.models",
}

#: Names the ``skclr`` console script (setup.cfg) runs as: POSIX, and Windows' launcher and script.
_CONSOLE_SCRIPTS = ("skclr", "skclr.exe", "skclr-script.py")


def _module_run_by_dash_m(orig_argv: list[str]) -> str:
    """The module named by ``-m`` in the interpreter's own arguments ("" if none)."""
    for position, argument in enumerate(orig_argv[1:], start=1):
        if argument == "-m":
            return orig_argv[position + 1] if position + 1 < len(orig_argv) else ""
        if argument.startswith("-m"):  # "-mskclr"
            return argument[2:]
    return ""


def _started_as_command_line(argv: list[str], orig_argv: list[str]) -> bool:
    """Whether this import is the start of ``python -m skclr`` or of the ``skclr`` console script."""
    if not argv:  # an embedded interpreter
        return False
    if argv[0] == "-m":  # python -m <module> is locating <module>: is it skclr (or skclr.__main__)?
        return _module_run_by_dash_m(orig_argv).split(".")[0] == __name__
    return os.path.basename(argv[0]).lower() in _CONSOLE_SCRIPTS


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'skclr' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])


if not _started_as_command_line(getattr(sys, "argv", []), getattr(sys, "orig_argv", [])):
    from skclr import _startup

    _startup.import_keras()  # holds TensorFlow's start-up lines to the user's TF_CPP_MIN_LOG_LEVEL
    from skclr import schedules  # noqa: E402, F401  registers skclr's schedules with Keras
