"""Sharing compiled copies across fits (``skclr._shelf``) never changes a result.

A fit through the estimator runs on a shared copy only when the model is fully described by its
configuration and variables; whichever path it takes, it must train, sweep and report exactly as
the model itself does. Checked as a property over a catalogue of model kinds, each with the path
it is expected to take (so the shared path is exercised too, not only refused).
"""

import keras
import numpy as np
import pytest
from sklearn.preprocessing import FunctionTransformer

from skclr import CLRClassifier, LRFinder, _shelf
from skclr._runner import Runner, validation_batches
from skclr._sweep import Scratch

ON_JAX = keras.backend.backend() == "jax"

rng = np.random.default_rng(0)
# the data: features far from zero mean and unit variance, which an adapted Normalization fixes
X = (rng.normal(size=(64, 4)) * 10 + 3).astype("float32")
y = (X[:, 0] > 3).astype(int)


@keras.saving.register_keras_serializable(package="skclr_tests")
class Scaled(keras.layers.Layer):
    """Multiplies by ``factor``: a registered custom layer."""

    def __init__(self, factor=1.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor


class TwoInputClassifier(CLRClassifier):
    """scikeras's multi-input route: a feature encoder splits X into the model's inputs."""

    @property
    def feature_encoder(self):
        return FunctionTransformer(lambda X: [X[:, :2], X[:, 2:]])


def compiled(model: keras.Model) -> keras.Model:
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def sequential(*layers) -> keras.Model:
    output = keras.layers.Dense(2, activation="softmax")
    return compiled(keras.Sequential([keras.Input((4,)), *layers, output]))


def reference_style(meta):
    return sequential(keras.layers.Dense(8), keras.layers.LeakyReLU(0.1), keras.layers.Dropout(0.2))


def adapted_normalization(meta):
    norm = keras.layers.Normalization()
    norm.adapt(X)  # the adapted mean and variance are not what a copy rebuilt from the configuration has
    return sequential(norm, keras.layers.Dense(8, activation="relu"))


def adapted_discretization(meta):
    bins = keras.layers.Discretization(num_bins=4, output_mode="one_hot")
    bins.adapt(X)
    return sequential(bins, keras.layers.Flatten(), keras.layers.Dense(8, activation="relu"))


def nested_custom_layer(meta):
    scaled = Scaled()
    scaled.factor = 10.0  # a setting outside the layer's configuration (which says factor=1.0)
    inner = keras.Sequential([keras.layers.Dense(8, activation="relu"), scaled])
    return sequential(inner)


def nested_keras_layers(meta):
    inner = keras.Sequential([keras.layers.Dense(8), keras.layers.ReLU(), keras.layers.GaussianNoise(0.1)])
    return sequential(inner, keras.layers.Dropout(0.1))


def batch_normalization(meta):
    return sequential(keras.layers.Dense(8), keras.layers.BatchNormalization(), keras.layers.ELU())


def lambda_layer(meta):
    return sequential(keras.layers.Lambda(lambda x: x / 10.0), keras.layers.Dense(8, activation="relu"))


def jit_after_compile():
    """A model given as ``model=``, its ``jit_compile`` set after compile (not in its compile config)."""
    seeded = [keras.initializers.GlorotUniform(seed) for seed in (1, 2)]
    model = sequential(keras.layers.Dense(8, kernel_initializer=seeded[0]), keras.layers.LeakyReLU(0.1),
                       keras.layers.Dropout(0.2, seed=3))  # fmt: skip
    model.layers[-1].kernel.assign(seeded[1](model.layers[-1].kernel.shape))
    # the setting compile did not give: XLA on TensorFlow (off by default on CPU), none on JAX (on by default)
    model.jit_compile = ON_JAX is False
    assert model.jit_compile is not ON_JAX  # TF refuses XLA under op determinism: set it outside a fit
    return model


def functional_two_inputs(meta):
    first, second = keras.Input((2,)), keras.Input((2,))
    joined = keras.layers.Concatenate()([first, second])
    hidden = keras.layers.Dense(8, activation="relu")(joined)
    return compiled(keras.Model([first, second], keras.layers.Dense(2, activation="softmax")(hidden)))


# (the ``model`` parameter of each fit, estimator class, shared): whether the fit is expected to run on
# a shared copy
CATALOGUE = {
    "reference-style Sequential": (lambda: reference_style, CLRClassifier, True),
    "adapted Normalization": (lambda: adapted_normalization, CLRClassifier, False),
    "adapted Discretization": (lambda: adapted_discretization, CLRClassifier, False),
    "nested Sequential, custom layer": (lambda: nested_custom_layer, CLRClassifier, False),
    "nested Sequential, Keras layers": (lambda: nested_keras_layers, CLRClassifier, True),
    "BatchNormalization": (lambda: batch_normalization, CLRClassifier, True),
    "Lambda": (lambda: lambda_layer, CLRClassifier, False),
    # on TensorFlow a copy compiled in a seeded fit cannot have XLA (Keras refuses it under op
    # determinism): the model trains and sweeps itself; on JAX the copy has jit_compile=False as given
    "jit_compile after compile": (jit_after_compile, CLRClassifier, ON_JAX),
    "functional, two inputs": (lambda: functional_two_inputs, TwoInputClassifier, False),
}
SETTINGS = dict(epochs=2, batch_size=16, random_state=0)


def spy_on_paths(monkeypatch) -> dict:
    """Record, for each runner and sweep copy asked for, whether one was given (True) or the model ran
    itself (False)."""
    paths = {"train": [], "sweep": []}
    take_runner, take_scratch = Runner.take.__func__, Scratch.take.__func__

    def runner(cls, *args):
        taken = take_runner(cls, *args)
        paths["train"].append(taken is not None)
        return taken

    def scratch(cls, model):
        taken = take_scratch(cls, model)
        paths["sweep"].append(taken is not None)
        return taken

    monkeypatch.setattr(Runner, "take", classmethod(runner))
    monkeypatch.setattr(Scratch, "take", classmethod(scratch))
    return paths


def assert_same_fit(shared, own) -> None:
    for a, b in zip(shared.model_.get_weights(), own.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(shared.model_.optimizer.variables, own.model_.optimizer.variables, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
    assert shared.history_ == own.history_


@pytest.mark.parametrize("kind", list(CATALOGUE))
def test_a_fit_with_its_range_test_equals_the_fit_of_the_model_itself(kind, monkeypatch):
    model, estimator, shared_path = CATALOGUE[kind]
    # a shelved copy of the same architecture with another jit_compile would be refused: start empty
    _shelf.clear()
    params = dict(**SETTINGS, schedule="triangular", lr_finder=LRFinder(num_iter=30, n_sweeps=2))
    paths = spy_on_paths(monkeypatch)
    shared = estimator(model=model(), **params).fit(X, y)
    # The model itself: any callback of the user's makes the fit train the estimator's own model,
    # and a model the shelf refuses is swept in place.
    monkeypatch.setattr(_shelf, "shareable", lambda model: False)
    own = estimator(model=model(), **params, callbacks=[keras.callbacks.Callback()]).fit(X, y)
    np.testing.assert_array_equal(shared.lr_finder_.sweep_losses_, own.lr_finder_.sweep_losses_)
    assert (shared.base_lr_, shared.max_lr_) == (own.base_lr_, own.max_lr_)
    assert_same_fit(shared, own)
    assert paths == {"train": [shared_path], "sweep": [shared_path, False]}  # the path each fit took


def test_an_adapted_normalization_trains_with_its_adapted_statistics():
    # The reproduction: shared, it trained a copy without the adapted mean and variance
    # (accuracy 0.72 against 0.99 on 256 rows).
    rows = np.random.default_rng(0)
    X_big = (rows.normal(size=(256, 4)) * 10 + 3).astype("float32")
    y_big = (X_big[:, 0] > 3).astype(int)

    def build(meta):
        norm = keras.layers.Normalization()
        norm.adapt(X_big)
        return sequential(norm, keras.layers.Dense(8, activation="relu"))

    params = dict(model=build, epochs=5, batch_size=16, random_state=0, learning_rate=1e-2)
    fitted = CLRClassifier(**params).fit(X_big, y_big)
    own = CLRClassifier(**params, callbacks=[keras.callbacks.Callback()]).fit(X_big, y_big)
    assert_same_fit(fitted, own)
    assert fitted.score(X_big, y_big) > 0.95


@pytest.mark.parametrize(
    "build, expected",
    [
        (reference_style, True),
        (nested_keras_layers, True),
        (batch_normalization, True),
        (adapted_normalization, False),
        (adapted_discretization, False),
        (nested_custom_layer, False),
        (lambda_layer, False),
        (functional_two_inputs, False),
        (lambda meta: sequential(keras.layers.Dense(8, activation=lambda x: 2 * x)), False),
        (lambda meta: sequential(keras.layers.Dense(8, kernel_regularizer="l2")), True),
        (lambda meta: sequential(keras.layers.Dense(8, kernel_constraint=lambda w: w)), False),
    ],
    ids=["reference", "nested Keras", "BatchNormalization", "Normalization", "Discretization",
         "nested custom", "Lambda", "functional", "custom activation", "l2", "custom constraint"],
)  # fmt: skip
def test_only_models_described_by_their_configuration_and_variables_are_shareable(build, expected):
    assert _shelf.shareable(build(None)) is expected


def test_jit_compile_set_after_compile_is_part_of_the_training_key():
    from skclr._runner import training_key

    data = (X, y, None, None, False)
    plain, jitted = reference_style(None), jit_after_compile()
    assert training_key(plain, data) is not None and training_key(jitted, data) is not None
    assert training_key(plain, data) != training_key(jitted, data)


# ten steps of a 3- or 5-unit network may not lower the loss (as JAX draws its weights): not the point here
@pytest.mark.filterwarnings("ignore:The loss never fell during the range test")
def test_runners_and_sweep_copies_share_one_shelf_of_one_size(monkeypatch):
    monkeypatch.setattr(_shelf, "KEPT", 2)
    _shelf.clear()
    finder = LRFinder(num_iter=10, n_sweeps=1)
    CLRClassifier(hidden_layer_sizes=(3,), **{**SETTINGS, "epochs": 1}, lr_finder=finder).fit(X, y)
    first = _shelf.keys()
    assert len(_shelf.keys("train")) == len(_shelf.keys("sweep")) == 1  # a runner and a sweep copy
    CLRClassifier(hidden_layer_sizes=(5,), **{**SETTINGS, "epochs": 1}, lr_finder=finder).fit(X, y)
    assert len(_shelf.keys()) == 2 and not set(first) & set(_shelf.keys())  # the most recent two kept


def two_input_validation():
    X_val, y_val = X[:24] + 1, y[:24]
    return ([X_val[:, :2], X_val[:, 2:]], y_val)


def test_multi_input_validation_data_gives_the_validation_keras_computes(monkeypatch):
    import skclr._fit_run

    params = dict(model=functional_two_inputs, **SETTINGS)
    fit_args = dict(validation_data=two_input_validation(), validation_batch_size=7)  # a short last batch
    ours = TwoInputClassifier(**params).fit(X, y, **fit_args).history_
    # Keras's own pipeline
    monkeypatch.setattr(skclr._fit_run, "validation_batches", lambda data, batch_size: data)
    keras_own = TwoInputClassifier(**params).fit(X, y, **fit_args).history_
    assert len(ours["val_loss"]) == 2 and ours == keras_own


@pytest.mark.tensorflow_only(reason="on JAX validation arrays go to Keras's own array pipeline as given")
def test_validation_batches_keep_a_list_of_inputs_as_several_inputs():
    (first, second), y_val = two_input_validation()
    batches = list(validation_batches(([first, second], y_val), batch_size=16))
    assert len(batches) == 2
    (x0, x1), y0 = batches[0]
    np.testing.assert_array_equal(np.asarray(x0), first[:16])
    np.testing.assert_array_equal(np.asarray(x1), second[:16])
    np.testing.assert_array_equal(np.asarray(y0), y_val[:16])


# The kinds a runner trains with Keras's jitted steps on JAX (jit_compile=False runs them op by op).
STORED_KINDS = [kind for kind, (_, _, shared) in CATALOGUE.items() if shared and "jit_compile" not in kind]


def fit_two_shapes(kind: str, validation: bool = True, **extra):
    """A fit whose train (and test) steps each see two data shapes (a short last batch), sample weights on."""
    model, estimator, _ = CATALOGUE[kind]
    weights = np.linspace(0.5, 1.5, 40)
    fit_args = dict(validation_data=(X[40:], y[40:])) if validation else {}
    return estimator(model=model(), **SETTINGS, schedule="triangular", **extra).fit(
        X[:40], y[:40], sample_weight=weights, **fit_args
    )


@pytest.mark.jax_only(reason="JAX's compiled steps kept on disk (skclr.backend._jax.STEPS_DIR)")
@pytest.mark.parametrize("kind", STORED_KINDS)
def test_a_step_stored_on_disk_trains_as_the_model_itself(kind, tmp_path, monkeypatch):
    from skclr.backend import _jax

    own = fit_two_shapes(kind, callbacks=[keras.callbacks.Callback()])  # Keras's steps, the model itself
    monkeypatch.setattr(_jax, "STEPS_DIR", tmp_path)
    _shelf.clear()
    compiled = fit_two_shapes(kind)
    stored = {path: path.stat().st_ino for path in tmp_path.iterdir()}
    assert len(stored) == 4 and all(path.suffix == ".step" for path in stored)  # train, test: two shapes each

    def never(*args):
        raise AssertionError("a stored step was compiled again")

    monkeypatch.setattr(_jax.StoredStep, "_compile", never)
    _shelf.clear()  # a new runner, as in a fresh process: its steps come from the files
    loaded = fit_two_shapes(kind)
    assert {path: path.stat().st_ino for path in tmp_path.iterdir()} == stored
    assert_same_fit(compiled, own)
    assert_same_fit(loaded, own)


@pytest.mark.jax_only(reason="JAX's compiled steps kept on disk (skclr.backend._jax.STEPS_DIR)")
def test_a_stored_step_serves_only_the_code_it_was_traced_from_and_a_bad_one_is_compiled_again(
    tmp_path, monkeypatch
):
    from skclr.backend import _jax

    kind = STORED_KINDS[0]
    monkeypatch.setattr(_jax, "STEPS_DIR", tmp_path)
    _shelf.clear()
    first = fit_two_shapes(kind, validation=False)
    stored = set(tmp_path.iterdir())
    monkeypatch.setattr(_jax, "_code_fingerprint", lambda: "another skclr")  # an edited source file, say
    _shelf.clear()
    assert_same_fit(fit_two_shapes(kind, validation=False), first)
    assert stored < set(tmp_path.iterdir()) and len(set(tmp_path.iterdir())) == 2 * len(stored)  # new files
    for path in tmp_path.iterdir():
        path.write_bytes(b"not a program")
    _shelf.clear()
    assert_same_fit(fit_two_shapes(kind, validation=False), first)
    assert any(path.read_bytes() != b"not a program" for path in tmp_path.iterdir())  # compiled, stored again
