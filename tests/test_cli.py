"""The command line end to end, on small settings, including bad input."""

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import skclr
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
    import keras

    code, out, err = run(
        ["compare", "--epochs", 2, "--folds", 2, "--schedules", "cosine", "--output", tmp_path, "--quiet"],
        capsys,
    )
    assert code == 0, err
    assert "digits" in err and "cosine" in out
    assert "[1/" not in err  # --quiet
    # the results say which backend produced them
    assert out.splitlines()[1] == f"Keras backend: {keras.backend.backend()}"
    assert json.loads((tmp_path / "results.json").read_text())["backend"] == keras.backend.backend()


@pytest.mark.parametrize(
    "option, env, jax_installed, expected",
    [
        (None, None, True, "jax"),  # the default: JAX where installed (the faster), else TensorFlow
        (None, None, False, "tensorflow"),
        (None, "tensorflow", True, "tensorflow"),  # the user's KERAS_BACKEND wins over the default
        ("tensorflow", None, True, "tensorflow"),
        ("jax", "jax", True, "jax"),  # the same in both is no conflict
        ("tensorflow", "jax", True, "--backend tensorflow conflicts with KERAS_BACKEND=jax"),
        ("jax", None, False, r'--backend jax: jax is not installed; pip install "skclr\[jax\]"'),
        (None, "jax", False, r'KERAS_BACKEND=jax: jax is not installed; pip install "skclr\[jax\]"'),
        (None, "torch", True, "KERAS_BACKEND=torch: skclr runs on Keras's tensorflow and jax backends"),
    ],
)  # fmt: skip
def test_the_backend_is_the_option_else_keras_backend_else_jax_where_installed(option, env, jax_installed, expected,
                                                                               monkeypatch):  # fmt: skip
    import importlib.util

    import skclr.cli

    real_find_spec = importlib.util.find_spec

    def find_spec(name):
        if name == "jax":  # any module's spec stands for an installed JAX
            return real_find_spec("keras") if jax_installed else None
        return real_find_spec(name)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.delitem(sys.modules, "keras")  # as before the command line imports Keras (put back afterwards)
    monkeypatch.setattr(os, "environ", dict(os.environ))  # choose_backend sets KERAS_BACKEND: not for later tests
    if env is None:
        monkeypatch.delenv("KERAS_BACKEND", raising=False)
    else:
        monkeypatch.setenv("KERAS_BACKEND", env)
    if " " not in expected:
        assert skclr.cli.choose_backend(option) == expected
        assert os.environ["KERAS_BACKEND"] == expected  # for Keras and the worker processes
    else:
        with pytest.raises(skclr.cli.CLIError, match=expected):
            skclr.cli.choose_backend(option)


def test_main_leaves_the_callers_environment_as_it_was(tmp_path, monkeypatch, capsys):
    # main() sets KERAS_BACKEND and TF_CPP_MIN_LOG_LEVEL for its run: a second call from the same Python
    # must not find the first call's default backend in KERAS_BACKEND and refuse its own --backend.
    import importlib.util

    import skclr.cli

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: real_find_spec("keras" if name == "jax" else name))
    monkeypatch.delitem(sys.modules, "keras")  # as before the command line imports Keras (put back afterwards)
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    missing = ["--data", str(tmp_path / "missing.csv"), "--target", "y", "--output", str(tmp_path / "out")]
    for backend in ([], ["--backend", "tensorflow"]):  # the first runs on the default, JAX (found here)
        code, out, err = run(["compare", *backend, *missing], capsys)
        assert code == 2 and err.startswith("skclr: error: no such file"), err  # the data's error, no conflict
        assert "KERAS_BACKEND" not in os.environ and "TF_CPP_MIN_LOG_LEVEL" not in os.environ


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


