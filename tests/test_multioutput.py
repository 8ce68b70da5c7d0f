"""Multilabel, one-hot and multiclass-multioutput targets: as MLPClassifier and scikeras take them."""

import keras
import numpy as np
import pytest
from conftest import TINY
from sklearn.metrics import accuracy_score
from sklearn.multioutput import ClassifierChain, MultiOutputClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.utils.class_weight import compute_sample_weight

from skclr import CLRClassifier, DivergenceError, FailedTrainingWarning

SEEDED = dict(TINY, random_state=0)


@pytest.fixture(scope="module")
def data():
    """60 rows, 4 features; three labels that depend on the features, and a class per row."""
    rng = np.random.RandomState(0)
    X = rng.randn(60, 4).astype("float32")
    labels = (X[:, :3] + 0.3 * rng.randn(60, 3) > 0).astype(int)
    classes = np.argmax(X[:, :3], axis=1)
    return X, labels, classes


def _output_layers(model):
    return [layer for output in model.outputs for layer in model.layers if layer.output is output]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_multilabel_is_mlps_one_sigmoid_per_label(data):
    X, Y, _ = data
    clf = CLRClassifier(**SEEDED).fit(X, Y)
    mlp = MLPClassifier(hidden_layer_sizes=(8,), max_iter=2).fit(X, Y)
    assert clf.model_.loss == "binary_crossentropy"
    assert [layer.activation.__name__ for layer in _output_layers(clf.model_)] == ["sigmoid"]
    np.testing.assert_array_equal(clf.classes_, mlp.classes_)
    pred, proba = clf.predict(X), clf.predict_proba(X)
    assert pred.shape == mlp.predict(X).shape == (60, 3) and pred.dtype == mlp.predict(X).dtype
    assert proba.shape == mlp.predict_proba(X).shape == (60, 3)
    assert not np.allclose(proba.sum(axis=1), 1.0)  # independent labels, not a softmax
    np.testing.assert_array_equal(pred, (proba > 0.5).astype(int))
    assert clf.score(X, Y) == accuracy_score(Y, pred)  # subset accuracy
    assert clf.predict_proba(X[:1]).shape == (1, 3)
    assert clf.__sklearn_tags__().classifier_tags.multi_label


def test_multilabel_score_is_subset_accuracy_with_weights(data):
    X, Y, _ = data
    clf = CLRClassifier(**SEEDED).fit(X, Y)
    weights = np.linspace(0, 1, 60)
    exact = np.all(clf.predict(X) == Y, axis=1)
    assert clf.score(X, Y, sample_weight=weights) == pytest.approx(np.average(exact, weights=weights))


def test_one_hot_y_trains_a_softmax_with_categorical_cross_entropy(data):
    X, _, classes = data
    onehot = np.eye(3, dtype=int)[classes]
    clf = CLRClassifier(**SEEDED).fit(X, onehot)
    assert clf.model_.loss == "categorical_crossentropy"
    assert _output_layers(clf.model_)[0].activation.__name__ == "softmax"
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    pred = clf.predict(X)
    assert pred.shape == (60, 3) and (pred.sum(axis=1) == 1).all()
    np.testing.assert_array_equal(np.argmax(pred, axis=1), np.argmax(proba, axis=1))


def test_class_weight_of_one_hot_y_weights_each_class(data):
    # scikeras would weight one-hot columns as separate binary outputs; a class's weight is its own here
    X, _, classes = data
    onehot = np.eye(3, dtype=int)[classes]
    class_weight = {0: 1.0, 1: 3.0, 2: 0.5}
    weighted = CLRClassifier(**SEEDED, class_weight=class_weight).fit(X, onehot)
    by_hand = CLRClassifier(**SEEDED).fit(X, onehot, sample_weight=compute_sample_weight(class_weight, classes))
    np.testing.assert_array_equal(weighted.predict_proba(X), by_hand.predict_proba(X))


def test_class_weight_of_multilabel_y_is_scikit_learns_multi_output_rule(data):
    X, Y, _ = data
    per_label = [{0: 1.0, 1: 2.0}] * 3
    weighted = CLRClassifier(**SEEDED, class_weight=per_label).fit(X, Y)
    by_hand = CLRClassifier(**SEEDED).fit(X, Y, sample_weight=compute_sample_weight(per_label, Y))
    np.testing.assert_array_equal(weighted.predict_proba(X), by_hand.predict_proba(X))
    with pytest.raises(ValueError, match="class_weight should be a list of dicts"):
        CLRClassifier(**SEEDED, class_weight={0: 1.0, 1: 2.0}).fit(X, Y)


