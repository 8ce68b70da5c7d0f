"""Schedules as CLRClassifier hyperparameters: resolution at fit, per-epoch rates, continuation."""

import warnings

import keras
import matplotlib
import numpy as np
import pytest
from conftest import TINY
from sklearn.model_selection import GridSearchCV, StratifiedShuffleSplit

from skclr import CLRClassifier, LRFinder
from skclr._catalogue import SCHEDULES, schedule_values
from skclr.schedules import CyclicalLearningRate, OneCycle

matplotlib.use("Agg")

N, BATCH = 120, 16
SPE = 8  # ceil(120 / 16) iterations per epoch


def test_grid_search_over_every_schedule(binary_data):
    X, y = binary_data
    grid = GridSearchCV(
        CLRClassifier(**TINY, random_state=0),
        {"schedule": list(SCHEDULES)},
        cv=StratifiedShuffleSplit(n_splits=1, test_size=0.5, random_state=0),  # one fit per schedule
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


def test_restart_periods_are_in_epochs(binary_data):
    X, y = binary_data
    clf = CLRClassifier(**{**TINY, "epochs": 3}, schedule="cosine_restarts", restart_every=1.0, restart_mult=1.0).fit(X, y)
    assert clf.schedule_.first_decay_steps == SPE
    np.testing.assert_allclose(clf.history_["lr"], schedule_values(clf.schedule_, 3 * SPE)[SPE - 1 :: SPE], rtol=1e-6)
    assert clf.history_["lr"][0] == pytest.approx(clf.history_["lr"][2], rel=1e-5)  # same point of each period


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
    # What trained, not the attribute (the fit may train a shared copy): with plain SGD at rate 1,
    # no weight moves more than clipvalue per step.
    X, y = binary_data

    def largest_move(clipvalue):  # of a weight, in a warm-started fit
        clf = CLRClassifier(**TINY, clipvalue=clipvalue, optimizer="sgd", schedule="constant",
                            learning_rate=1.0, warm_start=True, random_state=0).fit(X, y)  # fmt: skip
        before = clf.model_.get_weights()
        return max(np.max(np.abs(w - w0)) for w, w0 in zip(clf.fit(X, y).model_.get_weights(), before))

    assert 0 < largest_move(1e-4) <= 2 * SPE * 1e-4 * (1 + 1e-3)  # 2 epochs of SPE steps
    assert largest_move(None) > 0.01


def test_warm_start_continues_a_cyclical_schedule(binary_data):
    X, y = binary_data
    clf = CLRClassifier(**TINY, schedule="triangular", step_size=1.0, warm_start=True, random_state=0)
    clf.fit(X, y)
    schedule = clf.schedule_
    clf.fit(X, y)
    assert clf.schedule_.get_config() == schedule.get_config()  # rebuilt from the same parameters, not restarted
    assert int(clf.model_.optimizer.iterations) == 4 * SPE
    np.testing.assert_allclose(clf.history_["lr"], schedule_values(schedule, 4 * SPE)[SPE - 1 :: SPE][2:], rtol=1e-6)


@pytest.mark.parametrize("name", ["linear", "cosine", "one_cycle"])
def test_warm_start_plans_an_ending_schedule_again_for_each_fit(binary_data, name):
    # It used to train the whole second fit at the final rate (0 for linear) without a word.
    X, y = binary_data
    clf = CLRClassifier(**TINY, schedule=name, learning_rate=0.01, max_lr=0.01, warm_start=True, random_state=0)
    first = clf.fit(X, y).history_["lr"]
    clf.fit(X, y)
    assert int(clf.model_.optimizer.iterations) == 4 * SPE
    np.testing.assert_allclose(clf.history_["lr"], first, rtol=1e-6)  # the same plan, from iteration 2 * SPE
    assert clf.history_["lr"][0] > 0


def test_a_replanned_schedule_saves_and_reloads(binary_data, tmp_path):
    from skclr.schedules import Restarted

    X, y = binary_data
    clf = CLRClassifier(**TINY, schedule="one_cycle", warm_start=True, random_state=0)
    clf.fit(X, y).fit(X, y)
    assert isinstance(clf.schedule_, Restarted) and clf.schedule_.start == 2 * SPE
    clf.model_.save(tmp_path / "clf.keras")
    reloaded = keras.models.load_model(tmp_path / "clf.keras").optimizer._learning_rate
    assert isinstance(reloaded, Restarted) and reloaded.get_config() == clf.schedule_.get_config()
    np.testing.assert_allclose(schedule_values(reloaded, 4 * SPE), schedule_values(clf.schedule_, 4 * SPE))


def test_partial_fit_continues_the_schedule(binary_data):
    X, y = binary_data
    clf = CLRClassifier(**{**TINY, "epochs": 3}, schedule="one_cycle")
    for _ in range(3):
        clf.partial_fit(X, y, classes=np.unique(y))
    assert int(clf.model_.optimizer.iterations) == 3 * SPE
    assert clf.schedule_.total_steps == 3 * SPE  # planned for `epochs` calls of this size
    expected = schedule_values(clf.schedule_, 3 * SPE)[SPE - 1 :: SPE]
    np.testing.assert_allclose(clf.history_["lr"], expected, rtol=1e-6)


def test_partial_fit_past_the_end_of_an_ending_schedule_warns(binary_data):
    X, y = binary_data
    clf = CLRClassifier(**TINY, schedule="cosine")
    for _ in range(2):
        clf.partial_fit(X, y, classes=np.unique(y))
    with pytest.warns(RuntimeWarning, match="past the end of the 'cosine' schedule.*epochs=2") as caught:
        clf.partial_fit(X, y)
    assert caught[0].filename == __file__  # it points at the caller of partial_fit


def test_partial_fit_keeps_cycling_without_a_warning(binary_data):
    X, y = binary_data
    clf = CLRClassifier(**{**TINY, "epochs": 1}, schedule="triangular", step_size=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            clf.partial_fit(X, y, classes=np.unique(y))
    np.testing.assert_allclose(clf.history_["lr"], schedule_values(clf.schedule_, 3 * SPE)[SPE - 1 :: SPE], rtol=1e-6)


# -- the schedule is sized from what Keras runs, wherever the setting comes from -------------

N64 = 64


@pytest.mark.parametrize(
    "params, fit_kwargs, steps",
    [
        (dict(epochs=2, batch_size=32), dict(batch_size=8, epochs=3), 3 * 8),  # fit(**kwargs) wins
        (dict(epochs=2, batch_size=32, fit__batch_size=16, fit__epochs=3), {}, 3 * 4),  # routed fit__*
        (dict(epochs=2, batch_size=16), dict(validation_split=0.5), 2 * 2),  # 32 training rows
        (dict(epochs=2, batch_size=16, validation_split=0.5), dict(validation_data="held out"), 2 * 4),
        (dict(epochs=2, batch_size=-1), {}, 2 * 1),
    ],
    ids=["fit-kwargs", "routed", "fit-validation_split", "validation_data-wins", "batch_size=-1"],
)
def test_one_cycle_spans_exactly_the_steps_keras_runs(binary_data, params, fit_kwargs, steps):
    X, y = binary_data[0][:N64], binary_data[1][:N64]
    if fit_kwargs.get("validation_data") == "held out":
        fit_kwargs = dict(validation_data=(binary_data[0][N64:], binary_data[1][N64:]))
    clf = CLRClassifier(hidden_layer_sizes=(4,), dropout=0.0, schedule="one_cycle", **params).fit(X, y, **fit_kwargs)
    assert int(clf.model_.optimizer.iterations) == steps
    assert clf.schedule_.total_steps == steps


def test_range_test_uses_the_batch_size_and_training_rows_keras_uses(binary_data, monkeypatch):
    seen = {}
    original = LRFinder.find

    def spy(self, model, X, y, **kwargs):
        seen.update(rows=len(X), batch_size=kwargs["batch_size"])
        return original(self, model, X, y, **kwargs)

    monkeypatch.setattr(LRFinder, "find", spy)
    X, y = binary_data[0][:N64], binary_data[1][:N64]
    clf = CLRClassifier(**TINY, lr_finder=LRFinder(num_iter=10), validation_split=0.25)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a 10-step sweep may see no fall
        clf.fit(X, y, batch_size=8)
    assert seen == {"rows": 48, "batch_size": 8}  # Keras holds out the last quarter
    assert clf.lr_finder_.batch_size_ == 8


@pytest.mark.parametrize("task", ["classifier", "regressor"])
def test_find_lr_runs_the_range_test_fit_runs(binary_data, task):
    # The same rows, batch size, seed, weights (class weights multiplied in), clipping, weight decay and
    # target scaling: bit for bit the curve of fit's own range test.
    from skclr import CLRRegressor

    X, y = binary_data
    weights = np.linspace(0.2, 3, len(y))
    settings = dict(TINY, validation_split=0.25, clipvalue=0.05, random_state=0, lr_finder=LRFinder(num_iter=30))
    if task == "classifier":
        estimator = CLRClassifier(**settings, class_weight={0: 3.0, 1: 1.0})
    else:
        estimator = CLRRegressor(**settings, weight_decay=0.5)
        y = X[:, 0] * 50 + 200  # a scale the target scaling changes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a 30-step sweep may see no clear fall
        found = estimator.find_lr(X, y, sample_weight=weights, batch_size=8)
        fitted = estimator.fit(X, y, sample_weight=weights, batch_size=8, epochs=1).lr_finder_
    assert found is not fitted and found.batch_size_ == 8
    np.testing.assert_array_equal(found.losses_, fitted.losses_)
    np.testing.assert_array_equal(found.lrs_, fitted.lrs_)


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


# -- each epoch in one graph call ---------------------------------------------------------------


class CountBatches(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1


def test_an_epoch_runs_in_one_call_and_trains_bit_for_bit_as_step_by_step(binary_data):
    X, y = binary_data
    settings = dict(TINY, schedule="one_cycle", epochs=3, random_state=0)
    fast = CLRClassifier(**settings).fit(X, y)
    counter = CountBatches()
    stepwise = CLRClassifier(**settings, callbacks=[counter]).fit(X, y)
    assert fast.model_.steps_per_execution == SPE
    assert stepwise.model_.steps_per_execution == 1 and counter.batches == 3 * SPE  # a batch callback sees every batch
    assert fast.history_ == stepwise.history_
    for a, b in zip(fast.model_.get_weights(), stepwise.model_.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_predict_proba_matches_keras_predict(binary_data):
    X, y = binary_data
    clf = CLRClassifier(**TINY, random_state=0).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), clf.model_.predict(X, verbose=0), rtol=1e-6, atol=1e-7)


# -- cyclical momentum ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "optimizer, attribute",
    [(lambda: keras.optimizers.Adam(), "beta_1"), (lambda: keras.optimizers.SGD(momentum=0.9), "momentum"),
     (lambda: keras.optimizers.RMSprop(momentum=0.9), "momentum")],
    ids=["adam", "sgd", "rmsprop"],
)  # fmt: skip
def test_cycle_momentum_is_the_momentum_every_step_uses(binary_data, optimizer, attribute):
    # Replay the fit step by step in plain Keras, setting the rate and the momentum by hand before
    # each step: the weights must match the in-graph cycling.
    X, y = binary_data[0][:48], binary_data[1][:48]

    def build(meta=None):
        model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(2, activation="softmax", kernel_initializer="ones")])
        model.compile(optimizer=optimizer(), loss="sparse_categorical_crossentropy")
        return model

    clf = CLRClassifier(model=build, schedule="one_cycle", max_lr=0.05, epochs=2, batch_size=16, shuffle=False,
                        cycle_momentum=True).fit(X, y)  # fmt: skip
    manual = build()
    for step in range(6):
        manual.optimizer.learning_rate = float(clf.schedule_(step))
        setattr(manual.optimizer, attribute, float(clf.schedule_.momentum(step)))
        manual.train_function = None  # the momentum is read when the step is traced
        batch = slice(16 * (step % 3), 16 * (step % 3) + 16)
        manual.train_on_batch(X[batch], y[batch])
    for ours, theirs in zip(clf.model_.get_weights(), manual.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7)


