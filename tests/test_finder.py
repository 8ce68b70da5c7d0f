"""LRFinder against a problem whose answer is known, plus restore, edge cases and the estimator path."""

import itertools
import warnings

import keras
import matplotlib
import numpy as np
import pytest
from conftest import TINY
from sklearn.model_selection import cross_validate
from sklearn.utils import check_random_state

from skclr import CLRClassifier, LRFinder
from skclr._optimizer import inner
from skclr._rules import MAX_DIV
from skclr import _shelf
from skclr._sweep import Scratch, architecture_key

matplotlib.use("Agg")


def quadratic_model(w0=1.0, optimizer="sgd"):
    """loss(w) = w**2 on every sample: x = 1, y = 0, prediction = w * x, MSE."""
    model = keras.Sequential(
        [keras.Input((1,)), keras.layers.Dense(1, use_bias=False, kernel_initializer=keras.initializers.Constant(w0))]
    )
    model.compile(optimizer=optimizer, loss="mse")
    return model


def simulate_sgd(lrs, w0=1.0):
    """Plain gradient descent on w**2: the loss before each step, and after it."""
    w, before, after = w0, [], []
    for lr in lrs:
        before.append(w * w)
        w = w * (1 - 2 * lr)
        after.append(w * w)
    return np.array(before), np.array(after)


X1, Y1 = np.ones((8, 1), "float32"), np.zeros((8, 1), "float32")

# y = X w with distinct rows: every batch has its own gradient, so the losses show which rows
# went into which step, in which order, and whether x and y stayed paired.
XL = np.random.default_rng(0).normal(size=(24, 3)).astype("float32")
YL = XL @ np.array([[1.5], [-2.0], [0.5]], "float32")


def linear_model(optimizer="sgd"):
    dense = keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")
    model = keras.Sequential([keras.Input((3,)), dense])
    model.compile(optimizer=optimizer, loss="mse")
    return model


def simulate_linear(batches, lrs):
    """Mini-batch gradient descent on the MSE of y = X w from w = 0: the loss of each step's batch."""
    w, losses = np.zeros((3, 1)), []
    for (x, y), lr in zip(batches, lrs):
        residual = x.astype("float64") @ w - y
        losses.append(np.mean(residual**2))
        w = w - lr * 2 * x.T @ residual / len(x)
    return np.array(losses)


