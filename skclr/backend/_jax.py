"""Everything skclr does with JAX itself, behind the same interface as ``_tensorflow``. No other skclr
module imports JAX.

* **Threads.** XLA sizes its CPU thread pool when JAX starts its backend, from ``XLA_FLAGS``; after
  that nothing changes it. Before JAX has started, a limit of one thread (``n_threads=1`` or
  ``OMP_NUM_THREADS=1``, as joblib and Dask workers announce) goes into ``XLA_FLAGS``
  (``--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1``); XLA has no flag for
  another count, so a larger one is left to XLA (an explicit ``n_threads`` says so in a warning).
* **Op determinism, caches.** XLA on CPU computes the same result for the same program and inputs;
  there is no process-wide switch to hold, and no per-trace registry that outlives a function.
* **Seeds.** ``seeded_section`` sets Python's and NumPy's global seeds (Keras's JAX array pipeline
  shuffles with NumPy; Keras's default seeds for unseeded layers and initializers come from Python's
  ``random``) and TensorFlow's where TensorFlow is already imported (for ``tf.data`` pipelines).
* **Persistent compilation cache.** XLA compiles each new architecture's train step for about
  3 s; JAX can keep the compiled programs on disk, so that a fresh process (a loky or Dask
  worker, the command line, the next session) loads them instead. When this module is imported
  (skclr's first import on Keras's JAX backend) it points JAX's cache
  (``jax_compilation_cache_dir``) at ``$XDG_CACHE_HOME/skclr/jax``, else ``~/.cache/skclr/jax``
  (:func:`default_cache_dir`), and writes nowhere else; every compiled program is kept
  (``CACHE_MIN_COMPILE_SECONDS``; JAX's default keeps only those that took 1 s), about 1 MB per
  architecture and data shape. A cache the user set up wins: ``JAX_COMPILATION_CACHE_DIR`` or
  ``jax.config.update("jax_compilation_cache_dir", ...)`` before importing skclr (and then JAX's
  own thresholds hold), as does ``JAX_ENABLE_COMPILATION_CACHE=false``. ``SKCLR_JAX_CACHE=0``
  (or ``false``, ``no``, ``off``) in the environment before importing skclr turns skclr's cache
  off. The folder only ever saves time: delete it whenever you like (JAX does not bound its size).
  A folder that cannot be created (a read-only home) means no cache, silently: a cache miss costs
  time, never a result.
* **Stored steps.** JAX's cache saves XLA's compilation, not the tracing and lowering of Keras's
  train step before it (about 0.3 s per data shape, half of a first fit). A runner's train and test
  steps (``keep_compiled_steps``: the shared copies of ``skclr._runner``, which only Keras's own
  layers, losses and optimizers make) are kept compiled in ``steps/`` inside skclr's cache folder,
  one file per step, runner key and data shape, named by a hash of all of them and of what the
  trace depends on beyond them: skclr's source files, the versions and paths of Keras, JAX and
  jaxlib, JAX's settings, ``XLA_FLAGS``, the device and Keras's float settings. A change to any of
  them is a new file, never an old program. Only in skclr's own folder: not with a cache of the
  user's own or with the cache off. The files are executables, as JAX's cache entries are: keep
  the folder as private as your home.
* **Compiled functions.** The range test's multi-step sweep (``SweepFunctions``: one jitted
  ``lax.scan`` over the steps, a pure function of the state written back into the variables), a
  schedule's rate at each step (``schedule_rates``), the untrained and the returned model's loss
  (``InferenceLoss``: one program per architecture, where eager ops would compile one per op), and
  the conversion of a cycled momentum (``__jax_array__``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import pickle
import sys
import threading
import warnings
import weakref
from collections import OrderedDict
from pathlib import Path

from skclr.backend._common import env_threads

__all__ = [
    "CACHE_MIN_COMPILE_SECONDS",
    "CACHE_SWITCH",
    "InferenceLoss",
    "PROGRAM_PER_SWEEP_LENGTH",
    "STATELESS_STEPS",
    "SweepFunctions",
    "applied_rates",
    "assign_state",
    "batched_dataset",
    "compilation_cache_dir",
    "default_cache_dir",
    "env_threads",
    "fit_session",
    "inference_loss_function",
    "is_dataset",
    "keep_compiled_steps",
    "limit_threads",
    "op_determinism_enabled",
    "register_tensor_like",
    "schedule_rates",
    "seeded_section",
]

#: A jitted step reads only the state passed to it: other variables are constants of its trace.
STATELESS_STEPS = True
#: Each number of sweep steps per call is a program of its own (``lax.scan`` over a fixed length).
PROGRAM_PER_SWEEP_LENGTH = True
_lock = threading.Lock()
#: Held by a seeded section (see ``_tensorflow._seed_lock``): the seeds it sets are process-wide.
_seed_lock = threading.RLock()
_SINGLE_THREAD_FLAGS = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
#: The environment variable that turns skclr's persistent compilation cache off ("0", "false", "no", "off").
CACHE_SWITCH = "SKCLR_JAX_CACHE"
_OFF = ("0", "false", "no", "off")
#: Programs that compile at least this long go into skclr's cache: all of them. JAX's default, 1 s,
#: keeps the reference network's train step but recompiles the hundred small programs of its first
#: fit (initializers, Keras's eager ops), which together cost more than the train step's load and
#: load several times faster than they compile; the folder grows by about 1 MB per architecture and
#: data shape.
CACHE_MIN_COMPILE_SECONDS = 0.0


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/skclr/jax``, else ``~/.cache/skclr/jax``: the folder of skclr's JAX cache.

    A relative ``XDG_CACHE_HOME`` is ignored, as the XDG base directory specification says.
    """
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "skclr" / "jax"


