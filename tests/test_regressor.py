"""CLRRegressor: the classifier's machinery for continuous, also 2-D, targets."""

import copy
import inspect
import pickle
import warnings

import keras
import numpy as np
import pandas as pd
import pytest
from conftest import TINY
from sklearn.base import BaseEstimator, clone, is_regressor
from sklearn.datasets import make_regression
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, KFold, ShuffleSplit, check_cv, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skclr import CLRRegressor, LRFinder
from skclr._catalogue import schedule_values


@pytest.fixture(scope="module")
def regression_data():
    X, y = make_regression(n_samples=160, n_features=6, n_informative=4, n_targets=2, noise=0.1, random_state=0)
    return X.astype("float32"), (y / y.std(axis=0)).astype("float32")


def test_is_a_regressor_with_plain_kfold():
    assert is_regressor(CLRRegressor())
    assert isinstance(check_cv(5, np.arange(10.0), classifier=False), KFold)


def test_the_signature_is_written_out_as_the_shared_one_plus_standardize_target():
    """scikit-learn reads parameters and defaults from ``__init__``'s own signature (it refuses
    ``*args``); a parameter added to the shared ``__init__`` must be added here too."""
    from skclr.estimator import _CLRWrapper

    shared = list(inspect.signature(_CLRWrapper.__init__).parameters.values())
    own = list(inspect.signature(CLRRegressor.__init__).parameters.values())
    assert "__signature__" not in vars(CLRRegressor.__init__)  # the real signature, not a patched one
    assert own == [*shared[:-1], own[-2], shared[-1]]  # same names, kinds and defaults, in order
    assert (own[-2].name, own[-2].default) == ("standardize_target", True)
    # scikit-learn's own reading of the signature (scikeras overrides it per instance), which raises on *args
    sklearn_names = vars(BaseEstimator)["_get_param_names"].__func__(CLRRegressor)
    # shared[1:-1]: less self and **kwargs
    assert sklearn_names == sorted([p.name for p in shared[1:-1]] + ["standardize_target"])


def test_every_parameter_reaches_get_params_clone_and_repr():
    reg = CLRRegressor(None, schedule="triangular", step_size=3.0, standardize_target=False, epochs=3,
                       warm_start=True, optimizer__beta_1=0.8)  # fmt: skip
    params = reg.get_params()
    assert params["standardize_target"] is False and params["step_size"] == 3.0
    assert params["optimizer__beta_1"] == 0.8  # routed parameters kept, as the shared __init__ keeps them
    defaults = CLRRegressor().get_params()
    assert {name: value for name, value in params.items() if defaults.get(name, object()) != value} == {
        "schedule": "triangular", "step_size": 3.0, "standardize_target": False, "epochs": 3,
        "warm_start": True, "optimizer__beta_1": 0.8,
    }  # fmt: skip
    twin = clone(reg)
    assert twin.get_params() == params and twin is not reg
    assert " ".join(repr(reg).split()) == (
        "CLRRegressor(epochs=3, optimizer__beta_1=0.8, schedule='triangular', standardize_target=False, "
        "step_size=3.0, warm_start=True)"
    )


def test_learns_a_linear_target_and_scores_r2(regression_data):
    X, y = regression_data
    reg = CLRRegressor(hidden_layer_sizes=(32,), dropout=0.0, schedule="one_cycle", max_lr=1e-2, epochs=30,
                       batch_size=16, random_state=0).fit(X, y[:, 0])  # fmt: skip
    assert reg.model_.loss == "mse" and reg.model_.layers[-1].activation.__name__ == "linear"
    assert reg.predict(X).shape == (len(X),)
    assert reg.score(X, y[:, 0]) > 0.8


def test_two_target_columns_give_two_outputs(regression_data):
    X, y = regression_data
    frame = pd.DataFrame(y, columns=["a", "b"])
    reg = CLRRegressor(**TINY, schedule="triangular").fit(X, frame)
    assert reg.n_outputs_ == 2 and reg.predict(X[:5]).shape == (5, 2)


def test_pipeline_grid_search_over_schedules_with_r2(regression_data):
    X, y = regression_data
    search = GridSearchCV(
        make_pipeline(StandardScaler(), CLRRegressor(**TINY, random_state=0)),
        {"clrregressor__schedule": ["constant", "cosine_restarts", "one_cycle"]},
        scoring="r2", cv=ShuffleSplit(n_splits=1, test_size=0.5, random_state=0), error_score="raise",
    ).fit(X, y[:, 0])  # fmt: skip
    assert len(search.cv_results_["params"]) == 3
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_cross_val_score_and_pickle(regression_data):
    X, y = regression_data
    scores = cross_val_score(CLRRegressor(**TINY, random_state=0), X, y, cv=2, scoring="neg_mean_squared_error")
    assert scores.shape == (2,) and np.isfinite(scores).all()
    reg = CLRRegressor(**TINY, schedule="exp_range", random_state=0).fit(X, y)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(reg)).predict(X), reg.predict(X))


