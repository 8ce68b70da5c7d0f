"""Warnings raised deep in skclr point at the line that called into it."""

import warnings

import keras
import numpy as np

from skclr import CLRRegressor, LRFinder
from skclr._warn import warn_at_caller


def _noise_model(meta):
    # Zeros in, pure noise to learn: the loss can fall by a few percent at most (no clear fall).
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, kernel_initializer="zeros")])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_the_range_tests_no_clear_fall_warning_points_at_the_users_line():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 4)).astype("float32"), rng.normal(size=64)
    estimator = CLRRegressor(model=_noise_model, epochs=1, batch_size=64, random_state=0,
                             lr_finder=LRFinder(min_lr=1e-3, max_lr=10.0, num_iter=30, n_sweeps=1))  # fmt: skip
    for call in (estimator.fit, estimator.find_lr):  # via _fit_run.py, and via scikeras's fit in between
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call(X, y)
        (warning,) = [w for w in caught if "no clear fall" in str(w.message)]
        assert warning.filename == __file__, (call.__name__, warning.filename)


def test_warn_at_caller_outside_skclr_is_a_plain_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_at_caller("plain", RuntimeWarning)
    assert caught[0].filename == __file__ and caught[0].category is RuntimeWarning