@pytest.fixture
def bad_files(tmp_path):
    """Files a user may pass as --data that are not a usable CSV."""
    files = {"one_class": tmp_path / "one.csv", "five_rows": tmp_path / "five.csv", "inf": tmp_path / "inf.csv",
             "fake_gz": tmp_path / "d.csv.gz", "two_zip": tmp_path / "two.zip"}  # fmt: skip
    pd.DataFrame({"x": [1.0, 2.0, 3.0], "grade": ["a", "a", "a"]}).to_csv(files["one_class"], index=False)
    pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 5.0], "y": [0.5, 1.5, 2.5, 3.5, 4.25]}).to_csv(files["five_rows"], index=False)
    files["inf"].write_text("x,z,grade\n1,inf,a\n2,3,b\n3,-inf,a\n4,1,b\n")
    files["fake_gz"].write_text("x,grade\n1,a\n2,b\n")  # plain text under a .gz name
    with zipfile.ZipFile(files["two_zip"], "w") as archive:
        archive.writestr("a.csv", "x,grade\n1,a\n2,b\n")
        archive.writestr("b.csv", "x,grade\n3,a\n4,b\n")
    return files


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
        (["compare", "--data", "{five_rows}", "--target", "y", "--folds", "10"],
         "--folds 10 needs at least 20 rows for regression.*five.csv has 5"),
        (["compare", "--data", "{inf}", "--target", "grade"], "infinite values in column 'z' \\(2 rows\\)"),
        (["find-lr", "--data", "{inf}", "--target", "grade"], "infinite values in column 'z'"),
        (["compare", "--data", "{fake_gz}", "--target", "grade"], "cannot read .*d.csv.gz as CSV: Not a gzipped file"),
        (["compare", "--data", "{two_zip}", "--target", "grade"], "cannot read .*two.zip as CSV: Multiple files"),
    ],
)  # fmt: skip
def test_bad_input_gives_one_clear_line_and_a_non_zero_exit(argv, message, mixed_csv, bad_files, tmp_path, capsys):
    argv = [a.format(csv=mixed_csv, **bad_files) for a in argv]
    code, out, err = run([*argv, "--output", tmp_path / "out"], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("skclr: error:")
    assert re.search(message, lines[0]), lines[0]
    assert "Traceback" not in err


@pytest.mark.parametrize("command", ["compare", "find-lr", "schedules"])
@pytest.mark.parametrize("kind", ["a file", "a folder below a file", "a folder holding a folder named as a result"])
def test_an_unwritable_output_fails_before_any_training(command, kind, mixed_csv, tmp_path, capsys, monkeypatch):
    import skclr.experiment

    monkeypatch.setattr(skclr.experiment, "compare", lambda *a, **k: pytest.fail("trained before checking --output"))
    monkeypatch.setattr(skclr.CLRClassifier, "find_lr", lambda *a, **k: pytest.fail("trained before checking --output"))
    existing = tmp_path / "results.csv"
    existing.write_text("a user's file\n")
    output = {"a file": existing, "a folder below a file": existing / "out", "a folder holding a folder named as a result":
              tmp_path / "out"}[kind]  # fmt: skip
    if kind.startswith("a folder holding"):
        (output / {"compare": "results.json", "find-lr": "lr_finder.png", "schedules": "schedules.png"}[command]).mkdir(parents=True)
    data = ["--data", mixed_csv, "--target", "grade"] if command != "schedules" else []
    code, out, err = run([command, *data, "--output", output], capsys)
    assert code == 2, err
    assert re.fullmatch(rf"skclr: error: --output {re.escape(str(output))}.*\n", err), err
    assert existing.read_text() == "a user's file\n"


def test_a_bad_seed_is_an_argument_error(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["compare", "--seed", "-1"])
    assert stop.value.code == 2 and "--seed: must be an integer from 0 to 2**32 - 1" in capsys.readouterr().err


def test_an_error_writing_the_results_is_one_line_and_status_1(mixed_csv, tmp_path, capsys, monkeypatch):
    import skclr.cli

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(skclr.cli, "_save_figure", full_disk)
    code, out, err = run(["schedules", "--output", tmp_path, "--epochs", 4], capsys)
    assert code == 1 and err == f"skclr: error: cannot write the results to {tmp_path}: [Errno 28] No space left on device\n"


def _python_env(**extra) -> dict:
    """This environment, skclr importable from this checkout, without TF_CPP_MIN_LOG_LEVEL unless given,
    on this process's Keras backend unless KERAS_BACKEND is given ("": none, the command line's default)."""
    import keras

    import skclr

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["KERAS_BACKEND"] = keras.backend.backend()
    root = str(Path(skclr.__file__).parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [extra.pop("PYTHONPATH", ""), root]))
    return {**env, **extra}


