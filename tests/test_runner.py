"""The shared train step (``skclr._runner``): fits of one architecture reuse one trace, and a fit on the
shared copy trains, reports and returns exactly what a fit on the estimator's own model would."""

import keras
import numpy as np
import pytest

from skclr import CLRClassifier, CLRRegressor
from skclr._runner import Runner, RateTable, schedule_rates, training_key

SMALL = dict(hidden_layer_sizes=(8,), dropout=0.1, epochs=3, batch_size=16, random_state=3)


class NoOp(keras.callbacks.Callback):
    """A user callback: the fit then trains the estimator's own model, not a shared copy."""


def weights(estimator) -> list:
    return [np.array(w) for w in estimator.model_.get_weights()]


@pytest.mark.parametrize("params", [
    dict(schedule="triangular", base_lr=1e-3, max_lr=1e-2, step_size=0.5),
    dict(schedule="cosine", warmup=1.0),  # a branch on the step
    dict(schedule="one_cycle", lr_finder=True),
    dict(schedule=keras.optimizers.schedules.CosineDecay(1e-3, 40, warmup_target=1e-2, warmup_steps=5)),
])  # fmt: skip
def test_a_shared_fit_trains_and_reports_bit_for_bit_as_a_fit_on_its_own_model(binary_data, params):
    X, y = binary_data
    shared = CLRClassifier(**SMALL, **params).fit(X, y)
    own = CLRClassifier(**SMALL, **params, callbacks=[NoOp()]).fit(X, y)
    for a, b in zip(weights(shared), weights(own)):
        np.testing.assert_array_equal(a, b)
    assert shared.history_ == own.history_  # losses and the rate of each epoch
    optimizer, steps = shared.model_.optimizer, 3 * int(np.ceil(len(X) / 16))
    assert int(optimizer.iterations) == int(own.model_.optimizer.iterations) == steps
    for a, b in zip(optimizer.variables, own.model_.optimizer.variables):  # Adam's moments too
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


def test_fits_of_one_architecture_reuse_one_trace_and_do_not_depend_on_what_ran_before(binary_data, monkeypatch):
    X, y = binary_data
    taken, take = [], Runner.take.__func__
    monkeypatch.setattr(Runner, "take", classmethod(lambda cls, *args: taken.append(take(cls, *args)) or taken[-1]))
    first = CLRClassifier(**SMALL, schedule="triangular").fit(X, y)
    traced = taken[0].model.train_function
    CLRClassifier(**{**SMALL, "random_state": 8}, schedule="exp_range", lr_finder=True).fit(X, y)
    again = CLRClassifier(**SMALL, schedule="triangular").fit(X, y)
    assert len(taken) == 3 and taken[1] is taken[2] is taken[0]  # one copy served all three fits...
    assert taken[0].model.train_function is traced  # ...with one trace
    assert first.model_ is not taken[0].model and again.model_ is not first.model_
    for a, b in zip(weights(first), weights(again)):
        np.testing.assert_array_equal(a, b)


def test_the_returned_model_is_the_estimators_own(binary_data, tmp_path):
    X, y = binary_data
    first = CLRClassifier(**SMALL, schedule="triangular").fit(X, y)
    before, proba = weights(first), first.predict_proba(X)
    CLRClassifier(**{**SMALL, "random_state": 4}, schedule="triangular").fit(X, y)  # same architecture
    for a, b in zip(before, weights(first)):
        np.testing.assert_array_equal(a, b)  # the next fit's copy did not write into this model
    np.testing.assert_array_equal(first.predict_proba(X), proba)
    assert first.model_.optimizer.learning_rate is not None
    assert first.schedule_ is first.model_.optimizer._learning_rate  # the real schedule, not a rate table
    assert not isinstance(first.model_.optimizer._learning_rate, RateTable)
    path = tmp_path / "model.keras"
    assert first.model_.history.history["loss"] == first.history_["loss"] and first.model_.history.model is first.model_
    first.model_.save(path)
    reloaded = keras.models.load_model(path)
    np.testing.assert_allclose(reloaded.predict(X, verbose=0), proba, rtol=1e-6)


def test_targets_of_other_shapes_get_their_own_trace():
    # A trace relaxed from a 1-D to a 2-D target would lose the rank Keras's loss code needs.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 4)).astype("float32")
    y = X @ np.arange(1.0, 5.0)
    params = dict(hidden_layer_sizes=(8,), dropout=0.0, epochs=1, batch_size=16, random_state=0)
    flat = CLRRegressor(**params).fit(X, y)
    column = CLRRegressor(**params).fit(X, y[:, None])
    np.testing.assert_allclose(flat.predict(X), column.predict(X).ravel(), rtol=1e-5)