def array_orders(random_state, n, size):
    """The finder's batches of arrays: a new permutation of the rows at each pass, from one generator."""
    rng = check_random_state(random_state)

    def sweep():
        while True:
            order = rng.permutation(n)
            for i in range(n // size):
                yield order[i * size : (i + 1) * size]

    return sweep


def spy_on_paths(monkeypatch) -> list:
    """Record, for each range test, whether it ran on a shared copy (True) or in place (False)."""
    paths, take = [], Scratch.take.__func__

    def spying(cls, model):
        scratch = take(cls, model)
        paths.append(scratch is not None)
        return scratch

    monkeypatch.setattr(Scratch, "take", classmethod(spying))
    return paths


class TestKnownAnswer:
    def test_losses_are_each_steps_own_batch_loss(self):
        finder = LRFinder(min_lr=1e-3, max_lr=10.0, num_iter=100).find(quadratic_model(), X1, Y1, batch_size=4)
        expected, _ = simulate_sgd(finder.lrs_)
        np.testing.assert_allclose(finder.losses_, expected, rtol=1e-4, atol=1e-30)

    def test_stops_past_the_divergence_rate_and_suggests_below_it(self):
        finder = LRFinder(min_lr=1e-3, max_lr=10.0, num_iter=100).find(quadratic_model(), X1, Y1, batch_size=4)
        assert finder.diverged_
        # Gradient descent on w**2 diverges for lr > 1, from a loss near 0 that takes a few steps to grow.
        assert 1.0 < finder.lrs_[-1] < 10.0
        # Each rule, computed here from the simulated losses as the rule defines it.
        before, _ = simulate_sgd(finder.lrs_)
        beta = 1 - 10 / 100  # the default smoothing of a 100-step sweep
        average, smoothed = 0.0, []
        for i, loss in enumerate(before[:-1]):  # the diverging last step is dropped
            average = beta * average + (1 - beta) * loss
            smoothed.append(average / (1 - beta ** (i + 1)))
        skip = len(smoothed) // 10
        lrs, curve = finder.lrs_[skip:-1], np.array(smoothed[skip:])
        assert finder.suggest("minimum") == pytest.approx(lrs[np.argmin(curve)] / 10, rel=1e-6)
        steepest = np.argmin(np.diff(curve) / np.diff(np.log(lrs)))
        assert finder.suggest("steep") == pytest.approx(lrs[steepest], rel=1e-6)
        falling = (curve < curve[0] * 0.999) & (np.arange(len(curve)) <= np.argmin(curve))
        assert lrs[falling].min() <= finder.suggest("valley") <= lrs[falling].max()
        for rule in ("valley", "steep", "minimum"):
            assert finder.suggest(rule) < 1.0

    def test_bounds_bracket_the_known_divergence_rate_of_a_noisy_regression(self):
        # y = 2x + noise, x ~ N(0, 1): the MSE has curvature 2 E[x**2] = 2, so gradient descent
        # converges for lr < 1 (fastest at 0.5) and diverges above; noise keeps the loss near 1.
        rng = np.random.default_rng(0)
        x = rng.normal(size=(512, 1)).astype("float32")
        y = 2 * x + rng.normal(size=(512, 1)).astype("float32")
        finder = LRFinder(min_lr=1e-3, max_lr=10.0, num_iter=100, random_state=0)
        finder.find(quadratic_model(w0=-3.0), x, y, batch_size=64)
        assert finder.diverged_ and finder.lrs_[-1] > 1.0  # batch noise does not stop it early
        base, top = finder.clr_bounds()
        edge = top * MAX_DIV
        assert 1.0 <= edge <= 2.5  # where training stops working
        assert 0.1 < top < 1.0 and finder.spread_ < 2  # below the divergence rate; the sweeps agree
        # The fall starts (a tenth of the way down from about 26) while lr * steps is still small.
        assert 1e-3 < base < top / 3 + 1e-12

    def test_each_sweep_restarts_from_the_model_with_its_own_batch_order(self):
        finder = LRFinder(min_lr=1e-3, max_lr=0.3, num_iter=20, n_sweeps=3, random_state=0)
        finder.find(linear_model(), XL, YL, batch_size=8)
        assert finder.sweep_losses_.shape == (3, 20) and finder.n_sweeps_ == 3
        orders = array_orders(0, 24, 8)
        for losses in finder.sweep_losses_:
            batches = [(XL[idx], YL[idx]) for idx in itertools.islice(orders(), 20)]
            np.testing.assert_allclose(losses, simulate_linear(batches, finder.lrs_), rtol=1e-4)
        assert len({tuple(losses) for losses in finder.sweep_losses_}) == 3

    def test_one_full_batch_has_a_single_order_and_no_spread(self):
        finder = LRFinder(min_lr=1e-3, max_lr=0.3, num_iter=20, n_sweeps=3)
        finder.find(linear_model(), XL, YL, batch_size=32)
        assert finder.n_sweeps_ == 1 and finder.sweep_losses_.shape == (1, 20)
        assert np.isnan(finder.spread_)
        np.testing.assert_allclose(finder.losses_, simulate_linear([(XL, YL)] * 20, finder.lrs_), rtol=1e-4)

    def test_rates_are_geometric_from_min_to_max(self):
        rates = LRFinder(min_lr=1e-4, max_lr=1.0, num_iter=5).rates()
        np.testing.assert_allclose(rates, [1e-4, 1e-3, 1e-2, 1e-1, 1.0])

    def test_linear_mode(self):
        finder = LRFinder(min_lr=0.01, max_lr=0.4, num_iter=40, mode="linear").find(quadratic_model(), X1, Y1)
        np.testing.assert_allclose(np.diff(finder.lrs_), 0.01, rtol=1e-9)
        expected, _ = simulate_sgd(finder.lrs_)
        np.testing.assert_allclose(finder.losses_, expected, rtol=1e-4)

    def test_validation_loss_is_measured_after_each_step(self):
        finder = LRFinder(min_lr=1e-3, max_lr=0.4, num_iter=30)
        finder.find(quadratic_model(), X1, Y1, validation_data=(X1[:3], Y1[:3]))
        _, after = simulate_sgd(finder.lrs_)
        assert finder.val_losses_.shape == finder.lrs_.shape
        np.testing.assert_allclose(finder.val_losses_, after, rtol=1e-4)

    def test_smoothed_loss_is_the_bias_corrected_average(self):
        finder = LRFinder(min_lr=1e-3, max_lr=0.3, num_iter=20, smoothing=0.9).find(quadratic_model(), X1, Y1)
        average, expected = 0.0, []
        for i, loss in enumerate(finder.losses_):
            average = 0.9 * average + 0.1 * loss
            expected.append(average / (1 - 0.9 ** (i + 1)))
        np.testing.assert_allclose(finder.smoothed_losses_, expected, rtol=1e-12)


def sweep_in_place(monkeypatch):
    """Make every range test sweep the model itself, as one that cannot be shared is."""
    monkeypatch.setattr(Scratch, "take", classmethod(lambda cls, model: None))


def snapshot(variables) -> list:
    return [(variable.path, variable.numpy().copy()) for variable in variables]


def assert_same_variables(before: list, after: list) -> None:
    assert [path for path, _ in after] == [path for path, _ in before]
    for (path, value), (_, now) in zip(before, after):
        np.testing.assert_array_equal(value, now, err_msg=path)


class TestRestore:
    @pytest.mark.parametrize(
        "optimizer",
        [
            lambda: keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
            lambda: keras.optimizers.Adam(learning_rate=keras.optimizers.schedules.ExponentialDecay(0.01, 5, 0.5)),
        ],
        ids=["SGD", "Adam(ExponentialDecay)"],
    )
    @pytest.mark.parametrize(
        "kind", ["Sequential, shared copy", "Sequential, in place", "functional, in place"]
    )
    # random labels: whether the sweep's loss falls clearly depends on the backend's draw; restoring does not
    @pytest.mark.filterwarnings("ignore:The range test shows no clear fall:RuntimeWarning")
    def test_model_and_optimizer_come_back_bit_for_bit(self, optimizer, kind, monkeypatch):
        if kind == "Sequential, in place":
            sweep_in_place(monkeypatch)
        paths = spy_on_paths(monkeypatch)
        rng = np.random.default_rng(0)
        X, y = rng.normal(size=(64, 5)).astype("float32"), rng.integers(0, 3, 64)
        layers = [keras.layers.Dense(16, activation="relu"), keras.layers.Dropout(0.3), keras.layers.Dense(3)]
        if kind.startswith("functional"):
            inputs = keras.Input((5,))
            model = keras.Model(inputs, layers[2](layers[1](layers[0](inputs))))
        else:
            model = keras.Sequential([keras.Input((5,)), *layers])
        opt = optimizer()
        model.compile(optimizer=opt, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(X, y, epochs=1, batch_size=16, verbose=0)  # non-trivial slots and iteration count
        weights, slots = snapshot(model.variables), snapshot(opt.variables)
        rate_before = float(opt.learning_rate)

        LRFinder(min_lr=1e-5, max_lr=10.0, num_iter=30).find(model, X, y, batch_size=16)

        assert paths == [kind.endswith("shared copy")]
        assert model.optimizer is opt
        assert_same_variables(weights, snapshot(model.variables))
        assert_same_variables(slots, snapshot(opt.variables))
        assert int(opt.iterations) == 4
        assert float(opt.learning_rate) == rate_before

    def test_nothing_of_the_sweep_leaks_into_later_training(self):
        def train(run_finder):
            model = quadratic_model(w0=0.7, optimizer=keras.optimizers.SGD(0.1, momentum=0.5))
            if run_finder:
                LRFinder(min_lr=1e-3, max_lr=100.0, num_iter=50).find(model, X1, Y1)
            model.fit(X1, Y1, epochs=3, batch_size=8, shuffle=False, verbose=0)
            return model.get_weights()[0]

        np.testing.assert_array_equal(train(True), train(False))


class TestSharedSweep:
    """A Sequential of Keras layers is swept on a copy of its architecture traced once per process."""

    X = np.random.default_rng(0).normal(size=(96, 5)).astype("float32")
    y = X[:, :3].argmax(axis=1)

    @staticmethod
    def model(rate=0.2, units=16, seed=0, optimizer=None, loss=None):
        model = keras.Sequential(
            [
                keras.Input((5,)),
                keras.layers.Dense(units, "relu", kernel_initializer=keras.initializers.GlorotUniform(seed)),
                keras.layers.Dropout(rate, seed=seed),
                keras.layers.Dense(3, kernel_initializer=keras.initializers.GlorotUniform(seed + 1)),
            ]
        )
        loss = loss or keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        model.compile(optimizer=optimizer or keras.optimizers.Adam(), loss=loss)
        return model

    def sweep(self, model, X=None, y=None):
        finder = LRFinder(min_lr=1e-4, max_lr=10.0, num_iter=30, random_state=0)
        return finder.find(model, self.X if X is None else X, self.y if y is None else y, batch_size=16).sweep_losses_

    def test_the_shared_copy_gives_the_losses_of_the_model_itself(self, monkeypatch):
        # (dropout rate, seed): the seeds choose the initial weights and dropout masks, which the
        # sweep loads from the model, so models that differ only in them share one copy.
        settings = [(0.2, 0), (0.6, 0), (0.2, 5)]
        _shelf.clear()
        shared = [self.sweep(self.model(rate, seed=seed)) for rate, seed in settings]
        assert len(_shelf.keys("sweep")) == 2  # seed 5 found the copy that seed 0 traced
        sweep_in_place(monkeypatch)
        own = [self.sweep(self.model(rate, seed=seed)) for rate, seed in settings]
        assert not np.array_equal(own[0], own[1])  # the dropout rate shows in the losses
        assert not np.array_equal(own[0], own[2])  # and so do the seeds
        for mine, its in zip(shared, own):
            np.testing.assert_array_equal(mine, its)

    def test_the_key_ignores_names_the_rate_and_seeds_and_sees_every_other_setting(self):
        base = architecture_key(self.model())
        assert base is not None and architecture_key(self.model()) == base  # new layer names
        assert architecture_key(self.model(optimizer=keras.optimizers.Adam(0.5))) == base  # the sweep sets the rate
        assert architecture_key(self.model(seed=1)) == base  # the sweep loads weights and seed states
        clipped = self.model()
        clipped.optimizer.clipvalue = 1.0  # set after compile, as CLRClassifier's clipvalue is
        decayed = self.model()
        decayed.optimizer.weight_decay = 1.0  # ... and weight_decay
        changed = [
            self.model(rate=0.3),
            self.model(units=17),
            self.model(optimizer=keras.optimizers.Adam(beta_1=0.8)),
            self.model(optimizer=keras.optimizers.SGD()),
            self.model(loss=keras.losses.SparseCategoricalCrossentropy()),
            clipped,
            decayed,
        ]
        assert len({base, *map(architecture_key, changed)}) == len(changed) + 1

    def test_models_their_configuration_does_not_describe_are_swept_in_place(self):
        class Twice(keras.layers.Layer):
            def call(self, x):
                return 2 * x

        custom_layer = keras.Sequential([keras.Input((5,)), Twice(), keras.layers.Dense(3)])
        inputs = keras.Input((5,))
        functional = keras.Model(inputs, keras.layers.Dense(3)(inputs))
        for model in (custom_layer, functional):
            model.compile(optimizer="adam", loss="mse")
            assert architecture_key(model) is None
        custom_loss = self.model(loss=lambda y_true, y_pred: keras.ops.mean(y_pred))
        assert architecture_key(custom_loss) is None
        decay = keras.optimizers.AdamW()
        decay.exclude_from_weight_decay(var_names=["bias"])  # not in the optimizer's configuration
        assert architecture_key(self.model(optimizer=decay)) is None

    def test_concurrent_sweeps_of_one_architecture_keep_their_own_data(self, monkeypatch):
        from concurrent.futures import ThreadPoolExecutor

        data = [(self.X * scale, self.y) for scale in (0.5, 1.0, 2.0, 4.0)]
        with ThreadPoolExecutor(2) as pool:
            shared = list(pool.map(lambda Xy: self.sweep(self.model(), *Xy), data))
        sweep_in_place(monkeypatch)
        for mine, Xy in zip(shared, data):
            np.testing.assert_array_equal(mine, self.sweep(self.model(), *Xy))

    def test_the_shelf_keeps_the_most_recently_swept_architectures(self, monkeypatch):
        monkeypatch.setattr(_shelf, "KEPT", 2)  # the size is one number for the whole shelf
        _shelf.clear()
        models = [self.model(units=units) for units in range(1, _shelf.KEPT + 2)]
        for model in models:
            self.sweep(model)
        assert _shelf.keys("sweep") == [architecture_key(model) for model in models[-_shelf.KEPT :]]


class TestEdgeCases:
    def test_small_data_cycles_through_it(self):
        finder = LRFinder(min_lr=1e-4, max_lr=0.1, num_iter=50).find(quadratic_model(), X1[:5], Y1[:5], batch_size=32)
        assert len(finder.losses_) == 50 and not finder.diverged_

    def test_pandas_input_is_indexed_by_row(self):
        import pandas as pd

        frame, target = pd.DataFrame(X1, columns=["x"]), pd.Series(Y1[:, 0])
        finder = LRFinder(min_lr=1e-3, max_lr=0.3, num_iter=20).find(quadratic_model(), frame, target)
        expected, _ = simulate_sgd(finder.lrs_)
        np.testing.assert_allclose(finder.losses_, expected, rtol=1e-4)

    def test_a_loss_that_never_falls_warns_and_falls_back(self):
        finder = LRFinder(min_lr=1e-12, max_lr=1e-11, num_iter=20, fallback_lr=3e-3)
        with pytest.warns(RuntimeWarning, match="never fell"):
            finder.find(quadratic_model(), X1, Y1)
        assert finder.suggestion_ == 3e-3
        with pytest.warns(RuntimeWarning, match="never fell"):
            assert finder.clr_bounds() == (3e-3 / 4, 3e-3)

    def test_heavy_weighted_batches_are_not_taken_for_divergence(self):
        # Balanced class weights on rare classes make a few batches' losses many times the others'.
        # Here nothing trains (rates of 1e-9) and every loss is log(2) times the batch's mean weight:
        # a heavy batch every tenth step, 8.5 times the others. The sweep must run to its end.
        import tensorflow as tf

        weights = np.full((10, 16), 0.5, "float32")
        weights[4, :4] = 30.0  # four minority rows with a large class weight
        x, y = np.ones((10, 16, 2), "float32"), np.zeros((10, 16), "int32")
        dataset = tf.data.Dataset.from_tensor_slices((x, y, weights))
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, "softmax", kernel_initializer="zeros")])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        finder = LRFinder(min_lr=1e-9, max_lr=1e-8, num_iter=60, n_sweeps=1).find(model, dataset, None)
        expected = np.log(2) * np.tile(weights.mean(axis=1), 6)
        np.testing.assert_allclose(finder.losses_, expected, rtol=1e-5)
        assert not finder.diverged_ and len(finder.losses_) == 60

        # The rule this replaces (smoothed loss above 4x its best, from the first step) stops at the heavy batch.
        average, best, stop = 0.0, np.inf, None
        for i, loss in enumerate(expected):
            average = 0.98 * average + 0.02 * loss
            smooth = average / (1 - 0.98 ** (i + 1))
            if smooth > 4 * best:
                stop = i
                break
            best = min(best, smooth)
        assert stop == 4

    def test_nan_mid_sweep_ends_the_sweep_and_is_ignored_by_the_rules(self):
        finder = LRFinder(min_lr=1e-3, max_lr=1e30, num_iter=100, diverge_threshold=1e300)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            # Keras's JAX variables' __array__ predates NumPy 2's copy keyword (Keras's own warning)
            warnings.filterwarnings("ignore", "__array__ implementation doesn't accept a copy", DeprecationWarning)
            finder.find(quadratic_model(), X1, Y1)
        assert finder.diverged_ and not np.isfinite(finder.losses_[-1])
        assert np.isfinite(finder.suggestion_) and finder.suggestion_ < 1.0

    @pytest.mark.parametrize(
        "kwargs, match",
        [
            (dict(min_lr=0.0), "min_lr"),
            (dict(min_lr=1.0, max_lr=0.1), "max_lr"),
            (dict(num_iter=2), "num_iter"),
            (dict(n_sweeps=0), "n_sweeps"),
            (dict(mode="log"), "mode"),
            (dict(smoothing=1.0), "smoothing"),
            (dict(diverge_threshold=1.0), "diverge_threshold"),
            (dict(suggestion="knee"), "suggestion"),
        ],
    )
    def test_bad_settings_are_refused_before_training(self, kwargs, match):
        model = quadratic_model()
        with pytest.raises(ValueError, match=match):
            LRFinder(**kwargs).find(model, X1, Y1)
        assert int(model.optimizer.iterations) == 0

    def test_uncompiled_model_is_refused(self):
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        with pytest.raises(ValueError, match="compiled"):
            LRFinder().find(model, X1, Y1)

    def test_unknown_rule_lists_the_valid_ones(self):
        finder = LRFinder(min_lr=1e-3, max_lr=0.3, num_iter=20).find(quadratic_model(), X1, Y1)
        with pytest.raises(ValueError, match="valley, steep, minimum"):
            finder.suggest("elbow")


