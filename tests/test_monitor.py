"""After fit: a collapsed training, or one that learned no more than a constant, warns."""

import warnings

import keras
import numpy as np
import pytest
from conftest import TINY
from sklearn.datasets import make_classification, make_regression

from skclr import CLRClassifier, CLRRegressor
from skclr._monitor import DivergenceError, EpochMonitor, FailedTrainingWarning


def monitor_after(start_loss, losses, rates=None):
    monitor = EpochMonitor(start_loss)
    rates = rates or [1e-3] * len(losses)
    monitor.epochs = [(epoch, loss, rate) for epoch, (loss, rate) in enumerate(zip(losses, rates))]
    return monitor


def test_the_issues_collapse_is_named_with_its_epoch_and_rate():
    # the fold of issue 21: 996 untrained, 106 at best, back to 861
    monitor = monitor_after(996.0, [500.0, 106.0, 300.0, 700.0, 861.0], [0.01, 0.02, 0.026, 0.026, 0.02])
    message = monitor.failure(861.0, constant_loss=None, constant="the target's mean")
    assert message.startswith("Training collapsed")
    # threshold 106 + (996 - 106) / 2 = 551, first passed in epoch 4
    assert "to 106 in epoch 2, then rose above 551 in epoch 4 at learning rate 0.026" in message


@pytest.mark.parametrize(
    "start, losses, end",
    [
        (996.0, [500.0, 106.0, 300.0], 540.0),  # back up, but less than half of the fall
        (1.0, [0.95, 0.92, 0.97], 0.99),  # a fall under 10% of the untrained loss is noise
        (None, [0.5, 0.1, 0.9], 0.9),  # no untrained loss to measure the fall from
    ],
)
def test_what_is_not_a_collapse(start, losses, end):
    assert monitor_after(start, losses).failure(end, constant_loss=None, constant="") is None


def test_no_better_than_a_constant_needs_no_progress_from_the_untrained_loss():
    assert "no better than predicting the mean" in monitor_after(1.05, [1.04]).failure(1.03, 1.0, "the mean")
    assert monitor_after(1.05, [1.04]).failure(0.98, 1.0, "the mean") is None  # 2% better than the mean
    assert monitor_after(3.0, [2.0]).failure(1.2, 1.0, "the mean") is None  # short of epochs, not failed


def test_a_collapse_at_the_end_of_a_fit_warns():
    X, y = make_regression(n_samples=160, n_features=6, noise=0.1, random_state=0)

    def wreck_the_output_layer(epoch, logs):
        if epoch == 4:  # after the last epoch's loss is logged: only the returned model is wrong
            kernel = reg.model_.layers[-1].kernel
            kernel.assign(50.0 * keras.random.normal(kernel.shape, seed=0))

    reg = CLRRegressor(hidden_layer_sizes=(32,), dropout=0.0, learning_rate=1e-2, epochs=5, batch_size=16,
                       callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=wreck_the_output_layer)],
                       random_state=0)  # fmt: skip
    with pytest.warns(FailedTrainingWarning, match=r"Training collapsed.*in epoch 5 at learning rate 0.01"):
        reg.fit(X, y)


def test_a_classifier_that_learns_nothing_warns_against_the_class_prior(binary_data):
    X, y = binary_data
    clf = CLRClassifier(**{**TINY, "epochs": 1}, learning_rate=1e-7, random_state=0)
    match = r"no better than predicting the class prior.*epoch 1, at learning rate 1e-07"
    with pytest.warns(FailedTrainingWarning, match=match):
        clf.fit(X, y)


