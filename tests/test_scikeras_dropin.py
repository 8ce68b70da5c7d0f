"""scikeras's documented usage patterns work unchanged with CLRClassifier / CLRRegressor."""

import inspect

import keras
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import FunctionTransformer

from skclr import CLRClassifier, CLRRegressor, LRFinder


def dynamic_classifier(meta, compile_kwargs, hidden_layer_sizes=(10,)):
    """scikeras's documented dynamic builder: the output and the fallback loss follow the target."""
    inputs = keras.Input((meta["n_features_in_"],))
    x = inputs
    for units in hidden_layer_sizes:
        x = keras.layers.Dense(units, activation="relu")(x)
    if meta["target_type_"] == "binary":
        outputs, loss = keras.layers.Dense(1, activation="sigmoid")(x), "binary_crossentropy"
    else:
        outputs = keras.layers.Dense(meta["n_classes_"], activation="softmax")(x)
        loss = "sparse_categorical_crossentropy"
    model = keras.Model(inputs, outputs, name="dynamic")
    model.compile(loss=compile_kwargs["loss"] or loss, optimizer=compile_kwargs["optimizer"])
    return model


def hidden_units(model) -> list[int]:
    return [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)][:-1]


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(n_samples=64, n_features=5, random_state=0)
    return X.astype("float32"), y


def test_the_builder_is_the_first_positional_argument(binary):
    X, y = binary
    clf = CLRClassifier(dynamic_classifier, loss="binary_crossentropy", epochs=1)
    assert clf.get_params()["model"] is dynamic_classifier
    assert clone(clf).get_params() == clf.get_params()
    clf.fit(X, y)
    assert clf.model_.name == "dynamic"
    assert clf.predict(X).shape == y.shape


@pytest.mark.parametrize("cls", [CLRClassifier, CLRRegressor])
def test_model_is_the_only_positional_parameter(cls):
    kinds = [p.kind for p in inspect.signature(cls).parameters.values()]
    assert kinds[0] is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert list(inspect.signature(cls).parameters)[0] == "model"
    with pytest.raises(TypeError):
        cls(None, (8,))


def test_loss_none_reaches_a_builder_and_defaults_only_the_reference_network(binary):
    X, y = binary  # binary: the builder's sigmoid output needs its binary cross-entropy, not ours
    seen = {}

    def builder(meta, compile_kwargs):
        seen.update(compile_kwargs)
        return dynamic_classifier(meta, compile_kwargs)

    clf = CLRClassifier(builder, epochs=1).fit(X, y)
    assert seen["loss"] is None
    assert clf.model_.loss == "binary_crossentropy"
    assert clf.predict_proba(X).shape == (len(X), 2)
    assert CLRClassifier(hidden_layer_sizes=(4,), epochs=1).fit(X, y).model_.loss == "sparse_categorical_crossentropy"
    assert CLRRegressor(hidden_layer_sizes=(4,), epochs=1).fit(X, y.astype(float)).model_.loss == "mse"


def test_an_uncompiled_model_without_a_loss_gets_scikeras_error(binary):
    X, y = binary

    def uncompiled(meta):
        inputs = keras.Input((meta["n_features_in_"],))
        return keras.Model(inputs, keras.layers.Dense(meta["n_classes_"], activation="softmax")(inputs))

    with pytest.raises(ValueError, match="You must provide a loss or a compiled model"):
        CLRClassifier(uncompiled, epochs=1).fit(X, y)


class SubclassedClassifier(CLRClassifier):
    """scikeras's subclassing route: the network comes from ``_keras_build_fn``, its settings are parameters."""

    def __init__(self, model=None, *, units=3, **kwargs):
        super().__init__(model, **kwargs)
        self.units = units

    def _keras_build_fn(self, compile_kwargs):
        inputs = keras.Input((self.n_features_in_,))
        hidden = keras.layers.Dense(self.units, activation="relu")(inputs)
        model = keras.Model(inputs, keras.layers.Dense(self.n_classes_, activation="softmax")(hidden))
        model.compile(loss="sparse_categorical_crossentropy", optimizer=compile_kwargs["optimizer"])
        return model


def test_a_subclass_keras_build_fn_builds_the_network(binary):
    X, y = binary
    clf = SubclassedClassifier(units=3, epochs=1, schedule="triangular")
    clf.set_params(units=5).fit(X, y)
    assert hidden_units(clf.model_) == [5]
    assert len(clf.history_["lr"]) == 1
    with pytest.raises(ValueError, match="cannot implement ``_keras_build_fn`` if using the `model` parameter"):
        SubclassedClassifier(dynamic_classifier, epochs=1).fit(X, y)