class TestReadingTheCurve:
    """The finder applies the rules of skclr._rules (tested there) to its own curves."""

    def test_valley_never_suggests_the_largest_rate_swept(self):
        finder = LRFinder(suggestion="valley")
        finder.lrs_ = np.logspace(-5, 1, 12)
        # After the first point (start-up, skipped): one fall, then a climb to where training fails.
        finder.smoothed_losses_ = np.array([2.0, 1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 1.5])
        finder.diverged_ = False
        assert finder.suggest() == finder.lrs_[1]

    def test_bounds_and_plot_read_the_edge_and_onset_of_the_sweeps(self):
        finder = LRFinder(min_lr=1e-3, max_lr=10.0, num_iter=60, random_state=0)
        finder.find(linear_model(), XL, YL, batch_size=8)
        assert finder.diverged_ and finder.onset_ < finder.edge_ <= finder.lrs_[-1]
        assert finder.clr_bounds() == (min(finder.onset_, finder.edge_ / MAX_DIV / 3), finder.edge_ / MAX_DIV)
        ax = finder.plot()
        edge = [line for line in ax.get_lines() if line.get_label().startswith("edge")]
        assert edge and edge[0].get_xdata()[0] == finder.edge_

    def test_a_weak_fall_warns_that_the_rates_are_a_guess(self):
        finder = LRFinder()
        finder.lrs_ = np.logspace(-5, 0, 10)
        with pytest.warns(RuntimeWarning, match="no clear fall"):
            finder._warn_if_unsure(0.04)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            finder._warn_if_unsure(0.5)


