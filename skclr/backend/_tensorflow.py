"""Everything skclr does with TensorFlow itself: its process-wide state, and the compiled functions
that Keras's public API does not offer. No other skclr module imports TensorFlow.

* **Threads.** TensorFlow's intra/inter-op thread pools can be sized only before its runtime
  starts; joblib and Dask workers announce their share through ``OMP_NUM_THREADS``.
* **Op determinism.** A seeded fit needs it on; it is a process-wide flag, so it stays on while any
  seeded fit runs and goes back off (unless the user had set it) when the last one ends. Unseeded
  fits never touch it, so they cannot switch it off under a seeded fit in another thread.
* **Seeds.** ``seeded_section`` sets TensorFlow's global seed without ``tf.random.set_seed``'s
  clearing of the kernel cache (private: ``context._seed`` / ``context._rng``).
* **Per-trace caches.** Two caches grow by one entry per traced ``tf.function`` and are never
  trimmed: the global gradient registry (under the default distribution strategy the optimizer's
  all-reduce registers a uniquely named "CustomGradient-N" function at every trace, whose closure
  keeps the whole train step alive, ~4 MB per fit) and the eager context's kernel cache (the
  executable form of every function ever called, ~0.6 MB per fit; tensorflow/tensorflow#40171).
  Both are needed only while a function is traced or run, so when the last skclr fit in the process
  ends, the registry entries added meanwhile go (private: ``ops._gradient_registry``). The kernel
  cache is cleared once every ``KERNEL_CACHE_FITS`` fits that built a new model (a ``partial_fit``
  on the same model reuses its kernels): it stays bounded, and the functions that outlive a fit
  (the range test's shared sweep steps, the shared train and test steps of ``skclr._runner``) are
  not compiled again at every fit, which would cost 0.2-0.3 s each.
* **Compiled functions.** The range test's multi-step sweep (``SweepFunctions``), a schedule's
  rate at each step (``schedule_rates``), validation batches as a ``tf.data`` pipeline
  (``batched_dataset``), and the tensor conversion of a cycled momentum.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import warnings

from skclr.backend._common import env_threads

#: A traced step reads every variable it uses as it is at each call.
STATELESS_STEPS = False
#: One trace of the sweep serves every number of steps per call (the length is left open).
PROGRAM_PER_SWEEP_LENGTH = False
_lock = threading.Lock()
#: Held by a seeded section: scikeras's seeding context saves, sets and restores process-wide state
#: (``random``, ``np.random``, TensorFlow's global seed, ``TF_DETERMINISTIC_OPS``), so two seeded
#: sections that overlapped in threads would restore each other's state and draw from each other's seeds.
_seed_lock = threading.RLock()
_active = 0  # skclr fits in progress
_seeded = 0  # seeded skclr fits in progress
_we_enabled_determinism = False
_known: set[str] = set()
_new_models = 0  # fits that built a model since the kernel cache was last cleared
#: Fits that build a model between two clearings of the kernel cache (~0.6 MB each).
KERNEL_CACHE_FITS = 8


def limit_threads(n_threads: int | None) -> None:
    """Size TensorFlow's thread pools: ``n_threads``, else ``OMP_NUM_THREADS``, else leave them.

    Warns when an explicit ``n_threads`` comes too late (the runtime already started).
    """
    threads = n_threads or env_threads()
    if threads is None:
        return
    import tensorflow as tf

    config = tf.config.threading
    with _lock:
        if config.get_intra_op_parallelism_threads() == threads:
            return
        try:
            config.set_intra_op_parallelism_threads(threads)
            config.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # the runtime already started in this process
            if n_threads is not None:
                warnings.warn(
                    f"n_threads={n_threads} ignored: TensorFlow already started in this "
                    "process; set it before the first fit.",
                    RuntimeWarning,
                    stacklevel=3,
                )


@contextlib.contextmanager
def seeded_section(seed: int | None = None):
    """Run a seeded section of a fit alone in the process, with Python's, NumPy's and TensorFlow's
    global seeds set to ``seed`` and put back afterwards; with ``seed=None``, just run it.

    ``tf.random.set_seed`` would also clear TensorFlow's kernel cache (to restart stateful random
    kernels, which Keras 3's own layers do not use: their random ops are stateless, driven by seed
    variables; a custom layer with stateful TensorFlow random ops keeps its stream), and with it the compiled form of every traced function that outlives a fit, such
    as the range test's shared sweep: each seeded fit would compile it again. The global seed is
    set here the way ``set_seed`` sets it, without the clearing.
    """
    if seed is None:  # an unseeded section touches no seed: nothing to wait for
        yield
        return
    with _seed_lock:
        import random

        import numpy as np
        from tensorflow.python.eager import context

        tf_context = context.context()
        saved = random.getstate(), np.random.get_state(), tf_context._seed, getattr(tf_context, "_rng", None)
        random.seed(seed)
        np.random.seed(seed)
        tf_context._seed, tf_context._rng = seed, random.Random(seed)
        try:
            yield
        finally:
            python_state, numpy_state, tf_context._seed, tf_context._rng = saved
            random.setstate(python_state)
            np.random.set_state(numpy_state)


def _registry() -> dict | None:
    from tensorflow.python.framework import ops

    registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    return registry if isinstance(registry, dict) else None  # a private TF structure: tolerate change


def _clear_kernel_cache() -> None:
    from tensorflow.python.eager import context

    clear = getattr(context.context(), "clear_kernel_cache", None)  # what clear_session calls
    if clear is not None:
        clear()


@contextlib.contextmanager
def fit_session(*, seeded: bool, new_model: bool = True, n_threads: int | None = None):
    """Wrap one skclr fit: thread limits, op determinism while seeded fits run, caches released after.

    Parameters
    ----------
    seeded : bool
        Whether this fit is seeded (and so needs op determinism).
    new_model : bool, default=True
        Whether this fit builds and traces a new model, whose kernels are worth releasing later.
    n_threads : int, optional
        Passed to :func:`limit_threads`.
    """
    global _active, _seeded, _we_enabled_determinism, _known, _new_models
    from tensorflow.python.framework import config

    limit_threads(n_threads)
    registry = _registry()
    _quiet_retracing_filter()
    with _lock:
        if _active == 0:
            _known = set(registry or ())
        _active += 1
        _new_models += bool(new_model)
        if seeded:
            _seeded += 1
            if not config.is_op_determinism_enabled():
                config.enable_op_determinism()
                _we_enabled_determinism = True
    try:
        with in_keras_steps():
            yield
    finally:
        with _lock:
            if seeded:
                _seeded -= 1
                if _seeded == 0 and _we_enabled_determinism:
                    config.disable_op_determinism()
                    _we_enabled_determinism = False
            _active -= 1
            if _active == 0:
                if registry is not None:
                    for name in [n for n in registry if n not in _known and n.startswith("CustomGradient-")]:
                        registry.pop(name, None)
                if _new_models >= KERNEL_CACHE_FITS:
                    _clear_kernel_cache()
                    _new_models = 0


def op_determinism_enabled() -> bool:
    """Whether TensorFlow's op determinism is on: traced into every step, so part of a copy's key."""
    from tensorflow.python.framework import config

    return config.is_op_determinism_enabled()


def assign_state(targets, sources) -> None:
    """Give each variable of ``targets`` the value of the same variable of ``sources``."""
    for target, source in zip(targets, sources):
        target.assign(source)


def is_dataset(data) -> bool:
    """Whether ``data`` is a dataset of batches (``tf.data.Dataset`` or ``keras.utils.PyDataset``)."""
    import keras
    import tensorflow as tf

    return isinstance(data, (tf.data.Dataset, keras.utils.PyDataset))


def batched_dataset(arrays, batch_size: int):
    """A ``tf.data`` pipeline of ``arrays`` (a structure of equally long arrays; lists stack, tuples
    do not) cut into batches of ``batch_size`` rows, in order."""
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices(arrays).batch(batch_size)


def schedule_rates(schedule, steps: int, start: int = 0, compiled: bool = True):
    """A schedule's rate at steps ``start .. start + steps - 1`` as float32, each from the same graph
    ops on a scalar int64 step as inside Keras's train step (a graph whether or not the step is
    XLA-compiled: ``compiled`` is for JAX's eager steps)."""
    import tensorflow as tf

    @tf.function(autograph=False)
    def rates(first, n):
        def step(i, values):
            return i + 1, values.write(tf.cast(i - first, tf.int32), tf.cast(schedule(i), tf.float32))

        empty = tf.TensorArray(tf.float32, size=tf.cast(n, tf.int32))
        return tf.while_loop(lambda i, _: i < first + n, step, (first, empty))[1].stack()

    # traced through get_concrete_function: a new function per fit, called once, is what it is
    # meant to be here, not the retracing that tf.function's __call__ warns about
    scalar = tf.TensorSpec([], tf.int64)
    return rates.get_concrete_function(scalar, scalar)(tf.constant(start, tf.int64), tf.constant(steps, tf.int64)).numpy()