def test_under_another_loss_the_mean_is_not_the_constant_to_beat():
    X, y = make_regression(n_samples=160, n_features=6, noise=0.1, random_state=0)
    reg = CLRRegressor(**{**TINY, "epochs": 1}, learning_rate=1e-7, loss="mae", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        reg.fit(X, y)  # the median is the best constant under the absolute error


def monitor_run(start_loss, losses, range_test=False):
    """A monitor that watched epochs with these mean training losses on a small compiled model:
    ``(monitor, the epoch after which training was stopped, or None)``."""
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    monitor = EpochMonitor(start_loss, range_test=range_test)
    monitor.set_model(model)
    monitor.on_train_begin()
    for epoch, loss in enumerate(losses):
        monitor.on_epoch_end(epoch, {"loss": loss})
        if model.stop_training:
            return monitor, epoch
    return monitor, None


@pytest.mark.parametrize("range_test", [False, True])
def test_the_divergence_advice_depends_on_who_chose_the_rates(range_test):
    # After the range test it told the user to let lr_finder=True choose the rates, which it had done.
    monitor, _ = monitor_run(0.7, [0.5, 0.6, 10.0, 5.0], range_test=range_test)
    with pytest.raises(DivergenceError, match=r"in epoch 3, after the learning rate reached 0.5") as error:
        monitor.raise_if_diverged(4)
    message = str(error.value)
    assert ("let lr_finder=True choose" in message) is not range_test
    assert ("the range test (lr_finder) chose" in message) is range_test


def test_a_blow_up_is_divergence_only_if_training_never_comes_back():
    # one-cycle's peak can spike the loss (on TensorFlow lending_club: 0.2 -> 167) and the annealing
    # bring it back down; stopping there threw away a fit that ended at its best loss
    start = 0.7
    came_back, stopped = monitor_run(start, [0.25, 0.2, 167.0, 3.4, 0.5, 0.19])
    assert stopped is None  # a finite blow-up does not stop training
    came_back.raise_if_diverged(6)  # back under 0.2 + (0.7 - 0.2) / 2 = 0.45: not divergence
    assert came_back.failure(0.19, constant_loss=None, constant="the prior") is None  # and no collapse
    stayed, stopped = monitor_run(start, [0.25, 0.2, 6.2, 4.1, 2.4])  # JAX attrition: 2.4 until the end
    assert stopped is None
    with pytest.raises(DivergenceError, match=r"reached 6.2, more than 4 times the loss before training, 0.7, in "
                                              r"epoch 3, .*never came back \(the last epoch's: 2.4\)"):
        stayed.raise_if_diverged(5)


def test_a_non_finite_loss_stops_training_and_is_divergence_though_a_blow_up_came_first():
    monitor, stopped = monitor_run(0.7, [0.5, 6.0, float("nan"), 0.1])
    assert stopped == 2  # nothing comes back from NaN
    with pytest.raises(DivergenceError, match="became non-finite in epoch 3"):
        monitor.raise_if_diverged(3)


def test_a_warm_start_that_blows_up_and_falls_back_to_the_untrained_loss_has_not_come_back():
    # judged against the larger of the untrained loss (0.7) and its own start (0.1), 0.65 would pass
    monitor, _ = monitor_run(0.7, [3.5, 1.2, 0.65])
    monitor.own_start = 0.1
    with pytest.raises(DivergenceError, match="never came back"):
        monitor.raise_if_diverged(3)
    monitor.epochs[-1] = (2, 0.3, 1e-3)  # 0.1 + (0.7 - 0.1) / 2 = 0.4: back
    monitor.raise_if_diverged(3)


def test_a_non_finite_loss_after_the_epoch_early_stopping_returns_is_still_divergence():
    # early stopping puts the best epoch's weights back, finite: the run went NaN all the same
    class Poison(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 3:
                for variable in self.model.trainable_weights:
                    variable.assign(np.full(variable.shape, np.nan, "float32"))

    X, y = make_classification(200, 6, random_state=0)
    clf = CLRClassifier(**{**TINY, "epochs": 8}, early_stopping=True, n_iter_no_change=50, random_state=0,
                        callbacks=[Poison()])  # fmt: skip
    with pytest.raises(DivergenceError, match="became non-finite in epoch 5"):
        clf.fit(X, y)


def test_weights_that_are_no_longer_finite_are_divergence_though_every_loss_was():
    # the loss is measured before each update: the very last update can still blow the weights up
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    monitor = EpochMonitor(1.0)
    monitor.set_model(model)
    monitor.on_train_begin()
    monitor.raise_if_diverged(2)  # finite weights: nothing to say
    kernel = model.layers[0].kernel
    kernel.assign(np.where(np.eye(3, 2) > 0, np.inf, kernel.numpy()))
    with pytest.raises(DivergenceError, match="non-finite"):
        monitor.raise_if_diverged(2)


def _inference_models():
    regularized = keras.Sequential([
        keras.Input((6,)),
        keras.layers.Dense(8, "relu", kernel_regularizer="l2", activity_regularizer="l1"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(1),
    ])  # fmt: skip
    regularized.compile(optimizer="adam", loss="mse")
    normalized = keras.Sequential([
        keras.Input((6,)), keras.layers.Dense(8, "tanh"), keras.layers.BatchNormalization(),
        keras.layers.Dense(3, "softmax"),
    ])  # fmt: skip
    normalized.compile(optimizer="sgd", loss="categorical_crossentropy")
    return {"regularized regressor": regularized, "batch-normalized softmax": normalized}


@pytest.mark.parametrize("name", list(_inference_models()))
def test_the_untrained_loss_is_the_models_loss_with_one_program_per_architecture(name, monkeypatch):
    # On JAX each eager op compiles a program per shape in each new process; the loss is one jitted
    # program per architecture instead. It is the eager loss (to float32 rounding: XLA fuses the ops)
    # with the model's own weights, and a second model of the architecture traces nothing.
    import skclr._monitor as monitor_module
    from skclr import backend
    from skclr._monitor import inference_loss

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 6)).astype("float32")
    y = X[:, :1] if "regressor" in name else np.eye(3, dtype="float32")[np.arange(40) % 3]
    weights = rng.uniform(size=40)
    first, second = _inference_models()[name], _inference_models()[name]  # other initial weights
    compiled_loss = backend.inference_loss_function(first, monitor_module.architecture_key)
    assert (compiled_loss is None) is (backend.NAME != "jax")
    programs = compiled_loss._function._cache_size() if compiled_loss else 0  # noqa: SLF001 -- JAX's count
    compiled = [inference_loss(model, X, y, weights) for model in (first, second)]
    constant = inference_loss(first, X, y, y_pred=y.mean(axis=0, keepdims=True))
    if compiled_loss:  # the forward pass's program and the constant's, each traced once
        assert compiled_loss._function._cache_size() == programs + 2  # noqa: SLF001
    monkeypatch.setattr(monitor_module.backend, "inference_loss_function", lambda model, architecture_key: None)
    eager = [inference_loss(model, X, y, weights) for model in (first, second)]
    np.testing.assert_allclose(compiled, eager, rtol=1e-6)
    assert compiled[0] != compiled[1]  # each model's own weights
    np.testing.assert_allclose(constant, inference_loss(first, X, y, y_pred=y.mean(axis=0, keepdims=True)), rtol=1e-6)


def test_a_constants_loss_counts_no_activity_loss_of_an_earlier_forward_pass():
    model = _inference_models()["regularized regressor"]
    X = np.ones((8, 6), "float32")
    y = np.zeros((8, 1), "float32")
    from skclr._monitor import inference_loss

    before = inference_loss(model, X, y, y_pred=np.zeros((1, 1)))
    model(X * 100.0)  # a large activity loss, left on the layer by an eager call
    assert inference_loss(model, X, y, y_pred=np.zeros((1, 1))) == before
    kernel = model.layers[0].kernel
    assert before == pytest.approx(0.01 * float(np.sum(kernel.numpy() ** 2)), rel=1e-5)  # its l2 only
