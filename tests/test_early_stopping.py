"""scikit-learn MLP's early stopping and fitted attributes, with MLP's meanings, on both estimators."""

import math
import warnings

import keras
import numpy as np
import pytest
from conftest import TINY
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor

from skclr import CLRClassifier, CLRRegressor
from skclr._early_stopping import ValidationStop, hold_out

ES_PARAMS = ("early_stopping", "validation_fraction", "n_iter_no_change", "tol")


@pytest.fixture(scope="module")
def clf_data():
    X, y = make_classification(n_samples=120, n_features=6, n_informative=4, n_classes=3, random_state=0)
    return X.astype("float32"), y


@pytest.fixture(scope="module")
def reg_data():
    X, y = make_regression(n_samples=100, n_features=5, noise=5.0, random_state=0)
    return X.astype("float32"), y


def _scripted(monkeypatch, cls, scores, seen=None):
    """Make ``cls``'s scorer answer ``scores`` in turn (recording the real score in ``seen``)."""
    real = cls.scorer
    answers = iter(scores)

    def scorer(y_true, y_pred, **kwargs):
        if seen is not None:
            seen.append(real(y_true, y_pred, **kwargs))
        return next(answers)

    monkeypatch.setattr(cls, "scorer", staticmethod(scorer))


# -- parameters ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cls, mlp", [(CLRClassifier, MLPClassifier), (CLRRegressor, MLPRegressor)])
def test_parameters_have_mlps_names_and_defaults_and_survive_clone(cls, mlp):
    ours, theirs = cls().get_params(), mlp().get_params()
    assert {name: ours[name] for name in ES_PARAMS} == {name: theirs[name] for name in ES_PARAMS}
    set_ = dict(early_stopping=True, validation_fraction=0.25, n_iter_no_change=3, tol=0.01)
    cloned = clone(cls(**set_))
    assert {name: cloned.get_params()[name] for name in ES_PARAMS} == set_
    assert {name: getattr(cls().set_params(**set_), name) for name in ES_PARAMS} == set_


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(n_iter_no_change=0), "n_iter_no_change"),
        (dict(tol=-1.0), "tol"),
        (dict(validation_fraction=1.0), "validation_fraction"),
        (dict(early_stopping="yes"), "early_stopping"),
    ],
)
def test_bad_values_are_refused_by_name(clf_data, params, match):
    with pytest.raises(ValueError, match=match):
        CLRClassifier(**TINY, **params).fit(*clf_data)


# -- refusals before training -------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, fit_kwargs, match",
    [
        (dict(validation_split=0.2), {}, "validation_split"),
        (dict(fit__validation_split=0.2), {}, "validation_split"),
        ({}, dict(validation_split=0.2), "validation_split"),
        ({}, "validation_data", "validation_data"),
        (dict(validation_fraction=0.01), {}, "validation_fraction=0.01 of 120 samples holds out 2"),
        (dict(validation_fraction=0.005), {}, "validation set is too small.*validation_fraction"),
        (dict(validation_fraction=0.999), {}, "training set is too small.*validation_fraction"),
        (dict(validation_fraction=0.99), {}, "leaves 1 for training: fewer than the 3 classes"),
    ],
)
def test_combinations_that_cannot_work_are_refused_before_training(clf_data, params, fit_kwargs, match):
    X, y = clf_data
    if fit_kwargs == "validation_data":
        fit_kwargs = dict(validation_data=(X[:10], y[:10]))
    est = CLRClassifier(**TINY, early_stopping=True, **params)
    with pytest.raises(ValueError, match=match):
        est.fit(X, y, **fit_kwargs)
    assert not hasattr(est, "model_")


def test_a_class_that_cannot_be_on_both_sides_is_refused(clf_data):
    X, y = clf_data
    lonely = y.copy()
    lonely[0] = 7  # one sample of class 7
    with pytest.raises(ValueError, match="class 7 has 1"):
        CLRClassifier(**TINY, early_stopping=True).fit(X, lonely)
    few = y.copy()
    few[:2] = 7  # two samples of class 7: stratification puts both on one side at 10%
    with pytest.raises(ValueError, match="leaves class 7 out of the validation set"):
        CLRClassifier(**TINY, early_stopping=True, random_state=0).fit(X, few)


