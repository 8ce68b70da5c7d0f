"""Schedules as pure functions of the iteration, checked against the published formulas."""

import csv
import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import skclr
from skclr._catalogue import (
    _BUILDERS,
    ENDING_SCHEDULES,
    SCHEDULE_TRAITS,
    SCHEDULES,
    make_schedule,
    schedule_values,
)
from skclr.schedules import CyclicalLearningRate, OneCycle, Restarted


# -- closed-form references, written from the papers / PyTorch docs --------------------------

def smith_clr(t, base, top, step, mode, gamma=1.0):
    """Smith (2015), eqs. in section 3.1, with the triangular2 / exp_range scalings."""
    cycle = math.floor(1 + t / (2 * step))
    x = abs(t / step - 2 * cycle + 1)
    scale = {"triangular": 1.0, "triangular2": 1 / 2 ** (cycle - 1), "exp_range": gamma**t}[mode]
    return base + (top - base) * max(0.0, 1 - x) * scale


def torch_one_cycle(t, top, total, pct=0.3, div=25.0, final_div=1e4, anneal="cos"):
    """PyTorch OneCycleLR (three_phase=False), get_lr() at last_epoch == t."""
    initial = top / div
    phases = [(pct * total - 1, initial, top), (total - 1, top, initial / final_div)]
    start = 0.0
    for i, (end, lo, hi) in enumerate(phases):
        if t <= end or i == len(phases) - 1:
            p = (t - start) / (end - start)
            if anneal == "cos":
                return hi + (lo - hi) / 2 * (math.cos(math.pi * p) + 1)
            return (hi - lo) * p + lo
        start = end


STEPS = np.arange(0, 61)


@pytest.mark.parametrize("mode", CyclicalLearningRate.MODES)
def test_cyclical_matches_smith_formula_at_every_iteration(mode):
    schedule = CyclicalLearningRate(1e-4, 1e-2, step_size=5, mode=mode, gamma=0.97)
    expected = [smith_clr(t, 1e-4, 1e-2, 5, mode, gamma=0.97) for t in STEPS]
    np.testing.assert_allclose(schedule_values(schedule, len(STEPS)), expected, rtol=1e-5)


def test_cyclical_cycle_boundaries():
    clr = CyclicalLearningRate(0.1, 0.5, step_size=4, mode="triangular2")
    values = schedule_values(clr, 25)
    assert values[0] == pytest.approx(0.1)  # cycle start
    assert values[4] == pytest.approx(0.5)  # first peak
    assert values[8] == pytest.approx(0.1)  # cycle end = next start
    assert values[12] == pytest.approx(0.3)  # second peak: amplitude halved
    assert values[20] == pytest.approx(0.2)  # third peak: quartered


def test_cyclical_accepts_a_fractional_step_size():
    clr = CyclicalLearningRate(1e-3, 1.0, step_size=2.5)
    expected = [smith_clr(t, 1e-3, 1.0, 2.5, "triangular") for t in range(12)]
    np.testing.assert_allclose(schedule_values(clr, 12), expected, rtol=1e-5)


@pytest.mark.parametrize("anneal", OneCycle.ANNEALS)
@pytest.mark.parametrize("total,pct", [(100, 0.3), (37, 0.25), (10, 0.5)])
def test_one_cycle_matches_pytorch_formula(anneal, total, pct):
    schedule = OneCycle(0.01, total_steps=total, pct_start=pct, anneal=anneal)
    expected = [torch_one_cycle(t, 0.01, total, pct=pct, anneal=anneal) for t in range(total)]
    # float32 graph: absolute error of a few ulps of the peak rate near the end of the cosine
    np.testing.assert_allclose(schedule_values(schedule, total), expected, rtol=1e-5, atol=1e-7 * 0.01)


def test_one_cycle_endpoints_and_after_the_end():
    schedule = OneCycle(0.01, total_steps=100)
    values = schedule_values(schedule, 120)
    assert values[0] == pytest.approx(0.01 / 25)
    assert values.max() == pytest.approx(0.01)
    assert values[99] == pytest.approx(0.01 / 25 / 1e4)
    np.testing.assert_allclose(values[99:], values[99])  # stays at the final rate


