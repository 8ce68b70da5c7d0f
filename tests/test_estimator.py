"""CLRClassifier as a scikit-learn citizen: tags, CV, pipelines, pandas, cloning, pickling, seeds."""

import pickle
import warnings

import joblib
import keras
import numpy as np
import pytest
from conftest import TINY
from sklearn.base import clone, is_classifier
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    StratifiedShuffleSplit,
    check_cv,
    cross_val_score,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skclr import CLRClassifier, LRFinder, reference_dnn
from skclr.estimator import DivergenceError


def test_is_a_classifier_on_current_scikit_learn():
    clf = CLRClassifier()
    assert is_classifier(clf)
    assert isinstance(check_cv(5, np.array([0, 1] * 10), classifier=is_classifier(clf)), StratifiedKFold)


def test_reference_dnn_matches_the_seed():
    model = reference_dnn(n_features=20, n_classes=4)
    dense = [layer for layer in model.layers if layer.__class__.__name__ == "Dense"]
    assert [layer.units for layer in dense] == [64, 128, 256, 128, 128, 4]
    assert dense[-1].activation.__name__ == "softmax"
    slopes = [layer.negative_slope for layer in model.layers if layer.__class__.__name__ == "LeakyReLU"]
    assert slopes == [pytest.approx(0.1)] * 5
    rates = [layer.rate for layer in model.layers if layer.__class__.__name__ == "Dropout"]
    assert rates == pytest.approx([0.1, 0.1, 0.1, 0.1, 0.4])


def test_default_dropout_follows_the_seed_pattern_at_any_depth(binary_data):
    X, y = binary_data
    clf = CLRClassifier(hidden_layer_sizes=(6, 6, 6), epochs=1).fit(X, y)
    assert [layer.rate for layer in clf.model_.layers if hasattr(layer, "rate")] == pytest.approx([0.1, 0.1, 0.4])


def test_architecture_parameters_reach_the_network(binary_data):
    X, y = binary_data
    clf = CLRClassifier(hidden_layer_sizes=(5, 7), dropout=0.25, negative_slope=0.3, epochs=1).fit(X, y)
    dense = [layer for layer in clf.model_.layers if layer.__class__.__name__ == "Dense"]
    assert [layer.units for layer in dense] == [5, 7, 2]
    assert {layer.rate for layer in clf.model_.layers if hasattr(layer, "rate")} == {0.25}


def test_cross_validated_pipeline_on_a_dataframe_with_string_labels(four_class_df):
    df, labels = four_class_df
    pipe = make_pipeline(StandardScaler(), CLRClassifier(epochs=3, random_state=0))
    # both scorers on the same three fits: predict for accuracy, predict_proba for the AUC
    scores = cross_validate(pipe, df, labels, cv=3, scoring=["accuracy", "roc_auc_ovr"])
    accuracy, auc = scores["test_accuracy"], scores["test_roc_auc_ovr"]
    assert accuracy.shape == auc.shape == (3,)
    assert accuracy.mean() > 0.4  # chance is 0.25
    assert auc.mean() > 0.7


