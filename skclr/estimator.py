"""``CLRClassifier`` and ``CLRRegressor``: scikit-learn estimators whose learning-rate schedule is a hyperparameter.

How one ``fit`` flows, and which function owns each fact:

- ``_validate_params``: single parameters (``_parameter_constraints``), then every rule that
  involves several of them (``_check_combination``); before any data is read.
- ``TrainingPlan`` (``skclr._plan``): what ``keras.Model.fit`` will run (samples after
  ``validation_split``, batch size, steps per epoch, epochs), from the constructor, routed
  ``fit__*`` parameters and ``fit(**kwargs)`` alike. The schedule and the range test read it.
- ``NetworkChoice`` (``skclr._network``): the reference network or the user's builder, and which
  parameters reach it.
- ``FitRun`` (``skclr._fit_run``): one call (``fit``, ``partial_fit``, ``find_lr``), built by the
  method from the parameters and the call's arguments and held as ``_run`` while scikeras drives it
  (``BaseWrapper.fit`` → ``_fit`` → ``_initialize`` → ``_fit_keras_model`` → ``_train``). Step by
  step: the plan; the optimizer's settings from the current parameters (the range test if asked, a
  ``SchedulePlan``; ``find_lr`` stops here); the loss it is judged against; the one call to
  ``keras.Model.fit``; the history, and what the run reports (``skclr._monitor``), said by the
  method so that warnings point at the user's call.
- ``ModelRecord`` (``skclr._fit_run``): what the estimator keeps of ``model_`` between calls, as
  ``_model_record`` (the optimizer's own clipping and weight decay, the untrained loss, the
  schedule later ``partial_fit`` calls continue); dropped when a new model is built, not carried
  by ``clone``, kept by a pickle.

scikeras's private hooks live in ``skclr._scikeras``; the optimizer's rate and momentum are read
and written only through ``skclr._optimizer``; the regressor's target scaling is ``skclr._target``;
the shared docstring sections are ``skclr._docs``.
"""

from __future__ import annotations

import warnings
from dataclasses import fields, replace
from numbers import Integral, Real
from typing import Any

import numpy as np
from keras.optimizers.schedules import LearningRateSchedule
from sklearn.base import clone
from skclr._sklearn_internals import Interval, Options, StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, column_or_1d

from skclr import _docs
from skclr._fit_run import FIND_LR, FIT, PARTIAL_FIT, FitRun
from skclr._labels import MULTIOUTPUT, subset_accuracy
from skclr._monitor import DivergenceError
from skclr._network import REFERENCE_PARAMETERS, NetworkChoice
from skclr._scikeras import ScikerasClassifier, ScikerasRegressor, loss_name
from skclr._target import TargetScaling
from skclr.backend import fit_session
from skclr._validation import LR_FINDER_NESTED, Validation
from skclr.finder import LRFinder
from skclr._catalogue import SCHEDULES, SETTING_CONSTRAINTS, ScheduleSettings

__all__ = ["CLRClassifier", "CLRRegressor", "DivergenceError"]

_DEFAULT = ScheduleSettings()  # the schedule settings' defaults, written once in ScheduleSettings