def test_plot_marks_the_suggestion_on_a_log_axis():
    finder = LRFinder(min_lr=1e-3, max_lr=10.0, num_iter=60).find(quadratic_model(), X1, Y1)
    ax = finder.plot()
    assert ax.get_xscale() == "log"
    assert any("suggestion" in text.get_text() for text in ax.get_legend().get_texts())


class TestEstimatorPath:
    def test_each_fold_runs_its_own_range_test(self, binary_data):
        X, y = binary_data
        finder = LRFinder(min_lr=1e-5, max_lr=1.0, num_iter=30)
        result = cross_validate(
            CLRClassifier(**TINY, schedule="triangular", lr_finder=finder, random_state=0),
            X, y, cv=2, return_estimator=True, error_score="raise",
        )  # fmt: skip
        fitted = result["estimator"]
        assert all(est.lr_finder_ is not finder for est in fitted)  # the parameter is not mutated
        assert not hasattr(finder, "lrs_")
        losses = [tuple(est.lr_finder_.losses_[:5]) for est in fitted]
        assert len(set(losses)) == 2  # different training data per fold
        for est in fitted:
            assert est.base_lr_ < est.max_lr_
            assert (est.schedule_.base_lr, est.schedule_.max_lr) == (est.base_lr_, est.max_lr_)

    def test_non_cyclic_schedules_start_at_the_suggestion(self, binary_data):
        X, y = binary_data
        clf = CLRClassifier(**TINY, schedule="constant", lr_finder=True).fit(X, y)
        assert clf.learning_rate_ == clf.lr_finder_.suggestion_ == pytest.approx(clf.history_["lr"][0])

    def test_class_weight_reaches_the_range_test(self, binary_data):
        from sklearn.utils.class_weight import compute_sample_weight

        X, y = binary_data[0][:80], binary_data[1][:80]
        weights = {0: 1.0, 1: 5.0}

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            by_class = CLRClassifier(**TINY, lr_finder=LRFinder(num_iter=15), class_weight=weights, random_state=0)
            by_class.fit(X, y)
            by_sample = CLRClassifier(**TINY, lr_finder=LRFinder(num_iter=15), random_state=0)
            by_sample.fit(X, y, sample_weight=compute_sample_weight(weights, y))
            plain = CLRClassifier(**TINY, lr_finder=LRFinder(num_iter=15), random_state=0).fit(X, y)
        np.testing.assert_array_equal(by_class.lr_finder_.losses_, by_sample.lr_finder_.losses_)
        assert not np.array_equal(by_class.lr_finder_.losses_, plain.lr_finder_.losses_)

    @pytest.mark.parametrize("path", ["shared copy", "in place"])
    def test_dropout_randomness_is_restored_after_the_range_test(self, binary_data, path, monkeypatch):
        # The sweep draws dropout masks; training must draw the same ones as without a sweep. In
        # place, the sweep moves the model's own seed-generator states, which it must put back.
        if path == "in place":
            sweep_in_place(monkeypatch)
        paths = spy_on_paths(monkeypatch)
        X, y = binary_data
        settings = dict(hidden_layer_sizes=(16,), dropout=0.5, epochs=2, batch_size=16, random_state=3, shuffle=False)
        with_finder = CLRClassifier(**settings, lr_finder=LRFinder(min_lr=1e-4, max_lr=1.0, num_iter=30)).fit(X, y)
        assert paths == [path == "shared copy"]
        plain = CLRClassifier(**settings, learning_rate=with_finder.learning_rate_).fit(X, y)
        np.testing.assert_array_equal(with_finder.predict_proba(X), plain.predict_proba(X))

    @pytest.mark.parametrize("path", ["shared copy", "in place"])
    def test_training_starts_from_the_pre_test_weights(self, binary_data, path, monkeypatch):
        # Same seed with and without the range test: training from the restored state must match a
        # run whose constant rate equals the finder's suggestion. In place, the sweep trains the
        # model's own weights and optimizer state, which it must put back.
        if path == "in place":
            sweep_in_place(monkeypatch)
        paths = spy_on_paths(monkeypatch)
        X, y = binary_data
        with_finder = CLRClassifier(**TINY, lr_finder=LRFinder(num_iter=20), random_state=3, shuffle=False)
        with_finder.fit(X, y)
        assert paths == [path == "shared copy"]
        plain = CLRClassifier(**TINY, learning_rate=with_finder.learning_rate_, random_state=3, shuffle=False)
        plain.fit(X, y)
        np.testing.assert_array_equal(with_finder.predict_proba(X), plain.predict_proba(X))