def test_reference_network_settings_reach_a_builder_that_names_them(binary):
    X, y = binary
    clf = CLRClassifier(dynamic_classifier, hidden_layer_sizes=(7,), epochs=1).fit(X, y)
    assert hidden_units(clf.model_) == [7]
    routed = CLRClassifier(dynamic_classifier, hidden_layer_sizes=(7,), model__hidden_layer_sizes=(3,), epochs=1)
    assert hidden_units(routed.fit(X, y).model_) == [3]  # scikeras's precedence: model__* over a plain keyword


def test_a_builder_takes_its_own_kind_of_value_unchecked(binary):
    X, y = binary

    def named_widths(meta, compile_kwargs, hidden_layer_sizes):
        widths = {"narrow": (2,), "wide": (9, 9)}[hidden_layer_sizes]
        return dynamic_classifier(meta, compile_kwargs, hidden_layer_sizes=widths)

    clf = CLRClassifier(named_widths, hidden_layer_sizes="wide", negative_slope=-1.0, epochs=1)
    with pytest.raises(ValueError, match="negative_slope"):  # named_widths takes no negative_slope
        clf.fit(X, y)
    assert hidden_units(clf.set_params(negative_slope=None).fit(X, y).model_) == [9, 9]
    with pytest.raises(ValueError, match="hidden_layer_sizes"):  # the reference network checks its own
        CLRClassifier(hidden_layer_sizes="wide", epochs=1).fit(X, y)


@pytest.mark.parametrize("setting", [{"dropout": 0.5}, {"hidden_layer_sizes": (7,)}, {"negative_slope": 0.2}])
def test_a_reference_network_setting_the_model_ignores_is_refused_before_training(binary, setting):
    X, y = binary
    inputs = keras.Input((X.shape[1],))
    prebuilt = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))
    prebuilt.compile(loss="sparse_categorical_crossentropy", optimizer="adam")

    def fixed(meta, compile_kwargs):
        return dynamic_classifier(meta, compile_kwargs)

    name = next(iter(setting))
    for model in (fixed, prebuilt):
        clf = CLRClassifier(model, epochs=1, **setting)
        with pytest.raises(ValueError, match=f"{name}=.* takes no '{name}' parameter"):
            clf.fit(X, y)
        assert not hasattr(clf, "model_")


def test_builder_keywords_without_a_builder_are_refused_by_name(binary):
    X, y = binary
    for params in ({"hidden_dim": 5}, {"model__hidden_dim": 5}):
        with pytest.raises(ValueError, match=f"'{next(iter(params))}' is a parameter for a model builder"):
            CLRClassifier(epochs=1, **params).fit(X, y)


def test_a_builder_model_takes_x_with_more_than_two_dimensions():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 4, 3)).astype("float32")  # 40 sequences of 4 steps, 3 channels
    y = (X[:, :, 0].sum(axis=1) > 0).astype(int)

    def sequence_model(meta, compile_kwargs):
        inputs = keras.Input(meta["X_shape_"][1:])
        outputs = keras.layers.Dense(meta["n_classes_"], activation="softmax")(keras.layers.Flatten()(inputs))
        model = keras.Model(inputs, outputs)
        model.compile(loss="sparse_categorical_crossentropy", optimizer=compile_kwargs["optimizer"])
        return model

    clf = CLRClassifier(model=sequence_model, epochs=1, schedule="one_cycle", lr_finder=True).fit(X, y)
    assert clf.predict_proba(X).shape == (40, 2)
    assert clf.predict(X[:1]).shape == (1,)
    assert clf.max_lr_ == clf.lr_finder_.clr_bounds()[1]  # the range test ran on the 3-D data
    with pytest.raises(ValueError, match="Found array with dim 3"):  # the reference network is a stack of Dense
        CLRClassifier(epochs=1).fit(X, y)


@pytest.mark.parametrize("compiled", [True, False])
def test_a_list_of_no_loss_gets_scikeras_message(binary, compiled):
    X, y = binary

    def builder(meta, compile_kwargs):
        inputs = keras.Input((meta["n_features_in_"],))
        model = keras.Model(inputs, keras.layers.Dense(meta["n_classes_"], activation="softmax")(inputs))
        if compiled:
            model.compile(**compile_kwargs)
        return model

    with pytest.raises(ValueError, match="No valid loss function found"):
        CLRClassifier(model=builder, loss=[None], epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="No valid loss function found"):
        CLRClassifier(hidden_layer_sizes=(4,), loss=[None], epochs=1).fit(X, y)


