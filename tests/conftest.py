"""Shared fixtures: seeds, tiny datasets and quiet Keras settings."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Tests write nothing into the user's JAX compilation cache (the cache's own tests use their own folder).
os.environ.setdefault("SKCLR_JAX_CACHE", "0")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402

# Small networks keep each fit well under a second; the reference DNN is tested on its own.
TINY = dict(hidden_layer_sizes=(8,), dropout=0.0, epochs=2, batch_size=16)


#: The modules whose tests exercise what differs between Keras backends: schedules computed in the
#: graph, the range test's compiled sweep and its restoring, the shared train steps, seeds and threads.
BACKEND_MODULES = {"test_backend.py", "test_finder.py", "test_runner.py", "test_schedules.py", "test_sharing.py"}


def pytest_collection_modifyitems(config, items):
    """Skip the tests marked for another Keras backend, each with the reason (shown by ``-ra``); a
    backend's own tests are ``backend`` tests (``.ci/run`` runs those on JAX as well)."""
    backend = keras.backend.backend()
    for item in items:
        if item.path.name in BACKEND_MODULES or "jax_only" in item.keywords or "tensorflow_only" in item.keywords:
            item.add_marker(pytest.mark.backend)
        for marker, name in (("tensorflow_only", "tensorflow"), ("jax_only", "jax")):
            if marker in item.keywords and backend != name:
                reason = item.get_closest_marker(marker).kwargs.get("reason", "")
                item.add_marker(pytest.mark.skip(
                    reason=f"{marker}: Keras runs on {backend!r}" + (f" ({reason})" if reason else "")
                ))


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)


@pytest.fixture(scope="session")
def four_class_df():
    """A 4-class, 20-feature DataFrame with string labels (the foundation issue's example)."""
    X, y = make_classification(
        n_samples=240, n_features=20, n_informative=8, n_classes=4, random_state=0
    )
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(20)])
    return df, np.array(["ant", "bee", "cat", "dog"])[y]


@pytest.fixture(scope="session")
def binary_data():
    X, y = make_classification(n_samples=120, n_features=6, n_informative=4, random_state=1)
    return X.astype("float32"), y