def compilation_cache_dir() -> str | None:
    """Point JAX's persistent compilation cache at :func:`default_cache_dir` unless the user set up
    their own or turned it off (see the module's docstring); return the folder JAX caches into
    (None: no cache).

    Called once, when this module is imported: JAX reads the folder at its first compilation
    that looks for the cache, and a compilation before this one, with no folder set, leaves it
    unread.
    """
    import jax

    if not jax.config.jax_enable_compilation_cache:  # JAX_ENABLE_COMPILATION_CACHE=false
        return None
    if jax.config.jax_compilation_cache_dir:  # JAX_COMPILATION_CACHE_DIR sets it at import
        return jax.config.jax_compilation_cache_dir
    if os.environ.get(CACHE_SWITCH, "").strip().lower() in _OFF:
        return None
    folder = default_cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only home: no cache costs time, not results
        return None
    jax.config.update("jax_compilation_cache_dir", str(folder))
    threshold = jax.config.jax_persistent_cache_min_compile_time_secs
    if threshold == 1.0 and "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS" not in os.environ:  # JAX's default
        jax.config.update("jax_persistent_cache_min_compile_time_secs", CACHE_MIN_COMPILE_SECONDS)
    return str(folder)


def _jax_started() -> bool:
    """Whether JAX has created its backends (after which ``XLA_FLAGS`` is read no more)."""
    if "jax" not in sys.modules:
        return False
    try:
        from jax._src import xla_bridge  # private: JAX offers no public "is it initialized"

        return bool(getattr(xla_bridge, "_backends", {1: None}))
    except ImportError:  # moved: assume the worst (started), which only costs a warning
        return True


def limit_threads(n_threads: int | None) -> None:
    """Run XLA on one CPU thread when ``n_threads`` (else ``OMP_NUM_THREADS``) is 1 and JAX has not
    started yet; warn when an explicit ``n_threads`` cannot be honoured."""
    threads = n_threads or env_threads()
    if threads is None:
        return
    with _lock:
        flags = os.environ.get("XLA_FLAGS", "")
        if threads == 1 and "xla_cpu_multi_thread_eigen" not in flags and not _jax_started():
            os.environ["XLA_FLAGS"] = f"{flags} {_SINGLE_THREAD_FLAGS}".strip()
            return
    if n_threads is not None and not (threads == 1 and "xla_cpu_multi_thread_eigen=false" in flags):
        reason = (
            "JAX already started in this process; set it before the first fit"
            if threads == 1
            else "XLA sizes its CPU thread pool itself and can only be limited to one thread"
        )
        message = f"n_threads={n_threads} ignored on Keras's JAX backend: {reason}."
        warnings.warn(message, RuntimeWarning, stacklevel=3)


@contextlib.contextmanager
def seeded_section(seed: int | None = None):
    """Run a seeded section of a fit alone in the process, with Python's and NumPy's global seeds
    (and TensorFlow's, where TensorFlow is imported) set to ``seed`` and put back afterwards; with
    ``seed=None``, just run it."""
    if seed is None:
        yield
        return
    with _seed_lock:
        import random

        import numpy as np

        saved = random.getstate(), np.random.get_state()
        random.seed(seed)
        np.random.seed(seed)
        try:
            if "tensorflow" in sys.modules:  # a user's tf.data pipeline shuffles with TensorFlow's seed
                from skclr.backend import _tensorflow

                with _tensorflow.seeded_section(seed):
                    yield
            else:
                yield
        finally:
            random.setstate(saved[0])
            np.random.set_state(saved[1])