def test_dataframe_keeps_feature_names_and_string_classes(four_class_df):
    df, labels = four_class_df
    clf = CLRClassifier(**TINY).fit(df, labels)
    assert list(clf.feature_names_in_) == list(df.columns)
    assert list(clf.classes_) == ["ant", "bee", "cat", "dog"]
    assert set(clf.predict(df)) <= set(clf.classes_)
    proba = clf.predict_proba(df)
    assert proba.shape == (len(df), 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


def test_binary_predict_proba_has_two_columns(binary_data):
    X, y = binary_data
    proba = CLRClassifier(**TINY).fit(X, y).predict_proba(X)
    assert proba.shape == (len(X), 2)


def test_clone_keeps_every_parameter():
    clf = CLRClassifier(schedule="exp_range", base_lr=1e-5, max_lr=1e-3, step_size=2.5, optimizer__beta_1=0.8)
    cloned = clone(clf)
    assert cloned.get_params() == clf.get_params()
    assert cloned.get_params()["optimizer__beta_1"] == 0.8


def test_init_stores_parameters_verbatim():
    schedule = "no such schedule"
    clf = CLRClassifier(schedule=schedule, epochs=-3)  # invalid, but __init__ must not judge
    assert clf.schedule is schedule and clf.epochs == -3


def test_an_int_seed_gives_bit_identical_predictions(binary_data):
    X, y = binary_data
    first = CLRClassifier(**TINY, random_state=7).fit(X, y).predict_proba(X)
    second = CLRClassifier(**TINY, random_state=7).fit(X, y).predict_proba(X)
    other = CLRClassifier(**TINY, random_state=8).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


def test_a_random_state_instance_draws_a_new_seed_each_fit(binary_data):
    # scikeras maps every RandomState to the same seed; we must not.
    X, y = binary_data
    clf = CLRClassifier(**TINY, random_state=np.random.RandomState(0))
    first = clf.fit(X, y).predict_proba(X)
    second = clf.fit(X, y).predict_proba(X)
    assert not np.array_equal(first, second)
    # ... and the same RandomState state reproduces the same sequence.
    again = CLRClassifier(**TINY, random_state=np.random.RandomState(0)).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, again)


@pytest.mark.tensorflow_only(reason="op determinism is a TensorFlow switch; XLA on CPU has none to hold")
def test_seeded_fit_turns_op_determinism_off_again(binary_data):
    # A seeded fit turns op determinism on for its duration (fit_session); it must go off again,
    # or later unseeded fits would fail on ops without a deterministic kernel.
    from tensorflow.python.framework import config

    X, y = binary_data
    assert not config.is_op_determinism_enabled()
    CLRClassifier(**TINY, random_state=0).fit(X, y)
    assert not config.is_op_determinism_enabled()
    assert CLRClassifier(**TINY).fit(X, y).score(X, y) > 0.5


@pytest.mark.tensorflow_only(reason="op determinism is a TensorFlow switch; XLA on CPU has none to hold")
def test_concurrent_seeded_and_unseeded_fits_keep_determinism_on_while_seeded_run(binary_data):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from tensorflow.python.framework import config

    X, y = binary_data
    seen, unseeded_done = [], threading.Event()

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                unseeded_done.wait(60)  # an unseeded fit ends while this seeded one runs
            seen.append(config.is_op_determinism_enabled())

    def seeded():
        return CLRClassifier(**{**TINY, "epochs": 3}, random_state=0, callbacks=[Record()]).fit(X, y)

    def unseeded():
        try:
            return CLRClassifier(**TINY).fit(X, y)
        finally:
            unseeded_done.set()

    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(seeded), pool.submit(unseeded)]
        for future in futures:
            future.result()
    assert seen == [True, True, True]
    assert not config.is_op_determinism_enabled()


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_fitted_estimator_round_trips(binary_data, dump, tmp_path):
    X, y = binary_data
    clf = CLRClassifier(**TINY, schedule="triangular", random_state=0).fit(X, y)
    if dump == "pickle":
        restored = pickle.loads(pickle.dumps(clf))
    else:
        joblib.dump(clf, tmp_path / "clf.joblib")
        restored = joblib.load(tmp_path / "clf.joblib")
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert restored.get_params().keys() == clf.get_params().keys()


#: The private attributes an estimator holds between calls: scikeras's own, and the record of its model.
BETWEEN_CALLS = {"_fit_callbacks", "_predict_callbacks", "_random_state", "_model_record"}


def _private(estimator) -> set:
    return {name for name in vars(estimator) if name.startswith("_")}


