"""Schedules as CLRClassifier hyperparameters: resolution at fit, per-epoch rates, continuation."""

import keras
import matplotlib
import numpy as np
import pytest
from conftest import TINY
from sklearn.model_selection import GridSearchCV

from skclr import CLRClassifier
from skclr.schedules import SCHEDULES, CyclicalLearningRate, OneCycle, schedule_values

matplotlib.use("Agg")

N, BATCH = 120, 16
SPE = 8  # ceil(120 / 16) iterations per epoch


def test_grid_search_over_every_schedule(binary_data):
    X, y = binary_data
    grid = GridSearchCV(
        CLRClassifier(**TINY, random_state=0),
        {"schedule": list(SCHEDULES)},
        cv=2,
        error_score="raise",
    ).fit(X, y)
    assert [p["schedule"] for p in grid.cv_results_["params"]] == list(SCHEDULES)
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()


@pytest.mark.parametrize("name", ["triangular", "exp_range", "one_cycle", "step", "cosine"])
def test_history_lr_is_the_rate_of_each_epochs_last_step(binary_data, name):
    X, y = binary_data
    clf = CLRClassifier(**{**TINY, "epochs": 3}, schedule=name, step_size=1.5, drop_every=1.0).fit(X, y)
    assert len(clf.history_["lr"]) == len(clf.history_["loss"]) == 3
    expected = schedule_values(clf.schedule_, 3 * SPE)[SPE - 1 :: SPE]
    np.testing.assert_allclose(clf.history_["lr"], expected, rtol=1e-6)


def test_lengths_in_epochs_follow_the_fold_size(binary_data):
    X, y = binary_data
    full = CLRClassifier(**TINY, schedule="triangular", step_size=2.0).fit(X, y)
    half = CLRClassifier(**TINY, schedule="triangular", step_size=2.0).fit(X[:60], y[:60])
    assert full.schedule_.step_size == 2 * SPE
    assert half.schedule_.step_size == 2 * 4  # ceil(60 / 16) = 4 iterations per epoch


def test_validation_split_counts_only_training_samples(binary_data):
    X, y = binary_data
    clf = CLRClassifier(**TINY, schedule="one_cycle", validation_split=0.5).fit(X, y)
    assert clf.schedule_.total_steps == 2 * 4  # 60 training samples -> 4 iterations per epoch
    assert "val_loss" in clf.history_


def test_default_bounds_come_from_learning_rate(binary_data):
    X, y = binary_data
    clf = CLRClassifier(**TINY, schedule="triangular", learning_rate=0.02).fit(X, y)
    assert (clf.base_lr_, clf.max_lr_) == (0.005, 0.02)
    assert (clf.schedule_.base_lr, clf.schedule_.max_lr) == (0.005, 0.02)


def test_time_decay_reaches_the_optimizer(binary_data):
    # Keras 3 optimizers ignore `decay=`; the "time" schedule must actually decay.
    X, y = binary_data
    clf = CLRClassifier(**TINY, schedule="time", learning_rate=0.01, decay=0.1).fit(X, y)
    np.testing.assert_allclose(clf.history_["lr"], [0.01 / (1 + 0.1 * (SPE - 1)), 0.01 / (1 + 0.1 * (2 * SPE - 1))], rtol=1e-6)


def test_a_schedule_instance_is_used_as_is(binary_data):
    X, y = binary_data
    schedule = keras.optimizers.schedules.ExponentialDecay(0.01, decay_steps=4, decay_rate=0.5)
    clf = CLRClassifier(**TINY, schedule=schedule).fit(X, y)
    assert clf.schedule_ is schedule
    assert clf.history_["lr"][0] == pytest.approx(0.01 * 0.5 ** ((SPE - 1) / 4))


def test_clipvalue_reaches_the_optimizer(binary_data):
    X, y = binary_data
    clf = CLRClassifier(**TINY, clipvalue=0.5, schedule="triangular").fit(X, y)
    assert clf.model_.optimizer.clipvalue == 0.5


def test_warm_start_continues_the_schedule(binary_data):
    X, y = binary_data
    clf = CLRClassifier(**TINY, schedule="triangular", step_size=1.0, warm_start=True, random_state=0)
    clf.fit(X, y)
    schedule = clf.schedule_
    clf.fit(X, y)
    assert clf.schedule_ is schedule
    assert int(clf.model_.optimizer.iterations) == 4 * SPE
    np.testing.assert_allclose(clf.history_["lr"], schedule_values(schedule, 4 * SPE)[SPE - 1 :: SPE][2:], rtol=1e-6)


def test_partial_fit_continues_the_schedule(binary_data):
    X, y = binary_data
    clf = CLRClassifier(**TINY, schedule="one_cycle")
    for _ in range(3):
        clf.partial_fit(X, y, classes=np.unique(y))
    assert int(clf.model_.optimizer.iterations) == 3 * SPE
    expected = schedule_values(clf.schedule_, 3 * SPE)[SPE - 1 :: SPE]
    np.testing.assert_allclose(clf.history_["lr"], expected, rtol=1e-6)


def test_fitted_model_saves_and_reloads_with_its_schedule(binary_data, tmp_path):
    X, y = binary_data
    clf = CLRClassifier(**TINY, schedule="exp_range").fit(X, y)
    clf.model_.save(tmp_path / "clf.keras")
    reloaded = keras.models.load_model(tmp_path / "clf.keras")
    assert isinstance(reloaded.optimizer._learning_rate, CyclicalLearningRate)
    assert int(reloaded.optimizer.iterations) == 2 * SPE
    np.testing.assert_allclose(reloaded.predict(X, verbose=0), clf.model_.predict(X, verbose=0), rtol=1e-6)


def test_plot_schedule_of_a_fitted_estimator(binary_data):
    from skclr.plotting import plot_schedule

    X, y = binary_data
    clf = CLRClassifier(**TINY, schedule="one_cycle").fit(X, y)
    ax = plot_schedule(clf)
    (line,) = ax.get_lines()
    assert len(line.get_xdata()) == 2 * SPE
    np.testing.assert_allclose(line.get_ydata(), schedule_values(clf.schedule_, 2 * SPE))
    ax2 = plot_schedule(OneCycle(0.1, 50), steps=50, label="one cycle")
    assert ax2.get_legend() is not None


def test_estimator_schedule_defaults_match_make_schedule():
    # The two public signatures restate the same defaults; keep them from drifting apart.
    import inspect

    from skclr.schedules import make_schedule

    ours = inspect.signature(CLRClassifier).parameters
    theirs = inspect.signature(make_schedule).parameters
    shared = set(theirs) - {"name", "steps_per_epoch", "epochs"}
    assert shared <= set(ours)
    assert {n: ours[n].default for n in shared} == {n: theirs[n].default for n in shared}