def applied_rates(schedule, steps: int, start: int = 0, compiled: bool = True):
    """A schedule's rates at steps ``start .. start + steps - 1`` for a fit's history, evaluated
    eagerly: a graph traced for each report would cost more than the epoch's report is worth."""
    import numpy as np

    return np.asarray([float(schedule(step)) for step in range(start, start + steps)], dtype="float32")


class SweepFunctions:
    """The range test's compiled steps for one model: several steps in one graph call, each step
    Keras's ``train_step`` without the metrics at the rate given for it (assigned to ``rate``
    inside the graph), returning each step's own loss (and the validation loss after it).

    One trace per structure of inputs serves every call: the number of steps and the batch size
    are left open.
    """

    def __init__(self, model, rate):
        self.model, self.rate = model, rate
        self.functions: dict = {}

    def get(self, parts: list, validation: tuple | None):
        """The traced steps for ``parts`` (x, y, sample weights: stacked batches, or None) and
        ``validation`` (x, y or None): called as ``f(*present parts, rates, *validation)``."""
        import keras
        import numpy as np
        import tensorflow as tf

        present = tuple(i for i, part in enumerate(parts) if part is not None)

        def spec(array, leading: int):
            array = np.asarray(array)
            return tf.TensorSpec([None] * leading + list(array.shape[leading:]), tf.as_dtype(array.dtype))

        signature = [keras.tree.map_structure(lambda a: spec(a, 2), parts[i]) for i in present]
        signature.append(tf.TensorSpec([None], tf.float32))
        if validation is not None:
            signature += [keras.tree.map_structure(lambda a: spec(a, 1), part) for part in validation]
        key = (present, validation is not None, str(signature))  # a shared copy meets many fits' inputs
        if key not in self.functions:

            def steps(*args):
                full = [None, None, None]
                for i, value in zip(present, args):
                    full[i] = value
                rest = args[len(present) :]
                return self._steps(*full, rest[0], rest[1:] if validation is not None else None)

            self.functions[key] = tf.function(steps, input_signature=signature)
        return self.functions[key]

    def _steps(self, xs, ys, ws, rates, validation_data):
        import keras
        import tensorflow as tf

        from skclr._keras_internals import compute_loss

        model = self.model
        optimizer, variables = model.optimizer, model.trainable_variables
        count = tf.shape(rates)[0]
        losses = tf.TensorArray(tf.float32, size=count)
        val_losses = tf.TensorArray(tf.float32, size=count)
        for i in tf.range(count):
            x, y, w = (None if part is None else keras.tree.map_structure(lambda a: a[i], part) for part in (xs, ys, ws))
            self.rate.assign(tf.cast(rates[i], self.rate.dtype))
            with tf.GradientTape() as tape:
                y_pred = model(x, training=True)
                loss = compute_loss(model, x, y, y_pred, w, training=True)
                scaled = optimizer.scale_loss(loss)
            optimizer.apply_gradients(zip(tape.gradient(scaled, variables), variables))
            losses = losses.write(i, tf.cast(_as_tracked(loss), tf.float32))
            if validation_data is not None:
                x_val, y_val = validation_data[:2]
                val = compute_loss(model, x_val, y_val, model(x_val, training=False), training=False)
                val_losses = val_losses.write(i, tf.cast(_as_tracked(val), tf.float32))
        return losses.stack(), val_losses.stack() if validation_data is not None else tf.zeros([0])


