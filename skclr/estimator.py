"""``CLRClassifier``: a scikit-learn classifier whose learning-rate schedule is a hyperparameter.

This is the only module that touches scikeras; everything scikeras-specific
(its private hooks, its tag and seed quirks) lives here, so the base class can
be swapped later.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import warnings
from numbers import Integral, Real
from typing import Any

import keras
import numpy as np
from keras.optimizers.schedules import LearningRateSchedule
from pandas.api.types import is_numeric_dtype
from scikeras.utils.random_state import tensorflow_random_state
from scikeras.wrappers import KerasClassifier
from sklearn.base import BaseEstimator
from sklearn.utils import ClassifierTags
from sklearn.utils._param_validation import HasMethods, Interval, Options, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from skclr._tf_graphs import released_tf_caches
from skclr.finder import LRFinder
from skclr.models import DEFAULT_HIDDEN, reference_dnn
from skclr.schedules import CYCLIC_SCHEDULES, SCHEDULES, make_schedule

__all__ = ["CLRClassifier", "DivergenceError"]

_POSITIVE = Interval(Real, 0, None, closed="neither")
_NON_NEGATIVE = Interval(Real, 0, None, closed="left")


class DivergenceError(RuntimeError):
    """Raised by ``fit`` when the training loss stops being finite."""


class CLRClassifier(KerasClassifier):
    """Keras DNN classifier whose learning-rate schedule and range test are parameters.

    By default it trains the seed's reference network (:func:`skclr.reference_dnn`)
    with Adam and sparse categorical cross-entropy. ``schedule`` picks how the
    rate moves during training; ``lr_finder`` runs a learning-rate range test on
    the training data of each ``fit`` (so each cross-validation fold finds its own
    bounds) and trains from the untouched initial weights afterwards.

    Lengths (``step_size``, ``drop_every``, ``warmup``) are in epochs and are
    converted to optimizer iterations at ``fit`` from the number of training
    samples and ``batch_size``.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(64, 128, 256, 128, 128)
        Units of the hidden Dense layers of the reference network.
    dropout : float, tuple of float or None, default=None
        Dropout after each hidden layer. None is the seed's pattern: 0.1 after each
        hidden layer and 0.4 after the last, i.e. (0.1, 0.1, 0.1, 0.1, 0.4) by default.
    negative_slope : float, default=0.1
        LeakyReLU slope for negative inputs.
    schedule : str or keras LearningRateSchedule, default="constant"
        One of ``"constant"``, ``"time"``, ``"step"``, ``"linear"``, ``"polynomial"``,
        ``"exponential"``, ``"cosine"``, ``"triangular"``, ``"triangular2"``,
        ``"exp_range"``, ``"one_cycle"`` (see :func:`skclr.schedules.make_schedule`),
        or a schedule instance used as is.
    learning_rate : float, default=1e-3
        Initial (or constant) rate; replaced by the range test's suggestion when
        ``lr_finder`` is set.
    base_lr, max_lr : float, default=None
        Bounds of the cyclical schedules. Default: ``max_lr = learning_rate``,
        ``base_lr = max_lr / 4``; replaced by the range test's bounds when
        ``lr_finder`` is set.
    step_size : float, default=4.0
        Half cycle in epochs (Smith: 2-10).
    gamma : float, default=0.95
        Per-epoch factor of ``"exponential"`` and of the ``"exp_range"`` amplitude.
    power : float, default=2.0
        Exponent of ``"polynomial"``.
    decay : float, default=None
        Keras-2 ``decay`` of ``"time"``; default ``learning_rate / epochs``.
    drop : float, default=0.5
        Factor of ``"step"``.
    drop_every : float, default=10.0
        Epochs between drops of ``"step"``.
    pct_start : float, default=0.3
        Rising fraction of ``"one_cycle"``.
    warmup : float, default=0.0
        Warm-up epochs of ``"cosine"``.
    end_lr : float, default=0.0
        Final rate of ``"linear"``, ``"polynomial"``, ``"cosine"``.
    lr_finder : bool or LRFinder, default=False
        Run the range test in ``fit`` (``True`` uses ``LRFinder()`` defaults).
    clipvalue : float, default=None
        Clip each gradient element to ``[-clipvalue, clipvalue]``.
    n_threads : int, default=None
        TensorFlow threads per process. ``None`` uses ``OMP_NUM_THREADS`` when it is
        set (joblib and Dask workers set it) and TensorFlow's default otherwise.
        Takes effect only before TensorFlow starts its runtime in the process.
    optimizer : str or keras Optimizer class, default="adam"
        Optimizer; its other settings can be routed as ``optimizer__beta_1=...``.
    loss : str, default="sparse_categorical_crossentropy"
        Training loss.
    metrics : list, default=None
        Extra Keras metrics recorded in ``history_``.
    batch_size : int, default=32
        Samples per step.
    epochs : int, default=20
        Passes over the training data.
    validation_split : float, default=0.0
        Fraction held out by Keras for ``val_*`` entries in ``history_``.
    random_state : int, RandomState instance or None, default=None
        An int makes two fits bit-identical on the same machine; a ``RandomState``
        draws a fresh seed at each fit.
    verbose : int, default=0
        Keras verbosity.
    warm_start : bool, default=False
        Continue training (and the schedule) from the current state on ``fit``.
    model : callable, default=None
        A builder returning a Keras model instead of the reference network.
    shuffle, run_eagerly, callbacks, class_weight, validation_batch_size
        As in ``scikeras.wrappers.KerasClassifier``.
    **kwargs
        Routed parameters (``optimizer__*``, ``fit__*``, ``model__*``...) as in scikeras.

    Attributes
    ----------
    model_ : keras.Model
        The trained network.
    history_ : dict of list
        Per-epoch ``loss``, metrics, and ``lr`` (rate of each epoch's last step).
    schedule_ : LearningRateSchedule or float
        The resolved schedule.
    base_lr_, max_lr_ : float
        Bounds used by the cyclical schedules.
    learning_rate_ : float
        Initial rate used by the other schedules.
    lr_finder_ : LRFinder
        The fitted range test; only when ``lr_finder`` is set.
    classes_ : ndarray
        Class labels.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame with string columns.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skclr import CLRClassifier
    >>> X, y = make_classification(n_samples=200, n_features=8, random_state=0)
    >>> clf = CLRClassifier(schedule="triangular", epochs=2, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:3]).shape, len(clf.history_["lr"])
    ((3, 2), 2)
    """

    build_fn = None  # scikeras reads it; a class attribute keeps it out of get_params
    __repr__ = BaseEstimator.__repr__  # scikit-learn's compact repr, not scikeras's one-per-line dump

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like"],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like", None],
        "negative_slope": [_NON_NEGATIVE],
        "schedule": [StrOptions(set(SCHEDULES)), HasMethods(["__call__", "get_config"])],
        "learning_rate": [_POSITIVE],
        "base_lr": [_POSITIVE, None],
        "max_lr": [_POSITIVE, None],
        "step_size": [_POSITIVE],
        "gamma": [Interval(Real, 0, 1, closed="right")],
        "power": [_POSITIVE],
        "decay": [_NON_NEGATIVE, None],
        "drop": [Interval(Real, 0, 1, closed="right")],
        "drop_every": [_POSITIVE],
        "pct_start": [Interval(Real, 0, 1, closed="neither")],
        "warmup": [_NON_NEGATIVE],
        "end_lr": [_NON_NEGATIVE],
        "lr_finder": ["boolean", HasMethods(["find", "clr_bounds"])],
        "clipvalue": [_POSITIVE, None],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left"), Options(Integral, {-1}), None],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "validation_split": [Interval(Real, 0, 1, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] = DEFAULT_HIDDEN,
        dropout: float | tuple[float, ...] | None = None,
        negative_slope: float = 0.1,
        *,
        schedule: str | LearningRateSchedule = "constant",
        learning_rate: float = 1e-3,
        base_lr: float | None = None,
        max_lr: float | None = None,
        step_size: float = 4.0,
        gamma: float = 0.95,
        power: float = 2.0,
        decay: float | None = None,
        drop: float = 0.5,
        drop_every: float = 10.0,
        pct_start: float = 0.3,
        warmup: float = 0.0,
        end_lr: float = 0.0,
        lr_finder: bool | LRFinder = False,
        clipvalue: float | None = None,
        n_threads: int | None = None,
        optimizer: Any = "adam",
        loss: Any = "sparse_categorical_crossentropy",
        metrics: list | None = None,
        batch_size: int | None = 32,
        epochs: int = 20,
        validation_split: float = 0.0,
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        warm_start: bool = False,
        model: Any = None,
        shuffle: bool = True,
        run_eagerly: bool = False,
        callbacks: list | None = None,
        class_weight: dict | str | None = None,
        validation_batch_size: int | None = None,
        **kwargs: Any,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.negative_slope = negative_slope
        self.schedule = schedule
        self.learning_rate = learning_rate
        self.base_lr = base_lr
        self.max_lr = max_lr
        self.step_size = step_size
        self.gamma = gamma
        self.power = power
        self.decay = decay
        self.drop = drop
        self.drop_every = drop_every
        self.pct_start = pct_start
        self.warmup = warmup
        self.end_lr = end_lr
        self.lr_finder = lr_finder
        self.clipvalue = clipvalue
        self.n_threads = n_threads
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
        self.batch_size = batch_size
        self.epochs = epochs
        self.validation_split = validation_split
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.model = model
        self.shuffle = shuffle
        self.run_eagerly = run_eagerly
        self.callbacks = callbacks
        self.class_weight = class_weight
        self.validation_batch_size = validation_batch_size
        vars(self).update(kwargs)
        if kwargs:
            self._user_params = set(kwargs)

    # -- scikit-learn interface -------------------------------------------------

    def __sklearn_tags__(self):
        # scikeras puts ClassifierMixin after BaseEstimator, so its tags never apply.
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags(poor_score=True, multi_class=True, multi_label=False)
        tags.target_tags.required = True
        tags.target_tags.multi_output = False
        tags.input_tags.sparse = False
        tags.non_deterministic = self.random_state is None
        return tags

    def fit(self, X, y, sample_weight=None, **kwargs) -> CLRClassifier:
        """Validate everything, optionally run the range test, then train with the schedule.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Numeric training data.
        y : array-like of shape (n_samples,)
            Class labels (strings or integers), at least two classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights.
        **kwargs
            Passed to ``keras.Model.fit`` (scikeras's convention).

        Returns
        -------
        CLRClassifier
            The fitted estimator.
        """
        X, y, sample_weight = self._validate_fit_input(X, y, sample_weight)
        if len(np.unique(y)) < 2:  # partial_fit may see one class per batch; fit may not
            raise ValueError(
                f"CLRClassifier needs at least 2 classes to train; y has 1 class: {np.unique(y)}."
            )
        with _determinism_restored(), released_tf_caches():
            return super().fit(X, y, sample_weight=sample_weight, **kwargs)

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs) -> CLRClassifier:
        """Train for one more epoch, continuing the schedule where it stopped.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like, default=None
            All labels, needed on the first call if ``y`` lacks some.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        CLRClassifier
            The estimator.
        """
        new_model = not self.initialized_
        X, y, sample_weight = self._validate_fit_input(X, y, sample_weight, reset=new_model)
        with _determinism_restored(), released_tf_caches(new_model):
            return super().partial_fit(X, y, classes=classes, sample_weight=sample_weight, **kwargs)

    def predict(self, X, **kwargs) -> np.ndarray:
        """Predict class labels for ``X``."""
        return super().predict(self._validate_predict_input(X), **kwargs)

    def predict_proba(self, X, **kwargs) -> np.ndarray:
        """Predict class probabilities for ``X``, one column per class in ``classes_``."""
        return super().predict_proba(self._validate_predict_input(X), **kwargs)

    # -- validation -------------------------------------------------------------

    def _validate_params(self) -> None:
        super()._validate_params()
        for name, value in self.get_params(deep=False).items():
            if isinstance(value, Real) and not isinstance(value, bool) and not math.isfinite(value):
                raise ValueError(f"The {name!r} parameter of CLRClassifier must be finite. Got {value!r}.")
        sizes = np.asarray(self.hidden_layer_sizes)
        if sizes.ndim != 1 or sizes.size == 0 or not np.issubdtype(sizes.dtype, np.integer) or (sizes < 1).any():
            raise ValueError(
                "hidden_layer_sizes must be a non-empty sequence of positive integers. "
                f"Got {self.hidden_layer_sizes!r}."
            )
        if self.dropout is not None and not isinstance(self.dropout, Real):
            rates = np.asarray(self.dropout, dtype=float)
            if rates.shape != sizes.shape or ((rates < 0) | (rates >= 1)).any():
                raise ValueError(
                    "dropout must be a rate in [0, 1) or one such rate per hidden layer "
                    f"({sizes.size}). Got {self.dropout!r}."
                )
        if isinstance(self.schedule, str):
            # A dry run with one step per epoch checks the combined settings
            # (bounds order, warm-up length...) before any data is touched.
            make_schedule(self.schedule, steps_per_epoch=1, epochs=self.epochs, **self._schedule_params())
        if isinstance(self.lr_finder, LRFinder):
            self.lr_finder.validate()

    def _validate_fit_input(self, X, y, sample_weight, reset: bool = True):
        """Check parameters and data (scikit-learn's messages) before any model is built."""
        self._validate_params()
        # dtype=None: scikeras converts X itself; this pass checks shape, finiteness, sparsity, names.
        array, y = validate_data(self, X, y, reset=reset, dtype=None)
        _require_numeric(X, array)
        check_classification_targets(y)
        if sample_weight is not None:  # checked against y's length; X may be a DataFrame or a list
            sample_weight = _check_sample_weight(sample_weight, np.empty((len(y), 0)), ensure_non_negative=True)
        self._limit_threads()
        return X, y, sample_weight

    def _validate_predict_input(self, X):
        check_is_fitted(self, "model_")
        return validate_data(self, X, reset=False, dtype=None)

    def _limit_threads(self) -> None:
        threads = self.n_threads or int(os.environ.get("OMP_NUM_THREADS", 0)) or None
        if threads is None:
            return
        import tensorflow as tf

        config = tf.config.threading
        if config.get_intra_op_parallelism_threads() == threads:
            return
        try:
            config.set_intra_op_parallelism_threads(threads)
            config.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # the runtime already started in this process
            if self.n_threads is not None:
                warnings.warn(
                    f"n_threads={self.n_threads} ignored: TensorFlow already started in this "
                    "process; set it before the first fit.",
                    RuntimeWarning,
                    stacklevel=3,
                )

    # -- schedule ---------------------------------------------------------------

    def _schedule_params(self) -> dict:
        names = ("learning_rate", "base_lr", "max_lr", "step_size", "gamma", "power", "decay",
                 "drop", "drop_every", "pct_start", "warmup", "end_lr")  # fmt: skip
        return {name: getattr(self, name) for name in names}

    def _training_batches(self, n_samples: int) -> tuple[int, int]:
        """(samples Keras trains on, batch size) after validation_split, as Keras splits."""
        n_train = math.floor(n_samples * (1.0 - self.validation_split)) or n_samples
        batch_size = getattr(self, "fit__batch_size", self.batch_size) or 32
        return n_train, n_train if batch_size == -1 else batch_size

    def _prepare_schedule(self, X, y, sample_weight) -> None:
        """Run the range test if asked, resolve the schedule and compile the optimizer with it."""
        params = self._schedule_params()
        n_train, batch_size = self._training_batches(len(X))
        if self.lr_finder is not False:
            self._compile(self.learning_rate)
            finder = LRFinder() if self.lr_finder is True else copy.deepcopy(self.lr_finder)
            weights = None if sample_weight is None else sample_weight[:n_train]
            finder.find(self.model_, X[:n_train], y[:n_train], batch_size=batch_size, sample_weight=weights)
            base_lr, max_lr = finder.clr_bounds()
            self.lr_finder_ = finder
            params.update(learning_rate=finder.suggestion_, base_lr=base_lr, max_lr=max_lr)

        self.learning_rate_ = params["learning_rate"]
        self.max_lr_ = params["max_lr"] or params["learning_rate"]
        self.base_lr_ = params["base_lr"] or self.max_lr_ / 4.0
        params.update(base_lr=self.base_lr_, max_lr=self.max_lr_)
        if isinstance(self.schedule, str):
            self.schedule_ = make_schedule(
                self.schedule,
                steps_per_epoch=math.ceil(n_train / batch_size),
                epochs=getattr(self, "fit__epochs", self.epochs),
                **params,
            )
        else:
            self.schedule_ = self.schedule
        self._compile(self.schedule_)

    def _compile(self, learning_rate) -> None:
        """(Re)compile ``model_`` with our optimizer settings and ``learning_rate``."""
        kwargs = self._get_compile_kwargs()
        optimizer = kwargs["optimizer"]
        if isinstance(optimizer, str):
            optimizer = keras.optimizers.get(optimizer)
        config = {**optimizer.get_config(), "learning_rate": learning_rate}
        if self.clipvalue is not None:
            config["clipvalue"] = self.clipvalue
        kwargs["optimizer"] = type(optimizer).from_config(config)
        self.model_.compile(**kwargs)

    # -- scikeras hooks ---------------------------------------------------------

    def _check_model_param(self):
        return self._build_reference_model if self.model is None else super()._check_model_param()

    def _build_reference_model(self, compile_kwargs: dict) -> keras.Model:
        model = reference_dnn(
            self.n_features_in_,
            self.n_classes_,
            hidden_layer_sizes=self.hidden_layer_sizes,
            dropout=self.dropout,
            negative_slope=self.negative_slope,
            seed=self._random_state,
        )
        model.compile(**compile_kwargs)
        return model

    def _initialize(self, X, y=None):
        # scikeras maps every RandomState to one seed (randint(low=1) is always 0):
        # draw a real seed from it instead, so successive fits differ as in scikit-learn.
        random_state = self.random_state
        if isinstance(random_state, np.random.RandomState):
            self.random_state = int(random_state.randint(np.iinfo(np.int32).max))
        try:
            X, y = super()._initialize(X, y)
        finally:
            self.random_state = random_state
        self._schedule_pending = True
        return X, y

    def _fit_keras_model(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        if self._schedule_pending:  # a freshly built model; continued training keeps its schedule
            seeded = self._random_state is not None
            with tensorflow_random_state(self._random_state) if seeded else contextlib.nullcontext():
                self._prepare_schedule(X, y, sample_weight)
            self._schedule_pending = False
        monitor = _EpochMonitor()
        user_callbacks = self._fit_callbacks
        self._fit_callbacks = [*user_callbacks, monitor]
        try:
            super()._fit_keras_model(X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs)
        finally:
            self._fit_callbacks = user_callbacks
        if monitor.diverged_at is None and not all(
            np.isfinite(keras.ops.convert_to_numpy(w)).all() for w in self.model_.trainable_weights
        ):  # the loss is measured before each update: the very last one can still blow up
            monitor.diverged_at = (len(self.history_["loss"]) - 1, _last_rate(self.model_.optimizer))
        if monitor.diverged_at is not None:
            epoch, rate = monitor.diverged_at
            raise DivergenceError(
                f"Training diverged: the loss became non-finite in epoch {epoch + 1} at learning "
                f"rate {rate:.3g}. Use a lower learning_rate/max_lr, set clipvalue, or let "
                "lr_finder=True choose the rates."
            )


def _require_numeric(X, array: np.ndarray) -> None:
    """Refuse text in X with the offending DataFrame columns named."""
    if array.dtype.kind not in "OUS":
        return
    try:
        array.astype(np.float64)
    except ValueError:
        columns = getattr(X, "columns", None)
        names = [str(c) for c in columns if not is_numeric_dtype(X[c])] if columns is not None else []
        where = f" Non-numeric columns: {names}." if names else ""
        raise ValueError(
            "X must be numeric; it holds text." + where + " Encode categorical columns first, "
            "e.g. with a OneHotEncoder in a Pipeline (see `python -m skclr compare --data`)."
        ) from None


@contextlib.contextmanager
def _determinism_restored():
    """Undo scikeras's seed context leaving TF op determinism on, which breaks later unseeded fits."""
    from tensorflow.python.framework import config

    was_enabled = config.is_op_determinism_enabled()
    try:
        yield
    finally:
        if not was_enabled:
            config.disable_op_determinism()


def _last_rate(optimizer) -> float:
    """The rate applied by the optimizer's most recent step."""
    rate = optimizer._learning_rate
    if isinstance(rate, LearningRateSchedule):
        return float(rate(max(int(optimizer.iterations) - 1, 0)))
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


class _EpochMonitor(keras.callbacks.Callback):
    """Per epoch: log the rate as ``lr`` and stop at the first non-finite loss."""

    def __init__(self):
        super().__init__()
        self.diverged_at: tuple[int, float] | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = {} if logs is None else logs
        logs["lr"] = _last_rate(self.model.optimizer)
        loss = logs.get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.diverged_at = (epoch, logs["lr"])
            self.model.stop_training = True
