"""The learning-rate range test ("LR finder") of Smith (2015) and fast.ai, for any compiled Keras model.

``LRFinder`` is a scikit-learn style object (``get_params``, ``set_params``, ``clone``), so that
``GridSearchCV`` reaches its settings through ``CLRClassifier(lr_finder=LRFinder(...))`` as
``lr_finder__num_iter``; it needs no scikit-learn estimator around it.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator

from numbers import Integral, Real

import keras
import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

__all__ = ["LRFinder", "SUGGESTIONS"]

#: Rules accepted by :meth:`LRFinder.suggest`.
SUGGESTIONS = ("valley", "steep", "minimum")
#: ``max_lr`` is the curve's edge divided by this (chosen on benchmarks/bench_finder_quality.py).
MAX_DIV = 4.0
#: A fall below this fraction of the starting loss is no clear fall.
CLEAR_FALL = 0.1


class LRFinder(BaseEstimator):
    """Learning-rate range test: train with a rising rate and record each step's loss.

    The rate rises from ``min_lr`` to ``max_lr`` over ``num_iter`` optimizer steps,
    cycling through the data as often as needed. ``losses_[i]`` is the loss of
    step ``i``'s own batch (Keras's ``logs["loss"]`` is a running mean over the
    epoch and would shift the curve). The first sweep stops early once the loss
    has clearly blown up (see ``diverge_threshold``); the other ``n_sweeps - 1``
    sweeps run the same rates from the same starting point with other batch
    orders, so that the rules read an average and the finder can say how much
    the sweeps disagree (``spread_``). Afterwards the model is as it was:
    weights, optimizer variables, learning rate and iteration count.

    The steps run in a traced TensorFlow graph. A ``Sequential`` of Keras's own
    layers, optimizer and loss is swept on a copy of its architecture that the
    process keeps (the four most recent), so that later models of the same
    architecture and settings, such as the folds of a grid search, reuse its
    trace; the model itself is then not touched. Other models are swept in
    place and restored.

    Parameters
    ----------
    min_lr : float, default=1e-5
        First rate of the sweep, > 0. Adam barely moves below 1e-4 in a hundred
        steps; lower starts spend steps on a flat curve.
    max_lr : float, default=10.0
        Last rate of the sweep, > ``min_lr``.
    num_iter : int, default=100
        Number of optimizer steps per sweep, >= 5.
    mode : {"exp", "linear"}, default="exp"
        Geometric (fast.ai) or arithmetic spacing of the rates.
    smoothing : float or None, default=None
        Factor beta of the bias-corrected exponential average behind
        ``smoothed_losses_``, in [0, 1). None: ``1 - 10 / num_iter`` (at least 0),
        an average over about a tenth of the sweep, whatever its length.
    diverge_threshold : float, default=4.0
        The first sweep stops once both its smoothed loss and the median of its
        last five batch losses exceed this multiple of the best smoothed loss
        (counted after the first tenth of the sweep), or a loss is not finite, > 1.
        The median keeps a few heavy batches (large sample or class weights) from
        passing for divergence.
    suggestion : {"valley", "steep", "minimum"}, default="valley"
        fast.ai's rule behind ``suggestion_``; see :meth:`suggest`.
    fallback_lr : float, default=1e-3
        Suggestion used, with a warning, when the loss never falls.
    random_state : int, RandomState instance or None, default=None
        Seed of the batch orders. Inside ``CLRClassifier``, None follows the
        estimator's ``random_state``.
    n_sweeps : int, default=3
        Sweeps with different batch orders, >= 1. The bounds average their picks.
        (Last, so that the earlier parameters keep their positions.)

    Attributes
    ----------
    lrs_ : ndarray of shape (n_steps,)
        Rate applied at each recorded step.
    losses_ : ndarray of shape (n_steps,)
        Loss of each step's own batch in the first sweep, before its update.
    sweep_losses_ : ndarray of shape (n_sweeps, n_steps)
        The same for every sweep (row 0 is ``losses_``).
    smoothed_losses_ : ndarray of shape (n_steps,)
        Bias-corrected exponential average of the sweeps' mean loss.
    val_losses_ : ndarray or None
        Validation loss after each step of the first sweep, when ``validation_data`` was given.
    diverged_ : bool
        True when the first sweep stopped early on divergence.
    suggestion_ : float
        The rate chosen by the ``suggestion`` rule.
    spread_ : float
        Largest over smallest of the sweeps' ``max_lr`` picks (1.0 for one sweep;
        NaN if the loss never fell): how far the sweeps disagree. Above 2 or 3, the
        bounds rest on noise: a larger ``batch_size`` or more sweeps steady them.
    batch_size_ : int
        Samples per step of the sweep.

    References
    ----------
    L. N. Smith, arXiv:1506.01186, section 3.3; fast.ai ``Learner.lr_find``.

    Examples
    --------
    >>> import keras, numpy as np
    >>> from skclr import LRFinder
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> X = np.random.default_rng(0).normal(size=(64, 4)); y = X.sum(axis=1)
    >>> finder = LRFinder(min_lr=1e-4, max_lr=1.0, num_iter=30).find(model, X, y, batch_size=16)
    >>> bool(1e-4 <= finder.suggestion_ <= 1.0)
    True
    """

    _parameter_constraints: dict = {
        "min_lr": [Interval(Real, 0, None, closed="neither")],
        "max_lr": [Interval(Real, 0, None, closed="neither")],
        "num_iter": [Interval(Integral, 5, None, closed="left")],
        "n_sweeps": [Interval(Integral, 1, None, closed="left")],
        "mode": [StrOptions({"exp", "linear"})],
        "smoothing": [Interval(Real, 0, 1, closed="left"), None],
        "diverge_threshold": [Interval(Real, 1, None, closed="neither")],
        "suggestion": [StrOptions(set(SUGGESTIONS))],
        "fallback_lr": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        min_lr: float = 1e-5,
        max_lr: float = 10.0,
        num_iter: int = 100,
        mode: str = "exp",
        smoothing: float | None = None,
        diverge_threshold: float = 4.0,
        suggestion: str = "valley",
        fallback_lr: float = 1e-3,
        random_state: int | np.random.RandomState | None = None,
        n_sweeps: int = 3,
    ):
        self.min_lr = min_lr
        self.max_lr = max_lr
        self.num_iter = num_iter
        self.mode = mode
        self.smoothing = smoothing
        self.diverge_threshold = diverge_threshold
        self.suggestion = suggestion
        self.fallback_lr = fallback_lr
        self.random_state = random_state
        self.n_sweeps = n_sweeps

    def _validate_params(self) -> None:
        """Raise ``ValueError`` naming the first invalid setting; called by :meth:`find`."""
        super()._validate_params()
        if self.max_lr <= self.min_lr:
            raise ValueError(
                f"LRFinder: max_lr must be > min_lr. Received: min_lr={self.min_lr}, max_lr={self.max_lr}"
            )

    def rates(self) -> np.ndarray:
        """The ``num_iter`` rates of the sweep, from ``min_lr`` to ``max_lr`` inclusive."""
        fraction = np.linspace(0.0, 1.0, int(self.num_iter))
        if self.mode == "exp":
            return self.min_lr * (self.max_lr / self.min_lr) ** fraction
        return self.min_lr + (self.max_lr - self.min_lr) * fraction

    def _beta(self) -> float:
        return max(0.0, 1.0 - 10.0 / int(self.num_iter)) if self.smoothing is None else float(self.smoothing)

    def find(
        self,
        model: keras.Model,
        X,
        y,
        *,
        batch_size: int = 32,
        sample_weight=None,
        validation_data: tuple | None = None,
    ) -> LRFinder:
        """Run the range test on a compiled ``model`` and restore it afterwards.

        Parameters
        ----------
        model : keras.Model
            A compiled model; its optimizer is the one swept.
        X : array-like, DataFrame, dict or list of arrays, tf.data.Dataset or keras.utils.PyDataset
            Training inputs as ``model.fit`` takes them: arrays indexed by sample (a dict
            or list of them for a multi-input model), or a dataset that yields batches
            ``(x, y)`` or ``(x, y, sample_weight)``, cycled as often as the sweep needs.
        y : array-like, dict or list of arrays, or None
            Targets for array inputs; None for a dataset.
        batch_size : int, default=32
            Samples per step for array inputs (smaller data is used whole); a dataset's
            batches are used as they come.
        sample_weight : array-like, optional
            Per-sample weights for array inputs.
        validation_data : tuple (X_val, y_val), optional
            If given, the loss on all of it is computed after every step of the first
            sweep and stored in ``val_losses_``: one extra forward pass over ``X_val`` per step.

        Returns
        -------
        LRFinder
            ``self``, with the fitted attributes set.
        """
        self._validate_params()
        if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", False):
            raise ValueError("LRFinder.find needs a compiled model (call model.compile first).")
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer. Received: batch_size={batch_size}")
        if _is_dataset(X):
            if y is not None or sample_weight is not None:
                raise ValueError("With a dataset as X, y and sample_weight come from its batches: pass y=None.")

            def new_batches():
                return _dataset_batches(X)
        else:
            rng = check_random_state(self.random_state)

            def new_batches():  # each sweep draws its own batch order from the one generator
                return _array_batches(X, y, sample_weight, int(batch_size), int(self.num_iter), rng)

        batches = new_batches()
        first = next(batches)
        self.batch_size_ = len(keras.tree.flatten(first[0])[0])
        model._maybe_symbolic_build(data_batch=first)  # every variable exists before the snapshot
        if not model.optimizer.built:  # built inside the first trace, it would cost a second trace
            model.optimizer.build(model.trainable_variables)
        batches = itertools.chain([first], batches)

        rates = self.rates()
        with _sweep_model(model) as (sweep, reset):
            losses, val_losses, self.diverged_ = self._first_sweep(sweep, rates, batches, validation_data)
            sweeps = [losses]
            for _ in range(int(self.n_sweeps) - 1):  # the same rates and length, another batch order
                reset()
                steps = list(itertools.islice(new_batches(), len(losses)))
                sweeps.append(np.asarray(sweep(rates[: len(steps)], steps)[0]))  # no early stop: one call

        self.lrs_ = rates[: len(losses)]
        self.sweep_losses_ = np.array(sweeps)
        self.losses_ = self.sweep_losses_[0]
        self.val_losses_ = np.asarray(val_losses) if validation_data is not None else None
        finite = np.isfinite(self.sweep_losses_)  # a later sweep may blow up before the first
        count = finite.sum(axis=0)
        mean = np.where(finite, self.sweep_losses_, 0.0).sum(axis=0) / np.maximum(count, 1)
        mean = np.where(count > 0, mean, self.losses_)
        self.smoothed_losses_ = _exponential_average(mean, self._beta())
        self.suggestion_ = self.suggest()
        landmarks = self._sweep_landmarks()
        edges = [edge for _, edge, _ in landmarks]
        self.spread_ = float(max(edges) / min(edges)) if edges else float("nan")
        self._warn_if_unsure(landmarks)
        return self

    def _first_sweep(self, sweep: _SweepSteps, rates, batches, validation_data) -> tuple[np.ndarray, list, bool]:
        """Run the rising rates until they end or the loss blows up; return losses, val losses, diverged."""
        losses, val_losses = [], []
        beta, skip = self._beta(), int(self.num_iter) // 10
        average, best = 0.0, math.inf
        for start, chunk in _chunked(itertools.islice(batches, int(self.num_iter))):
            chunk_losses, chunk_val = sweep(rates[start : start + len(chunk)], chunk, validation_data)
            for loss, val in zip(chunk_losses, chunk_val):
                step = len(losses)
                losses.append(loss)
                val_losses.append(val)
                average = beta * average + (1 - beta) * loss
                smooth = average / (1 - beta ** (step + 1))
                if not math.isfinite(loss) or not math.isfinite(smooth):
                    return np.array(losses), val_losses, True
                if step >= skip:
                    recent = np.median(losses[-5:])
                    if smooth > self.diverge_threshold * best and recent > self.diverge_threshold * best:
                        return np.array(losses), val_losses, True  # the steps after this one are dropped
                    best = min(best, smooth)
        return np.array(losses), val_losses, False

    def _curve(self, losses: np.ndarray | None = None, centered: bool = False) -> tuple[np.ndarray, np.ndarray] | None:
        """The part of a loss curve the rules read, or None if the loss never fell.

        By default the smoothed (exponential average) loss, as fast.ai's rules read it.
        With ``centered``, ``losses`` (default: the first sweep's) under a centered moving
        average over a tenth of the sweep: smoothing without the average's lag, possible
        once the sweep is over.
        """
        if centered:
            lrs, losses = self.lrs_, self.losses_ if losses is None else losses
        else:
            lrs, losses = self.lrs_, self.smoothed_losses_
        if self.diverged_:  # the last point is the one that diverged
            lrs, losses = lrs[:-1], losses[:-1]
        finite = np.isfinite(losses)
        if not finite.all():  # a later sweep that blew up: read it up to there
            stop = int(np.argmin(finite))
            lrs, losses = lrs[:stop], losses[:stop]
        skip = len(losses) // 10  # the first steps are start-up noise (fast.ai skips them too)
        lrs, losses = lrs[skip:], losses[skip:]
        if centered and len(losses) >= 3:
            width = max(1, int(self.num_iter) // 20) * 2 + 1  # odd, about a tenth of the sweep
            width = min(width, len(losses) - (1 - len(losses) % 2))
            losses = np.convolve(losses, np.ones(width) / width, mode="valid")
            lrs = lrs[width // 2 : width // 2 + len(losses)]
        # "Never fell": the loss never got 0.1 % below where it started.
        if len(losses) < 3 or losses.min() >= losses[0] * (1 - 1e-3):
            return None
        return lrs, losses

    def suggest(self, rule: str | None = None) -> float:
        """Return a learning rate read off the curve, by one of fast.ai's rules.

        Rules, applied to the smoothed loss after dropping non-finite points and the
        first tenth of the sweep:

        - ``"valley"`` (fast.ai's default): the longest run over which the loss keeps
          falling; the rate halfway between its first and second third.
        - ``"steep"``: the rate where the loss falls fastest against log(rate).
        - ``"minimum"``: the rate of the lowest loss, divided by 10.

        If the loss never falls, warns and returns ``fallback_lr``.
        """
        rule = self.suggestion if rule is None else rule
        if rule not in SUGGESTIONS:
            raise ValueError(f"Unknown suggestion rule {rule!r}. Valid rules are: {', '.join(SUGGESTIONS)}.")
        curve = self._curve()
        if curve is None:
            warnings.warn(
                f"The loss never fell during the range test ({self.min_lr:g} to "
                f"{self.lrs_[-1]:g}); using fallback_lr={self.fallback_lr:g}.",
                RuntimeWarning,
                stacklevel=2,
            )
            return float(self.fallback_lr)
        lrs, losses = curve
        if rule == "minimum":
            return float(lrs[np.argmin(losses)] / 10.0)
        if rule == "steep":
            slopes = np.diff(losses) / np.diff(np.log(lrs))
            return float(lrs[np.argmin(slopes)])
        # valley: longest decreasing subsequence, as fast.ai computes it.
        run = np.ones(len(losses), dtype=int)
        for i in range(1, len(losses)):
            longer = losses[:i] > losses[i]
            if longer.any():
                run[i] = run[:i][longer].max() + 1
        end = int(np.argmax(run))
        start = end - run[end]
        third = (end - start) / 3
        return float(lrs[start + int(third) + int(third / 2)])

    def _landmarks(self, losses: np.ndarray) -> tuple[float, float, float] | None:
        """``(onset, edge, fall)`` of one sweep's curve, or None if its loss never fell.

        On the centered average: ``onset`` is the first rate where the loss is down a tenth
        of its fall (start level to lowest point); ``edge`` the first rate after the lowest
        point where it is back above half its fall, else the last rate run; ``fall`` is
        the fall as a fraction of the start level.
        """
        curve = self._curve(losses, centered=True)
        if curve is None:
            return None
        lrs, smooth = curve
        start = float(np.median(smooth[: max(1, len(smooth) // 10)]))
        low = int(np.argmin(smooth))
        fall = start - float(smooth[low])
        if fall <= 0:
            return None
        onset = float(lrs[np.flatnonzero(smooth <= start - 0.1 * fall)[0]])
        back_up = np.flatnonzero(smooth[low:] > smooth[low] + 0.5 * fall)
        edge = float(lrs[low + back_up[0]] if back_up.size else self.lrs_[-1])  # else: the last rate run
        return onset, edge, fall / start

    def _sweep_landmarks(self) -> list[tuple[float, float, float]]:
        """The landmarks of every sweep whose loss fell."""
        return [mark for mark in map(self._landmarks, self.sweep_losses_) if mark is not None]

    def clr_bounds(self, max_div: float = MAX_DIV, base_div: float | None = None) -> tuple[float, float]:
        """Return ``(base_lr, max_lr)`` for a cyclical or one-cycle schedule.

        ``max_lr`` is the *edge* of the curve divided by ``max_div``: the rate at which
        the loss, past its lowest point, climbs back above half of its fall, or the sweep
        stops on divergence. The edge is where training stops working, and it is sharp:
        it moves far less between folds and batch orders than the flat bottom of the
        curve, whose lowest point is noise. ``base_lr`` is where the loss starts to fall
        (down a tenth of its fall; Smith 2015, section 3.3), at most ``max_lr / 3`` so
        that a cycle spans a factor of three; or ``max_lr / base_div`` if given. With
        several sweeps, each sweep's rates are read off its own curve and averaged
        geometrically. If the loss never fell, warns and uses ``fallback_lr`` as ``max_lr``.
        """
        if max_div < 1 or (base_div is not None and base_div <= 1):
            raise ValueError(f"Need max_div >= 1 and base_div > 1. Received: {max_div=}, {base_div=}")
        landmarks = self._sweep_landmarks()
        if not landmarks:
            warnings.warn(
                f"The loss never fell during the range test; bounds from fallback_lr={self.fallback_lr:g}.",
                RuntimeWarning,
                stacklevel=2,
            )
            top = float(self.fallback_lr)
            return top / (base_div or 4.0), top
        onset, edge = np.exp(np.mean(np.log([mark[:2] for mark in landmarks]), axis=0))
        top = float(edge / max_div)
        return (top / base_div if base_div else min(float(onset), top / 3)), top

    def _warn_if_unsure(self, landmarks: list[tuple[float, float, float]]) -> None:
        fall = max((mark[2] for mark in landmarks), default=None)
        if fall is not None and fall < CLEAR_FALL:
            warnings.warn(
                f"The range test shows no clear fall: the loss fell at most {fall:.0%} "
                f"from where it started (from {self.min_lr:g} to {self.lrs_[-1]:g}); its rates are a guess. "
                "Check the curve (LRFinder.plot) or set the rates yourself.",
                RuntimeWarning,
                stacklevel=3,
            )

    def plot(self, ax=None):
        """Plot raw and smoothed loss against the rate (log axis), the suggestion and CLR bounds.

        Returns the matplotlib ``Axes``; needs the ``plot`` extra.
        """
        from skclr.plotting import plot_lr_finder

        return plot_lr_finder(self, ax=ax)


def _is_dataset(data) -> bool:
    import tensorflow as tf

    return isinstance(data, (tf.data.Dataset, keras.utils.PyDataset))


def _dataset_batches(data) -> Iterator[tuple]:
    """``(x, y, sample_weight)`` of each batch of a dataset, pass after pass."""
    while True:
        if isinstance(data, keras.utils.PyDataset):
            elements = (data[i] for i in range(len(data)))
        else:
            elements = iter(data)
        empty = True
        for element in elements:
            empty = False
            yield keras.utils.unpack_x_y_sample_weight(element)
        if empty:
            raise ValueError("The dataset given to LRFinder.find yields no batch.")
        if isinstance(data, keras.utils.PyDataset):
            data.on_epoch_end()


def _array_batches(X, y, sample_weight, batch_size: int, steps: int, rng) -> Iterator[tuple]:
    """``(x, y, sample_weight)`` batches of arrays (or dicts and lists of them), reshuffled each pass."""
    # pandas objects index columns with X[idx]; rows are what the sweep needs
    X, y, sample_weight = (keras.tree.map_structure(_rows, a) if a is not None else None for a in (X, y, sample_weight))
    lengths = {len(a) for part in (X, y, sample_weight) if part is not None for a in keras.tree.flatten(part)}
    if len(lengths) != 1 or 0 in lengths:
        raise ValueError(f"X, y and sample_weight must hold the same, non-zero number of samples; got {sorted(lengths)}.")
    n = lengths.pop()
    size = min(batch_size, n)
    for _ in range(0, steps, n // size):
        order = rng.permutation(n)
        for i in range(n // size):
            idx = order[i * size : (i + 1) * size]
            yield tuple(None if a is None else keras.tree.map_structure(lambda v: v[idx], a) for a in (X, y, sample_weight))


def _rows(array):
    return np.asarray(array) if hasattr(array, "iloc") else array


#: Sweep steps per graph call. Divergence is checked after each call, so at most this many
#: steps minus one run past it (their results are dropped, and the model is restored anyway).
_STEPS_PER_CALL = 10


class _SweepSteps:
    """Runs several sweep steps in one graph call and returns each step's own loss.

    A step is Keras's ``train_step`` without the metrics: the loss of the batch before the
    update, then the update at the step's rate (assigned to ``rate`` inside the graph).
    One trace serves every call: the number of steps and the batch size are left open.
    """

    def __init__(self, model: keras.Model, rate: keras.Variable):
        import tensorflow as tf

        self.model, self.rate, self.tf = model, rate, tf
        self.functions: dict = {}

    def __call__(self, rates, batches: list[tuple], validation_data: tuple | None = None) -> tuple[list, list]:
        losses, val_losses = [], []
        for start, stop in _equal_shape_runs(batches):  # a dataset's short last batch cannot be stacked
            parts = [_stack([batch[part] for batch in batches[start:stop]]) for part in range(3)]
            validation = None if validation_data is None else tuple(validation_data[:2])
            function = self._function(parts, validation)
            inputs = [part for part in parts if part is not None]
            loss, val = function(*inputs, np.asarray(rates[start:stop], dtype="float32"), *(validation or ()))
            losses += np.asarray(loss, dtype="float64").tolist()
            val_losses += np.asarray(val, dtype="float64").tolist() if validation else [None] * (stop - start)
        return losses, val_losses

    def _function(self, parts: list, validation: tuple | None):
        """The traced steps for inputs of this structure: one signature with open steps and batch sizes."""
        tf = self.tf
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
        tf, model = self.tf, self.model
        optimizer, variables = model.optimizer, model.trainable_variables
        count = tf.shape(rates)[0]
        losses = tf.TensorArray(tf.float32, size=count)
        val_losses = tf.TensorArray(tf.float32, size=count)
        for i in tf.range(count):
            x, y, w = (None if part is None else keras.tree.map_structure(lambda a: a[i], part) for part in (xs, ys, ws))
            self.rate.assign(tf.cast(rates[i], self.rate.dtype))
            with tf.GradientTape() as tape:
                y_pred = model(x, training=True)
                loss = model._compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=w, training=True)
                scaled = optimizer.scale_loss(loss)
            optimizer.apply_gradients(zip(tape.gradient(scaled, variables), variables))
            losses = losses.write(i, tf.cast(loss, tf.float32))
            if validation_data is not None:
                x_val, y_val = validation_data[:2]
                val = model._compute_loss(x=x_val, y=y_val, y_pred=model(x_val, training=False), training=False)
                val_losses = val_losses.write(i, tf.cast(val, tf.float32))
        return losses.stack(), val_losses.stack() if validation_data is not None else tf.zeros([0])


def _chunked(steps) -> Iterator[tuple[int, list]]:
    """``(index of the first step, steps)`` for each graph call's worth of ``steps``."""
    steps, start = iter(steps), 0
    while chunk := list(itertools.islice(steps, _STEPS_PER_CALL)):
        yield start, chunk
        start += len(chunk)


def _exponential_average(values: np.ndarray, beta: float) -> np.ndarray:
    """Bias-corrected exponential moving average (fast.ai's smoothing of the loss)."""
    average, out = 0.0, np.empty(len(values))
    for i, value in enumerate(values):
        average = beta * average + (1 - beta) * value
        out[i] = average / (1 - beta ** (i + 1))
    return out


def _equal_shape_runs(batches: list[tuple]) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` of each run of consecutive batches whose arrays have the same shapes."""
    def shapes(batch):
        return [np.shape(a) for part in batch if part is not None for a in keras.tree.flatten(part)]

    start = 0
    for i in range(1, len(batches) + 1):
        if i == len(batches) or shapes(batches[i]) != shapes(batches[start]):
            yield start, i
            start = i


def _stack(parts: list):
    """Stack the same part (x, y or sample weights) of several batches along a new first axis."""
    if parts[0] is None:
        return None
    return keras.tree.map_structure(lambda *arrays: np.stack([np.asarray(a) for a in arrays]), *parts)


@contextlib.contextmanager
def _swept_rate(model: keras.Model) -> Iterator[keras.Variable]:
    """Yield a variable that drives the optimizer's rate; the optimizer gets its own rate back on exit."""
    optimizer = model.optimizer
    original = optimizer._learning_rate
    if isinstance(original, keras.Variable):
        yield original  # restored with the optimizer's other variables
        return
    # A schedule (or a constant) is read at trace time: swap in a variable and retrace.
    optimizer._learning_rate = keras.Variable(0.0, trainable=False, name="lr_finder_rate")
    model.train_function = None
    try:
        yield optimizer._learning_rate
    finally:
        optimizer._learning_rate = original
        model.train_function = None


@contextlib.contextmanager
def _sweep_model(model: keras.Model) -> Iterator[tuple[_SweepSteps, Callable[[], None]]]:
    """Yield the sweep's steps and a function that puts the swept model back in ``model``'s state.

    A ``Sequential`` of Keras's own layers is swept on a scratch copy of its architecture,
    kept for the process: its traced steps serve every later model of the same architecture
    and settings (the folds and candidates of a grid search), so only the first range test
    pays the trace. ``model`` itself is then never changed. Any other model is swept in
    place and put back on exit.
    """
    scratch = _Scratch.take(model)
    swept = model if scratch is None else scratch.model
    state = [variable.numpy() for variable in _state_variables(model)]

    def reset() -> None:
        for variable, value in zip(_state_variables(swept), state):
            variable.assign(value)

    if scratch is None:
        with _swept_rate(model) as rate:
            try:
                yield _SweepSteps(model, rate), reset
            finally:
                reset()
                model.reset_metrics()
        return
    reset()
    try:
        yield scratch.steps, reset
    finally:
        scratch.give_back()


def _state_variables(model: keras.Model) -> list:
    """Everything a training step reads and changes: weights, dropout seeds, optimizer state and rate.

    The optimizer is built before the sweep, so the list is the same before and after it.
    """
    return [*model.variables, *model.optimizer.variables]


def _architecture_key(model: keras.Model) -> str | None:
    """What a sweep step computes, for a model whose configuration says all of it; else None.

    That is a ``Sequential`` of Keras's own layers with Keras's own optimizer and loss: the
    layers' and the optimizer's configurations (names, which change with every model, and
    the swept rate left out), the loss, and the process-wide settings traced into the step.
    """
    from tensorflow.python.framework import config as tf_config

    optimizer, loss = model.optimizer, getattr(model, "loss", None)
    keras_made = [*model.layers, optimizer, *([] if isinstance(loss, str) else [loss])]
    if type(model) is not keras.Sequential or not all(type(part).__module__.startswith("keras.") for part in keras_made):
        return None  # custom code may compute with more than its configuration says
    if hasattr(optimizer, "_exclude_from_weight_decay"):
        return None  # set by exclude_from_weight_decay(), which the configuration does not record
    try:
        layers = model.get_config()
        compiled = model.get_compile_config()
        layers.pop("name", None)
        for layer in layers["layers"]:
            layer["config"].pop("name", None)
        settings = {key: compiled[key] for key in ("optimizer", "loss", "loss_weights")}
        settings["optimizer"]["config"].pop("name", None)
        settings["optimizer"]["config"].pop("learning_rate", None)
        return json.dumps(
            [layers, settings, keras.config.floatx(), tf_config.is_op_determinism_enabled()], sort_keys=True
        )
    except (TypeError, ValueError, KeyError, AttributeError):  # not serializable as plain data
        return None


class _Scratch:
    """A copy of a compiled model's architecture, with its sweep steps, shared by the models that
    have the same architecture key. A thread takes it out of the shelf while it sweeps."""

    _shelf: OrderedDict[str, _Scratch] = OrderedDict()  # most recently used last
    _lock = threading.Lock()
    size = 4  # architectures kept per process

    def __init__(self, key: str, model: keras.Model):
        self.key = key
        self.model = keras.models.clone_model(model)
        self.model.compile_from_config(model.get_compile_config())
        optimizer = self.model.optimizer
        if not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        if not isinstance(optimizer._learning_rate, keras.Variable):  # a schedule: the sweep needs a variable
            optimizer._learning_rate = keras.Variable(0.0, trainable=False, name="lr_finder_rate")
        self.steps = _SweepSteps(self.model, optimizer._learning_rate)

    @classmethod
    def take(cls, model: keras.Model) -> _Scratch | None:
        """The shelved copy for ``model``'s architecture, a new one, or None if it cannot be shared."""
        key = _architecture_key(model)
        if key is None:
            return None
        with cls._lock:
            scratch = cls._shelf.pop(key, None)
        if scratch is None:
            try:
                scratch = cls(key, model)
            except Exception:  # noqa: BLE001 -- not rebuilt from its configuration: sweep the model itself
                return None
        mine, its = _state_variables(model), _state_variables(scratch.model)
        if [(v.shape, v.dtype) for v in mine] != [(v.shape, v.dtype) for v in its]:
            return None  # not the same variables after all
        return scratch

    def give_back(self) -> None:
        with self._lock:
            self._shelf.setdefault(self.key, self)  # another thread's copy may be back first
            self._shelf.move_to_end(self.key)
            while len(self._shelf) > self.size:
                self._shelf.popitem(last=False)