def test_schedules_and_the_range_test_drive_a_dynamic_builder_in_a_grid_search(binary):
    X, y = binary
    clf = CLRClassifier(
        model=dynamic_classifier, schedule="one_cycle", lr_finder=LRFinder(num_iter=20, n_sweeps=1),
        epochs=2, batch_size=16, random_state=0,
    )  # fmt: skip
    one_split = [(np.arange(0, 64, 2), np.arange(1, 64, 2))]
    search = GridSearchCV(clf, {"hidden_layer_sizes": [(3,), (6,)]}, cv=one_split).fit(X, y)
    best = search.best_estimator_
    assert hidden_units(best.model_) == list(search.best_params_["hidden_layer_sizes"])
    assert best.model_.loss == "binary_crossentropy"
    assert len(best.history_["lr"]) == 2
    assert best.history_["lr"][-1] < best.max_lr_ / 25 < max(best.history_["lr"]) <= best.max_lr_  # one cycle ran
    assert best.max_lr_ == best.lr_finder_.clr_bounds()[1]


def test_a_builder_parameter_named_like_a_schedule_setting_is_refused_unless_routed(binary):
    X, y = binary
    seen = {}

    def focal(meta, compile_kwargs, gamma=2.0):  # gamma: also the name of the "exponential" schedule's factor
        seen["gamma"] = gamma
        return dynamic_classifier(meta, compile_kwargs)

    with pytest.raises(ValueError, match="model__gamma"):
        CLRClassifier(model=focal, gamma=0.5, epochs=1).fit(X, y)
    assert seen == {}
    CLRClassifier(model=focal, gamma=0.5, model__gamma=3.0, schedule="exponential", epochs=1).fit(X, y)
    assert seen == {"gamma": 3.0}
    CLRClassifier(model=focal, epochs=1).fit(X, y)  # nothing set: the builder's own default
    assert seen == {"gamma": 2.0}


class TwoInputClassifier(CLRClassifier):
    """scikeras's multi-input route: a feature encoder splits X into the model's inputs."""

    @property
    def feature_encoder(self):
        return FunctionTransformer(lambda X: [X[:, :2], X[:, 2:]])


def two_inputs(meta, compile_kwargs):
    first, second = keras.Input((2,)), keras.Input((meta["n_features_in_"] - 2,))
    joined = keras.layers.Concatenate()([first, second])
    model = keras.Model([first, second], keras.layers.Dense(meta["n_classes_"], activation="softmax")(joined))
    model.compile(loss="sparse_categorical_crossentropy", optimizer=compile_kwargs["optimizer"])
    return model


def test_a_multi_input_model_trains_with_the_range_test_and_a_held_out_split(binary):
    X, y = binary
    clf = TwoInputClassifier(
        model=two_inputs, schedule="one_cycle", lr_finder=LRFinder(num_iter=20, n_sweeps=1), validation_split=0.25,
        epochs=2, batch_size=16,
    )  # fmt: skip
    clf.fit(X, y)
    assert len(clf.history_["val_loss"]) == 2
    assert clf.max_lr_ == clf.lr_finder_.clr_bounds()[1]
    assert clf.predict_proba(X).shape == (len(X), 2)


class TwoOutputRegressor(CLRRegressor):
    """scikeras's multi-output route: a target encoder splits y into the model's outputs."""

    @property
    def target_encoder(self):
        return FunctionTransformer(lambda y: [y[:, 0], y[:, 1]], inverse_func=np.column_stack)


def two_outputs(meta, compile_kwargs):
    inputs = keras.Input((meta["n_features_in_"],))
    model = keras.Model(inputs, [keras.layers.Dense(1)(inputs), keras.layers.Dense(1)(inputs)])
    model.compile(loss="mse", optimizer=compile_kwargs["optimizer"])
    return model


@pytest.mark.parametrize("validation_split", [0.0, 0.25])
def test_a_multi_output_model_trains_on_a_list_of_targets(binary, validation_split):
    X, _ = binary
    y = np.column_stack([X[:, 0], -X[:, 1]])
    reg = TwoOutputRegressor(two_outputs, schedule="triangular", validation_split=validation_split, epochs=2)
    reg.fit(X, y)  # the start loss and the constant-prediction check take the list's rows, not its items
    assert len(reg.history_["loss"]) == 2
    outputs = reg.model_.predict(X, verbose=0)
    np.testing.assert_allclose(reg.predict(X), np.column_stack(outputs), rtol=1e-5)  # the user's encoder: no scaling


def test_a_multi_output_model_predicts_each_output_in_chunks(binary, monkeypatch):
    from skclr import _scikeras

    X, _ = binary
    reg = TwoOutputRegressor(two_outputs, epochs=1).fit(X, np.column_stack([X[:, 0], -X[:, 1]]))
    whole = reg.predict(X)
    monkeypatch.setattr(_scikeras, "PREDICT_CHUNK", 7)
    np.testing.assert_allclose(reg.predict(X), whole, rtol=1e-6)