class TestScikitLearnObject:
    def test_clone_get_params_and_repr(self):
        from sklearn.base import clone

        finder = LRFinder(num_iter=50, suggestion="steep")
        assert clone(finder).get_params() == finder.get_params()
        assert repr(finder) == "LRFinder(num_iter=50, suggestion='steep')"

    def test_grid_search_reaches_the_finder_settings(self, binary_data):
        from sklearn.model_selection import GridSearchCV, StratifiedShuffleSplit

        X, y = binary_data
        one_split = StratifiedShuffleSplit(n_splits=1, test_size=0.5, random_state=0)
        search = GridSearchCV(
            CLRClassifier(**TINY, schedule="triangular", lr_finder=LRFinder(), random_state=0),
            {"lr_finder__num_iter": [10, 20]}, cv=one_split, error_score="raise", return_train_score=False,
        )  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # short sweeps may see no fall
            search.fit(X, y)
        assert [p["lr_finder__num_iter"] for p in search.cv_results_["params"]] == [10, 20]
        assert len(search.best_estimator_.lr_finder_.losses_) <= search.best_params_["lr_finder__num_iter"]

    def test_an_unset_finder_seed_follows_the_estimator(self, binary_data):
        X, y = binary_data

        def losses(random_state, finder_seed=None):
            clf = CLRClassifier(**TINY, lr_finder=LRFinder(num_iter=20, random_state=finder_seed),
                                random_state=random_state)  # fmt: skip
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                clf.fit(X, y)
            return clf.lr_finder_

        first, again, other = losses(4), losses(4), losses(5)
        assert first.random_state == 4
        np.testing.assert_array_equal(first.losses_, again.losses_)
        assert not np.array_equal(first.losses_, other.losses_)
        assert losses(5, finder_seed=11).random_state == 11  # a finder's own seed wins