def test_cycle_momentum_is_logged_and_the_model_reloads(binary_data, tmp_path):
    X, y = binary_data
    clf = CLRClassifier(**{**TINY, "epochs": 3}, schedule="triangular", step_size=1.0, cycle_momentum=True).fit(X, y)
    expected = [float(clf.schedule_.momentum(SPE * (epoch + 1) - 1)) for epoch in range(3)]
    np.testing.assert_allclose(clf.history_["momentum"], expected, rtol=1e-6)
    assert len(set(np.round(clf.history_["momentum"], 6))) > 1
    assert clf.model_.optimizer.beta_1 == 0.9  # the optimizer's own momentum again after fit
    clf.model_.save(tmp_path / "m.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Keras warns when it skips optimizer variables it cannot match
        reloaded = keras.models.load_model(tmp_path / "m.keras")
    assert int(reloaded.optimizer.iterations) == 3 * SPE
    assert "momentum" not in CLRClassifier(**TINY, schedule="triangular").fit(X, y).history_


@pytest.mark.parametrize(
    "params, match",
    [(dict(schedule="cosine"), "cycle_momentum needs a schedule with a momentum cycle"),
     (dict(optimizer="sgd"), "momentum > 0")],
)
def test_cycle_momentum_refuses_what_it_cannot_cycle(binary_data, params, match):
    X, y = binary_data
    with pytest.raises(ValueError, match=match):
        CLRClassifier(**TINY, **{"schedule": "one_cycle", **params}, cycle_momentum=True).fit(X, y)


def test_an_optimizer_that_cannot_cycle_momentum_is_refused_before_the_range_test(binary_data, monkeypatch):
    X, y = binary_data
    monkeypatch.setattr(LRFinder, "find", lambda *a, **k: pytest.fail("the range test ran"))
    with pytest.raises(ValueError, match="momentum > 0"):
        CLRClassifier(**TINY, schedule="one_cycle", optimizer="sgd", cycle_momentum=True, lr_finder=True).fit(X, y)


def test_momentum_bounds_are_parameters_and_the_optimizer_keeps_its_own_momentum(binary_data):
    X, y = binary_data
    clf = CLRClassifier(**{**TINY, "epochs": 3}, schedule="one_cycle", cycle_momentum=True, base_momentum=0.6,
                        max_momentum=0.7, optimizer__beta_1=0.8).fit(X, y)  # fmt: skip
    assert (clf.schedule_.base_momentum, clf.schedule_.max_momentum) == (0.6, 0.7)
    assert min(clf.history_["momentum"]) >= 0.6 - 1e-6 and max(clf.history_["momentum"]) <= 0.7 + 1e-6
    assert clf.model_.optimizer.beta_1 == 0.8
    with pytest.raises(ValueError, match="set cycle_momentum=True"):
        CLRClassifier(**TINY, schedule="one_cycle", base_momentum=0.6).fit(X, y)
    with pytest.raises(ValueError, match="base_momentum must be <= max_momentum"):
        CLRClassifier(**TINY, schedule="one_cycle", cycle_momentum=True, base_momentum=0.9, max_momentum=0.8).fit(X, y)


# -- warm start: every fit takes the current parameters ------------------------------------------


def test_warm_start_takes_a_changed_schedule_and_rate(binary_data):
    X, y = binary_data
    clf = CLRClassifier(**TINY, schedule="cosine", warm_start=True, random_state=0).fit(X, y)
    clf.set_params(schedule="constant", learning_rate=0.01).fit(X, y)
    assert clf.learning_rate_ == 0.01
    assert clf.history_["lr"] == pytest.approx([0.01, 0.01])  # history_ holds the last fit's epochs
    clf.set_params(schedule="linear", learning_rate=0.1, end_lr=0.0).fit(X, y)
    assert clf.history_["lr"][0] == pytest.approx(0.1 * (1 - (SPE - 1) / (2 * SPE - 1)), rel=1e-5)


def test_warm_start_takes_a_changed_clipvalue_and_drops_it_again(binary_data):
    X, y = binary_data
    clf = CLRClassifier(**TINY, warm_start=True).fit(X, y)
    assert clf.model_.optimizer.clipvalue is None
    clf.set_params(clipvalue=0.5).fit(X, y)
    assert clf.model_.optimizer.clipvalue == 0.5
    clf.set_params(clipvalue=None).fit(X, y)
    assert clf.model_.optimizer.clipvalue is None


def test_warm_start_one_cycle_with_cycled_momentum_fits_twice(binary_data):
    X, y = binary_data
    clf = CLRClassifier(**TINY, schedule="one_cycle", cycle_momentum=True, warm_start=True).fit(X, y)
    first = clf.history_["momentum"]
    clf.fit(X, y)
    assert clf.history_["momentum"] == pytest.approx(first, rel=1e-6)  # the cycle planned again


# ten steps of an 8-unit network may not lower the loss (as JAX draws its initial weights), nor a sweep
# of the model the earlier fits trained: not the point here
@pytest.mark.filterwarnings("ignore:The loss never fell during the range test")
@pytest.mark.filterwarnings("ignore:The range test shows no clear fall")
def test_warm_start_reuses_the_range_test_unless_it_changed(binary_data, monkeypatch):
    X, y = binary_data
    runs = []
    find = LRFinder.find
    monkeypatch.setattr(LRFinder, "find", lambda self, *a, **k: runs.append(1) or find(self, *a, **k))
    finder = LRFinder(num_iter=10, n_sweeps=1)
    clf = CLRClassifier(**TINY, schedule="triangular", lr_finder=finder, warm_start=True, random_state=0)
    clf.fit(X, y).fit(X, y)
    assert len(runs) == 1
    clf.set_params(lr_finder__num_iter=12).fit(X, y)
    assert len(runs) == 2 and len(clf.lr_finder_.lrs_) <= 12


# -- fitted attributes describe what training used -----------------------------------------------


@pytest.mark.parametrize(
    "params, present",
    [(dict(schedule="cosine"), {"learning_rate_"}), (dict(schedule="triangular"), {"base_lr_", "max_lr_"}),
     (dict(schedule="one_cycle"), {"max_lr_"}), (dict(schedule=CyclicalLearningRate(1e-3, 1e-2, 4)), set())],
    ids=["cosine", "triangular", "one_cycle", "instance"],
)  # fmt: skip
def test_fitted_rates_are_only_those_the_schedule_uses(binary_data, params, present):
    X, y = binary_data
    clf = CLRClassifier(**TINY, **params).fit(X, y)
    assert {name for name in ("learning_rate_", "base_lr_", "max_lr_") if hasattr(clf, name)} == present


def test_the_last_step_of_an_ending_schedule_runs_at_its_final_rate(binary_data):
    X, y = binary_data
    clf = CLRClassifier(**{**TINY, "epochs": 1, "batch_size": 15}, schedule="linear", learning_rate=1e-3, end_lr=1e-4)
    assert clf.fit(X, y).history_["lr"][-1] == pytest.approx(1e-4, rel=1e-5)  # 8 steps, the 8th at end_lr


# -- callbacks -----------------------------------------------------------------------------------


def test_a_lambda_callback_with_a_batch_hook_sees_every_batch(binary_data):
    X, y = binary_data
    seen = []
    hook = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch))
    CLRClassifier(**TINY, callbacks=[hook]).fit(X, y)
    assert len(seen) == 2 * SPE


