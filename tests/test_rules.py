"""The range test's rules on synthetic curves whose answer is known: no TensorFlow, no training."""

import numpy as np
import pytest

from skclr import _rules
from skclr._rules import MAX_DIV


def falling_then_rising():
    """Flat to point 29, falling linearly over points 30..69 (1.0 to 0.2), rising to 3.0 by point 99."""
    lrs = np.logspace(-5, 0, 100)
    loss = np.ones(100)
    loss[30:70] = np.linspace(1.0, 0.2, 41)[1:]
    loss[70:] = np.linspace(0.2, 3.0, 30)
    return lrs, loss


class TestSmoothing:
    def test_exponential_average_is_bias_corrected(self):
        values = np.array([4.0, 2.0, 6.0])
        # beta 0.5: raw averages 2, 2, 4; corrections 1/(1 - 0.5), 1/(1 - 0.25), 1/(1 - 0.125)
        np.testing.assert_allclose(_rules.exponential_average(values, 0.5), [4.0, 8 / 3, 32 / 7])
        np.testing.assert_array_equal(_rules.exponential_average(values, 0.0), values)

    def test_mean_of_finite_skips_sweeps_that_blew_up(self):
        sweeps = np.array([[1.0, 2.0, np.inf], [3.0, np.nan, np.nan]])
        np.testing.assert_array_equal(_rules.mean_of_finite(sweeps), [2.0, 2.0, np.inf])

    def test_smoothing_width_is_odd_and_about_a_tenth(self):
        assert [_rules.smoothing_width(n) for n in (5, 40, 100, 200)] == [3, 5, 11, 21]


class TestFirstDivergence:
    def test_a_loss_four_times_its_best_stops_the_sweep(self):
        losses = [1.0, 0.5, 0.5, 0.5, 3.0, 3.0, 3.0, 3.0]
        # beta 0: the smoothed loss is the loss; the median of the last five passes 2.0 at step 6.
        assert _rules.first_divergence(losses, 0.0, 4.0, skip=0) == 6
        assert _rules.first_divergence(losses, 0.0, 6.1, skip=0) is None

    def test_a_single_heavy_batch_is_not_divergence(self):
        losses = [1.0] * 5 + [9.0] + [1.0] * 5
        assert _rules.first_divergence(losses, 0.0, 4.0, skip=0) is None

    def test_the_first_steps_do_not_set_the_best(self):
        losses = [0.01, 1.0, 1.0, 1.0, 1.0, 1.0]
        assert _rules.first_divergence(losses, 0.0, 4.0, skip=0) == 1
        assert _rules.first_divergence(losses, 0.0, 4.0, skip=1) is None

    def test_a_non_finite_loss_stops_at_once(self):
        assert _rules.first_divergence([1.0, 0.9, np.nan, 0.5], 0.5, 4.0, skip=3) == 2
        assert _rules.first_divergence([1.0, np.inf], 0.9, 4.0, skip=0) == 1


class TestCurve:
    def test_drops_the_diverged_point_non_finite_tail_and_first_tenth(self):
        lrs, loss = falling_then_rising()
        read_lrs, read = _rules.curve(lrs, loss, diverged=True)
        np.testing.assert_array_equal(read_lrs, lrs[9:99])  # 99 points, a tenth (9) skipped
        loss[80] = np.nan
        read_lrs, read = _rules.curve(lrs, loss, diverged=False)
        np.testing.assert_array_equal(read, loss[8:80])

    def test_a_loss_that_never_falls_is_none(self):
        lrs = np.logspace(-5, 0, 50)
        assert _rules.curve(lrs, np.linspace(1.0, 2.0, 50), diverged=False) is None
        assert _rules.curve(lrs, np.full(50, 1.0) - 1e-5 * np.arange(50) / 50, diverged=False) is None

    def test_the_centered_average_keeps_the_rates_in_step(self):
        lrs, loss = np.arange(1.0, 21.0), np.arange(20.0, 0.0, -1.0)
        read_lrs, read = _rules.curve(lrs, loss, diverged=False, width=5)
        # a line is its own moving average: each value stays beside its own rate
        np.testing.assert_allclose(read, 21.0 - read_lrs)


class TestSuggestions:
    def test_minimum_is_a_tenth_of_the_lowest_loss_rate(self):
        lrs, loss = falling_then_rising()
        assert _rules.suggest("minimum", lrs, loss) == pytest.approx(lrs[69] / 10)

    def test_steep_is_where_the_loss_falls_fastest(self):
        lrs, loss = falling_then_rising()
        loss[50] -= 0.05  # the one steepest drop: from point 49 to 50
        assert _rules.suggest("steep", lrs, loss) == pytest.approx(lrs[49])

    def test_valley_follows_fastai(self):
        # Longest decreasing run: points 29..69 (length 41, ending at 69); fast.ai's start is
        # 69 - 41 = 28 and it picks 28 + int(40 / 3) + int(40 / 3 / 2) = 28 + 13 + 6 = 47.
        lrs, loss = falling_then_rising()
        assert _rules.suggest("valley", lrs, loss) == pytest.approx(lrs[47])

    def test_valley_of_a_run_from_the_first_point_stays_inside_it(self):
        # The longest run is points 0..1 (1.0, 0.5); every later point rises again. fast.ai's
        # start, end minus length, is -1 here, which indexes the largest rate swept.
        lrs = np.logspace(-5, 1, 12)
        loss = np.array([1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 1.5, 3.0])
        assert _rules.valley(lrs, loss) == lrs[0]

    def test_an_unknown_rule_lists_the_valid_ones(self):
        lrs, loss = falling_then_rising()
        with pytest.raises(ValueError, match="valley, steep, minimum"):
            _rules.suggest("elbow", lrs, loss)


class TestLandmarksAndBounds:
    def test_onset_edge_and_fall_of_a_known_curve(self):
        # Start 1.0, lowest 0.2 (fall 0.8). Onset: down a tenth of the fall (0.92), point 33 of the
        # raw curve. Edge: back above half the fall (0.6) after the low point, point 74 (rising
        # 0.097 per point from 69). The centered average moves each by at most a point or two.
        lrs, loss = falling_then_rising()
        onset, edge, fall = _rules.landmarks(lrs, loss, diverged=False, width=_rules.smoothing_width(100))
        assert lrs[31] <= onset <= lrs[35]
        assert lrs[72] <= edge <= lrs[76]
        assert 0.7 < fall < 0.8  # the average lifts the sharp bottom of the V a little

    def test_an_edge_beyond_the_sweep_is_its_last_rate(self):
        lrs, loss = falling_then_rising()
        _, edge, _ = _rules.landmarks(lrs[:70], loss[:70], diverged=False, width=11)
        assert edge == lrs[69]
        _, edge, _ = _rules.landmarks(lrs[:71], loss[:71], diverged=True, width=11)  # the rate that diverged
        assert edge == lrs[70]

    def test_no_landmarks_without_a_fall(self):
        lrs = np.logspace(-5, 0, 40)
        assert _rules.landmarks(lrs, np.linspace(1, 2, 40), diverged=False, width=5) is None

    def test_bounds_divide_the_edge_and_cap_the_onset(self):
        assert _rules.bounds(onset=1e-3, edge=0.4) == (1e-3, pytest.approx(0.4 / MAX_DIV))
        top = 0.4 / MAX_DIV
        assert _rules.bounds(onset=0.09, edge=0.4) == (pytest.approx(top / 3), pytest.approx(top))  # capped
        assert _rules.bounds(onset=1e-3, edge=0.4, max_div=2.0, base_div=5.0) == (pytest.approx(0.04), 0.2)