class TestAnyKerasInput:
    """What ``Model.fit`` accepts: dicts and lists of arrays, tf.data datasets, PyDatasets."""

    @staticmethod
    def two_input_model(as_dict: bool):
        a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
        out = keras.layers.Dense(1, kernel_initializer="ones")(keras.layers.Concatenate()([a, b]))
        model = keras.Model({"a": a, "b": b} if as_dict else [a, b], out)
        model.compile(optimizer="sgd", loss="mse")
        return model

    def test_a_two_input_model_swept_with_a_dict_or_a_list(self):
        rng = np.random.default_rng(0)
        Xa, Xb = rng.normal(size=(64, 3)).astype("float32"), rng.normal(size=(64, 2)).astype("float32")
        y = Xa.sum(axis=1) - Xb.sum(axis=1)
        model = self.two_input_model(as_dict=True)
        before = [w.copy() for w in model.get_weights()]
        by_name = LRFinder(min_lr=1e-4, max_lr=1.0, num_iter=30, random_state=0)
        by_name.find(model, {"a": Xa, "b": Xb}, y, batch_size=16)
        by_position = LRFinder(min_lr=1e-4, max_lr=1.0, num_iter=30, random_state=0)
        by_position.find(self.two_input_model(as_dict=False), [Xa, Xb], y, batch_size=16)
        assert by_name.batch_size_ == 16 and len(by_name.losses_) > 10
        np.testing.assert_allclose(by_name.losses_, by_position.losses_, rtol=1e-6)  # same batches, same model
        for w0, w1 in zip(before, model.get_weights()):
            np.testing.assert_array_equal(w0, w1)

    def test_a_tf_data_dataset_of_batches(self):
        import tensorflow as tf

        dataset = tf.data.Dataset.from_tensor_slices((X1, Y1)).batch(4)  # 2 batches, cycled
        finder = LRFinder(min_lr=1e-3, max_lr=10.0, num_iter=100).find(quadratic_model(), dataset, None)
        expected, _ = simulate_sgd(finder.lrs_)
        np.testing.assert_allclose(finder.losses_, expected, rtol=1e-4, atol=1e-30)
        assert finder.batch_size_ == 4 and finder.diverged_

    def test_a_keras_pydataset(self):
        class Halves(keras.utils.PyDataset):
            def __len__(self):
                return 2

            def __getitem__(self, index):
                return X1[4 * index : 4 * index + 4], Y1[4 * index : 4 * index + 4]

        finder = LRFinder(min_lr=1e-3, max_lr=0.3, num_iter=20).find(quadratic_model(), Halves(), None)
        expected, _ = simulate_sgd(finder.lrs_)
        np.testing.assert_allclose(finder.losses_, expected, rtol=1e-4)
        assert len(finder.losses_) == 20

    def test_a_dataset_with_a_separate_y_is_refused(self):
        import tensorflow as tf

        with pytest.raises(ValueError, match="y=None"):
            LRFinder().find(quadratic_model(), tf.data.Dataset.from_tensor_slices((X1, Y1)).batch(4), Y1)