def test_an_estimator_holds_no_private_state_of_a_call(binary_data):
    # What a call needs lives in its FitRun, dropped when it returns: a flag left behind fails this.
    X, y = binary_data
    clf = CLRClassifier(**TINY, schedule="triangular", lr_finder=LRFinder(num_iter=20), random_state=0)
    clf.find_lr(X, y)
    assert _private(clf) == set() and not hasattr(clf, "model_")
    clf.fit(X, y, sample_weight=np.linspace(0.5, 2, len(y)), validation_data=(X, y))
    assert _private(clf) == BETWEEN_CALLS
    kept = dict(vars(clf))
    clf.find_lr(X, y)  # leaves the fitted estimator as it was: the same objects
    assert vars(clf).keys() == kept.keys() and all(vars(clf)[name] is value for name, value in kept.items())
    clf.partial_fit(X, y)
    clf.set_params(warm_start=True).fit(X, y)
    assert _private(clf) == BETWEEN_CALLS
    class Fails(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise DivergenceError("stopped by the test")

    with pytest.raises(DivergenceError, match="by the test"):  # a call that fails leaves nothing of itself either
        clf.set_params(callbacks=[Fails()], lr_finder=False).fit(X, y)
    assert _private(clf) == BETWEEN_CALLS
    if keras.backend.backend() == "tensorflow":  # a real divergence (JAX's clipped loss saturates instead)
        with pytest.raises(DivergenceError, match="diverged"):
            clf.set_params(callbacks=None, learning_rate=1e4).fit(X * 1e3, y)
        assert _private(clf) == BETWEEN_CALLS


def test_the_model_record_is_left_behind_by_clone_and_kept_by_a_pickle(binary_data):
    X, y = binary_data
    clf = CLRClassifier(**TINY, schedule="one_cycle", clipvalue=0.5, random_state=0)
    clf.partial_fit(X, y, classes=[0, 1])  # plans one-cycle for epochs=2 calls
    assert "_model_record" not in vars(clone(clf))
    restored = pickle.loads(pickle.dumps(clf))
    for estimator in (clf, restored):
        estimator.partial_fit(X, y)  # the second of the two planned calls: the schedule goes on
    assert restored.history_["lr"] == clf.history_["lr"] and clf.history_["lr"][1] < clf.history_["lr"][0]
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


def test_grid_search_over_architecture(binary_data):
    X, y = binary_data
    grid = GridSearchCV(
        CLRClassifier(epochs=1, batch_size=16, random_state=0),
        {"hidden_layer_sizes": [(4,), (8, 8)], "dropout": [0.0, 0.2]},
        cv=StratifiedShuffleSplit(n_splits=1, test_size=0.5, random_state=0),  # one fit per candidate
    ).fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()


def test_hidden_layer_sizes_accepts_an_int_as_mlpclassifier_does(binary_data):
    X, y = binary_data
    clf = CLRClassifier(hidden_layer_sizes=8, dropout=0.0, epochs=1).fit(X, y)
    assert [layer.units for layer in clf.model_.layers if hasattr(layer, "units")] == [8, 2]


def test_score_before_fit_is_not_fitted():
    from sklearn.exceptions import NotFittedError

    X = np.zeros((4, 3))
    with pytest.raises(NotFittedError):
        CLRClassifier().score(X, [0, 1, 0, 1])


def test_routed_optimizer_settings_survive_the_schedule(binary_data):
    X, y = binary_data
    clf = CLRClassifier(**TINY, schedule="triangular", optimizer__beta_1=0.8, optimizer__amsgrad=True).fit(X, y)
    optimizer = clf.model_.optimizer
    assert isinstance(optimizer, keras.optimizers.Adam)
    assert optimizer.beta_1 == 0.8 and optimizer.amsgrad
    assert optimizer._learning_rate is clf.schedule_


def test_a_builder_that_compiles_keeps_its_optimizer_with_our_schedule(binary_data):
    def build(meta):
        model = keras.Sequential(
            [keras.Input((meta["n_features_in_"],)), keras.layers.Dense(meta["n_classes_"], activation="softmax")]
        )
        optimizer = keras.optimizers.SGD(learning_rate=0.01, momentum=0.9, nesterov=True)
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
        return model

    X, y = binary_data
    clf = CLRClassifier(model=build, schedule="one_cycle", max_lr=0.05, clipvalue=0.5, epochs=2, batch_size=16)
    clf.fit(X, y)
    optimizer = clf.model_.optimizer
    assert type(optimizer) is keras.optimizers.SGD  # not the wrapper's Adam
    assert (optimizer.momentum, optimizer.nesterov, optimizer.clipvalue) == (0.9, True, 0.5)
    assert optimizer._learning_rate is clf.schedule_ and clf.schedule_.max_lr == 0.05
    np.testing.assert_allclose(clf.history_["lr"][-1], float(clf.schedule_(2 * 8 - 1)), rtol=1e-6)


def test_fit_is_clean_with_deprecation_warnings_as_errors(binary_data):
    # Projects that run pytest with filterwarnings=error must be able to fit (numpy 2.4 warned
    # on every per-epoch read of the rate variable).
    X, y = binary_data
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        # Keras's JAX variables' __array__ predates NumPy 2's copy keyword: Keras's own, on every get_config
        warnings.filterwarnings("ignore", "__array__ implementation doesn't accept a copy", DeprecationWarning)
        for schedule in ("constant", "triangular"):
            clf = CLRClassifier(**TINY, schedule=schedule).fit(X, y)
            assert len(clf.history_["lr"]) == 2


def test_class_weights_do_not_change_the_callers_sample_weight(binary_data):
    X, y = binary_data
    weights = np.ones(len(y))
    CLRClassifier(**TINY, class_weight="balanced").fit(X, y, sample_weight=weights)
    np.testing.assert_array_equal(weights, np.ones(len(y)))


def test_scikeras_is_pinned_to_the_version_whose_private_hooks_we_override():
    from importlib.metadata import requires

    (scikeras,) = [r for r in requires("skclr") if r.startswith("scikeras")]
    assert "<0.14" in scikeras and ">=0.13" in scikeras


def test_seeded_fits_in_threads_match_sequential_ones_and_leave_the_process_state(binary_data):
    import os
    import random
    from concurrent.futures import ThreadPoolExecutor

    X, y = binary_data
    def fit(seed):
        return CLRClassifier(**TINY, random_state=seed).fit(X, y).predict_proba(X)

    sequential = [fit(seed) for seed in (1, 2)]
    random.seed(11)
    np.random.seed(12)
    python_state, numpy_state = random.getstate(), np.random.get_state()[1].copy()
    environment = os.environ.get("TF_DETERMINISTIC_OPS")
    with ThreadPoolExecutor(2) as pool:
        threaded = list(pool.map(fit, (1, 2)))
    for a, b in zip(sequential, threaded):
        np.testing.assert_array_equal(a, b)
    assert random.getstate() == python_state
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_state)
    assert os.environ.get("TF_DETERMINISTIC_OPS") == environment