def test_range_test_sets_the_bounds_on_regression(regression_data):
    X, y = regression_data
    reg = CLRRegressor(**TINY, schedule="triangular", lr_finder=LRFinder(min_lr=1e-5, max_lr=10.0, num_iter=40),
                       random_state=0).fit(X, y)  # fmt: skip
    assert reg.lr_finder_.losses_.shape[0] >= 10
    assert (reg.schedule_.base_lr, reg.schedule_.max_lr) == (reg.base_lr_, reg.max_lr_)
    # what trained is what the range test chose: for regression, the edge / 8
    assert (reg.base_lr_, reg.max_lr_) == pytest.approx(reg.lr_finder_.clr_bounds(max_div=8))
    assert reg.max_lr_ == pytest.approx(reg.lr_finder_.edge_ / 8)


def test_partial_fit_continues_the_schedule(regression_data):
    X, y = regression_data
    reg = CLRRegressor(**{**TINY, "epochs": 3}, schedule="one_cycle")
    for _ in range(3):
        reg.partial_fit(X, y)
    steps = 10  # ceil(160 / 16)
    np.testing.assert_allclose(reg.history_["lr"], schedule_values(reg.schedule_, 3 * steps)[steps - 1 :: steps], rtol=1e-6)


@pytest.mark.parametrize(
    "params, target, match",
    [
        (dict(class_weight="balanced"), None, "'class_weight' parameter of CLRRegressor must be None"),
        ({}, "text", "could not convert|Unknown label|numeric"),
        ({}, "nan", "NaN"),
    ],
)
def test_bad_input_is_refused_before_training(regression_data, params, target, match):
    X, y = regression_data
    y = {"text": np.array(["a"] * len(X)), "nan": np.where(np.arange(len(X)) == 3, np.nan, y[:, 0]), None: y}[target]
    reg = CLRRegressor(**TINY, **params)
    with pytest.raises(ValueError, match=match):
        reg.fit(X, y)
    assert not hasattr(reg, "model_")


def test_worker_processes_give_the_same_scores(regression_data):
    # The path GridSearchCV(n_jobs=...) and joblib's Dask backend take: pickled estimators in workers.
    X, y = regression_data
    estimator = CLRRegressor(**TINY, schedule="one_cycle", random_state=0)
    one = cross_val_score(estimator, X, y, cv=2, scoring="r2")
    two = cross_val_score(estimator, X, y, cv=2, scoring="r2", n_jobs=2)
    np.testing.assert_array_equal(one, two)


@pytest.fixture(scope="module")
def raw_targets(regression_data):
    """Two target columns in their own units, on very different scales."""
    X, y = regression_data
    y = y.astype(np.float64)
    return X, np.column_stack([300.0 + 50.0 * y[:, 0], -0.02 + 0.001 * y[:, 1]])