@contextlib.contextmanager
def fit_session(*, seeded: bool, new_model: bool = True, n_threads: int | None = None):
    """Wrap one skclr fit: the thread limit (see :func:`limit_threads`); nothing else is needed on JAX.

    Parameters
    ----------
    seeded : bool
        Whether this fit is seeded (XLA's results need no switch to repeat).
    new_model : bool, default=True
        Unused on JAX: a jitted function's executable goes with the function.
    n_threads : int, optional
        Passed to :func:`limit_threads`.
    """
    limit_threads(n_threads)
    yield


def op_determinism_enabled() -> bool:
    """Always False: JAX has no process-wide determinism switch traced into a step."""
    return False


def assign_state(targets, sources) -> None:
    """Give each variable of ``targets`` a copy of the value of the same variable of ``sources``.

    A copy, not the same array: Keras's jitted train step donates its state's buffers, so a model
    whose variables shared arrays with a runner's would find them deleted after the runner's next fit.
    """
    import jax

    for target, source in zip(targets, sources):
        # a transfer, not jnp.array(copy=True): that compiles a program per shape in each new process
        target.assign(jax.device_put(source.value, may_alias=False))


def is_dataset(data) -> bool:
    """Whether ``data`` is a dataset of batches (``keras.utils.PyDataset``, or a ``tf.data.Dataset``
    where TensorFlow is imported: a dataset object means it is)."""
    import keras

    if isinstance(data, keras.utils.PyDataset):
        return True
    tf = sys.modules.get("tensorflow")
    return tf is not None and isinstance(data, tf.data.Dataset)


def batched_dataset(arrays, batch_size: int):
    """``arrays`` as given: Keras's JAX backend cuts arrays into batches with a light NumPy
    iterator, which costs no more per epoch than a pipeline of ready batches (the reason for
    ``tf.data`` on TensorFlow), and importing TensorFlow for it would cost seconds."""
    return arrays


def _int_dtype():
    import jax
    import jax.numpy as jnp

    # the optimizer's int64 iteration counter is int32 on JAX unless 64-bit mode is on
    return jax.dtypes.canonicalize_dtype(jnp.int64)


def schedule_rates(schedule, steps: int, start: int = 0, compiled: bool = True):
    """A schedule's rate at steps ``start .. start + steps - 1`` as float32, each computed from a
    scalar step of the optimizer's counter's dtype as inside Keras's train step: in one jitted loop
    for a jit-compiled step (``compiled``), op by op for a model with ``jit_compile=False``."""
    import jax.numpy as jnp
    import numpy as np

    int_dtype = _int_dtype()
    if not compiled:
        steps_ = (jnp.asarray(start + i, int_dtype) for i in range(steps))
        return np.asarray([jnp.asarray(schedule(step)).astype(jnp.float32) for step in steps_])
    return np.asarray(_rates_function(schedule, steps)(jnp.asarray(start, int_dtype)))


def _rates_function(schedule, steps: int):
    """``rates(first)``: the schedule's rates at steps ``first .. first + steps - 1``, jitted."""
    import jax
    import jax.numpy as jnp

    int_dtype = _int_dtype()

    def rates(first):
        def step(i, values):
            rate = schedule(first + i.astype(int_dtype))
            return values.at[i].set(jnp.asarray(rate).astype(jnp.float32))

        return jax.lax.fori_loop(0, steps, step, jnp.zeros(steps, jnp.float32))

    return jax.jit(rates)


#: Each schedule's jitted rate of one step (``applied_rates``), for as long as the schedule lives.
_one_step_rates: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def applied_rates(schedule, steps: int, start: int = 0, compiled: bool = True):
    """A schedule's rates at steps ``start .. start + steps - 1`` for a fit's history, as the train
    step applied them (:func:`schedule_rates`): op by op, a compiled step's rate may differ in its
    last bit. The rate of one step (every epoch's report) reuses one trace per schedule, as Keras's
    train step does: a schedule is not changed once a fit uses it."""
    import jax.numpy as jnp
    import numpy as np

    if not compiled or steps != 1:
        return schedule_rates(schedule, steps, start, compiled)
    try:
        with _lock:
            function = _one_step_rates.get(schedule)
            if function is None:
                alive = weakref.ref(schedule)  # the function must not keep its own key alive
                function = _one_step_rates[schedule] = _rates_function(lambda step: alive()(step), 1)
    except TypeError:  # a schedule that cannot be a weak key (unhashable): a trace per report
        return schedule_rates(schedule, steps, start, compiled)
    return np.asarray(function(jnp.asarray(start, _int_dtype())))