@pytest.mark.parametrize("cls", [CLRClassifier, CLRRegressor])
def test_partial_fit_refuses_early_stopping_as_mlp(cls, clf_data):
    X, y = clf_data
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        cls(**TINY, early_stopping=True).partial_fit(X, y.astype(float) if cls is CLRRegressor else y)
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=np.unique(y))


# -- the split ----------------------------------------------------------------------------------


def test_the_classifier_holds_out_a_stratified_split_drawn_from_random_state(clf_data):
    X, y = clf_data
    est = CLRClassifier(early_stopping=True, validation_fraction=0.2, random_state=3)
    X_train, y_train, w_train, held = hold_out(est, X, y, None, {})
    expected = train_test_split(X, y, test_size=0.2, stratify=y, random_state=3)
    np.testing.assert_array_equal(held.X, expected[1])
    np.testing.assert_array_equal(y_train, expected[2])
    assert w_train is None and held.sample_weight is None
    # stratified: each class's share is the same on both sides (to one sample)
    for label in np.unique(y):
        assert abs(np.sum(held.y == label) - 0.2 * np.sum(y == label)) < 1
    other = hold_out(est.set_params(random_state=4), X, y, None, {})[3]
    assert not np.array_equal(other.y, held.y) or not np.array_equal(other.X, held.X)


def test_the_regressor_holds_out_a_shuffled_split_with_the_weights(reg_data):
    X, y = reg_data
    weights = np.linspace(0.5, 1.5, len(y))
    est = CLRRegressor(early_stopping=True, random_state=0)
    X_train, y_train, w_train, held = hold_out(est, X, y, weights, {})
    expected = train_test_split(X, y, weights, test_size=0.1, random_state=0)
    for got, want in zip((X_train, held.X, y_train, held.y, w_train, held.sample_weight), expected):
        np.testing.assert_array_equal(got, want)


def test_training_sees_only_the_training_rows(clf_data):
    X, y = clf_data
    est = CLRClassifier(**TINY, early_stopping=True, validation_fraction=0.25, random_state=0).fit(X, y)
    n_train = len(y) - math.ceil(0.25 * len(y))
    assert est.t_ == est.n_iter_ * n_train
    np.testing.assert_array_equal(est.classes_, np.unique(y))


# -- the stopping rule --------------------------------------------------------------------------


def _mlp_stop(scores, n_iter_no_change, tol):
    """Epochs MLPClassifier's own rule runs on ``scores``, and its best epoch (from 0)."""
    mlp = MLPClassifier(early_stopping=True, n_iter_no_change=n_iter_no_change, tol=tol)
    mlp.validation_scores_, mlp.best_validation_score_, mlp._no_improvement_count = [], -np.inf, 0
    mlp.coefs_ = mlp.intercepts_ = []  # copied at each new best
    answers = iter(scores)
    mlp._score = lambda X, y, sample_weight=None: next(answers)
    best = None
    for epoch in range(len(scores)):
        before = mlp.best_validation_score_
        mlp._update_no_improvement_count(True, None, None, None)
        if mlp.best_validation_score_ > before:
            best = epoch
        if mlp._no_improvement_count > n_iter_no_change:
            return epoch + 1, best
    return len(scores), best


@pytest.mark.parametrize(
    "scores, n_iter_no_change, tol",
    [
        ([0.5, 0.6, 0.6, 0.6, 0.6, 0.9, 0.9], 2, 1e-4),  # a plateau of 3 stops before the late rise
        ([0.5, 0.6, 0.6, 0.6, 0.9, 0.9, 0.9, 0.9, 0.9], 2, 1e-4),  # a plateau of 2 does not
        ([0.5, 0.51, 0.52, 0.53, 0.9], 1, 0.02),  # rises smaller than tol count as none
        ([0.9, 0.1, 0.2, 0.3, 0.4], 3, 0.0),
        ([0.1, 0.2, 0.3, 0.4, 0.5], 1, 1e-4),  # never stops
    ],
)
def test_stops_where_mlps_rule_stops(scores, n_iter_no_change, tol):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    answers = iter(scores)
    stop = ValidationStop(lambda outputs: next(answers), np.zeros((3, 2), "float32"), n_iter_no_change, tol)
    stop.set_model(model)
    model.stop_training = False  # as Keras's fit sets it
    epochs = 0
    for epoch in range(len(scores)):
        stop.on_epoch_end(epoch)
        epochs += 1
        if model.stop_training:
            break
    assert (epochs, stop.best_epoch) == _mlp_stop(scores, n_iter_no_change, tol)
    assert stop.scores == scores[:epochs]