def torch_one_cycle_momentum(t, total, pct=0.3, base=0.85, top=0.95):
    """PyTorch OneCycleLR's momentum (cycle_momentum=True, cos): max -> base while the rate rises, then back."""
    phases = [(pct * total - 1, top, base), (total - 1, base, top)]
    start = 0.0
    for i, (end, lo, hi) in enumerate(phases):
        if t <= end or i == len(phases) - 1:
            p = (t - start) / (end - start)
            return hi + (lo - hi) / 2 * (math.cos(math.pi * p) + 1)
        start = end


def torch_cyclic_momentum(t, step, mode, gamma=1.0, base=0.8, top=0.9):
    """PyTorch CyclicLR's momentum: max_momentum - (max - base) * triangle * scale."""
    cycle = math.floor(1 + t / (2 * step))
    x = abs(t / step - 2 * cycle + 1)
    scale = {"triangular": 1.0, "triangular2": 1 / 2 ** (cycle - 1), "exp_range": gamma**t}[mode]
    return top - (top - base) * max(0.0, 1 - x) * scale


def momentum_values(schedule, steps):
    import keras

    return keras.ops.convert_to_numpy(schedule.momentum(keras.ops.arange(steps))).astype(float)


@pytest.mark.parametrize("total,pct", [(1000, 0.3), (37, 0.25)])
def test_one_cycle_momentum_matches_pytorch_at_every_iteration(total, pct):
    ours = momentum_values(OneCycle(0.01, total_steps=total, pct_start=pct), total)
    expected = [torch_one_cycle_momentum(t, total, pct=pct) for t in range(total)]
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-7)
    assert ours[0] == pytest.approx(0.95) and ours.min() == pytest.approx(min(expected), abs=1e-6)


@pytest.mark.parametrize("mode", CyclicalLearningRate.MODES)
def test_cyclical_momentum_matches_pytorch_at_every_iteration(mode):
    schedule = CyclicalLearningRate(1e-4, 1e-2, step_size=25, mode=mode, gamma=0.999)
    expected = [torch_cyclic_momentum(t, 25, mode, gamma=0.999) for t in range(1000)]
    np.testing.assert_allclose(momentum_values(schedule, 1000), expected, rtol=1e-6, atol=1e-7)


def test_momentum_moves_opposite_to_the_rate():
    schedule = CyclicalLearningRate(0.1, 0.5, step_size=4, base_momentum=0.7, max_momentum=0.9)
    rates, momenta = schedule_values(schedule, 9), momentum_values(schedule, 9)
    assert np.argmax(rates) == np.argmin(momenta) == 4
    np.testing.assert_allclose((rates - 0.1) / 0.4, (0.9 - momenta) / 0.2, atol=1e-6)


# -- PyTorch parity: tests/data/pytorch_schedules.csv, and live PyTorch when installed ---------

