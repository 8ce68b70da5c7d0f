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


def finder_flow(clf):
    assert clf.base_lr_ < clf.max_lr_ and len(clf.history_["val_accuracy"]) == 2
    assert Path("skclr-output/examples/finder_flow.png").stat().st_size > 0


# What each example's main(quick=True) must return: chance is 0.1 on digits and 0.5 otherwise.
CHECKS = {
    "quick_start": lambda accuracy: 0.3 < accuracy <= 1.0,
    "cross_val_benchmark": lambda results: len(results) == 3 and all(0.3 < a <= 1.0 for a in results.values()),
    "finder_flow": finder_flow,
    "grid_search_schedules": lambda search: len(search.cv_results_["params"]) == 7
    and np.isfinite(search.cv_results_["mean_test_score"]).all(),
    "pipeline_dataframe": lambda scores: scores.shape == (3,) and 0.5 < scores.mean() <= 1.0,
    # 3 epochs: the network is far from trained, but it must have learned something (R2 > 0)
    "regression_diabetes": lambda results: len(results) == 2 and all(0.0 < r <= 1.0 for r in results.values()),
}


def test_every_example_has_a_check():
    assert {path.stem for path in EXAMPLES} == set(CHECKS)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # quick MLP settings
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # figures land in the test's folder
    result = load(path).main(quick=True)
    assert CHECKS[path.stem](result) is not False, result
