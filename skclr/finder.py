"""The learning-rate range test ("LR finder") of Smith (2015) and fast.ai, for any compiled Keras model.

``LRFinder`` is a scikit-learn style object (``get_params``, ``set_params``, ``clone``), so that
``GridSearchCV`` reaches its settings through ``CLRClassifier(lr_finder=LRFinder(...))`` as
``lr_finder__num_iter``; it needs no scikit-learn estimator around it.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterator

from numbers import Integral, Real

import keras
import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

__all__ = ["LRFinder", "SUGGESTIONS"]

#: Rules accepted by :meth:`LRFinder.suggest`.
SUGGESTIONS = ("valley", "steep", "minimum")


class LRFinder(BaseEstimator):
    """Learning-rate range test: train with a rising rate and record each step's loss.

    The rate rises from ``min_lr`` to ``max_lr`` over ``num_iter`` optimizer steps,
    cycling through the data as often as needed. ``losses_[i]`` is the loss of
    step ``i``'s own batch (Keras's ``logs["loss"]`` is a running mean over the
    epoch and would shift the curve). The sweep stops early once the smoothed
    loss exceeds ``diverge_threshold`` times its best value or is not finite.
    Afterwards the model is restored exactly: weights, optimizer variables,
    learning rate and iteration count.

    Parameters
    ----------
    min_lr : float, default=1e-7
        First rate of the sweep, > 0.
    max_lr : float, default=10.0
        Last rate of the sweep, > ``min_lr``.
    num_iter : int, default=100
        Number of optimizer steps, >= 5.
    mode : {"exp", "linear"}, default="exp"
        Geometric (fast.ai) or arithmetic spacing of the rates.
    smoothing : float, default=0.98
        Factor beta of the bias-corrected exponential average of the loss, in [0, 1).
    diverge_threshold : float, default=4.0
        Stop once the smoothed loss exceeds this multiple of its best value, > 1.
    suggestion : {"valley", "steep", "minimum"}, default="valley"
        Rule behind ``suggestion_``; see :meth:`suggest`.
    fallback_lr : float, default=1e-3
        Suggestion used, with a warning, when the loss never falls.
    random_state : int, RandomState instance or None, default=None
        Seed of the batch order. Inside ``CLRClassifier``, None follows the
        estimator's ``random_state``.

    Attributes
    ----------
    lrs_ : ndarray
        Rate applied at each recorded step.
    losses_ : ndarray
        Loss of each step's own batch, before its update.
    smoothed_losses_ : ndarray
        Bias-corrected exponential average of ``losses_``.
    val_losses_ : ndarray or None
        Validation loss after each step, when ``validation_data`` was given.
    diverged_ : bool
        True when the sweep stopped early on divergence.
    suggestion_ : float
        The rate chosen by the ``suggestion`` rule.
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
        "mode": [StrOptions({"exp", "linear"})],
        "smoothing": [Interval(Real, 0, 1, closed="left")],
        "diverge_threshold": [Interval(Real, 1, None, closed="neither")],
        "suggestion": [StrOptions(set(SUGGESTIONS))],
        "fallback_lr": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        min_lr: float = 1e-7,
        max_lr: float = 10.0,
        num_iter: int = 100,
        mode: str = "exp",
        smoothing: float = 0.98,
        diverge_threshold: float = 4.0,
        suggestion: str = "valley",
        fallback_lr: float = 1e-3,
        random_state: int | np.random.RandomState | None = None,
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
            If given, the loss on all of it is computed after every step and stored
            in ``val_losses_``: one extra forward pass over ``X_val`` per step.

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
            batches = _dataset_batches(X)
        else:
            rng = check_random_state(self.random_state)
            batches = _array_batches(X, y, sample_weight, int(batch_size), int(self.num_iter), rng)
        batches = itertools.islice(batches, int(self.num_iter))
        first = next(batches)
        self.batch_size_ = len(keras.tree.flatten(first[0])[0])
        if not model.built:  # so that every variable exists before the snapshot
            model.build((None,) + tuple(np.shape(first[0])[1:]))
        batches = itertools.chain([first], batches)

        lrs, losses, smoothed, val_losses = [], [], [], []
        average, best = 0.0, math.inf
        self.diverged_ = False
        with _swept_rate(model) as rate:
            for step, (lr, (x, target, weights)) in enumerate(zip(self.rates(), batches)):
                rate.assign(lr)
                logs = model.train_on_batch(x, target, sample_weight=weights, return_dict=True)
                loss = float(logs["loss"])
                lrs.append(lr)
                losses.append(loss)
                average = self.smoothing * average + (1 - self.smoothing) * loss
                smooth = average / (1 - self.smoothing ** (step + 1))
                smoothed.append(smooth)
                if validation_data is not None:
                    val = model.test_on_batch(*validation_data, return_dict=True)
                    val_losses.append(float(val["loss"]))
                if not math.isfinite(smooth) or smooth > self.diverge_threshold * best:
                    self.diverged_ = True
                    break
                best = min(best, smooth)

        self.lrs_ = np.asarray(lrs)
        self.losses_ = np.asarray(losses)
        self.smoothed_losses_ = np.asarray(smoothed)
        self.val_losses_ = np.asarray(val_losses) if validation_data is not None else None
        self.suggestion_ = self.suggest()
        return self

    def _curve(self, centered: bool = False) -> tuple[np.ndarray, np.ndarray] | None:
        """The part of the loss curve the rules read, or None if the loss never fell.

        By default the smoothed (exponential average) loss, as fast.ai's rules read it.
        With ``centered``, the raw loss under a centered moving average over a tenth of
        the sweep: smoothing without the average's lag, possible once the sweep is over.
        """
        lrs, losses = self.lrs_, self.losses_ if centered else self.smoothed_losses_
        if self.diverged_:  # the last point is the one that diverged
            lrs, losses = lrs[:-1], losses[:-1]
        finite = np.isfinite(losses)
        lrs, losses = lrs[finite], losses[finite]
        skip = len(losses) // 10  # the first steps are start-up noise (fast.ai skips them too)
        lrs, losses = lrs[skip:], losses[skip:]
        if centered and len(losses) >= 3:
            width = max(1, len(losses) // 20) * 2 + 1  # odd, about a tenth of the sweep
            width = min(width, len(losses) - (1 - len(losses) % 2))
            losses = np.convolve(losses, np.ones(width) / width, mode="valid")
            lrs = lrs[width // 2 : width // 2 + len(losses)]
        # "Never fell": the loss never got 0.1 % below where it started.
        if len(losses) < 3 or losses.min() >= losses[0] * (1 - 1e-3):
            return None
        return lrs, losses

    def suggest(self, rule: str | None = None) -> float:
        """Return a learning rate read off the curve.

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

    def clr_bounds(self, max_div: float = 2.0, base_div: float = 4.0) -> tuple[float, float]:
        """Return ``(base_lr, max_lr)`` for a cyclical schedule.

        Smith (2015, section 3.3) sets ``max_lr`` where the loss stops falling and
        notes that the best rate is usually within a factor of two of the largest
        rate that still converges, with ``base_lr`` at 1/3-1/4 of ``max_lr``. Here
        ``max_lr`` is the rate at the lowest point of the loss, smoothed by a centered
        moving average (the exponential average lags far behind a fast-rising loss),
        divided by ``max_div``; ``base_lr = max_lr / base_div``. If the loss never
        fell, warns and uses ``fallback_lr`` as ``max_lr``.
        """
        if max_div < 1 or base_div <= 1:
            raise ValueError(f"Need max_div >= 1 and base_div > 1. Received: {max_div=}, {base_div=}")
        curve = self._curve(centered=True)
        if curve is None:
            warnings.warn(
                f"The loss never fell during the range test; bounds from fallback_lr={self.fallback_lr:g}.",
                RuntimeWarning,
                stacklevel=2,
            )
            top = float(self.fallback_lr)
        else:
            lrs, losses = curve
            top = float(lrs[np.argmin(losses)] / max_div)
        return top / base_div, top

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


class _swept_rate:
    """Context manager: yields a variable that drives the optimizer's rate, then restores everything.

    On exit the model's variables and the optimizer's variables (slots, iteration
    count, rate) hold their values from before; slots the sweep created are zeroed.
    """

    def __init__(self, model: keras.Model):
        self.model = model
        self.optimizer = model.optimizer

    def __enter__(self) -> keras.Variable:
        self.weights = [v.numpy() for v in self.model.variables]
        self.slots = {id(v): v.numpy() for v in self.optimizer.variables}
        self.original_rate = self.optimizer._learning_rate
        if isinstance(self.original_rate, keras.Variable):
            return self.original_rate
        # A schedule (or a constant) is read at trace time: swap in a variable and retrace.
        self.optimizer._learning_rate = keras.Variable(0.0, trainable=False, name="lr_finder_rate")
        self.model.train_function = None
        return self.optimizer._learning_rate

    def __exit__(self, *exc) -> None:
        if self.optimizer._learning_rate is not self.original_rate:
            self.optimizer._learning_rate = self.original_rate
            self.model.train_function = None
        for variable, value in zip(self.model.variables, self.weights):
            variable.assign(value)
        for variable in self.optimizer.variables:
            value = self.slots.get(id(variable))
            variable.assign(np.zeros(variable.shape, variable.dtype) if value is None else value)
        self.model.reset_metrics()