def _load_reference_script():
    path = Path(__file__).parent / "data" / "make_pytorch_reference.py"
    spec = importlib.util.spec_from_file_location("make_pytorch_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REFERENCE = _load_reference_script()
CASES = {case: (scheduler, kwargs, steps) for case, scheduler, kwargs, steps in REFERENCE.CASES}


def _read_reference() -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    rows: dict[str, list] = {}
    with REFERENCE.PATH.open(newline="") as file:
        for row in csv.DictReader(line for line in file if not line.startswith("#")):
            rows.setdefault(row["case"], []).append(row)

    def column(case_rows, key):
        return None if case_rows[0][key] == "" else np.array([float(row[key]) for row in case_rows])

    return {case: (column(case_rows, "lr"), column(case_rows, "momentum")) for case, case_rows in rows.items()}


def skclr_schedule(scheduler: str, kwargs: dict):
    """skclr's counterpart of a PyTorch scheduler; arguments left at PyTorch's defaults are left at ours."""

    def given(*names):
        return {name: kwargs[name] for name in names if name in kwargs}

    if scheduler == "CyclicLR":
        return CyclicalLearningRate(
            kwargs["base_lr"], kwargs["max_lr"], kwargs["step_size_up"],
            **given("mode", "gamma", "base_momentum", "max_momentum"),
        )  # fmt: skip
    if scheduler == "OneCycleLR":
        renamed = dict(anneal=kwargs["anneal_strategy"]) if "anneal_strategy" in kwargs else {}
        return OneCycle(
            kwargs["max_lr"], kwargs["total_steps"], **renamed,
            **given("pct_start", "div_factor", "final_div_factor", "base_momentum", "max_momentum"),
        )  # fmt: skip
    assert scheduler == "CosineAnnealingWarmRestarts"
    return make_schedule(
        "cosine_restarts", steps_per_epoch=1, epochs=1, learning_rate=kwargs["base_lr"],
        end_lr=kwargs["eta_min"], restart_every=kwargs["T_0"], restart_mult=kwargs["T_mult"],
    )  # fmt: skip


def assert_matches_pytorch(case: str, lrs: np.ndarray, momenta: np.ndarray | None):
    scheduler, kwargs, steps = CASES[case]
    schedule = skclr_schedule(scheduler, kwargs)
    # The graph computes in float32: errors of a few ulps of the peak rate, large relative to
    # the rates near 0 (the end of one_cycle, the bottom of SGDR).
    np.testing.assert_allclose(schedule_values(schedule, steps), lrs, rtol=1e-5, atol=2e-7 * lrs.max())
    if momenta is None:
        assert not hasattr(schedule, "momentum")
    else:
        np.testing.assert_allclose(momentum_values(schedule, steps), momenta, rtol=1e-6, atol=1e-7)


def test_reference_file_holds_every_case_of_the_script():
    reference = _read_reference()
    assert list(reference) == list(CASES)
    assert {case: len(lrs) for case, (lrs, _) in reference.items()} == {c: v[2] for c, v in CASES.items()}
    schedulers = {scheduler for scheduler, _, _ in CASES.values()}
    assert schedulers == {"CyclicLR", "OneCycleLR", "CosineAnnealingWarmRestarts"}


@pytest.mark.parametrize("case", list(CASES))
def test_schedules_match_the_pytorch_reference_values(case):
    assert_matches_pytorch(case, *_read_reference()[case])


def test_schedules_match_live_pytorch():
    pytest.importorskip("torch")
    reference = _read_reference()
    for case, (scheduler, kwargs, steps) in CASES.items():
        lrs, momenta = REFERENCE.torch_values(scheduler, kwargs, steps)
        lrs, momenta = np.array(lrs), None if momenta is None else np.array(momenta)
        # the committed file is what this PyTorch computes (to the file's 10 digits)
        np.testing.assert_allclose(lrs, reference[case][0], rtol=1e-9, atol=1e-15)
        if momenta is not None:
            np.testing.assert_allclose(momenta, reference[case][1], rtol=1e-9)
        assert_matches_pytorch(case, lrs, momenta)


# -- make_schedule: names, epochs -> iterations, Keras built-ins -----------------------------

SPE = 10  # steps per epoch in these tests


def values_of(name, steps=200, **kw):
    return schedule_values(make_schedule(name, steps_per_epoch=SPE, epochs=20, **kw), steps)


def test_constant_is_a_float():
    assert make_schedule("constant", steps_per_epoch=SPE, epochs=5, learning_rate=0.02) == 0.02


def test_time_based_decay_is_keras2_decay_per_iteration():
    values = values_of("time", learning_rate=0.01, decay=1e-3)
    t = np.arange(200)
    np.testing.assert_allclose(values, 0.01 / (1 + 1e-3 * t), rtol=1e-6)


def test_time_based_decay_default_is_lr_over_epochs():
    values = values_of("time", learning_rate=0.01)
    np.testing.assert_allclose(values, 0.01 / (1 + (0.01 / 20) * np.arange(200)), rtol=1e-6)


def test_step_drops_every_n_epochs():
    values = values_of("step", learning_rate=0.1, drop=0.5, drop_every=2.0)
    t = np.arange(200)
    np.testing.assert_allclose(values, 0.1 * 0.5 ** np.floor(t / (2 * SPE)), rtol=1e-6)


def test_linear_reaches_end_lr_at_the_last_iteration():
    values = values_of("linear", learning_rate=0.1, end_lr=0.01)  # 20 epochs of 10: iterations 0 .. 199
    t = np.arange(200)
    np.testing.assert_allclose(values, (0.1 - 0.01) * (1 - t / 199) + 0.01, rtol=1e-5)
    assert values[199] == pytest.approx(0.01, rel=1e-6)


def test_polynomial_power():
    values = values_of("polynomial", learning_rate=0.1, power=5.0)
    np.testing.assert_allclose(values, 0.1 * (1 - np.arange(200) / 199) ** 5, rtol=1e-4, atol=1e-12)


def final_rate(name, learning_rate, end_lr, max_lr):
    return max_lr / 25 / 1e4 if name == "one_cycle" else end_lr


@pytest.mark.parametrize("name", ENDING_SCHEDULES)
@pytest.mark.parametrize("steps_per_epoch, epochs, warmup", [(4, 2, 0.0), (10, 20, 2.0), (3, 1, 0.0)])
def test_ending_schedules_reach_their_final_rate_on_the_last_iteration(name, steps_per_epoch, epochs, warmup):
    settings = dict(learning_rate=1e-3, end_lr=1e-4, max_lr=1e-3)
    schedule = make_schedule(name, steps_per_epoch=steps_per_epoch, epochs=epochs, warmup=warmup, **settings)
    last = steps_per_epoch * epochs - 1  # the last iteration Keras runs
    values = schedule_values(schedule, last + 5)
    final = final_rate(name, **settings)
    assert values[last] == pytest.approx(final, rel=1e-5)
    assert values[last - 1] > final * (1 + 1e-4)  # not reached early
    np.testing.assert_allclose(values[last:], final, rtol=1e-5)  # and kept after the plan


@pytest.mark.parametrize("name", ENDING_SCHEDULES)
def test_a_one_iteration_plan_does_not_run_at_the_final_rate(name):
    one = schedule_values(make_schedule(name, steps_per_epoch=1, epochs=1), 1)
    two = schedule_values(make_schedule(name, steps_per_epoch=1, epochs=2), 2)
    assert one[0] == two[0] > two[1]


def test_exponential_gamma_is_per_epoch():
    values = values_of("exponential", learning_rate=0.1, gamma=0.9)
    np.testing.assert_allclose(values, 0.1 * 0.9 ** (np.arange(200) / SPE), rtol=1e-5)


def test_cosine_with_warmup():
    values = values_of("cosine", learning_rate=0.1, warmup=2.0)
    t = np.arange(200)
    warm = 0.1 * t / 20
    cos = 0.1 * 0.5 * (1 + np.cos(np.pi * (t - 20) / 179))  # from iteration 20 to the last, 199
    np.testing.assert_allclose(values, np.where(t < 20, warm, cos), rtol=1e-5, atol=1e-7 * 0.1)


def torch_sgdr(t, first, mult, top, bottom):
    """PyTorch CosineAnnealingWarmRestarts(T_0=first, T_mult=mult, eta_min=bottom) at step t (its docs)."""
    if mult == 1:
        t_cur, t_i = t % first, first
    else:
        n = int(math.log(t / first * (mult - 1) + 1, mult))
        t_cur, t_i = t - first * (mult**n - 1) / (mult - 1), first * mult**n
    return bottom + (top - bottom) * (1 + math.cos(math.pi * t_cur / t_i)) / 2


@pytest.mark.parametrize("every, mult", [(1.0, 2.0), (0.7, 1.0), (3.0, 2.0), (1.3, 3.0)])
def test_cosine_restarts_is_sgdr_at_every_iteration(every, mult):
    values = values_of("cosine_restarts", steps=1000, learning_rate=0.1, end_lr=0.01, restart_every=every,
                       restart_mult=mult)  # fmt: skip
    expected = [torch_sgdr(t, round(every * SPE), mult, 0.1, 0.01) for t in range(1000)]
    # Keras computes step / period in float32: the phase is off by up to (periods so far) x float32's
    # epsilon, and the rate by that times the cosine's slope, pi x (top - bottom) / 2 (TensorFlow and
    # XLA round differently inside that bound).
    periods = 1000 / round(every * SPE)
    phase_error = 2 * periods * np.finfo(np.float32).eps
    np.testing.assert_allclose(values, expected, rtol=1e-5, atol=math.pi * (0.1 - 0.01) / 2 * phase_error)


def test_cosine_restarts_restarts_at_the_top():
    values = values_of("cosine_restarts", steps=70, learning_rate=0.1, restart_every=1.0, restart_mult=2.0)
    assert [round(float(values[t]), 6) for t in (0, 10, 30)] == [0.1, 0.1, 0.1]  # periods of 10, 20, 40 steps
    assert values[9] < 0.01 and values[29] < 0.01


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
def test_cyclical_step_size_and_gamma_are_per_epoch(mode):
    values = values_of(mode, base_lr=1e-4, max_lr=1e-2, step_size=2.5, gamma=0.9)
    per_iter = 0.9 ** (1 / SPE)
    expected = [smith_clr(t, 1e-4, 1e-2, 25, mode, gamma=per_iter) for t in range(200)]
    np.testing.assert_allclose(values, expected, rtol=1e-4)


def test_cyclical_default_bounds_follow_learning_rate():
    schedule = make_schedule("triangular", steps_per_epoch=SPE, epochs=20, learning_rate=0.004)
    assert (schedule.base_lr, schedule.max_lr) == (0.001, 0.004)


def test_one_cycle_spans_the_whole_training():
    schedule = make_schedule("one_cycle", steps_per_epoch=SPE, epochs=20, max_lr=0.01)
    assert schedule.total_steps == 200 and schedule.max_lr == 0.01


# -- serialization -------------------------------------------------------------------------

@pytest.mark.parametrize("name", [n for n in SCHEDULES if n != "constant"])
def test_every_schedule_round_trips_through_keras_serialization(name):
    schedule = make_schedule(name, steps_per_epoch=SPE, epochs=20, base_lr=1e-4, max_lr=1e-2, warmup=1.0)
    restored = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(schedule))
    assert type(restored) is type(schedule)
    np.testing.assert_allclose(schedule_values(restored, 200), schedule_values(schedule, 200), rtol=1e-7)


