"""``CLRClassifier`` and ``CLRRegressor``: scikit-learn estimators whose learning-rate schedule is a hyperparameter.

How one ``fit`` flows, and which function owns each fact:

- ``_validate_params``: single parameters (``_parameter_constraints``), then every rule that
  involves several of them (``_check_combination``); before any data is read.
- ``TrainingPlan`` (``skclr._plan``): what ``keras.Model.fit`` will run (samples after
  ``validation_split``, batch size, steps per epoch, epochs), from the constructor, routed
  ``fit__*`` parameters and ``fit(**kwargs)`` alike. The schedule and the range test read it.
- ``_prepare_optimizer``: at every ``fit`` (and the first ``partial_fit``), the optimizer's
  clipping, the range test if asked, and a ``SchedulePlan`` built from the current parameters.
- ``_train``: the one call to ``keras.Model.fit``, with ``EpochMonitor`` (``skclr._monitor``)
  reporting the rate per epoch and stopping at divergence.

scikeras's private hooks live in ``skclr._scikeras``; the optimizer's rate and momentum are read
and written only through ``skclr._optimizer``.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import warnings
from collections import defaultdict
from dataclasses import fields, replace
from numbers import Integral, Real
from typing import Any

import keras
import numpy as np
from keras.optimizers.schedules import LearningRateSchedule
from pandas.api.types import is_numeric_dtype
from sklearn.base import clone
from sklearn.utils._param_validation import Interval, Options, StrOptions, validate_parameter_constraints
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, column_or_1d, validate_data

from skclr import _optimizer
from skclr._monitor import DivergenceError, EpochMonitor, start_loss
from skclr._plan import SchedulePlan, TrainingPlan
from skclr._scikeras import (
    SCIKERAS_PARAMETERS,
    ScikerasClassifier,
    ScikerasRegressor,
    builder_only_params,
    first_rows,
    has_param,
    history_key,
    num_rows,
    takes_keyword,
)
from skclr._tf_state import fit_session
from skclr.finder import LRFinder
from skclr.models import DEFAULT_HIDDEN, reference_dnn
from skclr.schedules import MOMENTUM_SCHEDULES, SCHEDULES, SETTING_CONSTRAINTS, ScheduleSettings

__all__ = ["CLRClassifier", "CLRRegressor", "DivergenceError"]

_REFERENCE_PARAMETERS = ("hidden_layer_sizes", "dropout", "negative_slope")

_DEFAULT = ScheduleSettings()  # the schedule settings' defaults, written once in ScheduleSettings


_PARAMETERS_DOC = """    model : callable, keras Model or None, default=None
        The network to train, as scikeras's ``model``: a builder returning a Keras model
        (it may take ``meta``, ``compile_kwargs``, ``params`` and its own keywords, routed
        as ``model__*`` or given plainly), or a Keras model. None trains the reference
        network (:func:`skclr.reference_dnn`), unless a subclass implements scikeras's
        ``_keras_build_fn``, which then builds the network. The only positional parameter,
        as in scikeras's ``KerasClassifier(build_model, loss=...)``. If the model is
        compiled, its optimizer is kept (class and settings) and only its rate is replaced
        by the schedule. Only the reference network needs ``X`` to be 2-D.
    hidden_layer_sizes : int, tuple of int or None, default=None
        Units of the hidden Dense layers of the reference network; an int is one layer.
        None: (64, 128, 256, 128, 128).
    dropout : float, tuple of float or None, default=None
        Dropout after each hidden layer of the reference network. None is the seed's
        pattern: 0.1 after each hidden layer and 0.4 after the last, i.e.
        (0.1, 0.1, 0.1, 0.1, 0.4) by default.
    negative_slope : float or None, default=None
        LeakyReLU slope for negative inputs of the reference network; None: 0.1.

        These three default to None, the reference network's own default, so that a value
        given with a ``model`` builder is known to be the user's: it is passed to the builder
        when the builder takes a parameter of that name (as scikeras passes its unknown
        keywords; ``model__hidden_layer_sizes`` takes precedence) and refused otherwise,
        never dropped. A subclass's ``_keras_build_fn`` receives those it names and can read
        the others from ``self``. They are validated only for the reference network. The
        other parameters skclr adds (``schedule``, ``gamma``, ``decay``...) are its own: a
        builder that takes one of these names gets it only as ``model__<name>``, and a plain
        keyword set to something other than its default is refused for such a builder.
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
        ``schedule.momentum(step)`` of the schedules that have one (``triangular``,
        ``triangular2``, ``exp_range``, ``one_cycle``), computed in the graph at every step
        and logged as ``history_["momentum"]``. After ``fit`` the optimizer holds its own
        momentum again. SGD and RMSprop need a momentum > 0 (``optimizer__momentum=0.9``)
        so that they keep momentum slots.
    base_momentum, max_momentum : float, default=None
        Bounds of the cycled momentum (PyTorch's names). None: PyTorch's defaults of the
        schedule, 0.8/0.9 for the cyclical ones and 0.85/0.95 for ``one_cycle``.
    clipvalue : float, default=None
        Clip each gradient element to ``[-clipvalue, clipvalue]``; None keeps the clipping of
        the model's own optimizer (none for the reference network).
    n_threads : int, default=None
        TensorFlow threads per process. ``None`` uses the first positive integer in
        ``OMP_NUM_THREADS`` when there is one (joblib and Dask workers set it) and
        TensorFlow's default otherwise. Takes effect only before TensorFlow starts
        its runtime in the process.
    optimizer : str or keras Optimizer class, default="adam"
        Optimizer; its other settings can be routed as ``optimizer__beta_1=...``.
        Its rate always comes from ``schedule`` (``optimizer__learning_rate`` is refused).
    loss : str, keras Loss or None, default=None
        Training loss. None trains the reference network with its task's loss: sparse
        categorical cross-entropy for ``CLRClassifier``, mean squared error for
        ``CLRRegressor``; a builder receives ``compile_kwargs["loss"] = None``, as in
        scikeras, and must compile its model with a loss of its own.
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
        The schedule the optimizer ran in the last ``fit``.
    learning_rate_, base_lr_, max_lr_ : float
        The rates that schedule was built from, only those it uses: ``learning_rate_`` for
        the decaying schedules and ``constant``, ``base_lr_`` and ``max_lr_`` for the
        cyclical ones, ``max_lr_`` alone for ``one_cycle`` (which starts at ``max_lr / 25``);
        none for a schedule instance.
    lr_finder_ : LRFinder
        The fitted range test; only when ``lr_finder`` is set.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame with string columns.
"""

_NOTES_DOC = """    Continuing training: each ``fit`` with ``warm_start=True`` keeps the weights and the
    optimizer's state and builds the optimizer's settings (schedule, rates, clipping,
    momentum) from the current parameters, as scikit-learn's ``MLPClassifier`` does. The
    schedules that end (``linear``, ``polynomial``, ``cosine``, ``one_cycle``) are planned
    for that fit's data and epochs from its first iteration; the others (``constant``,
    ``time``, ``step``, ``exponential``, ``cosine_restarts``, the cyclical ones, a schedule
    instance) go on from the optimizer's iteration. The range test runs again only if
    ``lr_finder`` asks for it and no earlier fit ran the same one. ``partial_fit`` keeps the
    schedule of its first call, planned for ``epochs`` calls; a call past that end trains at
    the final rate and warns.

    Divergence: ``fit`` raises ``DivergenceError`` when an epoch's mean training loss is not
    finite or exceeds 4 times the untrained model's loss on the training data.
