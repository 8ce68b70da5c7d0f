"""``CLRClassifier`` and ``CLRRegressor``: scikit-learn estimators whose learning-rate schedule is a hyperparameter.

This is the only module that touches scikeras; everything scikeras-specific
(its private hooks, its routing, its tag and seed quirks) lives here, so the base
class can be swapped later.

How one ``fit`` flows, and which function owns each fact:

- ``_validate_params``: single parameters (``_parameter_constraints``), then every rule that
  involves several of them (``_check_combination``); before any data is read.
- ``_keras_fit_args`` → ``TrainingPlan``: what ``keras.Model.fit`` will run (samples after
  ``validation_split``, batch size, steps per epoch, epochs), from the constructor, routed
  ``fit__*`` parameters and ``fit(**kwargs)`` alike. The schedule and the range test read the plan.
- ``_prepare_schedule``: the range test on a new model, the schedule, and what continuing means.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections import defaultdict
from dataclasses import fields, replace
from numbers import Integral, Real
from typing import Any

import keras
import numpy as np
from keras.optimizers.schedules import LearningRateSchedule
from pandas.api.types import is_numeric_dtype
from scikeras._utils import route_params
from scikeras.utils import metric_name
from scikeras.utils.random_state import tensorflow_random_state
from scikeras.wrappers import KerasClassifier, KerasRegressor
from sklearn.base import BaseEstimator, clone
from sklearn.utils import ClassifierTags, RegressorTags
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from skclr._plan import TrainingPlan
from skclr._tf_state import fit_session
from skclr.finder import LRFinder
from skclr.models import DEFAULT_HIDDEN, reference_dnn
from skclr.schedules import (
    CYCLIC_SCHEDULES,
    ENDING_SCHEDULES,
    SCHEDULES,
    SETTING_CONSTRAINTS,
    Restarted,
    ScheduleSettings,
    make_schedule,
)

__all__ = ["CLRClassifier", "CLRRegressor", "DivergenceError"]

_DEFAULT = ScheduleSettings()  # the schedule settings' defaults, written once in ScheduleSettings


class DivergenceError(RuntimeError):
    """Raised by ``fit`` when the training loss stops being finite."""


_PARAMETERS_DOC = """    hidden_layer_sizes : int or tuple of int, default=(64, 128, 256, 128, 128)
        Units of the hidden Dense layers of the reference network; an int is one layer.
    dropout : float, tuple of float or None, default=None
        Dropout after each hidden layer. None is the seed's pattern: 0.1 after each
        hidden layer and 0.4 after the last, i.e. (0.1, 0.1, 0.1, 0.1, 0.4) by default.
    negative_slope : float, default=0.1
        LeakyReLU slope for negative inputs.
    schedule : str or keras LearningRateSchedule, default="constant"
        One of ``"constant"``, ``"time"``, ``"step"``, ``"linear"``, ``"polynomial"``,
        ``"exponential"``, ``"cosine"``, ``"cosine_restarts"``, ``"triangular"``, ``"triangular2"``,
        ``"exp_range"``, ``"one_cycle"`` (see :func:`skclr.schedules.make_schedule`),
        or a schedule instance used as is (it cannot be combined with ``lr_finder``,
        whose result only the named schedules can use).
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
        Final rate of ``"linear"``, ``"polynomial"``, ``"cosine"``; lowest of ``"cosine_restarts"``.
    restart_every : float, default=10.0
        First period of ``"cosine_restarts"`` (SGDR), in epochs.
    restart_mult : float, default=2.0
        Each next period of ``"cosine_restarts"`` is this many times longer, >= 1.
    lr_finder : bool or LRFinder, default=False
        Run the range test in ``fit`` (``True`` uses ``LRFinder()`` defaults). Its
        settings are searchable as ``lr_finder__num_iter`` and so on; an unset
        ``LRFinder.random_state`` follows ``random_state``.
    cycle_momentum : bool, default=False
        Move the optimizer's momentum (Adam's ``beta_1``, SGD's and RMSprop's
        ``momentum``) opposite to the rate, as PyTorch's ``cycle_momentum=True``:
        ``schedule.momentum(step)`` of the cyclical schedules, computed in the graph at
        every step and logged as ``history_["momentum"]``. SGD and RMSprop need a
        momentum > 0 (``optimizer__momentum=0.9``) so that they keep momentum slots.
    clipvalue : float, default=None
        Clip each gradient element to ``[-clipvalue, clipvalue]``.
    n_threads : int, default=None
        TensorFlow threads per process. ``None`` uses the first positive integer in
        ``OMP_NUM_THREADS`` when there is one (joblib and Dask workers set it) and
        TensorFlow's default otherwise. Takes effect only before TensorFlow starts
        its runtime in the process.
    optimizer : str or keras Optimizer class, default="adam"
        Optimizer; its other settings can be routed as ``optimizer__beta_1=...``.
        Its rate always comes from ``schedule`` (``optimizer__learning_rate`` is refused).
    loss : str, keras Loss or None, default=None
        Training loss; None is the task's: sparse categorical cross-entropy for
        ``CLRClassifier``, mean squared error for ``CLRRegressor``.
    metrics : list, default=None
        Extra Keras metrics recorded in ``history_``.
    batch_size : int, default=32
        Samples per step.
    epochs : int, default=20
        Passes over the training data; for ``partial_fit``, the number of calls the
        schedule is planned for.
    validation_split : float, default=0.0
        Fraction held out by Keras for ``val_*`` entries in ``history_``.
    random_state : int, RandomState instance or None, default=None
        An int makes two fits bit-identical on the same machine; a ``RandomState``
        draws a fresh seed at each fit.
    verbose : int, default=0
        Keras verbosity.
    warm_start : bool, default=False
        Keep the trained model on the next ``fit`` (see Notes for the schedule).
    model : callable, default=None
        A builder returning a Keras model instead of the reference network. If it
        compiles the model, its optimizer is kept (class and settings) and only its
        rate is replaced by the schedule.
    shuffle, run_eagerly, callbacks, validation_batch_size
        As in scikeras's wrappers.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes (``CLRClassifier`` only; ``CLRRegressor`` refuses it).
    **kwargs
        Routed parameters (``optimizer__*``, ``fit__*``, ``model__*``...) as in scikeras.