class TestDatasetSweeps:
    """A dataset's later sweeps take the batches of its first pass in orders drawn from random_state."""

    @staticmethod
    def datasets():
        import tensorflow as tf

        class Thirds(keras.utils.PyDataset):
            def __len__(self):
                return 3

            def __getitem__(self, index):
                return XL[8 * index : 8 * index + 8], YL[8 * index : 8 * index + 8]

        return {"PyDataset": Thirds(), "tf.data": tf.data.Dataset.from_tensor_slices((XL, YL)).batch(8)}

    @pytest.mark.parametrize("kind", ["PyDataset", "tf.data"])
    def test_each_sweep_sees_another_order_of_the_batches(self, kind):
        finder = LRFinder(min_lr=1e-3, max_lr=0.3, num_iter=20, n_sweeps=3, random_state=0)
        finder.find(linear_model(), self.datasets()[kind])  # no y: the batches carry it
        thirds = [(XL[i : i + 8], YL[i : i + 8]) for i in (0, 8, 16)]
        rng = check_random_state(0)

        def reordered():
            while True:
                yield from (thirds[i] for i in rng.permutation(3))

        expected = [itertools.islice(itertools.cycle(thirds), 20), itertools.islice(reordered(), 20)]
        expected.append(itertools.islice(reordered(), 20))
        for losses, batches in zip(finder.sweep_losses_, expected):
            np.testing.assert_allclose(losses, simulate_linear(list(batches), finder.lrs_), rtol=1e-4)
        assert len({tuple(losses) for losses in finder.sweep_losses_}) == 3
        assert np.isfinite(finder.spread_)

    def test_a_dataset_of_one_batch_gets_one_sweep_and_no_spread(self):
        import tensorflow as tf

        dataset = tf.data.Dataset.from_tensor_slices((XL, YL)).batch(32)
        finder = LRFinder(min_lr=1e-3, max_lr=0.3, num_iter=20, n_sweeps=3).find(linear_model(), dataset)
        assert finder.n_sweeps_ == 1 and np.isnan(finder.spread_)