class SweepFunctions:
    """The range test's compiled steps for one model: several steps in one jitted ``lax.scan``, each
    step Keras's JAX ``train_step`` without the metrics (``compute_loss_and_updates`` under
    ``jax.value_and_grad``, then ``optimizer.stateless_apply``) at the rate given for it, returning
    each step's own loss (and the validation loss after it).

    The steps are a pure function of the model's and optimizer's state: each call reads the
    variables, runs, and writes the final state back. ``rate`` (a variable the optimizer reads) is
    given the step's rate while the step is traced, as the TensorFlow sweep assigns it in its graph;
    after each call it holds the last rate, as there. JAX compiles once per shape: the number of
    steps in a call and the batch size are part of it (a sweep makes calls of one length, and the
    jitted function lives as long as the model's copy).
    """

    def __init__(self, model, rate):
        self.model, self.rate = model, rate
        self.functions: dict = {}

    def get(self, parts: list, validation: tuple | None):
        """The steps for ``parts`` (x, y, sample weights: stacked batches, or None) and ``validation``
        (x, y or None): called as ``f(*present parts, rates, *validation)``."""
        import jax

        present = tuple(i for i, part in enumerate(parts) if part is not None)
        key = (present, validation is not None)
        if key not in self.functions:
            self.functions[key] = jax.jit(self._steps, static_argnums=(0, 1))
        jitted = self.functions[key]
        rate = self.rate

        def call(*args):
            import numpy as np

            count = len(present)
            inputs, validation_data = tuple(args[:count]), tuple(args[count + 1 :])
            rates = np.asarray(args[count], "float32")
            before = rate.value
            try:
                losses, val_losses, state = jitted(
                    present, validation is not None, self._state(), inputs, rates, validation_data
                )
            finally:
                # a trace gave the rate variable a traced value: give it a real one (the last rate)
                rate.assign(rates[-1] if len(rates) else before)
            self._write(state)
            return np.asarray(losses), np.asarray(val_losses)

        return call

    def _variables(self):
        model = self.model
        return model.trainable_variables, model.non_trainable_variables, model.optimizer.variables

    def _state(self):
        return tuple([v.value for v in group] for group in self._variables())

    def _write(self, state) -> None:
        for group, values in zip(self._variables(), state):
            for variable, value in zip(group, values):
                variable.assign(value)

    def _steps(self, present, has_validation, state, given, rates, validation):
        import jax
        import jax.numpy as jnp

        model, rate = self.model, self.rate
        optimizer = model.optimizer
        metrics = [v.value for v in model.metrics_variables]  # untouched: the sweep keeps no metrics
        full = [None, None, None]
        for i, value in zip(present, given):
            full[i] = value
        loss_and_updates = jax.value_and_grad(model.compute_loss_and_updates, has_aux=True)

        # the optimizer's own rate variable is part of its state; a swept stand-in is not
        tracked = [i for i, variable in enumerate(optimizer.variables) if variable is rate]

        def one_step(carry, inputs):
            trainable, non_trainable, optimizer_variables = carry
            batch, step_rate = inputs
            x, y, w = (None if i not in present else batch[present.index(i)] for i in range(3))
            if tracked:
                optimizer_variables = list(optimizer_variables)
                optimizer_variables[tracked[0]] = step_rate.astype(optimizer_variables[tracked[0]].dtype)
            else:
                rate.assign(step_rate)  # read by the optimizer's update below, in this trace
            (_, aux), grads = loss_and_updates(
                trainable, non_trainable, metrics, x, y, w, training=True,
                optimizer_variables=optimizer_variables,
            )
            loss, _, non_trainable, _ = aux
            trainable, optimizer_variables = optimizer.stateless_apply(optimizer_variables, grads, trainable)
            val = jnp.zeros((), jnp.float32)
            if has_validation:
                x_val, y_val = validation[:2]
                val, _ = model.compute_loss_and_updates(
                    trainable, non_trainable, metrics, x_val, y_val, None, training=False
                )
            out = (jnp.asarray(loss).astype(jnp.float32), jnp.asarray(val).astype(jnp.float32))
            return (trainable, non_trainable, optimizer_variables), out

        batches = tuple(full[i] for i in present)
        state, (losses, val_losses) = jax.lax.scan(one_step, tuple(state), (batches, rates))
        return losses, val_losses if has_validation else jnp.zeros((0,), jnp.float32), state