def test_callbacks_given_to_fit_run(binary_data):
    X, y = binary_data
    counter = CountBatches()
    clf = CLRClassifier(**TINY).fit(X, y, callbacks=[counter])
    assert counter.batches == 2 * SPE and clf.model_.steps_per_execution == 1


def test_a_new_fit_of_the_same_estimator_runs_its_own_range_test(binary_data, monkeypatch):
    X, y = binary_data
    runs = []
    find = LRFinder.find
    monkeypatch.setattr(LRFinder, "find", lambda self, *a, **k: runs.append(1) or find(self, *a, **k))
    clf = CLRClassifier(**TINY, schedule="triangular", lr_finder=LRFinder(num_iter=10, n_sweeps=1), random_state=0)
    first = clf.fit(X, y).lr_finder_
    clf.fit(X * 100, y)  # not a warm start: a new model, new data, a new range test
    assert len(runs) == 2 and clf.lr_finder_ is not first


def test_a_warm_start_of_a_well_trained_model_is_not_taken_for_divergence():
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=120, n_features=6, n_informative=4, class_sep=3, random_state=1)
    clf = CLRClassifier(**{**TINY, "epochs": 20}, learning_rate=1e-2, warm_start=True, random_state=0).fit(X, y)
    trained = clf.history_["loss"][-1]
    clf.set_params(epochs=2, learning_rate=0.3).fit(X, y)  # a livelier rate: the loss rises, far below the start
    assert max(clf.history_["loss"]) > 4 * trained  # divergence is judged against the untrained model


def test_momentum_bounds_are_refused_for_a_schedule_instance(binary_data):
    X, y = binary_data
    with pytest.raises(ValueError, match="set its bounds when you build it"):
        CLRClassifier(**TINY, schedule=OneCycle(1e-2, 16), cycle_momentum=True, base_momentum=0.6).fit(X, y)