def test_predict_proba_of_one_row_is_two_dimensional(binary_data):
    X, y = binary_data
    clf = CLRClassifier(**TINY).fit(X, y)
    assert clf.predict_proba(X[:1]).shape == (1, 2)
    assert clf.predict(X[:1]).shape == (1,)


def test_predictions_do_not_depend_on_row_order_or_chunks(binary_data, monkeypatch):
    from skclr import _scikeras

    X, y = binary_data
    clf = CLRClassifier(**TINY, random_state=0).fit(X, y)
    order = np.random.default_rng(0).permutation(len(X))
    whole = clf.predict_proba(X)
    monkeypatch.setattr(_scikeras, "PREDICT_CHUNK", 7)  # chunks that end mid-batch
    np.testing.assert_allclose(clf.predict_proba(X[order]), whole[order], rtol=1e-5, atol=1e-7)


def test_predict_goes_through_a_builders_own_predict_step_and_routed_batch_size(binary_data, monkeypatch):
    X, y = binary_data
    calls = []

    class Doubling(keras.Sequential):
        def predict_step(self, *args):  # (data) on TensorFlow, (state, data) on JAX
            calls.append(1)
            if keras.backend.backend() == "jax":
                outputs, state = super().predict_step(*args)
                return outputs * 0 + 0.5, state
            return super().predict_step(*args) * 0 + 0.5

    def build():
        model = Doubling([keras.Input((6,)), keras.layers.Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model

    clf = CLRClassifier(model=build, epochs=1).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), 0.5)
    assert calls
    plain = CLRClassifier(**TINY, predict__batch_size=50).fit(X, y)
    seen, predict = [], keras.Model.predict
    monkeypatch.setattr(keras.Model, "predict", lambda self, *a, **k: seen.append(k.get("batch_size")) or predict(self, *a, **k))
    plain.predict_proba(X)
    assert seen == [50]