@pytest.mark.parametrize("cls", [CLRClassifier, CLRRegressor])
def test_a_fit_stops_by_the_validation_score_and_records_it(monkeypatch, cls, clf_data):
    X, y = clf_data
    y = y.astype(float) if cls is CLRRegressor else y
    scores = [0.3, 0.5, 0.4, 0.45, 0.5, 0.9, 0.9, 0.9]  # no gain after epoch 2 for 3 epochs: stop after 5
    _scripted(monkeypatch, cls, scores)
    est = cls(**{**TINY, "epochs": 8}, early_stopping=True, n_iter_no_change=2, random_state=0).fit(X, y)
    assert est.n_iter_ == len(est.history_["loss"]) == len(est.loss_curve_) == 5
    assert est.validation_scores_ == scores[:5]
    assert est.best_validation_score_ == 0.5 and est.best_loss_ is None


class _WeightsPerEpoch(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append([np.array(v.numpy()) for v in self.model.weights])


@pytest.mark.parametrize("user_callback", [False, True], ids=["shared copy", "own model"])
def test_the_returned_model_is_the_best_epochs(monkeypatch, reg_data, user_callback):
    """The scripted scores make epoch 2 the best; the real R² on the held-out rows, recomputed with
    ``score`` after ``fit``, is that epoch's, whichever model Keras trained (a user's callback makes
    Keras train the estimator's own model; it also sends ``predict`` through ``Model.predict``,
    whose graph rounds differently from the direct call the score is computed with)."""
    X, y = reg_data
    real = []
    _scripted(monkeypatch, CLRRegressor, [0.1, 0.5, 0.2, 0.3, 0.2, 0.9], seen=real)
    recorder = _WeightsPerEpoch()
    est = CLRRegressor(
        **{**TINY, "epochs": 6}, learning_rate=1e-2, early_stopping=True, n_iter_no_change=2,
        validation_fraction=0.2, random_state=0, callbacks=[recorder] if user_callback else None,
    ).fit(X, y)  # fmt: skip
    monkeypatch.undo()
    _, X_val, _, y_val = train_test_split(X, y, test_size=0.2, random_state=0)
    assert est.n_iter_ == 5 and len(real) == 5  # 3 epochs without gain after the best: stopped
    assert len(set(real)) == 5  # the epochs' models differ
    if user_callback:
        for got, best in zip(est.model_.weights, recorder.weights[1]):
            np.testing.assert_array_equal(got.numpy(), best)
        assert est.score(X_val, y_val) == pytest.approx(real[1], rel=1e-6)
    else:
        assert est.score(X_val, y_val) == real[1]


def test_real_scores_are_the_held_out_accuracy(clf_data):
    X, y = clf_data
    est = CLRClassifier(**{**TINY, "epochs": 3}, early_stopping=True, validation_fraction=0.2, random_state=0)
    est.fit(X, y)
    _, X_val, _, y_val = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    assert len(est.validation_scores_) == est.n_iter_
    assert est.best_validation_score_ == max(est.validation_scores_)
    assert est.score(X_val, y_val) == est.best_validation_score_


# -- MLP's attributes ---------------------------------------------------------------------------


def _structure(est, n_train):
    return dict(
        n_iter=est.n_iter_,
        curve=len(est.loss_curve_),
        samples=est.t_ / n_train,
        best_loss=None if est.best_loss_ is None else est.best_loss_ == min(est.loss_curve_),
        scores=None if est.validation_scores_ is None else len(est.validation_scores_),
        best_score=None if est.best_validation_score_ is None else est.best_validation_score_ in est.validation_scores_,
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("early_stopping", [False, True])
def test_attributes_mean_what_mlps_mean_over_fit_warm_start_and_partial_fit(clf_data, early_stopping):
    X, y = clf_data
    n_train = len(y) - math.ceil(0.1 * len(y)) if early_stopping else len(y)
    common = dict(warm_start=True, random_state=0, early_stopping=early_stopping, n_iter_no_change=50)
    ours = CLRClassifier(**{**TINY, "epochs": 3}, **common)
    theirs = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, **common)
    for epochs in (3, 2):  # a fit, then a warm-started one
        ours.set_params(epochs=epochs).fit(X, y)
        theirs.set_params(max_iter=epochs).fit(X, y)
        assert _structure(ours, n_train) == _structure(theirs, n_train)
    if early_stopping:
        return
    ours = CLRClassifier(**TINY, random_state=0)
    theirs = MLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    for _ in range(3):
        ours.partial_fit(X, y, classes=np.unique(y))
        theirs.partial_fit(X, y, classes=np.unique(y))
        assert _structure(ours, n_train) == _structure(theirs, n_train)


def test_loss_curve_is_the_training_loss_and_starts_anew_with_a_new_model(clf_data):
    X, y = clf_data
    est = CLRClassifier(**TINY, random_state=0).fit(X, y)
    assert est.loss_curve_ == est.history_["loss"] and all(type(v) is float for v in est.loss_curve_)
    assert (est.n_iter_, est.t_, est.best_loss_) == (2, 2 * len(y), min(est.history_["loss"]))
    assert est.validation_scores_ is None and est.best_validation_score_ is None
    est.fit(X, y)  # warm_start=False: a new model
    assert len(est.loss_curve_) == 2 and est.t_ == 2 * len(y)


@pytest.mark.parametrize("cls", [CLRClassifier, CLRRegressor])
def test_early_stopping_off_ignores_tol_and_n_iter_no_change(clf_data, cls):
    """Off by default: every epoch runs and the result is that of the defaults, bit for bit."""
    X, y = clf_data
    y = y.astype(float) if cls is CLRRegressor else y
    default = cls(**{**TINY, "epochs": 4}, random_state=0).fit(X, y)
    other = cls(**{**TINY, "epochs": 4}, random_state=0, tol=10.0, n_iter_no_change=1, validation_fraction=0.5)
    other.fit(X, y)
    assert other.n_iter_ == 4
    np.testing.assert_array_equal(default.predict(X), other.predict(X))


def test_a_returned_early_epoch_is_not_reported_as_a_collapse(monkeypatch, reg_data):
    """The loss keeps falling after the best validation epoch; the model returned is that early epoch's,
    judged against the epochs up to it, not against the later ones it was chosen over."""
    from skclr import FailedTrainingWarning

    X, y = reg_data
    _scripted(monkeypatch, CLRRegressor, [0.9] + [0.1] * 11)
    est = CLRRegressor(
        hidden_layer_sizes=(32,), dropout=0.0, batch_size=8, epochs=12, learning_rate=1e-3, weight_decay=0,
        early_stopping=True, n_iter_no_change=20, random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", FailedTrainingWarning)
        est.fit(X, y)
    first, last = est.loss_curve_[0], est.loss_curve_[-1]
    assert last < 0.2 * first  # far below the first epoch's: judged against it, the return would be a collapse


def test_a_dataframe_with_text_labels_is_split_and_scored_as_given(four_class_df):
    X, y = four_class_df
    est = CLRClassifier(**TINY, early_stopping=True, validation_fraction=0.2, random_state=1).fit(X, y)
    _, X_val, _, y_val = train_test_split(X, y, test_size=0.2, stratify=y, random_state=1)
    assert list(est.feature_names_in_) == list(X.columns) and list(est.classes_) == sorted(set(y))
    assert est.score(X_val, y_val) == est.best_validation_score_ == max(est.validation_scores_)