@pytest.mark.parametrize("schedule", [CyclicalLearningRate(1e-3, 1e-2, 3, "exp_range", 0.99), OneCycle(0.1, 30)])
def test_saved_model_reloads_without_custom_objects(schedule, tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=schedule), loss="mse")
    model.fit(np.ones((8, 3)), np.ones((8, 2)), epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    reloaded = keras.models.load_model(tmp_path / "m.keras")
    lr = reloaded.optimizer._learning_rate
    assert type(lr) is type(schedule) and lr.get_config() == schedule.get_config()
    assert int(reloaded.optimizer.iterations) == 1


# -- validation ----------------------------------------------------------------------------

def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="Valid names are: constant, time, step.*one_cycle"):
        make_schedule("cyclic", steps_per_epoch=1, epochs=1)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(base_lr=0.1, max_lr=0.01), "base_lr.*< `max_lr`"),
        (dict(base_lr=0.1, max_lr=0.1), "base_lr.*< `max_lr`"),
        (dict(max_lr=-1.0), "max_lr"),
        (dict(step_size=0), "step_size"),
        (dict(step_size=-2.0), "step_size"),
        (dict(gamma=1.5), "gamma"),
        (dict(gamma=0.0), "gamma"),
    ],
)
@pytest.mark.parametrize("name", ["triangular", "exp_range"])
def test_impossible_cyclical_settings(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_schedule(name, steps_per_epoch=10, epochs=5, **kwargs)


@pytest.mark.parametrize(
    "name, kwargs, match",
    [
        ("step", dict(drop=0.0), "drop"),
        ("step", dict(drop_every=0.0), "drop_every"),
        ("polynomial", dict(power=0.0), "power"),
        ("linear", dict(end_lr=0.5, learning_rate=0.1), "end_lr"),
        ("cosine", dict(warmup=10.0), "warmup"),
        ("cosine_restarts", dict(restart_mult=0.5), "restart_mult"),
        ("cosine_restarts", dict(restart_mult=2.5), "restart_mult"),
        ("cosine_restarts", dict(restart_every=0.0), "restart_every"),
        ("cosine_restarts", dict(end_lr=0.2, learning_rate=0.1), "end_lr"),
        ("time", dict(decay=-1.0), "decay"),
        ("constant", dict(learning_rate=0.0), "learning_rate"),
    ],
)
def test_impossible_decay_settings(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_schedule(name, steps_per_epoch=10, epochs=5, **kwargs)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: CyclicalLearningRate(0.0, 1.0, 2), "base_lr"),
        (lambda: CyclicalLearningRate(0.1, 1.0, 2, mode="sine"), "mode"),
        (lambda: OneCycle(0.1, total_steps=1), "total_steps"),
        (lambda: OneCycle(0.1, total_steps=10, pct_start=1.0), "pct_start"),
        (lambda: OneCycle(0.1, total_steps=10, anneal="cubic"), "anneal"),
        (lambda: OneCycle(0.1, total_steps=10, base_momentum=0.99, max_momentum=0.9), "base_momentum"),
        (lambda: CyclicalLearningRate(0.1, 1.0, 2, max_momentum=1.0), "max_momentum"),
    ],
)
def test_schedule_classes_fail_early_with_the_received_value(make, match):
    with pytest.raises(ValueError, match=f"{match}.*Received"):
        make()


