"""Every example runs (small settings) and returns something sensible."""

import importlib.util
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


def load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_example_opens_with_a_docstring():
    assert len(EXAMPLES) >= 5
    for path in EXAMPLES:
        assert load(path).__doc__, f"{path.name} has no docstring saying what it shows"


# What each example's main(quick=True) must return; each check asserts, so a wrong result fails.
# Chance is 0.1 on digits and 0.5 otherwise; 2-3 epochs are far from trained but must learn something.
def check_quick_start(accuracy):
    assert 0.3 < accuracy <= 1.0


def check_cross_val_benchmark(results):
    assert len(results) == 3
    assert all(0.3 < accuracy <= 1.0 for accuracy in results.values())


def check_finder_flow(clf):
    assert clf.base_lr_ < clf.max_lr_
    assert len(clf.history_["val_accuracy"]) == 2
    assert Path("skclr-output/examples/finder_flow.png").stat().st_size > 0


def check_grid_search_schedules(search):
    assert len(search.cv_results_["params"]) == 7
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def check_pipeline_dataframe(scores):
    assert scores.shape == (3,)
    assert 0.5 < scores.mean() <= 1.0


def check_range_test_real_data(result):
    assert 0 < result["base_lr"] < result["max_lr"] < 1
    assert result["accuracy"] > result["majority"] + 0.05, "no better than always guessing the majority class"
    assert result["figure"].stat().st_size > 0


def check_regression_diabetes(results):
    assert len(results) == 2
    assert all(0.0 < r2 <= 1.0 for r2 in results.values())


CHECKS = {name.removeprefix("check_"): check for name, check in globals().items() if name.startswith("check_")}


def test_every_example_has_a_check():
    assert {path.stem for path in EXAMPLES} == set(CHECKS)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # quick MLP settings
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # figures land in the test's folder
    CHECKS[path.stem](load(path).main(quick=True))


@pytest.mark.parametrize("check, wrong", [
    (check_quick_start, np.float64(0.1)),
    (check_grid_search_schedules, type("Search", (), {"cv_results_": {"params": [{}] * 7,
                                                                      "mean_test_score": np.array([np.nan] * 7)}})()),
    (check_pipeline_dataframe, np.array([0.2, 0.3, 0.4])),
])  # fmt: skip
def test_checks_fail_on_numpy_results(check, wrong):
    """A check that returned numpy.False_ instead of asserting would let these pass."""
    with pytest.raises(AssertionError):
        check(wrong)