@pytest.mark.parametrize("second", [dict(), dict(schedule="one_cycle", epochs=2)])  # an ending schedule restarts
def test_a_warm_start_continues_from_a_shared_fits_optimizer_state(binary_data, second):
    X, y = binary_data
    shared = CLRClassifier(**SMALL, schedule="triangular", warm_start=True).fit(X, y)
    own = CLRClassifier(**SMALL, schedule="triangular", warm_start=True, callbacks=[NoOp()]).fit(X, y)
    shared.set_params(**second).fit(X, y)
    own.set_params(**second).fit(X, y)
    for a, b in zip(weights(shared), weights(own)):
        np.testing.assert_array_equal(a, b)
    assert shared.history_ == own.history_


def test_schedule_rates_are_the_schedules_own_values():
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([3, 7], [1.0, 0.5, 0.25])
    np.testing.assert_array_equal(schedule_rates(schedule, 10), [1.0] * 4 + [0.5] * 4 + [0.25] * 2)
    np.testing.assert_array_equal(schedule_rates(0.01, 3), np.float32([0.01] * 3))
    table = RateTable(8)
    table.fill(schedule_rates(schedule, 5), start=2)
    steps = (0, 2, 6, 7, 100)  # before the start: the first rate; past the end: the last
    assert [float(table(step)) for step in steps] == [1.0, 1.0, 0.5, 0.5, 0.5]
    assert [table.applied(step) for step in steps] == [1.0, 1.0, 0.5, 0.5, 0.5]  # the copy the history reads


@pytest.mark.parametrize("fit_kwargs", [dict(), dict(validation_batch_size=7), dict(batch_size=50)])
@pytest.mark.parametrize("weighted", [False, True])
def test_validation_arrays_give_the_validation_keras_computes_from_them(binary_data, monkeypatch, fit_kwargs, weighted):
    import skclr._fit_run

    X, y = binary_data
    validation = (X[:45].astype("float64"), y[:45], *([np.linspace(0.5, 2, 45)] if weighted else []))
    ours = CLRClassifier(**SMALL).fit(X, y, validation_data=validation, **fit_kwargs).history_
    monkeypatch.setattr(skclr._fit_run, "validation_batches", lambda data, batch_size: data)  # Keras's own pipeline
    keras_own = CLRClassifier(**SMALL).fit(X, y, validation_data=validation, **fit_kwargs).history_
    assert ours == keras_own and len(ours["val_loss"]) == 3


def _trained_before(meta=None, compile_kwargs=None):
    """A model whose optimizer has run 37 steps, as a model given as ``model=`` keeps between fits."""
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])  # fmt: skip
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.optimizer.build(model.trainable_variables)
    model.optimizer.iterations.assign(37)
    return model


def test_a_model_whose_optimizer_has_run_trains_at_the_rates_of_its_own_steps(binary_data):
    # A cyclical schedule goes on from the optimizer's iterations: steps 37.. of the cycle, not 0..
    X, y = binary_data
    params = dict(model=_trained_before, epochs=2, batch_size=16, random_state=3, schedule="triangular",
                  base_lr=1e-3, max_lr=1e-1, step_size=0.75)  # fmt: skip
    shared = CLRClassifier(**params).fit(X, y)
    own = CLRClassifier(**params, callbacks=[NoOp()]).fit(X, y)
    for a, b in zip(weights(shared), weights(own)):
        np.testing.assert_array_equal(a, b)


def test_a_loss_whose_configuration_leaves_out_a_setting_trains_as_given():
    # keras.losses.Huber's configuration has no delta: a copy compiled from it would use delta=1
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 4)).astype("float32")
    y = X @ np.arange(1.0, 5.0)
    params = dict(hidden_layer_sizes=(8,), dropout=0.0, epochs=2, batch_size=16, random_state=0,
                  loss=keras.losses.Huber(delta=0.1))  # fmt: skip
    shared = CLRRegressor(**params).fit(X, y)
    own = CLRRegressor(**params, callbacks=[NoOp()]).fit(X, y)
    for a, b in zip(weights(shared), weights(own)):
        np.testing.assert_array_equal(a, b)
    assert shared.history_ == own.history_