ONE_CYCLE = OneCycle(0.1, total_steps=10)


@pytest.mark.parametrize(
    "cls, kwargs, argument",
    [
        (CyclicalLearningRate, dict(base_lr=-0.1, max_lr=1.0, step_size=2), "base_lr"),
        (CyclicalLearningRate, dict(base_lr=0.1, max_lr=0.1, step_size=2), "max_lr"),
        (CyclicalLearningRate, dict(base_lr=0.1, max_lr=1.0, step_size=0), "step_size"),
        (CyclicalLearningRate, dict(base_lr=0.1, max_lr=1.0, step_size=-4.0), "step_size"),
        (CyclicalLearningRate, dict(base_lr=0.1, max_lr=1.0, step_size=float("nan")), "step_size"),
        (CyclicalLearningRate, dict(base_lr=0.1, max_lr=1.0, step_size=2, gamma=0.0), "gamma"),
        (CyclicalLearningRate, dict(base_lr=0.1, max_lr=1.0, step_size=2, gamma=1.5), "gamma"),
        (CyclicalLearningRate, dict(base_lr=0.1, max_lr=1.0, step_size=2, base_momentum=-0.1), "base_momentum"),
        (OneCycle, dict(max_lr=0.0, total_steps=10), "max_lr"),
        (OneCycle, dict(max_lr=0.1, total_steps=0), "total_steps"),
        (OneCycle, dict(max_lr=0.1, total_steps=10.5), "total_steps"),
        (OneCycle, dict(max_lr=0.1, total_steps=float("nan")), "total_steps"),
        (OneCycle, dict(max_lr=0.1, total_steps=float("inf")), "total_steps"),
        (OneCycle, dict(max_lr=0.1, total_steps=10, pct_start=0.0), "pct_start"),
        (OneCycle, dict(max_lr=0.1, total_steps=10, div_factor=0.0), "div_factor"),
        (OneCycle, dict(max_lr=0.1, total_steps=10, final_div_factor=-1.0), "final_div_factor"),
        (Restarted, dict(schedule=0.01, start=0), "schedule"),
        (Restarted, dict(schedule=ONE_CYCLE, start=-1), "start"),
        (Restarted, dict(schedule=ONE_CYCLE, start=2.5), "start"),
        (Restarted, dict(schedule=ONE_CYCLE, start=float("nan")), "start"),
    ],
)
def test_each_schedule_class_refuses_a_bad_argument_by_name(cls, kwargs, argument):
    """As Keras's schedules do: a ValueError on construction that names the argument and its value."""
    with pytest.raises(ValueError, match=rf"Arguments? (`\w+` and )?`{argument}`.*Received: .*{argument}="):
        cls(**kwargs)


