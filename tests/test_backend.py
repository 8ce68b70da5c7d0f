"""The backend interface (``skclr.backend``): the backend Keras runs on is the one skclr uses, and
one it does not support is refused by name before anything trains."""

import keras
import numpy as np
import pytest

from skclr import CLRClassifier, LRFinder, backend


def test_the_backend_module_is_the_one_keras_runs_on():
    assert backend.NAME == keras.backend.backend() and backend.NAME in backend.SUPPORTED
    assert backend.STATELESS_STEPS is (backend.NAME == "jax")  # a jitted JAX step reads only its state


@pytest.mark.parametrize("name", ["torch", "numpy"])
def test_an_unsupported_backend_is_refused_by_name_before_fit_or_range_test(binary_data, monkeypatch, name):
    X, y = binary_data
    monkeypatch.setattr(backend, "NAME", name)
    with pytest.raises(RuntimeError, match=f"configured with '{name}'.*KERAS_BACKEND=tensorflow"):
        CLRClassifier(hidden_layer_sizes=(4,), epochs=1).fit(X, y)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(RuntimeError, match=f"'{name}'"):
        LRFinder(num_iter=5).find(model, X, y)


@pytest.mark.jax_only(reason="XLA's CPU thread pool is JAX's to size")
def test_a_thread_count_jax_cannot_set_is_said_not_ignored(binary_data):
    X, y = binary_data
    with pytest.warns(RuntimeWarning, match="n_threads=2 ignored on Keras's JAX backend"):
        CLRClassifier(hidden_layer_sizes=(4,), epochs=1, n_threads=2).fit(X, y)


@pytest.mark.jax_only(reason="JAX's train step donates its state's buffers")
def test_a_later_shared_fit_leaves_an_earlier_models_arrays_alive(binary_data):
    X, y = binary_data
    first = CLRClassifier(hidden_layer_sizes=(4,), epochs=1, random_state=0).fit(X, y)
    proba = first.predict_proba(X)
    CLRClassifier(hidden_layer_sizes=(4,), epochs=1, random_state=1).fit(X, y)  # the same runner
    np.testing.assert_array_equal(first.predict_proba(X), proba)
    assert np.isfinite(float(first.model_.optimizer.iterations))


# A fresh process fits a tiny model and says how many programs it loaded from JAX's persistent cache
# (JAX logs each hit at DEBUG) and what the model predicts.
_CACHE_PROBE = """
import json, logging
import numpy as np
hits = []
class Hits(logging.Handler):
    def emit(self, record):
        hits.append("Persistent compilation cache hit" in record.getMessage())
compiler = logging.getLogger("jax._src.compiler")
compiler.addHandler(Hits())
compiler.setLevel(logging.DEBUG)
from skclr import CLRClassifier
rng = np.random.default_rng(0)
X, y = rng.normal(size=(24, 3)).astype("float32"), np.arange(24) % 2
model = CLRClassifier(hidden_layer_sizes=(3,), dropout=0.0, epochs=1, batch_size=8, random_state=0).fit(X, y)
proba = model.predict_proba(X).tolist()  # before counting: its programs are in the cache too
print(json.dumps({"hits": sum(hits), "proba": proba}))
"""


def _fit_in_a_fresh_process(tmp_path, **env):
    """Run ``_CACHE_PROBE`` with HOME and XDG_CACHE_HOME in ``tmp_path`` (and ``env``); its output."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    import skclr

    keep = {k: v for k, v in os.environ.items() if k not in ("JAX_COMPILATION_CACHE_DIR", "SKCLR_JAX_CACHE")}
    env = {**keep, "HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": str(tmp_path / "xdg"), "KERAS_BACKEND": "jax",
           "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(Path(skclr.__file__).parents[1]), **env}  # fmt: skip
    result = subprocess.run([sys.executable, "-c", _CACHE_PROBE], capture_output=True, text=True, timeout=300,
                            env=env, cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _cache_entries(folder) -> set:
    """The names of the compiled programs JAX keeps under ``folder`` (each named after its function)."""
    return {path.relative_to(folder).as_posix() for path in folder.rglob("jit_*")}


@pytest.mark.jax_only(reason="JAX's persistent compilation cache")
def test_a_fresh_process_loads_the_programs_an_earlier_one_compiled_from_skclrs_cache_folder(tmp_path):
    import shutil

    folder = tmp_path / "xdg" / "skclr" / "jax"
    cold = _fit_in_a_fresh_process(tmp_path)
    entries = _cache_entries(folder)
    assert cold["hits"] == 0 and entries
    assert _cache_entries(tmp_path) == {f"xdg/skclr/jax/{name}" for name in entries}  # nothing anywhere else
    assert not any(name.startswith("jit_train_step-") for name in entries)  # the runner's is stored apart:
    assert len(list((folder / "steps").iterdir())) == 1  # 24 rows, three full batches: one train step
    files = {path for path in (tmp_path / "xdg" / "skclr").rglob("*") if path.is_file()}
    assert all(folder in path.parents for path in files), files  # skclr writes in its JAX folder only
    # A step compiled again while JAX's cache is warm (a new skclr, say) is compiled, not loaded from
    # there: a program JAX's cache loaded would be stored without its kernels and fail in the next process.
    shutil.rmtree(folder / "steps")
    again = _fit_in_a_fresh_process(tmp_path)
    steps = {path: path.stat().st_ino for path in (folder / "steps").iterdir()}
    warm = _fit_in_a_fresh_process(tmp_path)
    assert warm["hits"] >= len(entries) and _cache_entries(folder) == entries  # all loaded, nothing new
    assert {path: path.stat().st_ino for path in (folder / "steps").iterdir()} == steps  # loaded, kept
    assert warm["proba"] == again["proba"] == cold["proba"]  # a loaded program computes what compiling did


# A fresh process on JAX fits, predicts and pickles (every layer's get_config) without starting
# TensorFlow; once it is imported, Keras serializes its objects and scikeras seeds with it as before.
_NO_TENSORFLOW_PROBE = """
import json, pickle, sys
import numpy as np
from skclr import CLRClassifier
rng = np.random.default_rng(0)
X, y = rng.normal(size=(24, 3)).astype("float32"), np.arange(24) % 2
model = CLRClassifier(hidden_layer_sizes=(3,), epochs=1, batch_size=8, random_state=0).fit(X, y)
model.predict_proba(X)
pickle.loads(pickle.dumps(model))
started = "tensorflow" in sys.modules
from scikeras.wrappers import tensorflow_random_state  # scikeras's own seeding, for its own estimators
with tensorflow_random_state(5):
    import tensorflow as tf
    seeded = tf.random.uniform(()).numpy().item()
