"""After fit: a collapsed training, or one that learned no more than a constant, warns."""

import warnings

import keras
import numpy as np
import pytest
from conftest import TINY
from sklearn.datasets import make_regression

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


@pytest.mark.parametrize("range_test", [False, True])
def test_the_divergence_advice_depends_on_who_chose_the_rates(range_test):
    # After the range test it told the user to let lr_finder=True choose the rates, which it had done.
    monitor = EpochMonitor(0.7, range_test=range_test)
    monitor.diverged_at = (2, 0.5, 10.0)  # epoch 3, the run's highest rate 0.5, the loss
    with pytest.raises(DivergenceError, match=r"in epoch 3, after the learning rate reached 0.5") as error:
        monitor.raise_if_diverged(3)
    message = str(error.value)
    assert ("let lr_finder=True choose" in message) is not range_test
    assert ("the range test (lr_finder) chose" in message) is range_test