@pytest.mark.parametrize(
    "cls, kwargs, argument, valid",
    [
        (CyclicalLearningRate, dict(base_lr=0.1, max_lr=1.0, step_size=2, mode="sine"), "mode",
         ("triangular", "triangular2", "exp_range")),
        (OneCycle, dict(max_lr=0.1, total_steps=10, anneal="cubic"), "anneal", ("cos", "linear")),
    ],
)
def test_a_bad_mode_lists_the_valid_ones(cls, kwargs, argument, valid):
    with pytest.raises(ValueError, match=argument) as error:
        cls(**kwargs)
    assert all(repr(name) in str(error.value) for name in valid)


def test_the_schedule_classes_import_no_scikit_learn():
    """``skclr.schedules`` works on a plain Keras model, with scikit-learn absent.

    Keras itself imports scikit-learn when it can (``keras/src/wrappers/fixes.py``, inside a
    ``try``), so the child process makes it unimportable, as if not installed, and then imports
    and uses the schedules.
    """
    code = (
        "import sys\n"
        "class NoScikitLearn:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('sklearn', 'scikeras'):\n"
        "            raise ImportError(f'{name} is blocked by the test')\n"
        "sys.meta_path.insert(0, NoScikitLearn())\n"
        "import skclr.schedules as s\n"
        "assert 'sklearn' not in sys.modules and 'scikeras' not in sys.modules\n"
        "float(s.Restarted(s.OneCycle(0.1, total_steps=10), start=2).momentum(5))\n"
        "float(s.CyclicalLearningRate(0.1, 1.0, step_size=2)(3))\n"
    )
    root = str(Path(skclr.__file__).parents[1])  # this checkout's skclr, not an installed one
    path = os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": path}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]