def test_multiclass_multioutput_gets_one_softmax_head_per_column(data):
    X, Y, classes = data
    y = np.column_stack([np.array(["ant", "bee", "cat"])[classes], np.where(Y[:, 0] == 1, "yes", "no")])
    clf = CLRClassifier(**SEEDED, schedule="one_cycle", lr_finder=True).fit(X, y)
    assert [layer.units for layer in _output_layers(clf.model_)] == [3, 2]
    assert list(clf.model_.loss) == ["sparse_categorical_crossentropy"] * 2
    assert clf.n_outputs_expected_ == 2 and clf.n_classes_ == [3, 2]
    np.testing.assert_array_equal(clf.classes_[0], ["ant", "bee", "cat"])
    np.testing.assert_array_equal(clf.classes_[1], ["no", "yes"])
    pred = clf.predict(X)
    assert pred.shape == y.shape and set(pred[:, 1]) <= {"no", "yes"}
    proba = clf.predict_proba(X)
    assert [p.shape for p in proba] == [(60, 3), (60, 2)]
    for column, p in enumerate(proba):
        np.testing.assert_array_equal(pred[:, column], clf.classes_[column][np.argmax(p, axis=1)])
    assert clf.score(X, y) == pytest.approx(np.mean(np.all(pred == y, axis=1)))


def test_multiclass_multioutput_needs_two_classes_per_column(data):
    X, _, classes = data
    y = np.column_stack([classes, np.zeros(60, dtype=int) + 2])
    with pytest.raises(ValueError, match="column 1 has 1 class"):
        CLRClassifier(**SEEDED).fit(X, y)


def _two_heads(meta, compile_kwargs):
    inputs = keras.Input((meta["n_features_in_"],))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    outputs = [keras.layers.Dense(n, activation="softmax")(hidden) for n in meta["n_classes_"]]
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=compile_kwargs["optimizer"], loss=["sparse_categorical_crossentropy"] * len(outputs))
    return model


def test_builder_with_two_outputs_trains_on_a_multiclass_multioutput_y(data):
    X, Y, classes = data
    y = np.column_stack([classes, Y[:, 0]])
    clf = CLRClassifier(_two_heads, epochs=2, random_state=0, schedule="triangular", lr_finder=True).fit(X, y)
    assert clf.n_outputs_expected_ == 2 and len(clf.model_.outputs) == 2
    assert clf.predict(X).shape == (60, 2)
    assert len(clf.history_["lr"]) == 2


class _SplitLabels(CLRClassifier):
    """scikeras's pattern for a model with one output per label: a target encoder that splits y."""

    @property
    def target_encoder(self):
        return _Split()


class _Split:
    def fit(self, y):
        self.n_outputs_expected_ = y.shape[1]
        return self

    def transform(self, y):
        return [column.astype("float32") for column in np.split(y, y.shape[1], axis=1)]

    def inverse_transform(self, y, return_proba=False):
        proba = np.column_stack(y)
        return proba if return_proba else (proba > 0.5).astype(int)

    def get_metadata(self):
        return {"n_outputs_expected_": self.n_outputs_expected_}


def _sigmoid_per_label(meta, compile_kwargs):
    inputs = keras.Input((meta["n_features_in_"],))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    outputs = [keras.layers.Dense(1, activation="sigmoid")(hidden) for _ in range(meta["n_outputs_expected_"])]
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=compile_kwargs["optimizer"], loss="binary_crossentropy")
    return model


def test_builder_with_a_list_of_targets_from_its_own_encoder(data):
    X, Y, _ = data
    clf = _SplitLabels(_sigmoid_per_label, epochs=2, random_state=0, lr_finder=True, schedule="one_cycle")
    clf.fit(X, Y, sample_weight=np.linspace(0.5, 1, 60))
    assert clf.predict(X).shape == (60, 3) and clf.predict_proba(X).shape == (60, 3)
    assert clf.lr_finder_.suggestion_ > 0
    assert clf.score(X, Y) == accuracy_score(Y, clf.predict(X))


def test_multioutput_classifier_and_classifier_chain_wrap_it(data):
    X, Y, classes = data
    wrapped = MultiOutputClassifier(CLRClassifier(**SEEDED)).fit(X, Y)
    assert wrapped.predict(X).shape == (60, 3)
    assert [p.shape for p in wrapped.predict_proba(X)] == [(60, 2)] * 3
    # on a multiclass-multioutput y, CLRClassifier answers in MultiOutputClassifier's formats
    y = np.column_stack([np.array(["ant", "bee", "cat"])[classes], Y[:, 0].astype(str)])
    per_column = MultiOutputClassifier(CLRClassifier(**SEEDED)).fit(X, y)
    native = CLRClassifier(**SEEDED).fit(X, y)
    assert native.predict(X).shape == per_column.predict(X).shape and native.predict(X).dtype == per_column.predict(X).dtype
    assert [p.shape for p in native.predict_proba(X)] == [p.shape for p in per_column.predict_proba(X)]
    for ours, theirs in zip(native.classes_, per_column.classes_):
        np.testing.assert_array_equal(ours, theirs)
    chain = ClassifierChain(CLRClassifier(**SEEDED), order=[2, 0, 1]).fit(X, Y)
    assert chain.predict(X).shape == (60, 3)
    assert chain.predict_proba(X).shape == (60, 3)
    # the chain's second link sees the first label as a feature
    assert chain.estimators_[1].n_features_in_ == 5


