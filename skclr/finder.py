"""The learning-rate range test ("LR finder") of Smith (2015) and fast.ai, for any compiled Keras model.

``LRFinder`` is a scikit-learn style object (``get_params``, ``set_params``, ``clone``), so that
``GridSearchCV`` reaches its settings through ``CLRClassifier(lr_finder=LRFinder(...))`` as
``lr_finder__num_iter``; it needs no scikit-learn estimator around it.
"""

from __future__ import annotations

import itertools
from numbers import Integral, Real

import keras
import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from skclr._sklearn_internals import Interval, StrOptions

from skclr import _rules, backend
from skclr._rules import CLEAR_FALL, MAX_DIV, SUGGESTIONS
from skclr._sweep import STEPS_PER_CALL, Batches, build, chunked, sweep_model
from skclr._warn import warn_at_caller

__all__ = ["MAX_DIV", "SUGGESTIONS", "LRFinder"]


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
        Arrays are reshuffled for each sweep; a dataset's later sweeps take the
        batches of its first pass in other orders (a ``tf.data.Dataset``'s are held
        in memory for that). Input whose every pass is one batch (all the rows of an
        array in one batch, or a dataset of one batch) has a single order: it gets
        one sweep. (Last, so that the earlier parameters keep their positions.)

    Attributes
    ----------
    lrs_ : ndarray of shape (n_steps,)
        Rate applied at each recorded step.
    losses_ : ndarray of shape (n_steps,)
        Loss of each step's own batch in the first sweep, before its update.
    sweep_losses_ : ndarray of shape (n_sweeps_, n_steps)
        The same for every sweep (row 0 is ``losses_``).
    n_sweeps_ : int
        Sweeps run: ``n_sweeps``, or 1 where the input has a single batch order.
    smoothed_losses_ : ndarray of shape (n_steps,)
        Bias-corrected exponential average of the sweeps' mean loss.
    val_losses_ : ndarray or None
        Validation loss after each step of the first sweep, when ``validation_data`` was given.
    diverged_ : bool
        True when the first sweep stopped early on divergence.
    suggestion_ : float
        The rate chosen by the ``suggestion`` rule.
    onset_ : float
        Where the loss starts to fall (down a tenth of its fall), averaged
        geometrically over the sweeps; NaN if the loss never fell.
    edge_ : float
        Where the loss, past its lowest point, climbs back above half of its fall
        (or the last rate run), averaged geometrically over the sweeps; NaN if the
        loss never fell. ``max_lr`` is ``edge_ / max_div`` (see :meth:`clr_bounds`).
    spread_ : float
        Largest over smallest of the sweeps' edges: how far the sweeps disagree.
        NaN when fewer than two sweeps ran or the loss never fell (nothing was
        measured). Above 2 or 3, the bounds rest on noise: a larger ``batch_size``
        or more sweeps steady them.
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
        "mode": [StrOptions(dict.fromkeys(("exp", "linear")).keys())],
        "smoothing": [Interval(Real, 0, 1, closed="left"), None],
        "diverge_threshold": [Interval(Real, 1, None, closed="neither")],
        "suggestion": [StrOptions(dict.fromkeys(SUGGESTIONS).keys())],  # listed in order in the error message
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
        x,
        y=None,
        *,
        batch_size: int = 32,
        sample_weight=None,
        validation_data: tuple | None = None,
    ) -> LRFinder:
        """Run the range test on a compiled ``model`` and restore it afterwards.

        Parameters
        ----------
        model : keras.Model
            A compiled model; its optimizer is the one swept (the inner one of a
            ``LossScaleOptimizer``). A model without an ``Input`` is built from the first batch.
        x : array-like, DataFrame, dict or list of arrays, tf.data.Dataset or keras.utils.PyDataset
            Training inputs as ``model.fit`` takes them: arrays indexed by sample (a dict
            or list of them for a multi-input model), or a dataset that yields batches
            ``(x, y)`` or ``(x, y, sample_weight)``, cycled as often as the sweep needs.
            Not an iterator or generator: the sweeps read the batches more than once.
        y : array-like, dict or list of arrays, or None, default=None
            Targets; required for array inputs, None for a dataset.
        batch_size : int, default=32
            Samples per step for array inputs (smaller data is used whole); a dataset's
            batches are used as they come.
        sample_weight : array-like, optional
            Per-sample weights for array inputs.
        validation_data : tuple (x_val, y_val), optional
            If given, the loss on all of it is computed after every step of the first
            sweep and stored in ``val_losses_``: one extra forward pass over ``x_val`` per step.

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
        rng = check_random_state(self.random_state)
        batches = Batches(x, y, sample_weight, int(batch_size), rng, keep=int(self.n_sweeps) > 1)
        stream = batches.sweep(first=True)
        first = next(stream)
        self.batch_size_ = len(keras.tree.flatten(first[0])[0])
        build(model, first)

        rates = self.rates()
        with sweep_model(model) as (sweep, reset):
            stream = itertools.chain([first], stream)
            losses, val_losses = self._first_sweep(sweep, rates, stream, validation_data)
            sweeps = [losses]
            n_sweeps = int(self.n_sweeps) if batches.can_reorder() else 1
            for _ in range(n_sweeps - 1):  # the same rates and length, another batch order
                reset()
                sweeps.append(self._later_sweep(sweep, rates, batches.sweep(first=False), len(losses)))

        self.lrs_ = rates[: len(losses)]
        self.sweep_losses_ = np.array(sweeps)
        self.n_sweeps_ = len(sweeps)
        self.losses_ = self.sweep_losses_[0]
        self.val_losses_ = np.asarray(val_losses) if validation_data is not None else None
        mean = _rules.mean_of_finite(self.sweep_losses_)
        self.smoothed_losses_ = _rules.exponential_average(mean, self._beta())
        self.suggestion_ = self.suggest()
        width = _rules.smoothing_width(self.num_iter)
        marks = [_rules.landmarks(self.lrs_, losses, self.diverged_, width) for losses in self.sweep_losses_]
        marks = np.array([mark for mark in marks if mark is not None]).reshape(-1, 3)
        found = len(marks) > 0
        # geometric means: the sweeps' rates differ by factors, not by amounts
        means = np.exp(np.mean(np.log(marks[:, :2]), axis=0)) if found else (np.nan, np.nan)
        self.onset_, self.edge_ = map(float, means)
        measured = found and self.n_sweeps_ > 1
        self.spread_ = float(marks[:, 1].max() / marks[:, 1].min()) if measured else np.nan
        self._warn_if_unsure(marks[:, 2].max() if found else None)
        return self

    def _first_sweep(self, sweep, rates, batches, validation_data) -> tuple[list, list]:
        """Run the rising rates until they end or the loss blows up; set ``diverged_``."""
        losses, val_losses = [], []
        for start, chunk in chunked(itertools.islice(batches, int(self.num_iter))):
            chunk_losses, chunk_val = sweep(rates[start : start + len(chunk)], chunk, validation_data)
            losses += chunk_losses
            val_losses += chunk_val
            skip = int(self.num_iter) // 10
            stop = _rules.first_divergence(losses, self._beta(), self.diverge_threshold, skip)
            if stop is not None:  # the steps after the diverging one are dropped
                self.diverged_ = True
                return losses[: stop + 1], val_losses[: stop + 1]
        self.diverged_ = False
        return losses, val_losses

    def _later_sweep(self, sweep, rates, batches, length: int) -> np.ndarray:
        """The first ``length`` losses of another sweep, run in the first sweep's calls (no early stop).

        On TensorFlow one call (its trace leaves the number of steps open). On JAX, where each number
        of steps per call is a program of its own, a call as long as the first sweep's random length
        would compile one in almost every fit: the calls are the first sweep's, to its last. Past
        ``length`` (where the first sweep diverged) the last call repeats its last batch, so the sweep
        draws the batches it always drew; those steps' losses are dropped, and the state after them
        is reset anyway.
        """
        steps = list(itertools.islice(batches, length))
        if not backend.PROGRAM_PER_SWEEP_LENGTH:
            return np.asarray(sweep(rates[:length], steps)[0])
        steps += steps[-1:] * (min(int(self.num_iter), -(-length // STEPS_PER_CALL) * STEPS_PER_CALL) - length)
        losses = []
        for start, chunk in chunked(steps):
            losses += sweep(rates[start : start + len(chunk)], chunk)[0]
        return np.asarray(losses[:length])

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
        curve = _rules.curve(self.lrs_, self.smoothed_losses_, self.diverged_)
        if curve is None:
            warn_at_caller(
                f"The loss never fell during the range test ({self.min_lr:g} to "
                f"{self.lrs_[-1]:g}); using fallback_lr={self.fallback_lr:g}.",
                RuntimeWarning,
            )
            return float(self.fallback_lr)
        return _rules.suggest(rule, *curve)

    def clr_bounds(self, max_div: float = MAX_DIV, base_div: float | None = None) -> tuple[float, float]:
        """Return ``(base_lr, max_lr)`` for a cyclical or one-cycle schedule.

        ``max_lr`` is the *edge* of the curve (``edge_``) divided by ``max_div``: the
        rate at which the loss, past its lowest point, climbs back above half of its
        fall, or the sweep stops on divergence. The edge is where training stops
        working, and it is sharp: it moves far less between folds and batch orders than
        the flat bottom of the curve, whose lowest point is noise. ``base_lr`` is where
        the loss starts to fall (``onset_``: down a tenth of its fall; Smith 2015,
        section 3.3), at most ``max_lr / 3`` so that a cycle spans a factor of three;
        or ``max_lr / base_div`` if given. With several sweeps, each sweep's rates are
        read off its own curve and averaged geometrically. If the loss never fell,
        warns and uses ``fallback_lr`` as ``max_lr``.
        """
        if max_div < 1 or (base_div is not None and base_div <= 1):
            raise ValueError(f"Need max_div >= 1 and base_div > 1. Received: {max_div=}, {base_div=}")
        if np.isnan(self.edge_):
            warn_at_caller(
                f"The loss never fell during the range test; bounds from fallback_lr={self.fallback_lr:g}.",
                RuntimeWarning,
            )
            top = float(self.fallback_lr)
            return top / (base_div or 4.0), top
        return _rules.bounds(self.onset_, self.edge_, max_div, base_div)

    def _warn_if_unsure(self, fall: float | None) -> None:
        if fall is not None and fall < CLEAR_FALL:
            warn_at_caller(  # raised at different depths (find, fit, find_lr): point at the user's line
                f"The range test shows no clear fall: the loss fell at most {fall:.0%} "
                f"from where it started (from {self.min_lr:g} to {self.lrs_[-1]:g}); its rates are a guess. "
                "Check the curve (LRFinder.plot) or set the rates yourself.",
                RuntimeWarning,
            )

    def plot(self, ax=None):
        """Plot raw and smoothed loss against the rate (log axis), the suggestion and CLR bounds.

        Returns the matplotlib ``Axes``; needs the ``plot`` extra.
        """
        from skclr.plotting import plot_lr_finder

        return plot_lr_finder(self, ax=ax)