"""

_ATTRIBUTES_DOC = """    model_ : keras.Model
        The trained network.
    history_ : dict of list
        Per-epoch ``loss``, metrics, and ``lr`` (rate of each epoch's last step).
    schedule_ : LearningRateSchedule or float
        The schedule the optimizer runs.
    base_lr_, max_lr_ : float
        Bounds used by the cyclical schedules.
    learning_rate_ : float
        Initial rate used by the other schedules.
    lr_finder_ : LRFinder
        The fitted range test; only when ``lr_finder`` is set.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame with string columns.
"""

_NOTES_DOC = """    Continuing training: the cyclical schedules (``triangular``, ``triangular2``,
    ``exp_range``, ``cosine_restarts``) and those without an end (``time``, ``step``, ``exponential``,
    ``constant``, a schedule instance) simply go on from the optimizer's iteration.
    The schedules that end (``linear``, ``polynomial``, ``cosine``, ``one_cycle``) are
    planned again by each warm-started ``fit``, from its first iteration, for that
    fit's data and epochs (the range test is not repeated). ``partial_fit`` plans them
    for ``epochs`` calls; a call past that end trains at the final rate and warns.
"""


class _CLRWrapper:
    """What ``CLRClassifier`` and ``CLRRegressor`` share: parameters, validation, the training plan,
    the schedule, the range test and the call to ``keras.Model.fit``.

    A subclass sets the loss and output layer of its task and checks its targets.
    """

    _default_loss: str
    _output_activation: str

    build_fn = None  # scikeras reads it; a class attribute keeps it out of get_params
    __repr__ = BaseEstimator.__repr__  # scikit-learn's compact repr, not scikeras's one-per-line dump

    _parameter_constraints: dict = {
        **SETTING_CONSTRAINTS,
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like", None],
        "negative_slope": [Interval(Real, 0, None, closed="left")],
        "schedule": [StrOptions(set(SCHEDULES)), LearningRateSchedule],
        "lr_finder": ["boolean", LRFinder],
        "cycle_momentum": ["boolean"],
        "clipvalue": [Interval(Real, 0, None, closed="neither"), None],
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
        hidden_layer_sizes: int | tuple[int, ...] = DEFAULT_HIDDEN,
        dropout: float | tuple[float, ...] | None = None,
        negative_slope: float = 0.1,
        *,
        schedule: str | LearningRateSchedule = "constant",
        learning_rate: float = _DEFAULT.learning_rate,
        base_lr: float | None = _DEFAULT.base_lr,
        max_lr: float | None = _DEFAULT.max_lr,
        step_size: float = _DEFAULT.step_size,
        gamma: float = _DEFAULT.gamma,
        power: float = _DEFAULT.power,
        decay: float | None = _DEFAULT.decay,
        drop: float = _DEFAULT.drop,
        drop_every: float = _DEFAULT.drop_every,
        pct_start: float = _DEFAULT.pct_start,
        warmup: float = _DEFAULT.warmup,
        end_lr: float = _DEFAULT.end_lr,
        restart_every: float = _DEFAULT.restart_every,
        restart_mult: float = _DEFAULT.restart_mult,
        lr_finder: bool | LRFinder = False,
        cycle_momentum: bool = False,
        clipvalue: float | None = None,
        n_threads: int | None = None,
        optimizer: Any = "adam",
        loss: Any = None,
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
        self.restart_every = restart_every
        self.restart_mult = restart_mult
        self.lr_finder = lr_finder
        self.cycle_momentum = cycle_momentum
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

    def fit(self, X, y, sample_weight=None, **kwargs):
        """Validate everything, optionally run the range test, then train with the schedule.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Numeric training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (strings or integers, at least two classes), or continuous
            targets for ``CLRRegressor`` (one column per output).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights.
        **kwargs
            Passed to ``keras.Model.fit`` (scikeras's convention); ``epochs``,
            ``batch_size`` and ``validation_*`` given here size the schedule too.

        Returns
        -------
        self
            The fitted estimator.
        """
        kwargs["epochs"] = kwargs.get("epochs", self._configured_epochs())  # fit(epochs=) > fit__epochs > epochs
        new_model = not (self.warm_start and self.initialized_)
        X, y, sample_weight = self._validate_fit_input(X, y, sample_weight, kwargs, kwargs["epochs"], new_model)
        self._check_target(y, whole_training_set=True)
        self._call = "fit"
        with fit_session(seeded=self.random_state is not None, new_model=new_model, n_threads=self.n_threads):
            return super().fit(X, y, sample_weight=sample_weight, **kwargs)

    def _partial_fit(self, X, y, sample_weight, kwargs: dict, **extra):
        """One more epoch; a schedule that ends is planned, on the first call, for ``epochs`` calls."""
        new_model = not self.initialized_
        fit_kwargs = {**kwargs, "epochs": 1}
        X, y, sample_weight = self._validate_fit_input(
            X, y, sample_weight, fit_kwargs, self._configured_epochs(), new_model
        )
        self._check_target(y, whole_training_set=False)
        self._call = "partial_fit"
        with fit_session(seeded=self.random_state is not None, new_model=new_model, n_threads=self.n_threads):
            return super().partial_fit(X, y, sample_weight=sample_weight, **extra, **kwargs)

    def find_lr(self, X, y, sample_weight=None, **kwargs) -> LRFinder:
        """Run the range test exactly as ``fit`` would, on a fresh model, without training.

        The estimator itself is left untouched. With ``lr_finder=False`` the test
        runs with ``LRFinder()`` defaults.

        Parameters
        ----------
        X, y, sample_weight, **kwargs
            As for :meth:`fit`.

        Returns
        -------
        LRFinder
            The fitted range test (``lrs_``, ``losses_``, ``suggestion_``, ``clr_bounds()``...).
        """
        trial = clone(self).set_params(lr_finder=self.lr_finder or True, warm_start=False)
        trial._only_range_test = True
        trial.fit(X, y, sample_weight=sample_weight, **kwargs)
        return trial.lr_finder_

    def predict(self, X, **kwargs) -> np.ndarray:
        """Predict class labels (classifier) or values (regressor) for ``X``."""
        return super().predict(self._validate_predict_input(X), **kwargs)

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy (classifier) or R² (regressor) on ``(X, y)``, weighted by ``sample_weight``."""
        check_is_fitted(self, "model_")
        return super().score(X, y, sample_weight=sample_weight)

    # -- validation -------------------------------------------------------------

    def _validate_params(self, schedule_epochs: int | None = None) -> None:
        """Single-parameter rules, then the rules that combine several; nothing needs data."""
        super()._validate_params()
        self._check_combination(self._configured_epochs() if schedule_epochs is None else schedule_epochs)

    def _check_combination(self, schedule_epochs: int) -> None:
        """Every rule that involves more than one parameter, in one place."""
        sizes = self._layer_sizes()
        if self.dropout is not None and not isinstance(self.dropout, Real):
            rates = np.asarray(self.dropout, dtype=float)
            if rates.shape != (len(sizes),) or ((rates < 0) | (rates >= 1)).any():
                raise ValueError(
                    "dropout must be a rate in [0, 1) or one such rate per hidden layer "
                    f"({len(sizes)}). Got {self.dropout!r}."
                )
        if hasattr(self, "optimizer__learning_rate"):
            raise ValueError(
                "optimizer__learning_rate would be overridden by the schedule; set learning_rate "
                "(or base_lr/max_lr for the cyclical schedules) instead."
            )
        if isinstance(self.schedule, str):
            self._settings().check(self.schedule, schedule_epochs)
        elif self.lr_finder:
            raise ValueError(
                "lr_finder cannot set the rates of a schedule instance, whose rates are fixed; "
                "use a schedule name (e.g. schedule='triangular') with lr_finder, or run "
                "LRFinder().find(model, X, y) yourself and build the schedule from its result."
            )
        if isinstance(self.lr_finder, LRFinder):
            self.lr_finder._validate_params()
        if self.cycle_momentum and not (
            self.schedule in CYCLIC_SCHEDULES if isinstance(self.schedule, str) else hasattr(self.schedule, "momentum")
        ):
            raise ValueError(
                f"cycle_momentum needs a cyclical schedule, one of {CYCLIC_SCHEDULES} (or a schedule "
                f"instance with a momentum(step) method); got schedule={self.schedule!r}."
            )

    def _validate_fit_input(self, X, y, sample_weight, fit_kwargs: dict, schedule_epochs: int, new_model: bool):
        """Check parameters, data (scikit-learn's messages) and the training plan before any model is built."""
        self._validate_params(schedule_epochs)
        # dtype=None: scikeras converts X itself; this pass checks shape, finiteness, sparsity, names.
        array, y = validate_data(self, X, y, reset=new_model, dtype=None, **self._target_checks)
        _require_numeric(X, array)
        if sample_weight is not None:  # a copy: scikeras multiplies class weights into it in place
            sample_weight = _check_sample_weight(
                sample_weight, np.empty((len(y), 0)), ensure_non_negative=True, copy=True
            )
        TrainingPlan.from_fit_args(len(y), self._keras_fit_args(len(y), sample_weight, fit_kwargs))
        return X, y, sample_weight

    def _validate_predict_input(self, X):
        check_is_fitted(self, "model_")
        return validate_data(self, X, reset=False, dtype=None)

    def _layer_sizes(self) -> tuple[int, ...]:
        """``hidden_layer_sizes`` as a tuple; a plain int is one layer, as in ``MLPClassifier``."""
        sizes = np.atleast_1d(np.asarray(self.hidden_layer_sizes))
        if sizes.ndim != 1 or sizes.size == 0 or not np.issubdtype(sizes.dtype, np.integer) or (sizes < 1).any():
            raise ValueError(
                "hidden_layer_sizes must be a positive integer or a non-empty sequence of them. "
                f"Got {self.hidden_layer_sizes!r}."
            )
        return tuple(int(size) for size in sizes)

    # -- training plan and schedule ---------------------------------------------

    def _configured_epochs(self) -> int:
        return getattr(self, "fit__epochs", self.epochs)

    def _settings(self, **rates) -> ScheduleSettings:
        """The schedule settings from the parameters, with ``rates`` (from a range test) replacing theirs."""
        return replace(ScheduleSettings(**{f.name: getattr(self, f.name) for f in fields(ScheduleSettings)}), **rates)

    def _keras_fit_args(self, n_samples: int, sample_weight, kwargs: dict) -> dict:
        """The keyword arguments of ``keras.Model.fit``: constructor, routed ``fit__*``, then ``kwargs``.

        ``kwargs`` holds ``epochs`` and, optionally, ``initial_epoch``, as scikeras passes them.
        """
        fit_args = route_params(self.get_params(), destination="fit", pass_filter=self._fit_kwargs)
        fit_args.update(kwargs, sample_weight=sample_weight)
        fit_args["epochs"] = fit_args.get("initial_epoch", 0) + kwargs["epochs"]
        for key in ("batch_size", "validation_batch_size"):
            if fit_args.get(key) == -1:
                fit_args[key] = n_samples
        return {key: value for key, value in fit_args.items() if not key.startswith("callbacks")}

    def _range_test(self) -> LRFinder | None:
        """A fresh finder for this fit, seeded by the estimator when its own seed is unset."""
        if isinstance(self.lr_finder, LRFinder):
            finder = clone(self.lr_finder)
        elif self.lr_finder:
            finder = LRFinder()
        else:
            return None
        if finder.random_state is None and self._random_state is not None:
            finder.set_params(random_state=self._random_state)
        return finder

    def _prepare_schedule(self, plan: TrainingPlan, X, y, sample_weight) -> None:
        """Give the optimizer its rate for this call: a new plan, a re-plan, or the one running."""
        optimizer = self.model_.optimizer
        iteration = int(optimizer.iterations)
        ends = isinstance(self.schedule, str) and self.schedule in ENDING_SCHEDULES
        if self._schedule_pending:  # a freshly built model
            self._schedule_pending = False
            _set_clipvalue(optimizer, self.clipvalue)
            if not optimizer.built:  # built inside the first trace, it would cost a second trace
                optimizer.build(self.model_.trainable_variables)
            rates = {}
            finder = self._range_test()
            if finder is not None:
                with self._seeded():
                    finder.find(
                        self.model_, X[: plan.n_train], y[: plan.n_train], batch_size=plan.batch_size,
                        sample_weight=None if sample_weight is None else sample_weight[: plan.n_train],
                    )  # fmt: skip
                self.lr_finder_ = finder
                base_lr, max_lr = finder.clr_bounds()
                rates = dict(learning_rate=finder.suggestion_, base_lr=base_lr, max_lr=max_lr)
            settings = self._settings(**rates)
            self.learning_rate_ = settings.learning_rate
            self.base_lr_, self.max_lr_ = settings.bounds()
            epochs = plan.epochs if self._call == "fit" else self._configured_epochs()
            self._schedule_end = iteration + plan.steps_per_epoch * epochs if ends else None
            self._use_schedule(self._build_schedule(settings, plan.steps_per_epoch, epochs), start=iteration)
        elif self._call == "fit" and ends:  # warm start: plan the ending schedule again for this fit
            settings = self._settings(learning_rate=self.learning_rate_, base_lr=self.base_lr_, max_lr=self.max_lr_)
            self._schedule_end = iteration + plan.steps_per_epoch * plan.epochs
            self._use_schedule(self._build_schedule(settings, plan.steps_per_epoch, plan.epochs), start=iteration)
        elif self._schedule_end is not None and iteration + plan.steps_per_epoch > self._schedule_end:
            warnings.warn(
                f"partial_fit runs past the end of the {self.schedule!r} schedule planned for "
                f"epochs={self._configured_epochs()} calls; it trains at the final rate "
                f"{_rate_at(self.schedule_, self._schedule_end):.3g}. Raise epochs, or use a cyclical schedule.",
                RuntimeWarning,
                stacklevel=7,  # the caller of partial_fit
            )

    def _build_schedule(self, settings: ScheduleSettings, steps_per_epoch: int, epochs: int):
        if not isinstance(self.schedule, str):
            return self.schedule
        return make_schedule(self.schedule, steps_per_epoch=steps_per_epoch, epochs=epochs, **vars(settings))

    def _use_schedule(self, schedule, start: int) -> None:
        """Attach ``schedule`` to the model's own optimizer, counting its iterations from ``start``."""
        if start and isinstance(schedule, LearningRateSchedule) and schedule is not self.schedule:
            schedule = Restarted(schedule, start)
        optimizer = self.model_.optimizer
        if not isinstance(schedule, LearningRateSchedule) and not isinstance(optimizer._learning_rate, keras.Variable):
            raise ValueError(
                "The model's optimizer was compiled with a learning-rate schedule, which a constant "
                "rate cannot replace; compile it with a float learning_rate or pick a schedule name."
            )
        optimizer.learning_rate = schedule  # Keras's setter: a schedule replaces the rate variable
        self.model_.train_function = None  # the rate is read when the train step is traced
        self.schedule_ = schedule

    def _run_epochs_in_one_call(self, plan: TrainingPlan) -> None:
        """Let Keras run each epoch's steps in one graph call, unless a callback wants every batch.

        Per-epoch logs, ``history_["lr"]`` and the divergence check stay exact: they are read at
        epoch ends, which every call ends on.
        """
        per_batch = any(_has_batch_hooks(callback) for callback in self._fit_callbacks)
        steps = 1 if per_batch or self.run_eagerly else plan.steps_per_epoch
        if self.model_.steps_per_execution != steps:
            self.model_.steps_per_execution = steps
            self.model_.train_function = self.model_.test_function = None

    def _predict_raw(self, X, **kwargs):
        # keras.Model.predict traces a function and builds a data pipeline at each new model, which
        # costs more than the whole forward pass of a tabular batch; a direct call needs neither.
        if kwargs or self._predict_callbacks or self.verbose or not self.initialized_:
            return super()._predict_raw(X, **kwargs)
        X, _ = self._validate_data(X=X, y=None)
        X = self.feature_encoder_.transform(X)
        chunk = 8192
        outputs = [self.model_(X[i : i + chunk], training=False) for i in range(0, len(X), chunk)]
        return np.concatenate([keras.ops.convert_to_numpy(output) for output in outputs])

    @contextlib.contextmanager
    def _momentum_cycled(self):
        """While Keras trains, make the momentum (``beta_1`` or ``momentum``) a variable that the
        rate's schedule sets at each step.

        Outside ``fit`` the optimizer holds plain numbers again, so that it saves and reloads
        like any Keras optimizer (a reloaded model keeps the last momentum, without cycling).
        """
        if not self.cycle_momentum:
            yield
            return
        optimizer, schedule = self.model_.optimizer, self.schedule_
        name = "beta_1" if hasattr(optimizer, "beta_1") else "momentum"
        nominal = getattr(optimizer, name, None)
        if not isinstance(nominal, Real) or nominal <= 0:
            raise ValueError(
                f"cycle_momentum needs an optimizer with beta_1 (adam, adamw, adamax, nadam) or with a "
                f"momentum > 0 (sgd, rmsprop: optimizer__momentum=0.9); {type(optimizer).__name__} has "
                f"{name}={nominal!r}."
            )
        momentum = keras.Variable(nominal, trainable=False, name=f"cycled_{name}")
        # object.__setattr__: untracked, so the optimizer's saved variables do not change. SGD and
        # RMSprop test `momentum != 0` in Python: they get a stand-in that answers with the nominal value.
        object.__setattr__(optimizer, name, momentum if name == "beta_1" else _CycledMomentum(momentum, nominal))
        optimizer._learning_rate = _MomentumDriver(schedule, momentum)
        self.model_.train_function = None  # traced with the driver, not the plain schedule
        try:
            yield
        finally:
            object.__setattr__(optimizer, name, float(momentum))
            optimizer._learning_rate = schedule
            self.model_.train_function = None

    def _seeded(self):
        if self._random_state is None:
            return contextlib.nullcontext()
        return tensorflow_random_state(self._random_state)

    # -- scikeras hooks ---------------------------------------------------------

    def _get_compile_kwargs(self):
        kwargs = super()._get_compile_kwargs()
        if kwargs["loss"] is None:
            kwargs["loss"] = self._default_loss
        return kwargs

    def _check_model_param(self):
        return self._build_reference_model if self.model is None else super()._check_model_param()

    def _build_reference_model(self, compile_kwargs: dict) -> keras.Model:
        model = reference_dnn(
            self.n_features_in_,
            self._output_units(),
            hidden_layer_sizes=self._layer_sizes(),
            dropout=self.dropout,
            negative_slope=self.negative_slope,
            seed=self._random_state,
            output_activation=self._output_activation,
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
        # Owns the call to keras.Model.fit (scikeras's does the same routing) so that the
        # arguments Keras runs with and the plan the schedule is sized from are one dict.
        fit_args = self._keras_fit_args(len(X), sample_weight, {**kwargs, "epochs": epochs, "initial_epoch": initial_epoch})
        plan = TrainingPlan.from_fit_args(len(X), fit_args)
        self._prepare_schedule(plan, X, y, sample_weight)
        if getattr(self, "_only_range_test", False):
            return
        monitor = _EpochMonitor()
        self._run_epochs_in_one_call(plan)
        with self._seeded(), self._momentum_cycled():
            history = self.model_.fit(x=X, y=y, **fit_args, callbacks=[*self._fit_callbacks, monitor]).history
        if not warm_start or not hasattr(self, "history_") or initial_epoch == 0:
            self.history_ = defaultdict(list)
        for key, values in history.items():
            self.history_[_history_key(key)] += values
        if monitor.diverged_at is None and not _all_finite(self.model_.trainable_weights):
            # the loss is measured before each update: the very last one can still blow up
            monitor.diverged_at = (len(self.history_["loss"]) - 1, _current_rate(self.model_.optimizer))
        if monitor.diverged_at is not None:
            epoch, rate = monitor.diverged_at
            raise DivergenceError(
                f"Training diverged: the loss became non-finite in epoch {epoch + 1} at learning "
                f"rate {rate:.3g}. Use a lower learning_rate/max_lr, set clipvalue, or let "
                "lr_finder=True choose the rates."
            )


class CLRClassifier(_CLRWrapper, KerasClassifier):
    __doc__ = f"""Keras DNN classifier whose learning-rate schedule and range test are parameters.

    By default it trains the seed's reference network (:func:`skclr.reference_dnn`)
    with Adam and sparse categorical cross-entropy. ``schedule`` picks how the
    rate moves during training; ``lr_finder`` runs a learning-rate range test on
    the training data of each ``fit`` (so each cross-validation fold finds its own
    bounds) and trains from the untouched initial weights afterwards.

    Lengths (``step_size``, ``drop_every``, ``warmup``...) are in epochs and are
    converted to optimizer iterations at ``fit`` from what Keras will run: the
    training samples left by ``validation_split`` and the batch size and epochs,
    whether they come from the constructor, ``fit__*`` parameters or ``fit(**kwargs)``.

    Parameters
    ----------
{_PARAMETERS_DOC}
    Attributes
    ----------
{_ATTRIBUTES_DOC}    classes_ : ndarray
        Class labels.

    See Also
    --------
    CLRRegressor : the same for continuous targets.

    Notes
    -----
{_NOTES_DOC}
    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skclr import CLRClassifier
    >>> X, y = make_classification(n_samples=200, n_features=8, random_state=0)
    >>> clf = CLRClassifier(schedule="triangular", epochs=2, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:3]).shape, len(clf.history_["lr"])
    ((3, 2), 2)
    """

    _default_loss = "sparse_categorical_crossentropy"
    _output_activation = "softmax"
    _target_checks: dict = {}

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

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs) -> CLRClassifier:
        """Train for one more epoch, continuing the schedule where it stopped.

        A schedule that ends is planned, on the first call, for ``epochs`` calls of
        this size; a call past that end trains at the final rate and warns.

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
        return self._partial_fit(X, y, sample_weight, kwargs, classes=classes)

    def predict_proba(self, X, **kwargs) -> np.ndarray:
        """Predict class probabilities for ``X``, one column per class in ``classes_``."""
        return super().predict_proba(self._validate_predict_input(X), **kwargs)

    def _check_target(self, y, whole_training_set: bool) -> None:
        check_classification_targets(y)
        if whole_training_set and len(np.unique(y)) < 2:  # partial_fit may see one class per batch
            raise ValueError(f"CLRClassifier needs at least 2 classes to train; y has 1 class: {np.unique(y)}.")

    def _output_units(self) -> int:
        return self.n_classes_


class CLRRegressor(_CLRWrapper, KerasRegressor):
    __doc__ = f"""Keras DNN regressor whose learning-rate schedule and range test are parameters.

    The same parameters, schedules, range test, validation and persistence as
    :class:`CLRClassifier`, around the same reference network with a linear output
    layer (one unit per target column) and mean squared error. ``y`` may be 2-D
    (several outputs). ``score`` is R², as for scikit-learn's regressors.

    Parameters
    ----------
{_PARAMETERS_DOC}
    Attributes
    ----------
{_ATTRIBUTES_DOC}    n_outputs_ : int
        Number of target columns.

    See Also
    --------
    CLRClassifier : the same for class labels.

    Notes
    -----
{_NOTES_DOC}
    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from skclr import CLRRegressor
    >>> X, y = make_regression(n_samples=200, n_features=8, n_targets=2, random_state=0)
    >>> reg = CLRRegressor(schedule="one_cycle", max_lr=1e-2, epochs=2, random_state=0).fit(X, y)
    >>> reg.predict(X[:3]).shape, len(reg.history_["lr"])
    ((3, 2), 2)
    """

    _parameter_constraints: dict = {**_CLRWrapper._parameter_constraints, "class_weight": [None]}
    _default_loss = "mse"
    _output_activation = "linear"
    _target_checks: dict = {"y_numeric": True, "multi_output": True}

    def __sklearn_tags__(self):
        # scikeras puts RegressorMixin after BaseEstimator, so its tags never apply.
        tags = super().__sklearn_tags__()
        tags.estimator_type = "regressor"
        tags.regressor_tags = RegressorTags(poor_score=True)
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.input_tags.sparse = False
        tags.non_deterministic = self.random_state is None
        return tags

    def partial_fit(self, X, y, sample_weight=None, **kwargs) -> CLRRegressor:
        """Train for one more epoch, continuing the schedule where it stopped.

        A schedule that ends is planned, on the first call, for ``epochs`` calls of
        this size; a call past that end trains at the final rate and warns.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        CLRRegressor
            The estimator.
        """
        return self._partial_fit(X, y, sample_weight, kwargs)

    def predict(self, X, **kwargs) -> np.ndarray:
        """Predict target values for ``X`` (float64, one column per target when ``y`` was 2-D)."""
        return super().predict(X, **kwargs).astype(np.float64)  # the network computes in float32

    def _check_target(self, y, whole_training_set: bool) -> None:
        pass  # validate_data with y_numeric=True has refused text, NaN and inf

    def _output_units(self) -> int:
        return self.n_outputs_


def _history_key(key: str) -> str:
    """scikeras's names for Keras's history keys (``acc`` -> ``accuracy``...)."""
    if key == "loss" or key.startswith("val_") or key == "lr":
        return key
    try:
        return metric_name(key)
    except ValueError:  # a custom metric
        return key


_BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end")


def _has_batch_hooks(callback: keras.callbacks.Callback) -> bool:
    return any(getattr(type(callback), hook) is not getattr(keras.callbacks.Callback, hook) for hook in _BATCH_HOOKS)


def _set_clipvalue(optimizer, clipvalue: float | None) -> None:
    if clipvalue is None:
        return
    if optimizer.clipnorm or optimizer.global_clipnorm:
        raise ValueError(
            "clipvalue cannot be combined with the clipnorm/global_clipnorm of the model's optimizer."
        )
    optimizer.clipvalue = clipvalue  # read when the train step is traced


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


def _all_finite(variables) -> bool:
    return all(bool(keras.ops.all(keras.ops.isfinite(v))) for v in variables)


def _rate_at(schedule, step: int) -> float:
    return float(schedule(step)) if isinstance(schedule, LearningRateSchedule) else float(schedule)


def _current_rate(optimizer) -> float:
    """The rate applied by the optimizer's most recent step."""
    rate = optimizer._learning_rate
    if isinstance(rate, LearningRateSchedule):
        return _rate_at(rate, max(int(optimizer.iterations) - 1, 0))
    return float(rate)  # a Variable: float() reads it without numpy's copy-keyword deprecation


class _MomentumDriver(LearningRateSchedule):
    """The rate of ``schedule``; computing it also sets ``variable`` to ``schedule.momentum(step)``.

    The optimizer computes its rate once per step, in the graph, before it updates any weight,
    so the update reads the momentum of the same step. Never saved: it lives only during ``fit``.
    """

    def __init__(self, schedule: LearningRateSchedule, variable: keras.Variable):
        super().__init__()
        self.schedule = schedule
        self.variable = variable

    def __call__(self, step):
        self.variable.assign(keras.ops.cast(self.schedule.momentum(step), self.variable.dtype))
        return self.schedule(step)

    def get_config(self) -> dict:
        raise NotImplementedError("a fit-time helper; the optimizer holds the plain schedule outside fit")


class _CycledMomentum:
    """SGD's and RMSprop's ``momentum`` while it cycles: compared in Python (``!= 0``, ``> 0``) as
    the optimizer's own non-zero value, so their momentum branch is kept; a tensor (the
    variable, read in the graph at every step) wherever they compute with it."""

    def __init__(self, variable: keras.Variable, nominal: float):
        self.variable = variable
        self.nominal = nominal

    def __ne__(self, other):
        return self.nominal != other

    def __eq__(self, other):
        return self.nominal == other

    def __gt__(self, other):
        return self.nominal > other

    __hash__ = None


def _cycled_momentum_as_tensor(value, dtype=None, name=None, as_ref=False):
    import tensorflow as tf

    return tf.convert_to_tensor(value.variable.value, dtype=dtype, name=name)


def _register_cycled_momentum() -> None:
    import tensorflow as tf

    tf.register_tensor_conversion_function(_CycledMomentum, _cycled_momentum_as_tensor)


_register_cycled_momentum()


class _EpochMonitor(keras.callbacks.Callback):
    """Per epoch: log the rate as ``lr`` and stop at the first non-finite loss."""

    def __init__(self):
        super().__init__()
        self.diverged_at: tuple[int, float] | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = {} if logs is None else logs
        momentum = getattr(self.model.optimizer, "beta_1", getattr(self.model.optimizer, "momentum", None))
        momentum = getattr(momentum, "variable", momentum)
        if isinstance(momentum, keras.Variable):  # cycle_momentum: the momentum of the epoch's last step
            logs["momentum"] = float(momentum)
        logs["lr"] = _current_rate(self.model.optimizer)
        loss = logs.get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.diverged_at = (epoch, logs["lr"])
            self.model.stop_training = True
