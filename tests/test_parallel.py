"""Grid searches in worker processes (joblib's loky) and on a Dask cluster give the same scores."""

import numpy as np
import pytest
from joblib import Parallel, delayed, parallel_backend
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV

from skclr import CLRClassifier, LRFinder
from skclr.schedules import CyclicalLearningRate

X, y = load_digits(return_X_y=True)
X, y = (X[:300] / 16).astype("float32"), y[:300]
GRID = [
    {"schedule": ["constant", "one_cycle", CyclicalLearningRate(1e-4, 3e-3, step_size=20)]},
    # the range test's sweep is shared by the fits of one process: each worker traces its own
    {"schedule": ["one_cycle"], "lr_finder": [LRFinder(num_iter=30)]},
]


def search(n_jobs=1):
    estimator = CLRClassifier(hidden_layer_sizes=(16,), dropout=0.0, epochs=1, batch_size=32, random_state=0)
    # only the cross-validated scores are compared: no refit of the best candidate
    return GridSearchCV(estimator, GRID, cv=2, n_jobs=n_jobs, error_score="raise", refit=False).fit(X, y)


@pytest.fixture(scope="module")
def one_process_scores():
    return search(n_jobs=1).cv_results_["mean_test_score"]


def test_loky_workers_give_identical_scores(one_process_scores):
    np.testing.assert_array_equal(search(n_jobs=2).cv_results_["mean_test_score"], one_process_scores)


def test_dask_cluster_gives_identical_scores(one_process_scores):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster, distributed.Client(cluster):
        with parallel_backend("dask"):
            scores = search(n_jobs=-1).cv_results_["mean_test_score"]
    np.testing.assert_array_equal(scores, one_process_scores)


def test_seeded_model_ignores_global_random_state(binary_data):
    # Keras's default seeds come from Python's global `random`, which a Dask worker's event loop
    # also draws from; a seeded fit must not depend on it.
    import random

    X2, y2 = binary_data
    first = CLRClassifier(hidden_layer_sizes=(8,), epochs=1, random_state=5)
    second = CLRClassifier(hidden_layer_sizes=(8,), epochs=1, random_state=5)
    original = CLRClassifier._build_reference_model

    def build_after_another_thread_drew(self, compile_kwargs):
        random.random()  # what a concurrent thread may do between seeding and building
        return original(self, compile_kwargs)

    first.fit(X2, y2)
    CLRClassifier._build_reference_model = build_after_another_thread_drew
    try:
        second.fit(X2, y2)
    finally:
        CLRClassifier._build_reference_model = original
    np.testing.assert_array_equal(first.predict_proba(X2), second.predict_proba(X2))


def _fit_in_worker():
    import os

    import tensorflow as tf

    clf = CLRClassifier(hidden_layer_sizes=(4,), epochs=1, random_state=0).fit(X[:60], y[:60])
    return clf, clf.predict_proba(X[:20]), os.environ.get("OMP_NUM_THREADS"), tf.config.threading.get_intra_op_parallelism_threads()


@pytest.mark.tensorflow_only(reason="TensorFlow's thread pools; JAX's are XLA's (test_backend)")
def test_workers_bound_tensorflow_threads_and_fitted_estimators_travel_back():
    results = Parallel(n_jobs=2)(delayed(_fit_in_worker)() for _ in range(2))
    for clf, proba_in_worker, omp, tf_threads in results:
        assert omp is not None and tf_threads == int(omp)  # joblib's limit reaches TensorFlow
        np.testing.assert_array_equal(clf.predict_proba(X[:20]), proba_in_worker)


def _alive_train_graphs():
    import gc

    from tensorflow.python.framework import func_graph

    gc.collect()
    return sum(isinstance(o, func_graph.FuncGraph) for o in gc.get_objects())


def _functional(meta):
    """A functional model: never trained on a shared copy, so each fit traces its own train step."""
    import keras

    inputs = keras.Input((meta["n_features_in_"],))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(meta["n_classes_"], activation="softmax")(hidden))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def test_traced_graphs_are_released_after_each_fit():
    # TensorFlow's gradient registry kept every traced train step alive (~4 MB per fit). Fits on a
    # shared copy reuse one trace, so these fits train models that trace their own steps.
    from skclr import _shelf

    def fit():
        estimator = CLRClassifier(model=_functional, epochs=1).fit(X[:100], y[:100])
        estimator.predict(X[:10])
        assert not _shelf.shareable(estimator.model_)  # its own train step, traced in this fit

    fit()
    before = _alive_train_graphs()
    for _ in range(3):
        fit()
    assert _alive_train_graphs() <= before


@pytest.mark.tensorflow_only(reason="TensorFlow's registry of traced gradients")
def test_concurrent_fits_in_threads_keep_their_gradients_until_all_end():
    # A trace needs its gradient entry until it ends: the first fit to finish must not release
    # the entries while another fit still runs; the last one releases them all.
    import threading
    from concurrent.futures import ThreadPoolExecutor

    import keras

    from skclr.backend._tensorflow import _registry

    def entries():
        return sum(name.startswith("CustomGradient-") for name in _registry())

    before, first_done, seen = entries(), threading.Event(), {}

    class WaitForTheFirst(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                first_done.wait(60)

    def first():
        CLRClassifier(hidden_layer_sizes=(8,), epochs=1, random_state=0).fit(X[:150], y[:150])
        seen["after_the_first_fit"] = entries()
        first_done.set()

    def second():
        CLRClassifier(hidden_layer_sizes=(8,), epochs=2, callbacks=[WaitForTheFirst()]).fit(X[:150], y[:150])

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(second), pool.submit(first)]:
            future.result()
    assert seen["after_the_first_fit"] > before  # kept: the second fit was still running
    assert entries() <= before  # released when the last fit ended


@pytest.mark.tensorflow_only(reason="TensorFlow's eager kernel cache")
def test_kernel_cache_is_cleared_every_few_fits_that_build_a_model(monkeypatch):
    # TensorFlow's eager kernel cache keeps every called function's executable form (~0.6 MB per
    # fit, tensorflow/tensorflow#40171); a partial_fit on the same model reuses its kernels.
    from tensorflow.python.eager import context

    import skclr.backend._tensorflow as tf_state

    assert callable(context.context().clear_kernel_cache)  # or the release silently does nothing
    cleared = []
    monkeypatch.setattr(tf_state, "_clear_kernel_cache", lambda: cleared.append(True))
    monkeypatch.setattr(tf_state, "KERNEL_CACHE_FITS", 2)
    monkeypatch.setattr(tf_state, "_new_models", 0)
    small = dict(hidden_layer_sizes=(8,), epochs=1)
    estimator = CLRClassifier(**small).fit(X[:100], y[:100])
    assert cleared == []  # one new model so far
    estimator.partial_fit(X[:100], y[:100])
    assert cleared == []  # the same model: no new kernels
    CLRClassifier(**small).partial_fit(X[:100], y[:100], classes=np.unique(y))
    assert len(cleared) == 1  # the second new model
    CLRClassifier(**small).fit(X[:100], y[:100])
    assert len(cleared) == 1