@keras.saving.register_keras_serializable(package="skclr_tests")
class Above(keras.metrics.Metric):
    """The share of predicted probabilities above ``threshold``, which its configuration leaves out."""

    def __init__(self, threshold=0.5, name="above", **kwargs):
        super().__init__(name=name, **kwargs)
        self.threshold = threshold
        self.above = self.add_variable(shape=(), initializer="zeros", name="above")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.above.assign_add(keras.ops.sum(keras.ops.cast(y_pred > self.threshold, "float32")))
        self.count.assign_add(keras.ops.cast(keras.ops.size(y_pred), "float32"))

    def result(self):
        return self.above / self.count


def test_a_custom_metric_is_reported_as_given(binary_data):
    X, y = binary_data
    shared = CLRClassifier(**SMALL, metrics=[Above(0.9)]).fit(X, y)
    own = CLRClassifier(**SMALL, metrics=[Above(0.9)], callbacks=[NoOp()]).fit(X, y)
    assert shared.history_["above"] == own.history_["above"]


@pytest.mark.parametrize("compiled, shared", [
    (dict(loss="huber", metrics=["mae", keras.metrics.R2Score()]), True),
    (dict(loss=keras.losses.Huber(), weighted_metrics=[keras.metrics.mean_absolute_error]), True),
    (dict(loss=keras.losses.Huber(delta=0.1)), False),  # not in its configuration
    (dict(loss="mse", metrics=[Above(0.9)]), False),  # not Keras's own
])  # fmt: skip
def test_only_what_a_copy_compiled_from_the_configuration_computes_alike_is_shared(compiled, shared):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", **compiled)
    data = (np.zeros((8, 4), "float32"), np.zeros(8, "float32"), None, None, False)
    assert (training_key(model, data) is not None) is shared


@pytest.mark.parametrize("first", ["cosine", "constant"])
def test_a_constant_rate_and_a_schedule_share_one_runner_and_each_trains_as_on_its_own_model(binary_data, monkeypatch, first):
    # a constant rate's variable is not runner state (training never changes it): one runner for both
    X, y = binary_data
    taken, take = [], Runner.take.__func__
    monkeypatch.setattr(Runner, "take", classmethod(lambda cls, *args: taken.append(take(cls, *args)) or taken[-1]))
    second = "constant" if first == "cosine" else "cosine"
    params = [dict(SMALL, schedule=first), dict(SMALL, schedule=second, learning_rate=3e-3, random_state=5)]
    shared = [CLRClassifier(**p).fit(X, y) for p in params]
    assert None not in taken and taken[1] is taken[0]
    for estimator, p in zip(shared, params):
        own = CLRClassifier(**p, callbacks=[NoOp()]).fit(X, y)
        for a, b in zip(weights(estimator), weights(own)):
            np.testing.assert_array_equal(a, b)
        assert estimator.history_ == own.history_
        mine, its = estimator.model_.optimizer.variables, own.model_.optimizer.variables
        assert len(mine) == len(its)  # the constant's rate variable is its own, at its value
        for a, b in zip(mine, its):
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


def test_a_new_schedule_at_every_fit_does_not_warn_about_retracing(caplog):
    import logging

    from skclr.schedules import OneCycle

    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        for peak in np.linspace(1e-3, 1e-2, 7):  # as a grid search's folds and candidates do
            schedule_rates(OneCycle(float(peak), 40), 40)
    assert not [record for record in caplog.records if "retracing" in record.getMessage()]


def test_no_retracing_warning_for_the_steps_of_each_new_model():
    # TensorFlow counts traces per Python function: each new model's Keras steps add to one count
    # and, after five, it warns that "tracing is expensive", advice that does not apply to them.
    import logging

    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    handler = Keep()
    logger = logging.getLogger("tensorflow")
    logger.addHandler(handler)  # sees what the logger's filters let through
    try:
        rng = np.random.default_rng(0)
        X_small = rng.normal(size=(32, 4)).astype("float32")
        y_small = (X_small[:, 0] > 0).astype(int)
        for _ in range(7):  # a callback: each fit trains (and traces) its own model
            CLRClassifier(hidden_layer_sizes=(4,), epochs=1, callbacks=[keras.callbacks.Callback()]).fit(
                X_small, y_small
            ).predict(X_small)
    finally:
        logger.removeHandler(handler)
    assert not [message for message in records if "retracing" in message]