def test_predict_calls_the_model_directly_unless_told_otherwise(binary_data, monkeypatch):
    # Keras's predict traces a function for every new model (about 0.6 s, more than a fold's scoring)
    X, y = binary_data
    clf = CLRClassifier(**TINY, random_state=0).fit(X, y)
    seen, predict = [], keras.Model.predict
    monkeypatch.setattr(keras.Model, "predict", lambda self, *a, **k: seen.append(k) or predict(self, *a, **k))
    proba = clf.predict_proba(X)
    assert clf.score(X, y) >= 0 and not seen  # the constructor's batch_size only sizes the chunks
    np.testing.assert_allclose(proba, predict(clf.model_, X, verbose=0), rtol=1e-6, atol=1e-7)
    clf.set_params(verbose=1).predict_proba(X[:5])
    assert len(seen) == 1  # a progress bar asked for: Keras's predict


def test_a_one_column_target_works_throughout(binary_data):
    X, y = binary_data
    column = y.reshape(-1, 1)
    with pytest.warns(Warning, match="column-vector y"):
        clf = CLRClassifier(**TINY).fit(X, column)
    with pytest.warns(Warning, match="column-vector y"):
        assert 0 <= clf.score(X, column) <= 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores = cross_val_score(CLRClassifier(**TINY), X, column, cv=2)
    assert np.isfinite(scores).all()


@pytest.mark.parametrize("params", [dict(learning_rate=1e6), dict(schedule="one_cycle", max_lr=1e8)],
                         ids=["adam-1e6", "one_cycle-1e8"])  # fmt: skip
def test_a_fit_whose_loss_explodes_is_reported(binary_data, params):
    X, y = binary_data
    with pytest.raises(DivergenceError, match="times the loss before training|non-finite"):
        CLRClassifier(**TINY, **params, random_state=0).fit(X, y)


def test_a_grid_search_does_not_pick_a_rate_whose_loss_explodes(binary_data):
    X, y = binary_data
    search = GridSearchCV(CLRClassifier(**TINY, random_state=0), {"learning_rate": [1e-2, 1e6]}, cv=2,
                          error_score=np.nan)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn warns about the failed fits
        search.fit(X, y)
    assert search.best_params_ == {"learning_rate": 1e-2}


def test_a_slow_but_sane_fit_is_not_flagged(binary_data):
    X, y = binary_data
    clf = CLRClassifier(**{**TINY, "epochs": 3}, learning_rate=1e-5, random_state=0).fit(X, y)
    assert len(clf.history_["loss"]) == 3


def test_lr_finder_settings_need_an_lr_finder_to_set_them_on():
    with pytest.raises(ValueError, match="pass lr_finder=LRFinder"):
        clone(CLRClassifier(lr_finder=True)).set_params(lr_finder__num_iter=15)
    assert CLRClassifier(lr_finder=LRFinder()).set_params(lr_finder__num_iter=15).lr_finder.num_iter == 15
    search = GridSearchCV(CLRClassifier(**TINY), {"lr_finder": [LRFinder(n_sweeps=1)], "lr_finder__num_iter": [10, 12]},
                          cv=2)  # fmt: skip
    assert search.get_params()["estimator__lr_finder"] is False


def test_find_lr_works_with_a_schedule_instance(binary_data):
    from skclr.schedules import CyclicalLearningRate

    X, y = binary_data
    clf = CLRClassifier(**TINY, schedule=CyclicalLearningRate(1e-3, 1e-2, 4), random_state=0)
    finder = clf.find_lr(X, y)
    assert len(finder.lrs_) > 5 and not hasattr(clf, "model_")