def test_one_cycle_ignores_base_lr():
    schedule = make_schedule("one_cycle", steps_per_epoch=SPE, epochs=2, base_lr=0.5, max_lr=0.01)
    assert float(schedule(0)) == pytest.approx(0.01 / 25)


@pytest.mark.parametrize("restart_mult", [1.5, 2.5, 1.0001])
def test_cosine_restarts_refuses_a_fractional_restart_mult(restart_mult):
    with pytest.raises(ValueError, match=f"'restart_mult' .* must be a whole number .*Got {restart_mult}"):
        make_schedule("cosine_restarts", steps_per_epoch=10, epochs=5, restart_mult=restart_mult)


@pytest.mark.parametrize("restart_mult", [1, 2.0, np.int64(3), np.float32(2.0)])
def test_cosine_restarts_takes_a_whole_restart_mult_of_any_type(restart_mult):
    values = values_of("cosine_restarts", steps=41, learning_rate=0.1, restart_mult=restart_mult, restart_every=1.0)
    assert values[10] == pytest.approx(0.1)  # the first restart, after 10 iterations
    restart = 10 + 10 * int(restart_mult)  # the second, after a period restart_mult times longer
    assert values[restart] == pytest.approx(0.1) and values[restart - 1] < 0.01


# -- the traits table ----------------------------------------------------------------------

def test_every_name_has_traits_and_a_builder():
    assert list(SCHEDULE_TRAITS) == list(_BUILDERS) == list(SCHEDULES)


TRAIT_SETTINGS = dict(
    learning_rate=0.01, base_lr=0.002, max_lr=0.02, end_lr=0.001, step_size=0.5, restart_every=1.0
)
PLANNED = 4 * SPE  # iterations planned by values_for_traits


def values_for_traits(name, **changes):
    schedule = make_schedule(name, steps_per_epoch=SPE, epochs=4, **{**TRAIT_SETTINGS, **changes})
    return schedule, schedule_values(schedule, PLANNED + 20)


@pytest.mark.parametrize("name", SCHEDULES)
def test_traits_say_what_each_schedule_reads_and_how_it_moves(name):
    traits = SCHEDULE_TRAITS[name]
    schedule, values = values_for_traits(name)

    def reads(setting, value):
        return not np.allclose(values_for_traits(name, **{setting: value})[1], values, rtol=1e-6)

    assert reads("learning_rate", 0.015) == traits.uses_learning_rate
    assert reads("base_lr", 0.001) == traits.uses_base_lr
    assert reads("max_lr", 0.03) == traits.uses_max_lr
    assert reads("end_lr", 0.002) == traits.uses_end_lr
    final = values[PLANNED - 1]
    ends = values[PLANNED - 2] != final and np.all(values[PLANNED - 1 :] == final)
    assert ends == traits.ends
    at_start = np.isclose(values, values[0], rtol=1e-5)
    comebacks = np.count_nonzero(at_start[1:] & ~at_start[:-1])  # iterations where it is back at its start
    assert (comebacks >= 2) == traits.cyclical
    assert hasattr(schedule, "momentum") == traits.momentum


# -- Restarted: a schedule started again later ----------------------------------------------

@pytest.mark.parametrize(
    "inner", [OneCycle(0.1, total_steps=30), CyclicalLearningRate(1e-3, 1e-2, 4, mode="exp_range", gamma=0.99)]
)
def test_restarted_shifts_the_momentum_with_the_rate(inner):
    restarted = Restarted(inner, start=50)
    np.testing.assert_allclose(momentum_values(restarted, 90)[50:], momentum_values(inner, 40), rtol=1e-7)
    np.testing.assert_allclose(momentum_values(restarted, 50), float(inner.momentum(0)), rtol=1e-7)
    reloaded = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(restarted))
    assert type(reloaded) is Restarted and type(reloaded.schedule) is type(inner)
    np.testing.assert_allclose(momentum_values(reloaded, 90), momentum_values(restarted, 90), rtol=1e-7)
    np.testing.assert_allclose(schedule_values(reloaded, 90), schedule_values(restarted, 90), rtol=1e-7)


def test_restarted_has_no_momentum_when_its_schedule_has_none():
    restarted = Restarted(make_schedule("cosine", steps_per_epoch=SPE, epochs=2), start=5)
    assert not hasattr(restarted, "momentum")
    reloaded = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(restarted))
    assert not hasattr(reloaded, "momentum")
