"""The command line end to end, on small settings, including bad input."""

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from skclr.cli import main


@pytest.fixture
def mixed_csv(tmp_path):
    """Numeric and text columns, missing values, a string target: a CSV as users have it."""
    rng = np.random.default_rng(0)
    n = 90
    label = rng.choice(["low", "mid", "high"], n)
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n) + (label == "high") * 15,
            "income": rng.lognormal(3, 0.5, n),
            "city": rng.choice(["Seoul", "Busan", "Daegu"], n),
            "grade": label,
        }
    )
    frame.loc[::7, "age"] = np.nan
    frame.loc[::11, "city"] = np.nan
    path = tmp_path / "people.csv"
    frame.to_csv(path, index=False)
    return path


def run(argv, capsys):
    if argv[0] == "compare" and "--jobs" not in argv:
        argv = [*argv, "--jobs", 1]  # worker processes would start TensorFlow again for each test
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_compare_on_a_csv_with_mixed_columns(mixed_csv, tmp_path, capsys):
    output = tmp_path / "out"
    code, out, err = run(
        ["compare", "--data", mixed_csv, "--target", "grade", "--epochs", 2, "--folds", 2,
         "--schedules", "adam,triangular,one_cycle", "--output", output, "--batch-size", 16],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    for name in ("adam", "triangular", "one_cycle"):
        assert name in out
    assert "accuracy" in out and "±" in out
    assert "[6/6]" in err  # progress over folds x configurations
    summary = pd.read_csv(output / "results.csv", index_col=0)
    assert list(summary.index) == ["adam", "triangular", "one_cycle"]
    assert summary["accuracy_mean"].between(0, 1).all()
    assert len(pd.read_csv(output / "folds.csv")) == 6
    assert json.loads((output / "results.json").read_text())["settings"]["epochs"] == 2
    assert (output / "comparison.png").stat().st_size > 0
    assert (output / "lr_finder.png").exists()  # one_cycle runs the range test


def test_compare_detects_a_continuous_target_and_reports_r2_and_rmse(mixed_csv, tmp_path, capsys):
    code, out, err = run(
        ["compare", "--data", mixed_csv, "--target", "income", "--epochs", 2, "--folds", 2,
         "--schedules", "adam,cosine", "--output", tmp_path],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    assert "continuous target" in err and "r2" in out and "rmse" in out and "accuracy" not in out
    assert "seed:" not in out  # the seed's figures are accuracies, not R²
    summary = pd.read_csv(tmp_path / "results.csv", index_col=0)
    assert list(summary.index) == ["adam", "cosine"]
    assert (summary["rmse_mean"] > 0).all() and (summary["r2_mean"] < 1).all()
    income = pd.read_csv(mixed_csv)["income"]
    # RMSE in the target's units: a 2-epoch model errs by about the target's spread, far from 1
    assert summary["rmse_mean"].between(0.5 * income.std(), 3 * income.std()).all()
    assert json.loads((tmp_path / "results.json").read_text())["task"] == "regression"
    assert (tmp_path / "comparison.png").stat().st_size > 0


def test_compare_on_the_default_data(tmp_path, capsys):
    code, out, err = run(
        ["compare", "--epochs", 2, "--folds", 2, "--schedules", "cosine", "--output", tmp_path, "--quiet"],
        capsys,
    )
    assert code == 0, err
    assert "digits" in err and "cosine" in out
    assert "[1/" not in err  # --quiet


def test_compare_lr_finder_flag_adds_the_range_test(mixed_csv, tmp_path, capsys):
    code, out, err = run(
        ["compare", "--data", mixed_csv, "--target", "grade", "--epochs", 1, "--folds", 2,
         "--schedules", "adam", "--lr-finder", "--output", tmp_path],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    assert (tmp_path / "lr_finder.png").exists()
    folds = pd.read_csv(tmp_path / "folds.csv")
    # adam trains at a constant rate: the range test's suggestion, and no bounds
    assert "max_lr" not in folds and "base_lr" not in folds
    rates = " ".join(f"{v:.2g}" for v in folds["learning_rate"])
    assert "rates set by the range test per fold" in out and f"learning_rate {rates} (spread" in out
    assert all(f"range test: learning_rate {v:.2g}" in err for v in folds["learning_rate"])  # and in the progress lines


def test_compare_says_how_many_rows_without_a_target_it_dropped(mixed_csv, tmp_path, capsys):
    frame = pd.read_csv(mixed_csv)
    frame.loc[:19, "grade"] = np.nan
    frame.to_csv(mixed_csv, index=False)
    code, _, err = run(
        ["compare", "--data", mixed_csv, "--target", "grade", "--epochs", 1, "--folds", 2,
         "--schedules", "adam", "--output", tmp_path, "--quiet"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    assert "70 x 3" in err and "20 rows without a 'grade' value dropped" in err


def test_find_lr_runs_the_estimators_range_test(mixed_csv, tmp_path, capsys, monkeypatch):
    from skclr import CLRClassifier, LRFinder

    calls = []
    original = CLRClassifier.find_lr
    monkeypatch.setattr(CLRClassifier, "find_lr", lambda self, *a, **k: calls.append(self) or original(self, *a, **k))
    code, out, err = run(
        ["find-lr", "--data", mixed_csv, "--target", "grade", "--num-iter", 30, "--output", tmp_path,
         "--batch-size", 16],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    (estimator,) = calls
    assert estimator.lr_finder.num_iter == 30 and estimator.batch_size == 16
    assert estimator.lr_finder.min_lr == LRFinder().min_lr  # unset options keep LRFinder's defaults
    assert "suggestion (valley)" in out and "CLR bounds: base_lr=" in out
    assert f"({LRFinder().n_sweeps} sweeps; their max_lr picks differ by a factor" in out
    assert (tmp_path / "lr_finder.png").exists()


@pytest.mark.filterwarnings("ignore:The loss never fell:RuntimeWarning")  # a noisy target may show no fall
@pytest.mark.filterwarnings("ignore:The range test shows no clear fall:RuntimeWarning")
def test_find_lr_on_a_continuous_target_uses_the_regressor(mixed_csv, tmp_path, capsys):
    code, out, err = run(
        ["find-lr", "--data", mixed_csv, "--target", "income", "--num-iter", 20, "--output", tmp_path], capsys
    )
    assert code == 0, err
    assert "continuous target" in out and "suggestion (valley)" in out


def test_schedules(tmp_path, capsys):
    code, out, _ = run(["schedules", "--output", tmp_path, "--epochs", 10], capsys)
    assert code == 0 and "12 schedules" in out
    assert (tmp_path / "schedules.png").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["compare", "--data", "missing.csv", "--target", "y"], "no such file: missing.csv"),
        (["compare", "--data", "{csv}", "--target", "label"], "no column 'label'.*columns are: age, income, city, grade"),
        (["compare", "--data", "{csv}"], "--data needs --target"),
        (["compare", "--data", "{one_class}", "--target", "grade"], "1 class"),
        (["compare", "--data", "{csv}", "--target", "city", "--task", "regression"], "'city' is not numeric"),
        (["compare", "--schedules", "adam,cyclic"], "Unknown configuration 'cyclic'.*Valid names are: adam"),
        (["compare", "--folds", "1"], "--folds must be at least 2"),
        (["compare", "--epochs", "1", "--schedules", "cosine"], "configuration 'cosine'.*warmup"),
        (["find-lr", "--data", "{csv}", "--target", "nope"], "no column 'nope'"),
    ],
)
def test_bad_input_gives_one_clear_line_and_a_non_zero_exit(argv, message, mixed_csv, tmp_path, capsys):
    one_class = tmp_path / "one.csv"
    pd.DataFrame({"x": [1.0, 2.0, 3.0], "grade": ["a", "a", "a"]}).to_csv(one_class, index=False)
    argv = [a.format(csv=mixed_csv, one_class=one_class) for a in argv]
    code, out, err = run([*argv, "--output", tmp_path / "out"], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("skclr: error:")
    assert re.search(message, lines[0]), lines[0]
    assert "Traceback" not in err


def test_module_entry_point():
    result = subprocess.run([sys.executable, "-m", "skclr", "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    assert "compare" in result.stdout and "find-lr" in result.stdout


def test_module_entry_point_hides_tensorflows_start_up_lines(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    command = [sys.executable, "-m", "skclr", "schedules", "--epochs", "4", "--output"]

    def start(folder, env):
        return subprocess.Popen([*command, str(tmp_path / folder)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env)  # fmt: skip

    # both at once: each spends seconds importing TensorFlow
    silent, loud = start("unset", env), start("asked", {**env, "TF_CPP_MIN_LOG_LEVEL": "0"})
    (_, silent_err), (_, loud_err) = silent.communicate(timeout=300), loud.communicate(timeout=300)
    assert silent.returncode == 0, silent_err
    assert silent_err == ""  # no oneDNN / CUDA / absl lines
    assert loud.returncode == 0 and "tensorflow" in loud_err.lower()  # a user's own setting wins


def test_the_task_is_detected_from_the_target():
    from skclr.experiment import detect_task

    assert detect_task(np.arange(100) % 10) == "classification"  # digits-like labels
    assert detect_task(np.array(["a", "b"] * 40)) == "classification"
    assert detect_task(np.arange(100).astype(float)) == "regression"  # integer-valued, but 100 of them
    assert detect_task(np.linspace(0.0, 1.0, 20)) == "regression"  # fractional values


def test_compare_gives_the_same_results_with_worker_processes(mixed_csv, tmp_path, capsys):
    settings = ["compare", "--data", mixed_csv, "--target", "grade", "--epochs", 1, "--folds", 2,
                "--schedules", "one_cycle", "--quiet"]  # fmt: skip
    assert run([*settings, "--output", tmp_path / "one", "--jobs", 1], capsys)[0] == 0
    assert run([*settings, "--output", tmp_path / "two", "--jobs", 2], capsys)[0] == 0
    one, two = (pd.read_csv(tmp_path / name / "folds.csv") for name in ("one", "two"))
    pd.testing.assert_frame_equal(one.drop(columns="fit_seconds"), two.drop(columns="fit_seconds"))
