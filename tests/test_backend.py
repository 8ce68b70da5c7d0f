"""The backend interface (``skclr.backend``): the backend Keras runs on is the one skclr uses, and
one it does not support is refused by name before anything trains."""

import keras
import numpy as np
import pytest

from skclr import CLRClassifier, LRFinder, backend


def test_the_backend_module_is_the_one_keras_runs_on():
    assert backend.NAME == keras.backend.backend() and backend.NAME in backend.SUPPORTED
    assert backend.STATELESS_STEPS is (backend.NAME == "jax")  # a jitted JAX step reads only its state


@pytest.mark.parametrize("name", ["torch", "numpy"])
def test_an_unsupported_backend_is_refused_by_name_before_fit_or_range_test(binary_data, monkeypatch, name):
    X, y = binary_data
    monkeypatch.setattr(backend, "NAME", name)
    with pytest.raises(RuntimeError, match=f"configured with '{name}'.*KERAS_BACKEND=tensorflow"):
        CLRClassifier(hidden_layer_sizes=(4,), epochs=1).fit(X, y)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(RuntimeError, match=f"'{name}'"):
        LRFinder(num_iter=5).find(model, X, y)


@pytest.mark.jax_only(reason="XLA's CPU thread pool is JAX's to size")
def test_a_thread_count_jax_cannot_set_is_said_not_ignored(binary_data):
    X, y = binary_data
    with pytest.warns(RuntimeWarning, match="n_threads=2 ignored on Keras's JAX backend"):
        CLRClassifier(hidden_layer_sizes=(4,), epochs=1, n_threads=2).fit(X, y)


@pytest.mark.jax_only(reason="JAX's train step donates its state's buffers")
def test_a_later_shared_fit_leaves_an_earlier_models_arrays_alive(binary_data):
    X, y = binary_data
    first = CLRClassifier(hidden_layer_sizes=(4,), epochs=1, random_state=0).fit(X, y)
    proba = first.predict_proba(X)
    CLRClassifier(hidden_layer_sizes=(4,), epochs=1, random_state=1).fit(X, y)  # the same runner
    np.testing.assert_array_equal(first.predict_proba(X), proba)
    assert np.isfinite(float(first.model_.optimizer.iterations))