"""


class _CLRWrapper:
    """What ``CLRClassifier`` and ``CLRRegressor`` share: parameters, validation, the training plan,
    the schedule, the range test and the call to ``keras.Model.fit``.

    A subclass sets the loss and output layer of its task and checks its targets.
    """

    _default_loss: str
    _output_activation: str

    _parameter_constraints: dict = {
        **SETTING_CONSTRAINTS,
        # the reference network's parameters; checked only when it is the network (_check_reference)
        **dict.fromkeys(_REFERENCE_PARAMETERS, "no_validation"),
        "schedule": [StrOptions(set(SCHEDULES)), LearningRateSchedule],
        "lr_finder": ["boolean", LRFinder],
        "cycle_momentum": ["boolean"],
        "base_momentum": [Interval(Real, 0, 1, closed="left"), None],
        "max_momentum": [Interval(Real, 0, 1, closed="left"), None],
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
        model: Any = None,
        *,
        hidden_layer_sizes: int | tuple[int, ...] | None = None,
        dropout: float | tuple[float, ...] | None = None,
        negative_slope: float | None = None,
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
        base_momentum: float | None = None,
        max_momentum: float | None = None,
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
        shuffle: bool = True,
        run_eagerly: bool = False,
        callbacks: list | None = None,
        class_weight: dict | str | None = None,
        validation_batch_size: int | None = None,
        **kwargs: Any,
    ):
        self.model = model
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
        self.base_momentum = base_momentum
        self.max_momentum = max_momentum
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
            ``batch_size`` and ``validation_*`` given here size the schedule too, and
            ``callbacks`` run after the estimator's own.

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

        The estimator itself is left untouched. With ``lr_finder=False`` the test runs
        with ``LRFinder()`` defaults; the schedule plays no part in it (a schedule instance
        is fine).

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
        if not isinstance(self.schedule, str):
            trial.set_params(schedule="constant", cycle_momentum=False)
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

    def set_params(self, **params):
        """Set parameters; ``lr_finder__*`` needs an ``LRFinder`` to set them on.

        Returns
        -------
        self
        """
        nested = [key for key in params if key.startswith("lr_finder__")]
        if nested and not isinstance(params.get("lr_finder", self.lr_finder), LRFinder):
            raise ValueError(_LR_FINDER_NESTED.format(name=nested[0], value=params.get("lr_finder", self.lr_finder)))
        return super().set_params(**params)

    # -- validation -------------------------------------------------------------

    def _validate_params(self, schedule_epochs: int | None = None) -> None:
        """Single-parameter rules, then the rules that combine several; nothing needs data."""
        super()._validate_params()
        self._check_combination(self._configured_epochs() if schedule_epochs is None else schedule_epochs)

    def _check_combination(self, schedule_epochs: int) -> None:
        """Every rule that involves more than one parameter, in one place."""
        if self._uses_reference_network():
            self._check_reference()
        else:
            self._builder_settings(super()._check_model_param())  # refuses a setting the builder ignores
        if hasattr(self, "optimizer__learning_rate"):
            raise ValueError(
                "optimizer__learning_rate would be overridden by the schedule; set learning_rate "
                "(or base_lr/max_lr for the cyclical schedules) instead."
            )
        nested = [key for key in vars(self) if key.startswith("lr_finder__")]
        if nested:
            raise ValueError(_LR_FINDER_NESTED.format(name=nested[0], value=self.lr_finder))
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
            self.schedule in MOMENTUM_SCHEDULES if isinstance(self.schedule, str) else hasattr(self.schedule, "momentum")
        ):
            raise ValueError(
                f"cycle_momentum needs a schedule with a momentum cycle, one of {MOMENTUM_SCHEDULES} (or a "
                f"schedule instance with a momentum(step) method); got schedule={self.schedule!r}."
            )
        if (self.base_momentum is not None or self.max_momentum is not None) and not self.cycle_momentum:
            raise ValueError("base_momentum and max_momentum bound the cycled momentum: set cycle_momentum=True.")
        bounds = self._momentum_bounds()
        if bounds and bounds.get("base_momentum", 0.0) > bounds.get("max_momentum", 1.0):
            raise ValueError(f"base_momentum must be <= max_momentum. Received: {bounds}")

    def _validate_fit_input(self, X, y, sample_weight, fit_kwargs: dict, schedule_epochs: int, new_model: bool):
        """Check parameters, data (scikit-learn's messages) and the training plan before any model is built."""
        self._validate_params(schedule_epochs)
        # dtype=None: scikeras converts X itself; this pass checks shape, finiteness, sparsity, names.
        # Only the reference network needs 2-D X; a builder's model may take images or sequences.
        allow_nd = not self._uses_reference_network()
        array, y = validate_data(self, X, y, reset=new_model, dtype=None, allow_nd=allow_nd, **self._target_checks)
        _require_numeric(X, array)
        if sample_weight is not None:  # a copy: scikeras multiplies class weights into it in place
            sample_weight = _check_sample_weight(
                sample_weight, np.empty((len(y), 0)), ensure_non_negative=True, copy=True
            )
        TrainingPlan.from_fit_args(len(y), {**self._routed("fit"), **fit_kwargs})
        return X, y, sample_weight

    def _validate_predict_input(self, X):
        check_is_fitted(self, "model_")
        return validate_data(self, X, reset=False, dtype=None, allow_nd=not self._uses_reference_network())

    def _check_reference(self) -> None:
        """The reference network's parameters, and no parameter meant for a builder."""
        validate_parameter_constraints(
            _REFERENCE_CONSTRAINTS, {name: getattr(self, name) for name in _REFERENCE_PARAMETERS}, type(self).__name__
        )
        sizes = self._layer_sizes()
        if self.dropout is not None and not isinstance(self.dropout, Real):
            rates = np.asarray(self.dropout, dtype=float)
            if rates.shape != (len(sizes),) or ((rates < 0) | (rates >= 1)).any():
                raise ValueError(
                    "dropout must be a rate in [0, 1) or one such rate per hidden layer "
                    f"({len(sizes)}). Got {self.dropout!r}."
                )
        builder_only = builder_only_params(self)
        if builder_only:
            raise ValueError(
                f"{builder_only[0]!r} is a parameter for a model builder (scikeras passes unknown keywords and "
                f"model__* to model=...), but there is none: {type(self).__name__} trains its reference network, "
                "whose parameters are hidden_layer_sizes, dropout and negative_slope. Pass model=your_builder, "
                "or remove it."
            )

    def _builder_settings(self, builder) -> dict:
        """The reference-network parameters set by the user that ``builder`` takes.

        For ``model=``, refuses a set one it ignores, and a set parameter of skclr's own that the
        builder also names (scikeras would have passed it). A subclass's ``_keras_build_fn`` gets
        those it names; it can read the others from ``self``.
        """
        given = {name: getattr(self, name) for name in _REFERENCE_PARAMETERS if getattr(self, name) is not None}
        taken = {name: value for name, value in given.items() if takes_keyword(builder, name)}
        if self.model is None:
            return taken
        what = "the Keras model given as model" if isinstance(self.model, keras.Model) else (
            f"model={getattr(self.model, '__name__', self.model)!r}"
        )  # fmt: skip
        ignored = [name for name in given if name not in taken]
        if ignored:
            raise ValueError(
                f"{ignored[0]}={given[ignored[0]]!r} sets the reference network, which {what} replaces, and "
                f"{what} takes no {ignored[0]!r} parameter, so it would have no effect. Give it to the builder "
                f"under a name it takes (model__<name>=...), or leave {ignored[0]} unset."
            )
        # scikeras would pass a plain keyword of one of skclr's own names to the builder; skclr keeps it.
        defaults = {name: p.default for name, p in inspect.signature(_CLRWrapper.__init__).parameters.items()}
        shadowed = [
            name for name in _OWN_PARAMETERS
            if has_param(builder, name) and not hasattr(self, f"model__{name}")
            and not _is_default(getattr(self, name), defaults[name])
        ]  # fmt: skip
        if shadowed:
            name = shadowed[0]
            raise ValueError(
                f"{what} takes a parameter {name!r}, a name {type(self).__name__} keeps for its own setting: "
                f"{name}={getattr(self, name)!r} sets the estimator's {name} and would not reach the builder, "
                f"which would use its own default. Give the builder its value as model__{name}=... (both may be set)."
            )
        return taken

    def _layer_sizes(self) -> tuple[int, ...]:
        """``hidden_layer_sizes`` as a tuple; a plain int is one layer, as in ``MLPClassifier``."""
        if self.hidden_layer_sizes is None:
            return DEFAULT_HIDDEN
        sizes = np.atleast_1d(np.asarray(self.hidden_layer_sizes))
        if sizes.ndim != 1 or sizes.size == 0 or not np.issubdtype(sizes.dtype, np.integer) or (sizes < 1).any():
            raise ValueError(
                "hidden_layer_sizes must be a positive integer or a non-empty sequence of them. "
                f"Got {self.hidden_layer_sizes!r}."
            )
        return tuple(int(size) for size in sizes)

    # -- the model, the optimizer and the schedule -------------------------------

    def _configured_epochs(self) -> int:
        return getattr(self, "fit__epochs", self.epochs)

    def _settings(self, **rates) -> ScheduleSettings:
        """The schedule settings from the parameters, with ``rates`` (from a range test) replacing theirs."""
        return replace(ScheduleSettings(**{f.name: getattr(self, f.name) for f in fields(ScheduleSettings)}), **rates)

    def _momentum_bounds(self) -> dict:
        bounds = {"base_momentum": self.base_momentum, "max_momentum": self.max_momentum}
        return {name: value for name, value in bounds.items() if value is not None}

    def _uses_reference_network(self) -> bool:
        """No ``model`` and no ``_keras_build_fn`` of a subclass (scikeras's two ways to give a network)."""
        return self.model is None and not hasattr(self, "_keras_build_fn")

    def _build_reference_model(self, compile_kwargs: dict) -> keras.Model:
        slope = {} if self.negative_slope is None else {"negative_slope": self.negative_slope}  # else reference_dnn's
        model = reference_dnn(
            self.n_features_in_,
            self._output_units(),
            hidden_layer_sizes=self._layer_sizes(),
            dropout=self.dropout,
            seed=self._random_state,
            output_activation=self._output_activation,
            **slope,
        )
        model.compile(**{**compile_kwargs, "loss": compile_kwargs["loss"] or self._default_loss})
        return model

    def _initialize(self, X, y=None):
        X, y = super()._initialize(X, y)
        self._fresh_model = True  # a builder's model may be compiled only later, by scikeras's _fit
        return X, y

    def _prepare_optimizer(self, plan: TrainingPlan, X, y, sample_weight) -> None:
        """Give the optimizer this call's settings: at every ``fit`` and a first ``partial_fit``,
        the current parameters' clipping and schedule (after the range test, if asked); later
        ``partial_fit`` calls go on with the running schedule."""
        model = self.model_
        optimizer = model.optimizer
        fresh, self._fresh_model = self._fresh_model, False
        if fresh:
            self._own_clipvalue = _optimizer.inner(optimizer).clipvalue  # what clipvalue=None leaves in place
            if not optimizer.built:  # built inside the first trace, it would cost a second trace
                optimizer.build(model.trainable_variables)
        if self.cycle_momentum:  # refused before the range test, not after it
            _optimizer.check_momentum_can_cycle(optimizer)
        iteration = int(optimizer.iterations)
        if self._call == "partial_fit" and not fresh:
            if self._schedule_plan.end is not None and iteration + plan.steps_per_epoch > self._schedule_plan.end:
                final = _optimizer.rate_at(self.schedule_, self._schedule_plan.end - 1)
                warnings.warn(
                    f"partial_fit runs past the end of the {self.schedule!r} schedule planned for "
                    f"epochs={self._configured_epochs()} calls; it trains at the final rate {final:.3g}. "
                    "Raise epochs, or use a cyclical schedule.",
                    RuntimeWarning,
                    stacklevel=6,  # the caller of partial_fit
                )
            return
        _optimizer.set_clipvalue(optimizer, self._own_clipvalue if self.clipvalue is None else self.clipvalue)
        epochs = plan.epochs if self._call == "fit" else self._configured_epochs()
        schedule_plan = SchedulePlan.build(
            self.schedule, self._settings(**self._range_test_rates(plan, X, y, sample_weight)),
            steps_per_epoch=plan.steps_per_epoch, epochs=epochs, start=iteration, momentum=self._momentum_bounds(),
        )  # fmt: skip
        self.schedule_ = _optimizer.attach_rate(optimizer, schedule_plan.schedule, replaces_ours=not fresh)
        model.train_function = None  # the rate is read when the train step is traced
        self._schedule_plan = schedule_plan
        for name in ("learning_rate", "base_lr", "max_lr"):
            vars(self).pop(f"{name}_", None)  # a warm start may have changed the schedule
            if name in schedule_plan.rates:
                setattr(self, f"{name}_", schedule_plan.rates[name])

    def _range_test_rates(self, plan: TrainingPlan, X, y, sample_weight) -> dict:
        """The rates the range test sets (run now, or kept from an earlier fit of this model); {} without one."""
        if not self.lr_finder:
            vars(self).pop("lr_finder_", None)
            return {}
        finder = clone(self.lr_finder) if isinstance(self.lr_finder, LRFinder) else LRFinder()
        if finder.random_state is None and self._random_state is not None:
            finder.set_params(random_state=self._random_state)
        earlier = getattr(self, "lr_finder_", None)
        if earlier is None or earlier.get_params() != finder.get_params():
            with self._seeded():
                finder.find(
                    self.model_, first_rows(X, plan.n_train), y[: plan.n_train], batch_size=plan.batch_size,
                    sample_weight=None if sample_weight is None else sample_weight[: plan.n_train],
                )  # fmt: skip
            self.lr_finder_ = earlier = finder
        base_lr, max_lr = earlier.clr_bounds()
        return dict(learning_rate=earlier.suggestion_, base_lr=base_lr, max_lr=max_lr)

    def _train(self, X, y, sample_weight, fit_args: dict, warm_start: bool) -> None:
        """The one call to ``keras.Model.fit``: arguments, plan, schedule, monitoring, history."""
        for key in ("batch_size", "validation_batch_size"):
            if fit_args.get(key) == -1:
                fit_args[key] = num_rows(X)
        callbacks = [*self._fit_callbacks, *(fit_args.pop("callbacks", None) or [])]
        fit_args["sample_weight"] = sample_weight
        plan = TrainingPlan.from_fit_args(num_rows(X), fit_args)
        self._prepare_optimizer(plan, X, y, sample_weight)
        if getattr(self, "_only_range_test", False):
            return
        model = self.model_
        monitor = EpochMonitor(start_loss(model, first_rows(X, plan.n_train), y[: plan.n_train], sample_weight))
        self._run_epochs_in_one_call(plan, callbacks)
        with self._seeded(), self._momentum_cycled():
            history = model.fit(x=X, y=y, **fit_args, callbacks=[*callbacks, monitor]).history
        if not warm_start or not hasattr(self, "history_") or fit_args["initial_epoch"] == 0:
            self.history_ = defaultdict(list)
        for key, values in history.items():
            self.history_[history_key(key)] += values
        monitor.raise_if_diverged(len(self.history_["loss"]))

    def _run_epochs_in_one_call(self, plan: TrainingPlan, callbacks: list) -> None:
        """Let Keras run each epoch's steps in one graph call, unless a callback wants every batch.

        Per-epoch logs, ``history_["lr"]`` and the divergence check stay exact: they are read at
        epoch ends, which every call ends on.
        """
        per_batch = any(_has_batch_hooks(callback) for callback in callbacks)
        steps = 1 if per_batch or self.run_eagerly else plan.steps_per_epoch
        if self.model_.steps_per_execution != steps:
            self.model_.steps_per_execution = steps
            self.model_.train_function = self.model_.test_function = None

    @contextlib.contextmanager
    def _momentum_cycled(self):
        """While Keras trains, the momentum follows the schedule (see ``cycle_momentum``)."""
        if not self.cycle_momentum:
            yield
            return
        self.model_.train_function = None  # the train step reads the momentum: traced with the cycled one
        try:
            with _optimizer.cycled_momentum(self.model_.optimizer, self.schedule_):
                yield
        finally:
            self.model_.train_function = None

    # -- scikeras hooks -------------------------------------------------------------

    def _check_model_param(self):
        if self._uses_reference_network():
            return self._build_reference_model
        builder = super()._check_model_param()
        settings = self._builder_settings(builder)  # routed model__* given at the call take precedence
        return functools.partial(builder, **settings) if settings else builder


def _is_default(value, default) -> bool:
    """Whether a parameter still holds its constructor default (only scalars can be told apart safely)."""
    scalar = isinstance(value, (bool, int, float, str)) and type(value) is type(default)
    return value is default or (scalar and value == default)


_REFERENCE_CONSTRAINTS: dict = {
    "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left"), None],
    "dropout": [Interval(Real, 0, 1, closed="left"), "array-like", None],
    "negative_slope": [Interval(Real, 0, None, closed="left"), None],
}

