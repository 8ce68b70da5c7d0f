"""skclr: learning-rate schedules and the LR range test as scikit-learn hyperparameters for Keras."""

import os

# Quiet TensorFlow's start-up banner unless the user asked for it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from skclr.estimator import CLRClassifier, DivergenceError  # noqa: E402
from skclr.finder import LRFinder  # noqa: E402
from skclr.models import reference_dnn  # noqa: E402

__all__ = ["CLRClassifier", "DivergenceError", "LRFinder", "reference_dnn", "__version__"]
__version__ = "0.1.0"
