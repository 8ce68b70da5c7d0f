"""Every example runs (small settings) and returns something sensible."""

import importlib.util
from pathlib import Path

import matplotlib
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


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # quick MLP settings
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # figures land in the test's folder
    result = load(path).main(quick=True)
    assert result is not None