#: The parameters skclr adds to scikeras's, other than the reference network's (which a builder may take).
_OWN_PARAMETERS = tuple(
    name for name in inspect.signature(_CLRWrapper.__init__).parameters
    if name not in {"self", "kwargs", "class_weight", *SCIKERAS_PARAMETERS, *_REFERENCE_PARAMETERS}
)  # fmt: skip

_LR_FINDER_NESTED = (
    "{name} sets a setting of an LRFinder, but lr_finder={value!r}: pass lr_finder=LRFinder() "
    "(in a grid: {{'lr_finder': [LRFinder()], '{name}': [...]}}), or give the LRFinder its settings directly."
)


class CLRClassifier(_CLRWrapper, ScikerasClassifier):
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

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy on ``(X, y)``, weighted by ``sample_weight``; ``y`` may be one column, as in ``fit``."""
        if np.ndim(y) == 2 and np.shape(y)[1] == 1:
            y = column_or_1d(y, warn=True)
        return super().score(X, y, sample_weight=sample_weight)

    def _check_target(self, y, whole_training_set: bool) -> None:
        check_classification_targets(y)
        if whole_training_set and len(np.unique(y)) < 2:  # partial_fit may see one class per batch
            raise ValueError(f"CLRClassifier needs at least 2 classes to train; y has 1 class: {np.unique(y)}.")

    def _output_units(self) -> int:
        return self.n_classes_


class CLRRegressor(_CLRWrapper, ScikerasRegressor):
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


_BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end")


def _has_batch_hooks(callback: keras.callbacks.Callback) -> bool:
    """Whether a callback does something per batch: a hook overridden by its class or set on the instance
    (``LambdaCallback(on_train_batch_end=...)``)."""
    for hook in _BATCH_HOOKS:
        method = getattr(callback, hook)
        if getattr(method, "__func__", method) is not getattr(keras.callbacks.Callback, hook):
            return True
    return False


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