tf.random.set_seed(5)
from keras.src.saving import serialization_lib
print(json.dumps({"started": started, "seed": [seeded, tf.random.uniform(()).numpy().item()],
                  "shape": serialization_lib.serialize_keras_object(tf.TensorShape([2, 3]))}))
"""


@pytest.mark.jax_only(reason="scikeras and Keras's serialization would start TensorFlow on JAX")
def test_a_process_on_jax_never_starts_tensorflow_but_tensorflow_works_once_imported():
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    import skclr

    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": str(Path(skclr.__file__).parents[1])}  # fmt: skip
    result = subprocess.run([sys.executable, "-c", _NO_TENSORFLOW_PROBE], capture_output=True, text=True,
                            timeout=300, env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["started"] is False  # starting it costs ~3 s per process
    assert probe["seed"][0] == probe["seed"][1]  # scikeras's helper set TensorFlow's seed
    assert probe["shape"] == [2, 3]


@pytest.mark.jax_only(reason="JAX's persistent compilation cache")
@pytest.mark.parametrize("setting", ["SKCLR_JAX_CACHE=0", "JAX_COMPILATION_CACHE_DIR"])
def test_the_off_switch_and_a_users_own_cache_folder_are_obeyed(tmp_path, setting):
    own = tmp_path / "own"
    # with their own folder the user's (here: JAX's) thresholds hold: 0 s, so a tiny train step is kept
    env = ({"SKCLR_JAX_CACHE": "0"} if setting.startswith("SKCLR")
           else {"JAX_COMPILATION_CACHE_DIR": str(own), "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0"})  # fmt: skip
    _fit_in_a_fresh_process(tmp_path, **env)
    expected = set() if setting.startswith("SKCLR") else {f"own/{name}" for name in _cache_entries(own)}
    assert _cache_entries(tmp_path) == expected
    assert not list(tmp_path.rglob("*.step"))  # steps are stored in skclr's own folder only
    assert setting.startswith("SKCLR") or any(name.startswith("jit_train_step-") for name in _cache_entries(own))


@pytest.mark.jax_only(reason="skclr's JAX cache folder")
def test_the_cache_folder_follows_xdg_cache_home_else_the_home_folder(tmp_path, monkeypatch):
    from skclr.backend import _jax

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _jax.default_cache_dir() == tmp_path / "xdg" / "skclr" / "jax"
    for unset in ("relative", ""):  # the XDG specification: a relative path is ignored
        monkeypatch.setenv("XDG_CACHE_HOME", unset)
        assert _jax.default_cache_dir() == tmp_path / ".cache" / "skclr" / "jax"


@pytest.mark.jax_only(reason="JAX's jitted rate of one step, reported in a fit's history")
def test_the_rate_of_one_step_reuses_one_trace_per_schedule_and_lets_the_schedule_go():
    import gc
    import weakref

    from skclr.backend import _jax

    schedule = keras.optimizers.schedules.CosineDecay(0.1, decay_steps=100)
    reported = [float(_jax.applied_rates(schedule, 1, step)[0]) for step in (5, 6, 99)]
    assert reported == _jax.schedule_rates(schedule, 100)[[5, 6, 99]].tolist()  # the table's bits
    assert schedule in _jax._one_step_rates
    traced = _jax._one_step_rates[schedule]
    _jax.applied_rates(schedule, 1, 7)
    assert _jax._one_step_rates[schedule] is traced  # one trace for every report
    alive = weakref.ref(schedule)
    del schedule, traced
    gc.collect()
    assert alive() is None  # the cache does not keep a fitted model's schedule alive