#: Architectures whose inference-loss function the process keeps (see ``inference_loss_function``).
KEPT_LOSS_FUNCTIONS = 8
_loss_lock = threading.Lock()
_loss_functions: OrderedDict = OrderedDict()  # architecture key -> InferenceLoss; most recent last


class InferenceLoss:
    """A model's compiled loss in inference mode, as one jitted program for every model of its
    architecture: ``loss(model, x, y, sample_weight, y_pred=None)``.

    Eagerly, each Keras op on JAX is a program of its own, compiled (or loaded from the cache) once
    per shape in each process: the reference network's forward pass and loss are about forty, most
    of a first fit's fixed cost. One program, traced once per architecture and data shape, is a
    pure function of the state passed to it: the weights of whichever model of the architecture
    calls it. The template model it was traced on is kept only for tracing (a new data shape).
    ``y_pred`` replaces the forward pass (a constant prediction's loss: regularization of the
    weights counts, as the forward pass's activity losses do not).
    """

    def __init__(self, template):
        import jax

        self.template = template
        self._lock = threading.Lock()  # a trace sets attributes of the template
        self._function = jax.jit(self._loss)

    def __call__(self, model, x, y, sample_weight=None, y_pred=None):
        state = [[v.value for v in group] for group in (model.trainable_variables,
                                                        model.non_trainable_variables, model.metrics_variables)]
        with self._lock:
            return self._function(*state, x, y, sample_weight, y_pred)

    def _loss(self, trainable, non_trainable, metrics, x, y, sample_weight, y_pred):
        template = self.template
        if y_pred is None:  # Keras's stateless forward pass and loss, with its activity losses
            loss, _ = template.compute_loss_and_updates(
                trainable, non_trainable, metrics, x, y, sample_weight, training=False
            )
            return loss
        loss, _ = template.stateless_compute_loss(
            trainable, non_trainable, metrics, x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False
        )
        return loss


def inference_loss_function(model, architecture_key):
    """The :class:`InferenceLoss` of ``model``'s architecture (its key: ``architecture_key(model)``,
    ``skclr._shelf``'s rule), made on first use; None when the model has no key (its
    configuration may not say all it computes) or is not built, or when its variables are not those
    of the architecture's template (a model without an ``Input`` built on other data): it is then
    measured eagerly."""
    key = architecture_key(model) if model.built else None
    if key is None:
        return None
    with _loss_lock:
        function = _loss_functions.get(key)
        if function is None:
            function = _loss_functions[key] = InferenceLoss(model)
        _loss_functions.move_to_end(key)
        while len(_loss_functions) > KEPT_LOSS_FUNCTIONS:
            _loss_functions.popitem(last=False)
    shapes = [[(v.shape, v.dtype) for v in m.variables] for m in (model, function.template)]
    return function if shapes[0] == shapes[1] else None


def keep_compiled_steps(model, key: str) -> None:
    """Give a runner (``skclr._runner``: a compiled copy of Keras's own layers, loss and optimizer,
    ``key`` its training key) train and test functions whose compiled programs are kept in
    :data:`STEPS_DIR` (see the module's docstring), as Keras's JAX trainer would make them; left to
    Keras when there is no such folder, and for a model Keras would not jit or would distribute."""
    import keras

    if STEPS_DIR is None or model.run_eagerly or not model.jit_compile or keras.distribution.distribution():
        return
    from skclr._keras_internals import keras_step_loop

    model.train_function = keras_step_loop(model, StoredStep(model.train_step, ["train", key]))
    model.test_function = keras_step_loop(model, StoredStep(model.test_step, ["test", key]))