def test_a_builder_may_return_an_uncompiled_model(binary_data):
    X, y = binary_data

    def build():
        return keras.Sequential([keras.Input((6,)), keras.layers.Dense(2, activation="softmax")])

    # clipvalue reaches the optimizer that trains (the fit may train a shared copy): with plain SGD
    # at rate 1, no weight moves more than clipvalue per step from the seeded initial weights
    params = dict(model=build, loss="sparse_categorical_crossentropy", optimizer="sgd", schedule="constant",
                  learning_rate=1.0, epochs=1, batch_size=16, random_state=0)  # fmt: skip
    initial = CLRClassifier(**params).initialize(X, y).model_.get_weights()
    clf = CLRClassifier(**params, clipvalue=1e-4).fit(X, y)
    moved = max(np.max(np.abs(w - w0)) for w, w0 in zip(clf.model_.get_weights(), initial))
    assert 0 < moved <= 8 * 1e-4 * (1 + 1e-3)  # 8 steps of 16 rows
    assert clf.predict_proba(X).shape == (len(X), 2)
    unclipped = CLRClassifier(**params).fit(X, y)
    assert max(np.max(np.abs(w - w0)) for w, w0 in zip(unclipped.model_.get_weights(), initial)) > 0.01


def test_sample_weights_with_validation_split_weigh_the_training_rows_and_the_held_out_rows_apart(binary_data):
    # The held-out quarter's weights weigh its validation loss only (Keras splits sample_weight too).
    X, y = binary_data
    weights = np.linspace(0.5, 2, len(y))
    other = np.r_[weights[:90], weights[90:][::-1] * 3]
    fitted = [CLRClassifier(**TINY, validation_split=0.25, random_state=0).fit(X, y, sample_weight=w) for w in (weights, other)]
    assert fitted[0].history_["loss"] == fitted[1].history_["loss"]
    assert fitted[0].history_["val_loss"] != fitted[1].history_["val_loss"]


def test_the_classifier_has_no_weight_decay_unless_asked(binary_data):
    X, y = binary_data
    clf = CLRClassifier(**{**TINY, "epochs": 1}, random_state=0).fit(X, y)
    assert clf.model_.optimizer.weight_decay is None
    assert clf.set_params(weight_decay=0.1).fit(X, y).model_.optimizer.weight_decay == 0.1
    adamw = CLRClassifier(**{**TINY, "epochs": 1}, optimizer="adamw", random_state=0).fit(X, y)
    assert adamw.model_.optimizer.weight_decay == 0.004  # AdamW's own default is kept


@pytest.mark.parametrize("go_on", ["warm start", "partial_fit"])
def test_callbacks_replaced_by_set_params_take_effect_when_training_goes_on(binary_data, go_on):
    # scikeras makes callbacks only with a new model: a continuation kept running the replaced ones.
    X, y = binary_data
    seen = {"old": 0, "new": 0}

    class Counts(keras.callbacks.Callback):
        def __init__(self, name):
            super().__init__()
            self.name = name

        def on_epoch_end(self, epoch, logs=None):
            seen[self.name] += 1

    clf = CLRClassifier(**TINY, callbacks=[Counts("old")], warm_start=go_on == "warm start").fit(X, y)
    clf.set_params(callbacks=[Counts("new")])
    clf.fit(X, y) if go_on == "warm start" else clf.partial_fit(X, y)
    assert seen == {"old": 2, "new": 2 if go_on == "warm start" else 1}
    clf.callbacks.append(Counts("old"))  # a change in place to the same list counts too
    clf.fit(X, y) if go_on == "warm start" else clf.partial_fit(X, y)
    assert seen == {"old": 4, "new": 4} if go_on == "warm start" else {"old": 3, "new": 2}
    clf.set_params(callbacks=None)
    clf.fit(X, y) if go_on == "warm start" else clf.partial_fit(X, y)
    assert seen == {"old": 4, "new": 4} if go_on == "warm start" else {"old": 3, "new": 2}