def test_the_target_is_standardized_per_column_and_predictions_are_the_output_unscaled(raw_targets):
    X, y = raw_targets
    reg = CLRRegressor(**TINY, random_state=0).fit(X, y)
    np.testing.assert_allclose(reg.target_mean_, y.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(reg.target_scale_, y.std(axis=0), rtol=1e-12)
    output = keras.ops.convert_to_numpy(reg.model_(X, training=False)).astype(np.float64)
    predicted = reg.predict(X)
    assert predicted.dtype == np.float64
    np.testing.assert_array_equal(predicted, output * reg.target_scale_ + reg.target_mean_)
    assert reg.score(X, y) == pytest.approx(r2_score(y, predicted), rel=1e-12)  # R² in the target's units


def test_the_network_trains_on_the_standardized_target(raw_targets):
    X, y = raw_targets
    reg = CLRRegressor(**TINY, random_state=0).fit(X, y, validation_data=(X, y))
    standardized = (y - y.mean(axis=0)) / y.std(axis=0)
    output = keras.ops.convert_to_numpy(reg.model_(X, training=False))
    # val_loss is Keras's mse of the same model on the same rows: the validation target is scaled too
    assert reg.history_["val_loss"][-1] == pytest.approx(np.mean((output - standardized) ** 2), rel=1e-4)
    assert reg.history_["loss"][0] < 10  # the raw target's squared error would be ~ 50 ** 2


def test_standardize_target_false_trains_on_the_target_as_given(raw_targets):
    X, y = raw_targets
    reg = CLRRegressor(**TINY, standardize_target=False, random_state=0).fit(X, y[:, 1])
    assert reg.target_mean_.tolist() == [0.0] and reg.target_scale_.tolist() == [1.0]
    np.testing.assert_array_equal(reg.predict(X), keras.ops.convert_to_numpy(reg.model_(X, training=False)).astype(np.float64).ravel())


def test_sample_weight_weights_the_mean_and_scale(raw_targets):
    X, y = raw_targets
    weights = np.where(np.arange(len(X)) % 4 == 0, 3.0, 0.5)
    reg = CLRRegressor(**TINY, random_state=0).fit(X, y[:, 0], sample_weight=weights)
    mean = np.average(y[:, 0], weights=weights)
    assert reg.target_mean_ == pytest.approx([mean], rel=1e-12)
    assert reg.target_scale_ == pytest.approx([np.sqrt(np.average((y[:, 0] - mean) ** 2, weights=weights))], rel=1e-12)
    assert abs(mean - y[:, 0].mean()) > 1e-3 * y[:, 0].std()  # the weights do move the mean


def test_a_constant_column_is_centred_not_divided_by_zero(raw_targets):
    X, y = raw_targets
    reg = CLRRegressor(**TINY, random_state=0).fit(X, np.column_stack([y[:, 0], np.full(len(X), 1e6)]))
    assert reg.target_scale_[1] == 1.0 and reg.target_mean_[1] == 1e6
    assert np.isfinite(reg.predict(X)).all() and np.isfinite(reg.history_["loss"]).all()


def test_warm_start_and_partial_fit_keep_the_first_fits_scaling(raw_targets):
    X, y = raw_targets
    shifted = 10.0 * y + 7.0
    warm = CLRRegressor(**TINY, warm_start=True, random_state=0).fit(X, y)
    mean, scale = warm.target_mean_.copy(), warm.target_scale_.copy()
    warm.fit(X, shifted)
    partial = CLRRegressor(**TINY, random_state=0).partial_fit(X, y).partial_fit(X, shifted)
    for reg in (warm, partial):
        np.testing.assert_array_equal(reg.target_mean_, mean)
        np.testing.assert_array_equal(reg.target_scale_, scale)
        np.testing.assert_array_equal(reg.target_encoder_.mean_, mean)  # what predict un-scales with


def test_the_scaling_survives_pickling(raw_targets):
    X, y = raw_targets
    reg = CLRRegressor(**TINY, random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(restored.target_scale_, reg.target_scale_)
    np.testing.assert_array_equal(restored.predict(X), reg.predict(X))
    assert abs(restored.predict(X)[:, 0].mean() - 300.0) < 100.0  # original units, not the training scale


def test_a_fit_that_learns_nothing_warns(regression_data):
    X, y = regression_data
    reg = CLRRegressor(**{**TINY, "epochs": 1}, learning_rate=1e-7, random_state=0)
    match = r"no better than predicting the target's mean.*epoch 1, at learning rate 1e-07"
    with pytest.warns(RuntimeWarning, match=match):
        reg.fit(X, y)


def test_a_fit_that_learns_does_not_warn(regression_data):
    X, y = regression_data
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        reg = CLRRegressor(hidden_layer_sizes=(32,), dropout=0.0, learning_rate=1e-2, epochs=5, batch_size=16,
                           random_state=0).fit(X, y)  # fmt: skip
    assert reg.score(X, y) > 0.5


def _weight_norm(reg) -> float:
    return float(sum(np.sum(np.square(w)) for w in reg.model_.get_weights()))


def test_weight_decay_is_applied_in_the_train_step_and_defaults_to_one_for_the_reference_network(regression_data):
    X, y = regression_data
    fits = {wd: CLRRegressor(**TINY, weight_decay=wd, learning_rate=0.05, random_state=0).fit(X, y)
            for wd in (None, 0, 5.0)}  # fmt: skip
    assert fits[None].model_.optimizer.weight_decay == 1.0  # the reference network's default
    assert fits[0].model_.optimizer.weight_decay is None
    assert fits[5.0].model_.optimizer.weight_decay == 5.0
    # the same seed and data: only the decay differs, and it shrinks the weights in that order
    assert _weight_norm(fits[5.0]) < _weight_norm(fits[None]) < _weight_norm(fits[0])


def test_weight_decay_none_keeps_a_routed_or_a_builders_own(regression_data):
    import keras

    X, y = regression_data
    routed = CLRRegressor(**TINY, optimizer__weight_decay=0.25, random_state=0).fit(X, y)
    assert routed.model_.optimizer.weight_decay == 0.25

    def builder(meta, compile_kwargs):
        model = keras.Sequential([keras.Input((meta["n_features_in_"],)), keras.layers.Dense(meta["n_outputs_"])])
        model.compile(optimizer=keras.optimizers.SGD(weight_decay=0.01), loss="mse")
        return model

    own = CLRRegressor(builder, epochs=1, random_state=0).fit(X, y)
    assert own.model_.optimizer.weight_decay == 0.01  # the builder's own, not the reference network's 1.0
    adamw = CLRRegressor(**TINY, optimizer="adamw", random_state=0).fit(X, y)
    assert adamw.model_.optimizer.weight_decay == 0.004  # AdamW's own default
    with pytest.raises(ValueError, match="weight_decay=0.5 and optimizer__weight_decay=0.25 set the same thing"):
        CLRRegressor(**TINY, weight_decay=0.5, optimizer__weight_decay=0.25).fit(X, y)


def test_a_warm_start_takes_a_changed_weight_decay(regression_data):
    # The weights that trained, not the optimizer's attribute: the fit may train a shared copy.
    X, y = regression_data
    first = CLRRegressor(**TINY, weight_decay=0.5, learning_rate=0.05, warm_start=True, random_state=0)
    first.fit(X, y)
    fits = {wd: copy.deepcopy(first).set_params(weight_decay=wd).fit(X, y) for wd in (5.0, 0.5, 0)}
    assert fits[0].model_.optimizer.weight_decay is None
    # from the same weights, the same data and seed: only the decay differs, and it shrinks the weights
    assert _weight_norm(fits[5.0]) < _weight_norm(fits[0.5]) < _weight_norm(fits[0])


def test_a_target_beyond_1e154_is_scaled_without_overflow(regression_data):
    # The squared deviations overflowed: target_scale_ was inf and every prediction -inf.
    X, y = regression_data
    small = CLRRegressor(**TINY, random_state=0).fit(X, y[:, 0].astype(np.float64))
    with warnings.catch_warnings():
        warnings.filterwarnings("error", "overflow", RuntimeWarning)  # NumPy's was the only word
        huge = CLRRegressor(**TINY, random_state=0).fit(X, 1e200 * y[:, 0].astype(np.float64))
    np.testing.assert_allclose(huge.target_scale_, 1e200 * small.target_scale_, rtol=1e-12)
    np.testing.assert_allclose(huge.target_mean_, 1e200 * small.target_mean_, rtol=1e-12)
    np.testing.assert_allclose(huge.predict(X), 1e200 * small.predict(X), rtol=1e-5)


@pytest.mark.parametrize(
    ("target", "standardize"),
    [
        (lambda y: 1e39 * np.sign(y), False),  # beyond float32 as given
        (lambda y: np.where(np.arange(len(y)) == 0, -1.7e308, 1.7e308), True),  # y - mean overflows float64
    ],
)
def test_a_target_that_cannot_be_trained_on_is_refused(regression_data, target, standardize):
    X, y = regression_data
    reg = CLRRegressor(**TINY, standardize_target=standardize, random_state=0)
    with pytest.raises(ValueError, match="y does not fit float32, the dtype in which the network trains"):
        reg.fit(X, target(y[:, 0].astype(np.float64)))
    assert not hasattr(reg, "history_")


def test_the_validation_split_rows_stay_out_of_the_target_scaling(regression_data):
    # They entered it: with y[128:] += 1000, target_mean_ was 200 instead of the training rows' ~0.
    X, y = regression_data
    y = y[:, 0].astype(np.float64)
    y[128:] += 1000.0  # the last fifth, which Keras holds out for validation_split=0.2
    reg = CLRRegressor(**TINY, validation_split=0.2, random_state=0).fit(X, y)
    np.testing.assert_allclose(reg.target_mean_, [y[:128].mean()], rtol=1e-12)
    np.testing.assert_allclose(reg.target_scale_, [y[:128].std()], rtol=1e-12)
    weights = np.linspace(0.5, 2.0, len(y))
    weighted = CLRRegressor(**TINY, random_state=0).fit(X, y, sample_weight=weights, validation_split=0.2)
    expected = np.average(y[:128], weights=weights[:128])
    np.testing.assert_allclose(weighted.target_mean_, [expected], rtol=1e-12)