class StoredStep:
    """``step(state, data)`` jitted as Keras's JAX trainer jits it (its state donated), with the
    program compiled for each data shape loaded from :data:`STEPS_DIR`, or compiled and stored there.

    A program is looked up by everything it was traced from (:func:`_trace_inputs`): a stored one
    is the program this process would compile (the tests check it bit for bit).
    """

    def __init__(self, step, key: list):
        import jax

        self._jitted = jax.jit(step, donate_argnums=0)
        self._key = key
        self._programs: dict = {}  # the data's structure and shapes -> compiled program

    def __call__(self, state, data):
        import jax
        import numpy as np

        leaves, structure = jax.tree.flatten(data)
        shapes = (structure, tuple((np.shape(leaf), str(leaf.dtype)) for leaf in leaves))
        program = self._programs.get(shapes)
        if program is None:
            program = self._programs[shapes] = self._load_or_compile(state, data)
        return program(state, data)

    def _load_or_compile(self, state, data):
        name = hashlib.sha256(json.dumps([_trace_inputs(), self._key, _signature((state, data))]).encode())
        path = STEPS_DIR / f"{name.hexdigest()}.step"
        program = self._load(path)
        return program if program is not None else self._compile(path, state, data)

    @staticmethod
    def _load(path: Path):
        from jax.experimental import serialize_executable

        try:
            return serialize_executable.deserialize_and_load(*pickle.loads(path.read_bytes()))
        except Exception:  # noqa: BLE001 -- missing or unreadable (another JAX's format): compile it
            return None

    def _compile(self, path: Path, state, data):
        from jax._src import config  # private: JAX's cache threshold, for this thread only
        from jax.experimental import serialize_executable

        # A program JAX's own cache loaded cannot be serialized again (XLA's CPU client drops the
        # object code of its kernels: the next process fails at the first call). This one is compiled
        # with an option no other program uses (embedding the IR changes nothing it computes) and
        # never written into JAX's cache, so that it is always compiled, never loaded from there.
        with config.persistent_cache_min_compile_time_secs(float("inf")):
            program = self._jitted.lower(state, data).compile({"xla_embed_ir_in_executable": True})
        try:
            _write_atomically(path, pickle.dumps(serialize_executable.serialize(program)))
        except (OSError, ValueError, NotImplementedError, pickle.PicklingError):
            pass  # a read-only folder, or a program JAX cannot serialize: the next process compiles it
        return program


def _signature(arguments) -> list:
    """The tree structure of ``arguments`` and each leaf's shape, dtype and weak typing."""
    import jax
    import numpy as np

    leaves, structure = jax.tree.flatten(arguments)
    described = [[list(np.shape(a)), str(a.dtype), bool(getattr(a, "weak_type", False))] for a in leaves]
    return [str(structure), described]


def _trace_inputs() -> list:
    """What a trace of a Keras step depends on beyond the model's configuration and the data's shapes."""
    import jax
    import keras

    device = jax.devices()[0]
    return [
        _code_fingerprint(), os.environ.get("XLA_FLAGS", ""),
        [device.platform, device.device_kind, device.client.platform_version],
        sorted((name, repr(value)) for name, value in jax.config.values.items()),
        [keras.config.floatx(), keras.config.dtype_policy().name, keras.config.epsilon()],
    ]  # fmt: skip


@functools.cache
def _code_fingerprint() -> str:
    """A hash of skclr's source files, Python's version and the versions and paths of Keras, JAX, jaxlib."""
    import jax
    import jaxlib
    import keras

    digest = hashlib.sha256(sys.version.encode())
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    for module in (keras, jax, jaxlib):
        digest.update(f"{module.__name__} {module.__version__} {module.__file__}".encode())
    return digest.hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a file of this thread's own, renamed: a process that reads
    it meanwhile (a loky or Dask worker) finds the whole file or none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.partial")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


_conversions: set = set()


def register_tensor_like(cls, to_tensor) -> None:
    """Let JAX (and so Keras's ops) take instances of ``cls`` as arrays (``to_tensor(value)`` gives
    the tensor), through ``__jax_array__``; once per class."""
    with _lock:
        if cls in _conversions:
            return
        _conversions.add(cls)

    def __jax_array__(self):  # noqa: N807 -- JAX's protocol
        import jax.numpy as jnp

        return jnp.asarray(to_tensor(self))

    cls.__jax_array__ = __jax_array__


@contextlib.contextmanager
def in_keras_steps():
    """TensorFlow's retracing warning has no JAX counterpart: nothing to quiet."""
    yield


def _keras_on_jax() -> bool:
    keras = sys.modules.get("keras")
    return keras is not None and keras.backend.backend() == "jax"


#: The folder JAX's persistent compilation cache writes into in this process (None: none). Only on
#: Keras's JAX backend: on another, this module is imported only to collect its doctests.
CACHE_DIR = compilation_cache_dir() if _keras_on_jax() else None
#: The folder of the runners' stored steps: ``steps`` in skclr's own cache folder (None: not stored).
STEPS_DIR = Path(CACHE_DIR) / "steps" if CACHE_DIR and CACHE_DIR == str(default_cache_dir()) else None