def test_initialize_uses_a_pretrained_regressor_as_given(binary):
    X, _ = binary
    y = 50 + 10 * X[:, 0]  # far from unit scale: a fitted standardization would move the predictions
    inputs = keras.Input((X.shape[1],))
    pretrained = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    pretrained.compile(loss="mse", optimizer="sgd")
    expected = keras.ops.convert_to_numpy(pretrained(X)).ravel()
    reg = CLRRegressor(pretrained).initialize(X, y)
    np.testing.assert_allclose(reg.predict(X), expected, rtol=1e-6)
    reg.partial_fit(X, y)  # continued training stays on the model's own scale
    assert reg.target_mean_.tolist() == [0.0] and reg.target_scale_.tolist() == [1.0]


def test_a_target_with_other_columns_gets_scikeras_message(binary):
    X, _ = binary
    reg = CLRRegressor(hidden_layer_sizes=(4,), epochs=1).fit(X, X[:, :1])
    with pytest.raises(ValueError, match=r"Detected ``y`` to have 2 outputs with ``y.shape = \(64, 2\)``"):
        reg.partial_fit(X, X[:, :2])


class PerRowLoss(keras.losses.Loss):
    """A loss whose ``__call__`` returns one value per row: Keras trains with it (the gradient of their sum)
    and records their mean as the epoch's loss."""

    def __call__(self, y_true, y_pred, sample_weight=None):
        return keras.losses.binary_crossentropy(y_true, y_pred)


@pytest.mark.tensorflow_only(reason="Keras's JAX backend differentiates only a scalar loss: skclr refuses it")
def test_a_loss_of_one_value_per_row_is_measured_as_keras_records_it(binary):
    from skclr._monitor import inference_loss

    X, y = binary[0], binary[1][:, None].astype("float32")
    model = dynamic_classifier({"n_features_in_": 5, "target_type_": "binary"}, {"loss": PerRowLoss(), "optimizer": "sgd"})
    rows = keras.ops.convert_to_numpy(PerRowLoss()(y, model(X)))
    assert rows.shape == (len(X),)
    assert inference_loss(model, X, y) == pytest.approx(rows.mean(), rel=1e-6)
    # Keras's own history records the mean (an SGD step at rate 0 leaves the weights)
    model.optimizer.learning_rate = 0.0
    recorded = model.fit(X, y, batch_size=len(X), epochs=1, verbose=0).history["loss"][0]
    assert recorded == pytest.approx(rows.mean(), rel=1e-6)


@pytest.mark.tensorflow_only(reason="Keras's JAX backend differentiates only a scalar loss: skclr refuses it")
@pytest.mark.parametrize("lr_finder", [False, True])
def test_a_routed_loss_class_of_one_value_per_row_trains_with_the_checks_and_the_range_test(binary, lr_finder):
    X, y = binary
    clf = CLRClassifier(dynamic_classifier, loss=PerRowLoss, epochs=2, batch_size=20, lr_finder=lr_finder,
                        random_state=0).fit(X, y)  # fmt: skip
    assert isinstance(clf.model_.loss, PerRowLoss) and len(clf.history_["loss"]) == 2
    if lr_finder:
        assert clf.lr_finder_.losses_.ndim == 1 and np.isfinite(clf.lr_finder_.losses_).all()


@pytest.mark.jax_only(reason="Keras's TensorFlow backend trains with such a loss")
@pytest.mark.parametrize(
    "loss, lr_finder",
    [(PerRowLoss, False), (PerRowLoss, True), (keras.losses.BinaryCrossentropy(reduction=None), False)],
)
def test_on_jax_a_loss_of_one_value_per_row_is_refused_before_training(binary, loss, lr_finder):
    X, y = binary
    clf = CLRClassifier(dynamic_classifier, loss=loss, epochs=2, batch_size=20, lr_finder=lr_finder)
    with pytest.raises(TypeError, match="one value per row .*KERAS_BACKEND=tensorflow"):
        clf.fit(X, y)
    assert not hasattr(clf, "history_") and not hasattr(clf, "lr_finder_")


def test_build_fn_is_used_as_model_with_scikeras_warning(binary):
    X, y = binary
    clf = CLRClassifier(build_fn=dynamic_classifier, model__hidden_layer_sizes=(3,), epochs=1)
    assert clone(clf).get_params()["build_fn"] is dynamic_classifier
    with pytest.warns(UserWarning, match="``build_fn`` will be renamed to ``model``") as caught:
        clf.fit(X, y)
    assert [w.filename for w in caught if "build_fn" in str(w.message)] == [__file__]  # once, at the user's line
    assert clf.model_.name == "dynamic" and hidden_units(clf.model_) == [3]
    with pytest.raises(ValueError, match="build_fn='dynamic_classifier' takes no 'dropout'"):
        CLRClassifier(build_fn=dynamic_classifier, dropout=0.5).fit(X, y)
    with pytest.raises(TypeError, match="``build_fn`` must be a callable"):
        CLRClassifier(build_fn="dense").fit(X, y)