def test_range_test_on_multilabel_runs_on_binary_cross_entropy(data):
    X, Y, _ = data
    finder = CLRClassifier(**SEEDED).find_lr(X, Y)
    assert np.isfinite(finder.losses_).all() and finder.suggestion_ > 0
    # the sweep's first loss is the untrained network's binary cross-entropy on its first batch
    model = CLRClassifier(**SEEDED).initialize(X, Y).model_
    first = keras.losses.binary_crossentropy(Y[:16].astype("float32"), model(X[:16], training=True))
    assert finder.losses_[0] == pytest.approx(float(np.mean(first)), rel=0.5)
    clf = CLRClassifier(**SEEDED, schedule="one_cycle", lr_finder=True).fit(X, Y)
    assert clf.max_lr_ > 0 and len(clf.history_["lr"]) == 2


def test_no_better_than_the_label_prior_is_reported(data):
    # X carries nothing about these labels: the constant to beat is each label's share of the rows
    X, _, _ = data
    noise = (np.random.RandomState(1).rand(60, 3) > 0.5).astype(int)
    with pytest.warns(FailedTrainingWarning, match="no better than predicting each label's share of the rows"):
        CLRClassifier(**SEEDED).fit(X, noise)


def test_multiclass_multioutput_fit_skips_the_constant_rule_without_error(data):
    X, Y, classes = data
    y = np.column_stack([classes, Y[:, 1]])
    clf = CLRClassifier(**SEEDED).fit(X, y, sample_weight=np.ones(60))
    assert clf.predict(X).shape == (60, 2)


@pytest.mark.parametrize("target", ["multilabel", "multiclass-multioutput"])
def test_a_diverging_fit_on_a_2d_y_raises(data, target):
    X, Y, classes = data
    y = Y if target == "multilabel" else np.column_stack([classes, Y[:, 1]])
    with pytest.raises(DivergenceError):
        CLRClassifier(**SEEDED, learning_rate=1e6).fit(X, y)


def test_no_better_than_the_class_prior_of_one_hot_y_is_reported(data):
    X, _, _ = data
    noise = np.eye(3, dtype=int)[np.random.RandomState(1).randint(0, 3, 60)]
    with pytest.warns(FailedTrainingWarning, match="no better than predicting the class prior"):
        CLRClassifier(**SEEDED, learning_rate=1e-7).fit(X, noise)


def test_early_stopping_scores_a_multiclass_multioutput_y_by_subset_accuracy(data):
    X, Y, classes = data
    y = np.column_stack([classes, Y[:, 0]])
    clf = CLRClassifier(**SEEDED, early_stopping=True, validation_fraction=0.25).fit(X, y)
    assert len(clf.validation_scores_) == 2 and 0.0 <= clf.best_validation_score_ <= 1.0


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.DataConversionWarning")  # the one-column y
@pytest.mark.parametrize(
    "first, then, fitted_on",
    [
        ("column", "two_columns", "one target"),  # scikeras's case; skclr flattens the first y
        ("labels", "one_more_label", "a y of 3 columns"),  # scikeras hands this one to Keras
        ("labels", "one_label_less", "a y of 3 columns"),
        ("one_hot", "one_more_label", "a y of 3 columns"),
        ("multioutput", "two_columns", "a y of 3 columns"),
    ],
)
def test_continuing_on_a_y_of_another_width_is_refused_before_training(data, first, then, fitted_on):
    X, Y, classes = data
    targets = {
        "column": classes.reshape(-1, 1), "labels": Y, "one_hot": np.eye(3, dtype=int)[classes],
        "multioutput": np.column_stack([classes, classes, 2 - classes]),
        "two_columns": np.column_stack([classes, classes]), "one_more_label": np.column_stack([Y, Y[:, 0]]),
        "one_label_less": Y[:, :2],
    }  # fmt: skip
    clf = CLRClassifier(**SEEDED).fit(X, targets[first])
    weights, n_iter, curve = [w.copy() for w in clf.model_.get_weights()], clf.n_iter_, list(clf.loss_curve_)
    message = rf"y has {targets[then].shape[1]} columns .* fitted on {fitted_on}.*: .*expecting \d features"
    with pytest.raises(ValueError, match=message):  # scikeras's "features", from its encoder
        clf.partial_fit(X, targets[then])
    with pytest.raises(ValueError, match=message):
        clf.set_params(warm_start=True).fit(X, targets[then])
    for before, after in zip(weights, clf.model_.get_weights()):
        np.testing.assert_array_equal(before, after)  # nothing trained
    assert clf.n_iter_ == n_iter and clf.loss_curve_ == curve
    clf.partial_fit(X, targets[first])  # the first fit's width goes on
    assert len(clf.loss_curve_) == len(curve) + 1