class _CLRWrapper(Validation, NetworkChoice):
    """What ``CLRClassifier`` and ``CLRRegressor`` share: parameters, validation, the training plan,
    the schedule, the range test and the call to ``keras.Model.fit``.

    A subclass sets the loss and output layer of its task and checks its targets.
    """

    _default_loss: str
    _output_activation: str
    #: The reference network's weight decay when ``weight_decay=None`` (none for classification).
    _reference_weight_decay: float | None = None

    _parameter_constraints: dict = {
        **SETTING_CONSTRAINTS,
        # the reference network's parameters; checked only when it is the network (_check_reference)
        **dict.fromkeys(REFERENCE_PARAMETERS, "no_validation"),
        # dict keys, not a set: the error message lists the names in the table's order, the same in every run
        "schedule": [StrOptions(dict.fromkeys(SCHEDULES).keys()), LearningRateSchedule],
        "lr_finder": ["boolean", LRFinder],
        "cycle_momentum": ["boolean"],
        "base_momentum": [Interval(Real, 0, 1, closed="left"), None],
        "max_momentum": [Interval(Real, 0, 1, closed="left"), None],
        "clipvalue": [Interval(Real, 0, None, closed="neither"), None],
        "weight_decay": [Interval(Real, 0, None, closed="left"), None],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left"), Options(Integral, {-1}), None],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "validation_split": [Interval(Real, 0, 1, closed="left")],
        # scikit-learn MLP's early stopping, its constraints
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "tol": [Interval(Real, 0, None, closed="left")],
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
        weight_decay: float | None = None,
        n_threads: int | None = None,
        optimizer: Any = "adam",
        loss: Any = None,
        metrics: list | None = None,
        batch_size: int | None = 32,
        epochs: int = 20,
        validation_split: float = 0.0,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
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
        self.weight_decay = weight_decay
        self.n_threads = n_threads
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
        self.batch_size = batch_size
        self.epochs = epochs
        self.validation_split = validation_split
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
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
            Class labels (strings or integers, at least two classes); for ``CLRClassifier``
            also a multilabel indicator (0/1 columns), one-hot rows, or one column of labels
            per output (multiclass-multioutput). Continuous targets for ``CLRRegressor``
            (one column per output).
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
        run = self._fit_call(FIT, X, y, sample_weight, kwargs)
        for warning in run.warnings:  # said here, so that it points at the caller of fit
            warnings.warn(warning, stacklevel=2)
        return self

    def _fit_call(self, call: str, X, y, sample_weight, kwargs: dict) -> FitRun:
        """``fit``, or ``find_lr``'s preparation of a fresh model (on a clone): the inputs checked,
        then the run, held while scikeras drives it."""
        kwargs["epochs"] = kwargs.get("epochs", self._configured_epochs())  # fit(epochs=) > fit__epochs > epochs
        new_model = not (self.warm_start and self.initialized_)
        X, y, sample_weight = self._validate_fit_input(X, y, sample_weight, kwargs, kwargs["epochs"], new_model)
        y = self._check_target(y, whole_training_set=True)
        run = FitRun(self, call, sample_weight)
        X, y, sample_weight = run.hold_out(X, y, sample_weight, kwargs)  # early_stopping's validation rows
        with run.running(), self._fit_session(new_model):
            super().fit(X, y, sample_weight=sample_weight, **kwargs)
        return run

    def _partial_fit(self, X, y, sample_weight, kwargs: dict, **extra):
        """One more epoch; a schedule that ends is planned, on the first call, for ``epochs`` calls."""
        new_model = not self.initialized_
        fit_kwargs = {**kwargs, "epochs": 1}
        X, y, sample_weight = self._validate_fit_input(
            X, y, sample_weight, fit_kwargs, self._configured_epochs(), new_model
        )
        y = self._check_target(y, whole_training_set=False)
        run = FitRun(self, PARTIAL_FIT, sample_weight)
        with run.running(), self._fit_session(new_model):
            super().partial_fit(X, y, sample_weight=sample_weight, **extra, **kwargs)
        for warning in run.warnings:  # said here, so that it points at the caller of partial_fit
            warnings.warn(warning, stacklevel=3)
        return self

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
        # The fresh model is built on a clone (scikeras builds a model onto the estimator that holds
        # it), whose run prepares it as fit would, range test included, and stops before training.
        trial = clone(self).set_params(lr_finder=self.lr_finder or True, warm_start=False)
        if not isinstance(self.schedule, str):
            trial.set_params(schedule="constant", cycle_momentum=False, base_momentum=None, max_momentum=None)
        return trial._fit_call(FIND_LR, X, y, sample_weight, kwargs).finder

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
            raise ValueError(LR_FINDER_NESTED.format(name=nested[0], value=params.get("lr_finder", self.lr_finder)))
        return super().set_params(**params)

    # -- the model, the optimizer and the schedule -------------------------------

    def _initialize(self, X, y=None):
        X, y = super()._initialize(X, y)
        vars(self).pop("_model_record", None)  # a new model_: its record starts at its first training
        return X, y

    def _train(self, X, y, sample_weight, fit_args: dict, warm_start: bool) -> None:
        """scikeras's call to train (``_fit_keras_model``): the current run's steps."""
        self._run.train(X, y, sample_weight, fit_args, warm_start)

    def _fit_session(self, new_model: bool):
        """Thread limits, op determinism and cache release around one training call (``skclr.backend``)."""
        return fit_session(seeded=self.random_state is not None, new_model=new_model, n_threads=self.n_threads)

    def _configured_epochs(self) -> int:
        return getattr(self, "fit__epochs", self.epochs)

    def _settings(self, **rates) -> ScheduleSettings:
        """The schedule settings from the parameters, with ``rates`` (from a range test) replacing theirs."""
        return replace(ScheduleSettings(**{f.name: getattr(self, f.name) for f in fields(ScheduleSettings)}), **rates)

    def _momentum_bounds(self) -> dict:
        bounds = {"base_momentum": self.base_momentum, "max_momentum": self.max_momentum}
        return {name: value for name, value in bounds.items() if value is not None}


class CLRClassifier(_CLRWrapper, ScikerasClassifier):
    __doc__ = f"""Keras DNN classifier whose learning-rate schedule and range test are parameters.

    By default it trains the seed's reference network (:func:`skclr.reference_dnn`)
    with Adam and sparse categorical cross-entropy. ``schedule`` picks how the
    rate moves during training; ``lr_finder`` runs a learning-rate range test on
    the training data of each ``fit`` (so each cross-validation fold finds its own
    bounds) and trains from the untouched initial weights afterwards.

    A 2-D ``y`` is taken as ``MLPClassifier`` and scikeras take it. A multilabel
    indicator (0/1 columns) trains one sigmoid output per label with binary
    cross-entropy: ``predict`` returns the 0/1 matrix, ``predict_proba`` one
    probability per label, ``score`` the subset accuracy. One-hot rows (exactly one 1
    each, scikeras's rule) train a softmax with categorical cross-entropy and predict
    one-hot rows. A multiclass-multioutput ``y`` (labels per column) trains one softmax
    output per column, each with sparse categorical cross-entropy; ``predict_proba``
    then returns one array per column, as ``MultiOutputClassifier``.

    Lengths (``step_size``, ``drop_every``, ``warmup``...) are in epochs and are
    converted to optimizer iterations at ``fit`` from what Keras will run: the
    training samples left by ``validation_split`` and the batch size and epochs,
    whether they come from the constructor, ``fit__*`` parameters or ``fit(**kwargs)``.

    Parameters
    ----------
{_docs.PARAMETERS}
    Attributes
    ----------
{_docs.ATTRIBUTES}    classes_ : ndarray, or list of ndarray
        Class labels; the label indices ``0 .. n_labels - 1`` for a multilabel or one-hot
        ``y`` (as ``MLPClassifier``); one array per column for a multiclass-multioutput ``y``.
    n_outputs_expected_ : int
        Outputs the model has: one per column of a multiclass-multioutput ``y``, else 1.

    See Also
    --------
    CLRRegressor : the same for continuous targets.

    Notes
    -----
{_docs.NOTES}
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
    _target_checks: dict = {"multi_output": True}  # a column vector is raveled in _check_target, as MLP's

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs) -> CLRClassifier:
        """Train for one more epoch, continuing the schedule where it stopped.

        A schedule that ends is planned, on the first call, for ``epochs`` calls of
        this size; a call past that end trains at the final rate and warns.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
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
        """Predict class probabilities for ``X``, one column per class in ``classes_`` (per label for a
        multilabel ``y``); a list of such arrays, one per column, for a multiclass-multioutput ``y``."""
        return super().predict_proba(self._validate_predict_input(X), **kwargs)

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy on ``(X, y)``, weighted by ``sample_weight``; ``y`` may be one column, as in ``fit``.

        For a 2-D ``y`` (multilabel, one-hot, multiclass-multioutput) it is the subset accuracy:
        the share of rows whose every label is predicted right, as scikit-learn's ``accuracy_score``
        on indicator matrices and ``MultiOutputClassifier.score``.
        """
        if np.ndim(y) == 2 and np.shape(y)[1] == 1:
            y = column_or_1d(y, warn=True)
        check_is_fitted(self, "model_")
        if self._target_kind() == MULTIOUTPUT:  # accuracy_score refuses multiclass-multioutput
            _, y = self._validate_data(X=None, y=y)
            if sample_weight is not None:
                sample_weight = _check_sample_weight(sample_weight, np.empty((len(y), 0)), ensure_non_negative=True)
            return subset_accuracy(y, self.predict(X), sample_weight)
        return super().score(X, y, sample_weight=sample_weight)

    def _check_target(self, y, whole_training_set: bool) -> np.ndarray:
        if y.ndim == 2 and y.shape[1] == 1:  # MLPClassifier's rule: a column vector is one target
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind == MULTIOUTPUT and whole_training_set:
            for column in range(y.shape[1]):
                if len(np.unique(y[:, column])) < 2:
                    raise ValueError(
                        f"CLRClassifier needs at least 2 classes in each column of a multiclass-multioutput y; "
                        f"column {column} has 1 class: {np.unique(y[:, column])}."
                    )
        elif kind != "multilabel-indicator" and whole_training_set and len(np.unique(y)) < 2:
            # partial_fit may see one class per batch; a label of a multilabel y may be all 0 (MLP's too)
            raise ValueError(f"CLRClassifier needs at least 2 classes to train; y has 1 class: {np.unique(y)}.")
        return y

    def _output_units(self) -> int | list[int]:
        return self.n_classes_

    def _target_kind(self) -> str:
        """The fitted target's type as scikeras's encoder sees it (``multiclass-onehot`` apart from
        ``multilabel-indicator``); scikit-learn's ``type_of_target`` for a user's own encoder."""
        return getattr(self.target_encoder_, "_target_type", None) or self.target_type_

    def _reference_output(self) -> tuple:
        """The reference network's output for the target: a softmax over the classes (one-hot ``y``:
        categorical cross-entropy), one sigmoid per label for a multilabel ``y`` (binary
        cross-entropy, as MLPClassifier's logistic outputs), one softmax per column for a
        multiclass-multioutput ``y`` (a sparse categorical cross-entropy each)."""
        kind = self._target_kind()
        if kind == "multilabel-indicator":
            return self.n_classes_, "sigmoid", "binary_crossentropy"
        if kind == "multiclass-onehot":
            return self.n_classes_, "softmax", "categorical_crossentropy"
        if kind == MULTIOUTPUT:
            return list(self.n_classes_), "softmax", [self._default_loss] * len(self.n_classes_)
        return self.n_classes_, self._output_activation, self._default_loss

    @property
    def _constant_name(self) -> str:
        """The best constant prediction, for the message that training did no better."""
        return "each label's share of the rows" if self._target_kind() == "multilabel-indicator" else "the class prior"

    def _constant_prediction(self, y, sample_weight) -> np.ndarray | None:
        loss = self.model_.loss
        if not isinstance(loss, str):
            return None  # a loss object may take logits (from_logits=True): another best constant
        try:
            loss = loss_name(loss)
        except ValueError:  # a name Keras does not know
            return None
        if loss == self._default_loss:  # class codes (scikeras's encoder gives them one column)
            counts = np.bincount(np.ravel(y).astype(int), weights=sample_weight, minlength=self.n_classes_)
            return counts / counts.sum() if counts.sum() > 0 else None
        one_per_column = np.ndim(y) == 2 and _output_width(self.model_) == np.shape(y)[1]
        if loss in ("categorical_crossentropy", "binary_crossentropy") and one_per_column:
            # each label's (or class's) share of the rows: the best constant under either cross-entropy
            weights = None if sample_weight is None or not np.sum(sample_weight) > 0 else sample_weight
            return np.average(np.asarray(y, dtype=np.float64), axis=0, weights=weights)
        return None  # another loss has another best constant


class CLRRegressor(TargetScaling, _CLRWrapper, ScikerasRegressor):
    __doc__ = f"""Keras DNN regressor whose learning-rate schedule and range test are parameters.

    The same parameters, schedules, range test, validation and persistence as
    :class:`CLRClassifier`, around the same reference network with a linear output
    layer (one unit per target column) and mean squared error. ``y`` may be 2-D
    (several outputs). By default each target column is standardized for training
    (range test included) and ``predict`` answers in the target's own units.
    ``score`` is R² in those units, as for scikit-learn's regressors.

    Parameters
    ----------
{_docs.REGRESSOR_PARAMETERS}
    Attributes
    ----------
{_docs.ATTRIBUTES}    n_outputs_ : int
        Number of target columns.
    target_mean_, target_scale_ : ndarray of shape (n_outputs_,)
        The scaling of ``standardize_target`` (0 and 1 when it is False): ``model_`` predicts
        ``(y - target_mean_) / target_scale_``, so ``predict(X)`` is
        ``model_(X) * target_scale_ + target_mean_``. A model saved from ``model_`` (``.keras``)
        predicts on that training scale; map its output back the same way.

    See Also
    --------
    CLRClassifier : the same for class labels.

    Notes
    -----
{_docs.NOTES}
    The reference network trains with weight decay 1.0 unless ``weight_decay`` (or its
    optimizer's own decay: ``optimizer__weight_decay``, ``"adamw"``) says otherwise: over fifty
    epochs it otherwise fits the noise
    of a noisy target (measured in ``benchmarks/bench_regression.py``). Set ``weight_decay=0``
    for none; a builder's model keeps its optimizer's own.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from skclr import CLRRegressor
    >>> X, y = make_regression(n_samples=200, n_features=8, n_targets=2, random_state=0)
    >>> reg = CLRRegressor(schedule="one_cycle", max_lr=1e-2, epochs=2, random_state=0).fit(X, y)
    >>> reg.predict(X[:3]).shape, len(reg.history_["lr"])
    ((3, 2), 2)
    """

    _parameter_constraints: dict = {
        **_CLRWrapper._parameter_constraints, "class_weight": [None], "standardize_target": ["boolean"]
    }
    # Fifty epochs of the reference network fit the noise of a noisy target: on Wage (R² about 0.3)
    # one-cycle's R² fell from 0.325 at 20 epochs to 0.286 at 50. Weight decay 1.0 (per step,
    # 1.0 times the rate) restores it, 0.1 and 0.3 do not, and over the six sets of
    # benchmarks/bench_regression.py it moves R² by -0.017 to +0.040 (mean +0.007).
    _reference_weight_decay = 1.0
    _default_loss = "mse"
    _output_activation = "linear"
    _target_checks: dict = {"y_numeric": True, "multi_output": True}
    _constant_name = "the target's mean"

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
        weight_decay: float | None = None,
        n_threads: int | None = None,
        optimizer: Any = "adam",
        loss: Any = None,
        metrics: list | None = None,
        batch_size: int | None = 32,
        epochs: int = 20,
        validation_split: float = 0.0,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
        warm_start: bool = False,
        shuffle: bool = True,
        run_eagerly: bool = False,
        callbacks: list | None = None,
        class_weight: dict | str | None = None,
        validation_batch_size: int | None = None,
        standardize_target: bool = True,
        **kwargs: Any,
    ):
        # Every parameter written out, as MLPRegressor does: scikit-learn reads the parameters and
        # their defaults from this signature (get_params, clone, repr), and refuses *args.
        super().__init__(
            model,
            hidden_layer_sizes=hidden_layer_sizes,
            dropout=dropout,
            negative_slope=negative_slope,
            schedule=schedule,
            learning_rate=learning_rate,
            base_lr=base_lr,
            max_lr=max_lr,
            step_size=step_size,
            gamma=gamma,
            power=power,
            decay=decay,
            drop=drop,
            drop_every=drop_every,
            pct_start=pct_start,
            warmup=warmup,
            end_lr=end_lr,
            restart_every=restart_every,
            restart_mult=restart_mult,
            lr_finder=lr_finder,
            cycle_momentum=cycle_momentum,
            base_momentum=base_momentum,
            max_momentum=max_momentum,
            clipvalue=clipvalue,
            weight_decay=weight_decay,
            n_threads=n_threads,
            optimizer=optimizer,
            loss=loss,
            metrics=metrics,
            batch_size=batch_size,
            epochs=epochs,
            validation_split=validation_split,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
            shuffle=shuffle,
            run_eagerly=run_eagerly,
            callbacks=callbacks,
            class_weight=class_weight,
            validation_batch_size=validation_batch_size,
            **kwargs,
        )
        self.standardize_target = standardize_target

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
        """Predict target values for ``X`` in the target's units (float64, one column per target when
        ``y`` was 2-D)."""
        return super().predict(X, **kwargs)  # target_encoder_ un-scales the network's output

    def _check_target(self, y, whole_training_set: bool) -> np.ndarray:
        return y  # validate_data with y_numeric=True has refused text, NaN and inf

    def _output_units(self) -> int:
        return self.n_outputs_

    def _constant_prediction(self, y, sample_weight) -> np.ndarray | None:
        if self.model_.loss not in (self._default_loss, "mean_squared_error"):
            return None  # the mean is the best constant under the squared error only
        weights = sample_weight if sample_weight is not None and np.sum(sample_weight) > 0 else None
        return np.average(np.reshape(y, (len(y), -1)), axis=0, weights=weights)


def _output_width(model) -> int | None:
    """The last dimension of a model's one output; None for several outputs or a subclassed model."""
    outputs = getattr(model, "outputs", None)
    try:
        return int(outputs[0].shape[-1]) if outputs and len(outputs) == 1 else None
    except (TypeError, ValueError, AttributeError):
        return None