def _as_tracked(loss):
    """A batch's loss as Keras's loss tracker records it: a loss of one value per row (a ``Loss``
    whose ``__call__`` does not reduce) counts as their mean, while the gradient, as in Keras's
    ``train_step``, is that of their sum. A scalar loss passes untouched."""
    import tensorflow as tf

    return tf.reduce_mean(loss) if loss.shape.rank else loss


def keep_compiled_steps(model, key: str) -> None:
    """Nothing: TensorFlow keeps no compiled program across processes (the traces live in the process)."""


def inference_loss_function(model, architecture_key):
    """None: TensorFlow's eager ops compile nothing per shape, so the loss is measured eagerly
    (see ``_jax.inference_loss_function``)."""
    return None


_conversions: set = set()


def register_tensor_like(cls, to_tensor) -> None:
    """Let TensorFlow ops take instances of ``cls`` (``to_tensor(value)`` gives the tensor); once per
    class, on first use rather than at import."""
    import tensorflow as tf

    with _lock:
        if cls in _conversions:
            return
        _conversions.add(cls)

    def convert(value, dtype=None, name=None, as_ref=False):
        return tf.convert_to_tensor(to_tensor(value), dtype=dtype, name=name)

    tf.register_tensor_conversion_function(cls, convert)


_RETRACING = "triggered tf.function retracing"


class _KerasStepRetracing(logging.Filter):
    """Drops TensorFlow's retracing warning about Keras's own train, test and predict steps while an
    skclr fit runs or its estimator predicts (``in_keras_steps``).

    TensorFlow counts traces per Python function, so every new model's steps (a grid search's
    candidates, each fold of a model that trains itself) add to one count, and after five it warns
    that "tracing is expensive": advice about a loop that retraces one function, which these are
    not. Other retracing warnings, and Keras's outside skclr's calls, pass.
    """

    active = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.active:
            return True
        message = record.getMessage()
        return not (_RETRACING in message and "Trainer." in message)


_step_filter = _KerasStepRetracing()


def _quiet_retracing_filter() -> None:
    logger = logging.getLogger("tensorflow")  # TensorFlow's Python logger (tf_logging)
    if _step_filter not in logger.filters:
        logger.addFilter(_step_filter)


@contextlib.contextmanager
def in_keras_steps():
    """While the block runs, Keras's per-model steps may trace without TensorFlow's retracing warning."""
    _quiet_retracing_filter()
    with _lock:
        _KerasStepRetracing.active += 1
    try:
        yield
    finally:
        with _lock:
            _KerasStepRetracing.active -= 1