@pytest.mark.parametrize("entry", ["python -m skclr", "console script"])
@pytest.mark.parametrize(
    "argv", [["compare", "--bogus"], ["compare", "--data", "missing.csv", "--target", "y"], ["schedules", "--output", "{file}"]]
)  # fmt: skip
def test_argument_errors_are_reported_before_tensorflow_is_imported(entry, argv, tmp_path):
    probe = tmp_path / "probe"
    probe.mkdir()
    # Python imports sitecustomize at start-up: at exit it says whether TensorFlow was imported.
    (probe / "sitecustomize.py").write_text(
        "import atexit, sys\n"
        "atexit.register(lambda: print('tensorflow imported:', 'tensorflow' in sys.modules, file=sys.stderr))\n"
    )
    script = tmp_path / "bin" / "skclr"  # what pip's console script (setup.cfg: skclr = skclr.cli:main) runs
    script.parent.mkdir()
    script.write_text("import sys\nfrom skclr.cli import main\nsys.exit(main())\n")
    (tmp_path / "a_file").write_text("")
    start = [sys.executable, "-m", "skclr"] if entry == "python -m skclr" else [sys.executable, str(script)]
    result = subprocess.run([*start, *(a.format(file=tmp_path / "a_file") for a in argv)], capture_output=True,
                            text=True, timeout=120, env=_python_env(PYTHONPATH=str(probe)))  # fmt: skip
    assert result.returncode == 2, result.stderr
    *message, probed = result.stderr.strip().splitlines()
    assert "error:" in message[-1] and "Traceback" not in result.stderr
    assert probed == "tensorflow imported: False"


@pytest.mark.parametrize(
    "argv, env, message",
    [
        (["compare", "--backend", "tensorflow"], {"KERAS_BACKEND": "jax"},
         "skclr: error: --backend tensorflow conflicts with KERAS_BACKEND=jax in the environment; give one"),
        (["find-lr", "--backend", "jax"], {"HIDE_JAX": "1"},
         'skclr: error: --backend jax: jax is not installed; pip install "skclr[jax]"'),
        (["schedules"], {"KERAS_BACKEND": "torch"},
         "skclr: error: KERAS_BACKEND=torch: skclr runs on Keras's tensorflow and jax backends"),
    ],
)  # fmt: skip
def test_a_backend_that_cannot_be_used_is_one_line_before_keras_is_imported(argv, env, message, tmp_path):
    probe = tmp_path / "probe"
    probe.mkdir()
    # Python imports sitecustomize at start-up: it hides JAX if asked (find_spec and import see None), and
    # at exit it says whether Keras was imported.
    (probe / "sitecustomize.py").write_text(
        "import atexit, os, sys\n"
        "if os.environ.get('HIDE_JAX'):\n    sys.modules['jax'] = None\n"
        "atexit.register(lambda: print('keras imported:', 'keras' in sys.modules, file=sys.stderr))\n"
    )
    result = subprocess.run([sys.executable, "-m", "skclr", *argv, "--output", tmp_path / "out"], capture_output=True,
                            text=True, timeout=120, env=_python_env(PYTHONPATH=str(probe), **{"KERAS_BACKEND": "", **env}))  # fmt: skip
    assert result.returncode == 2, result.stderr
    error, probed = result.stderr.strip().splitlines()
    assert error.startswith(message), error
    assert probed == "keras imported: False"