class TestInputs:
    def test_arrays_without_y_are_refused_by_name(self):
        model = linear_model()
        with pytest.raises(ValueError, match="needs y for array inputs"):
            LRFinder().find(model, XL, None)
        assert int(model.optimizer.iterations) == 0

    def test_a_generator_is_refused_by_name(self):
        batches = ((XL[i : i + 8], YL[i : i + 8]) for i in (0, 8, 16))
        with pytest.raises(TypeError, match="cannot sweep a generator"):
            LRFinder().find(linear_model(), batches)

    def test_a_model_without_an_input_is_built_from_the_first_batch(self):
        model = keras.Sequential([keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")])
        model.compile(optimizer="sgd", loss="mse")
        finder = LRFinder(min_lr=1e-3, max_lr=0.3, num_iter=20, random_state=0)
        finder.find(model, XL, YL, batch_size=8)
        batches = [(XL[idx], YL[idx]) for idx in itertools.islice(array_orders(0, 24, 8)(), 20)]
        np.testing.assert_allclose(finder.losses_, simulate_linear(batches, finder.lrs_), rtol=1e-4)
        np.testing.assert_array_equal(model.get_weights()[0], np.zeros((3, 1)))

    def test_a_model_that_cannot_be_built_from_the_batch_says_so(self):
        model = keras.Sequential([keras.layers.Dense(1), keras.layers.Reshape((7,))])  # 1 value into 7
        model.compile(optimizer="sgd", loss="mse")
        with pytest.raises(ValueError, match="could not build the model"):
            LRFinder(num_iter=10).find(model, XL, YL)


@pytest.fixture
def mixed_float16():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.usefixtures("mixed_float16")
@pytest.mark.parametrize("shared", [True, False], ids=["shared copy", "in place"])
def test_mixed_precision_sweeps_the_rate_that_moves_the_weights(shared, monkeypatch):
    # Under mixed_float16 the optimizer is a LossScaleOptimizer; the rate that updates the weights
    # is its inner optimizer's. Gradient descent on this regression diverges above a rate of about 1.
    if not shared:
        sweep_in_place(monkeypatch)
    paths = spy_on_paths(monkeypatch)
    model = linear_model(optimizer=keras.optimizers.SGD(0.01))
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    model.optimizer.build(model.trainable_variables)  # as the range test does: its loss scale exists
    before = snapshot(model.optimizer.variables)
    finder = LRFinder(min_lr=1e-3, max_lr=1e6, num_iter=60, n_sweeps=2, random_state=0)
    finder.find(model, XL, YL, batch_size=8)
    assert paths == [shared]
    assert finder.diverged_ and 1.0 < finder.lrs_[-1] < 1e3
    assert finder.suggestion_ < 1.0 and finder.clr_bounds()[1] < 1.0
    assert_same_variables(before, snapshot(model.optimizer.variables))
    assert float(inner(model.optimizer).learning_rate) == pytest.approx(0.01)


@pytest.mark.parametrize("shared", [True, False], ids=["shared copy", "in place"])
def test_later_sweeps_run_in_the_first_sweeps_calls_and_give_the_same_losses(shared, monkeypatch):
    # On JAX each number of steps per call is a program of its own: later sweeps as long as the first
    # sweep's (where it diverged: a random length) compiled one in almost every fit. TensorFlow's trace
    # leaves the length open: one call per later sweep.
    import skclr._sweep
    import skclr.finder
    from skclr import backend

    if not shared:
        sweep_in_place(monkeypatch)
    calls = []
    original = skclr._sweep.SweepSteps.__call__

    def spying(self, rates, batches, validation_data=None):
        calls.append(len(batches))
        return original(self, rates, batches, validation_data)

    monkeypatch.setattr(skclr._sweep.SweepSteps, "__call__", spying)

    def sweeps():  # gradient descent on this regression diverges above a rate of about 1
        finder = LRFinder(min_lr=1e-3, max_lr=1e6, num_iter=60, n_sweeps=3, random_state=0)
        return finder.find(linear_model(), XL, YL, batch_size=8)

    finder = sweeps()
    steps = len(finder.losses_)
    assert finder.diverged_ and steps % skclr.finder.STEPS_PER_CALL != 0  # a length of its own
    first = [skclr.finder.STEPS_PER_CALL] * -(-steps // skclr.finder.STEPS_PER_CALL)
    assert calls == first * 3 if backend.PROGRAM_PER_SWEEP_LENGTH else first + [steps, steps]

    def in_one_call(self, sweep, rates, batches, length):  # each later sweep as one call of its length
        return np.asarray(sweep(rates[:length], list(itertools.islice(batches, length)))[0])

    monkeypatch.setattr(LRFinder, "_later_sweep", in_one_call)
    np.testing.assert_array_equal(finder.sweep_losses_, sweeps().sweep_losses_)  # the same batches, bit for bit