def test_import_skclr_registers_its_schedules_for_load_model(tmp_path):
    import keras

    from skclr.schedules import OneCycle

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(OneCycle(max_lr=0.1, total_steps=10)), loss="mse")
    model.save(tmp_path / "model.keras")
    # a fresh process: only "import skclr" can have registered OneCycle
    load = "import skclr, keras; print(keras.models.load_model(r'{}').optimizer.get_config()['learning_rate'])"
    result = subprocess.run([sys.executable, "-c", load.format(tmp_path / "model.keras")], capture_output=True,
                            text=True, timeout=300, env=_python_env(TF_CPP_MIN_LOG_LEVEL="3"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "'class_name': 'OneCycle'" in result.stdout and "'max_lr': 0.1" in result.stdout


def test_module_entry_point():
    result = subprocess.run([sys.executable, "-m", "skclr", "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    assert "compare" in result.stdout and "find-lr" in result.stdout


def test_module_entry_point_hides_tensorflows_start_up_lines_unless_the_user_asks(tmp_path):
    # TensorFlow's absl lines before absl::InitializeLog() ignore TF_CPP_MIN_LOG_LEVEL; worker processes
    # (joblib's loky) start TensorFlow again, outside the command line's own start-up. All three at
    # once: each spends seconds importing TensorFlow.
    data = tmp_path / "tiny.csv"
    pd.DataFrame({"a": np.arange(8.0), "b": np.arange(8.0) % 3, "y": ["x", "z"] * 4}).to_csv(data, index=False)
    runs = {
        "level 3, one process": ([sys.executable, "-m", "skclr", "schedules", "--epochs", "4", "--output",
                                  str(tmp_path / "3")], _python_env(TF_CPP_MIN_LOG_LEVEL="3")),
        "level 0, one process": ([sys.executable, "-m", "skclr", "schedules", "--epochs", "4", "--output",
                                  str(tmp_path / "0")], _python_env(TF_CPP_MIN_LOG_LEVEL="0")),
        "unset, two workers": ([sys.executable, "-m", "skclr", "compare", "--data", str(data), "--target", "y",
                                "--epochs", "1", "--folds", "2", "--schedules", "adam", "--jobs", "2", "--quiet",
                                "--output", str(tmp_path)], _python_env()),
    }  # fmt: skip
    started = {name: subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
               for name, (argv, env) in runs.items()}  # fmt: skip
    errors = {name: process.communicate(timeout=300)[1] for name, process in started.items()}
    assert all(process.returncode == 0 for process in started.values()), errors
    assert errors["level 3, one process"] == ""
    from skclr._startup import _LOG_LINE

    level_0 = errors["level 0, one process"].splitlines()
    assert any(_LOG_LINE.match(line) for line in level_0), level_0  # a user's own setting wins
    assert errors["unset, two workers"].splitlines() == [
        "data: tiny.csv (8 x 2, 2 classes); 1 configurations x 2 folds x 1 repeats, 1 epochs each"
    ]


def test_an_estimator_fit_prints_no_tensorflow_notices_unless_the_user_asks():
    # import skclr, then a fit: TensorFlow's notices come at its import (CUDA stubs, CPU features) and at
    # the first operation (cuInit), here and in each loky worker, which starts TensorFlow again.
    fit = ("import numpy as np, skclr\n"
           "from sklearn.model_selection import cross_val_score\n"
           "from skclr import CLRClassifier\n"
           "X = np.arange(24.0).reshape(12, 2) % 5; y = np.arange(12) % 2\n"
           "cross_val_score(CLRClassifier(hidden_layer_sizes=(4,), epochs=1), X, y, cv=2, n_jobs={jobs})\n")
    runs = {
        "unset, two workers": ([sys.executable, "-c", fit.format(jobs=2)], _python_env(PYTHONWARNINGS="ignore")),
        "level 0": ([sys.executable, "-c", fit.format(jobs=1)], _python_env(PYTHONWARNINGS="ignore",
                                                                           TF_CPP_MIN_LOG_LEVEL="0")),
    }  # fmt: skip
    started = {name: subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
               for name, (argv, env) in runs.items()}  # fmt: skip
    errors = {name: process.communicate(timeout=300)[1] for name, process in started.items()}
    assert all(process.returncode == 0 for process in started.values()), errors
    assert errors["unset, two workers"] == ""
    from skclr._startup import _LOG_LINE

    assert any(_LOG_LINE.match(line) for line in errors["level 0"].splitlines()), errors  # the user's level wins


def test_start_up_log_lines_below_the_level_are_dropped_and_other_lines_kept():
    from skclr._startup import drop_log_lines

    text = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1796399451.309733    4567 cudart_stub.cc:31] Could not find cuda drivers on your machine.\n"
        "I0000 00:00:1796399451.4    4567 cpu_feature_guard.cc:227] This TensorFlow binary is optimized.\n"
        "To enable the following instructions: AVX2 FMA, rebuild TensorFlow.\n"
        "2024-05-01 12:00:00.123456: W tensorflow/core/util/port.cc:113] oneDNN custom operations are on.\n"
        "/x/site.py:3: DeprecationWarning: a Python warning of the import\n"
        "E0000 00:00:1796399452.0    4567 cuda_platform.cc:52] failed call to cuInit\n"
    )
    lines = text.splitlines(keepends=True)
    assert drop_log_lines(text, 0) == text
    assert drop_log_lines(lines[1], 1) == drop_log_lines(lines[4], 2) == drop_log_lines(lines[6], 3) == ""
    assert drop_log_lines(lines[6], 2) == lines[6]
    assert drop_log_lines(text, 1) == "".join(lines[4:])  # INFO and its continuation line dropped
    assert drop_log_lines(text, 2) == "".join(lines[5:])
    assert drop_log_lines(text, 3) == lines[5]  # not a log line: kept at any level


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
