"""One call of an estimator (``fit``, ``partial_fit``, ``find_lr``), and what one model keeps between calls.

``FitRun`` is built by the estimator's method from its parameters and the call's arguments, and
held as the estimator's ``_run`` while scikeras drives the call (``BaseWrapper.fit`` → ``_fit`` →
``_initialize`` → ``_fit_keras_model`` → the estimator's ``_train`` → :meth:`FitRun.train`). Its
steps, top to bottom:

1. the arguments of ``keras.Model.fit`` and the ``TrainingPlan`` (``skclr._plan``) they make;
2. the optimizer: at every ``fit`` (and the first ``partial_fit`` of a model) the current
   parameters' clipping and weight decay, the range test if asked, and a ``SchedulePlan``; later
   ``partial_fit`` calls go on with the running schedule. ``find_lr`` stops here;
3. the loss the run is judged against, and the one call to ``keras.Model.fit``, on the model or on
   a shared copy with its traced steps (``skclr._runner``), watched by ``EpochMonitor``
   (``skclr._monitor``) and, with ``early_stopping``, ``ValidationStop`` on the rows ``hold_out``
   set aside before scikeras saw the data (``skclr._early_stopping``);
4. the history and MLP's fitted attributes (``loss_curve_``, ``n_iter_``...), divergence, and after ``fit`` whether the returned model collapsed or learned less
   than a constant: the run's ``warnings``, which the estimator's method says to its caller.

``ModelRecord`` is what the estimator keeps of ``model_`` from one call to the next (as
``_model_record``): what its optimizer came with, its untrained loss, and the schedule that later
``partial_fit`` calls continue. A new model starts without one; ``clone`` does not carry it, a
pickle does (``partial_fit`` and warm starts after unpickling continue the same schedule).
"""

from __future__ import annotations

import contextlib
import copy
from collections import defaultdict
from dataclasses import dataclass, field

import keras
import numpy as np
from sklearn.base import clone

from skclr import _optimizer
from skclr._early_stopping import HeldOut, ValidationStop, hold_out, mlp_attributes
from skclr._labels import MULTIOUTPUT, subset_accuracy
from skclr._monitor import (
    START_ROWS, EpochMonitor, FailedTrainingWarning, inference_loss, refuse_unreduced_loss, start_loss,
)
from skclr._plan import SchedulePlan, TrainingPlan
from skclr._runner import training_copy, validation_batches
from skclr._scikeras import callback_params, first_rows, history_key, num_rows, remake_callbacks
from skclr.finder import LRFinder

__all__ = ["FIND_LR", "FIT", "INITIALIZE", "PARTIAL_FIT", "FitRun", "ModelRecord"]

#: The calls a run can be: ``initialize`` builds ``model_`` without training (scikeras's method).
FIT, PARTIAL_FIT, FIND_LR, INITIALIZE = "fit", "partial_fit", "find_lr", "initialize"


@dataclass
class ModelRecord:
    """What the estimator keeps of ``model_`` from one call to the next.

    Attributes
    ----------
    clipvalue, weight_decay : float or None
        The optimizer's own, as the model came: what ``clipvalue=None`` and ``weight_decay=None``
        leave in place, however often a warm start sets others.
    untrained_loss : float or None
        The model's loss before its first training: divergence is judged against it.
    schedule_plan : SchedulePlan or None
        The schedule last planned; ``partial_fit`` calls after the first go on with it.
    callback_params : dict
        The parameters the estimator's callbacks were made from: a later call with others makes them again.
    """

    clipvalue: float | None
    weight_decay: float | None
    untrained_loss: float | None = None
    schedule_plan: SchedulePlan | None = None
    callback_params: dict = field(default_factory=dict)


class FitRun:
    """One call of an estimator: its arguments, plan, range test, training and report.

    Parameters
    ----------
    estimator : CLRClassifier or CLRRegressor
        The estimator whose parameters the run reads and whose ``model_`` and fitted attributes
        it sets.
    call : {"fit", "partial_fit", "find_lr", "initialize"}
        ``find_lr`` prepares the optimizer as ``fit`` would, range test included, and trains
        nothing; ``initialize`` neither (the model is used as given).
    sample_weight : ndarray or None
        The call's validated weights (the regressor's target scaling is fitted with them).

    Attributes
    ----------
    warnings : list of Warning
        What the run has to say once the call returns (said by the estimator's method, so that
        it points at the user's call).
    finder : LRFinder or None
        The range test this run ran, if any.
    target_rows : int or None
        Rows Keras trains on when ``validation_split`` holds the rest out (the regressor's target
        scaling is fitted on them); None: all.
    held_out : HeldOut or None
        The rows ``early_stopping`` set aside (``hold_out``); None without early stopping.
    """

    def __init__(self, estimator, call: str, sample_weight: np.ndarray | None = None):
        if call == PARTIAL_FIT and getattr(estimator, "early_stopping", False):
            raise ValueError(  # MLP's words; a partial_fit call is one epoch, with nothing to stop
                "partial_fit does not support early_stopping=True: each call trains one epoch on the "
                "rows it is given. Set early_stopping=False, or use fit."
            )
        self.estimator = estimator
        self.call = call
        self.sample_weight = sample_weight
        self.warnings: list[Warning] = []
        self.finder: LRFinder | None = None
        self.target_rows: int | None = None  # the regressor's: rows Keras trains on, when validation_split holds some out
        self.held_out: HeldOut | None = None

    def hold_out(self, X, y, sample_weight, fit_kwargs: dict):
        """``early_stopping``'s split, before scikeras sees the data (``skclr._early_stopping``): the
        training rows, which everything else (classes, target scaling, range test, schedule) sees;
        ``X, y, sample_weight`` as given without early stopping."""
        if not getattr(self.estimator, "early_stopping", False) or self.call not in (FIT, FIND_LR):
            return X, y, sample_weight
        X, y, sample_weight, self.held_out = hold_out(self.estimator, X, y, sample_weight, fit_kwargs)
        self.sample_weight = sample_weight
        return X, y, sample_weight

    @contextlib.contextmanager
    def running(self):
        """Hold this run as the estimator's ``_run`` while scikeras drives the call; drop it after."""
        self.estimator._run = self
        try:
            yield self
        finally:
            vars(self.estimator).pop("_run", None)

    @property
    def scales_target(self) -> bool:
        """Whether the regressor's target scaling is fitted (not for a model used as given)."""
        return self.call != INITIALIZE

    # -- the steps --------------------------------------------------------------

    def train(self, X, y, sample_weight, fit_args: dict, warm_start: bool) -> None:
        """What scikeras's ``_fit_keras_model`` asks of the estimator, step by step."""
        record, fresh = self._model_record()
        self._current_callbacks(record, fresh)
        callbacks = self._complete_fit_args(X, sample_weight, fit_args)
        plan = TrainingPlan.from_fit_args(num_rows(X), fit_args)
        refuse_unreduced_loss(self.estimator.model_, X, y)
        self._prepare_optimizer(plan, X, y, sample_weight, record, fresh)
        if self.call == FIND_LR:
            return  # the range test was all it asked for
        weights = None if sample_weight is None else sample_weight[: plan.n_train]
        rows = (first_rows(X, plan.n_train), first_rows(y, plan.n_train), weights)  # what Keras fits
        judged, own = self._start_losses(rows, record, fresh)
        monitor = EpochMonitor(judged, range_test=bool(self.estimator.lr_finder), own_start=own)
        stop = self._validation_stop()
        history = self._fit_keras(plan, X, y, fit_args, callbacks, [monitor] + ([stop] if stop else []))
        self._keep_history(history, warm_start, fit_args["initial_epoch"])
        mlp_attributes(self.estimator, history.get("loss", []), plan.n_train, continues=not fresh, stop=stop)
        monitor.raise_if_diverged(len(self.estimator.history_["loss"]))  # judged on every epoch run
        if stop is not None and stop.best_epoch is not None:  # the model returned is the best epoch's
            del monitor.epochs[stop.best_epoch + 1 :]
        if self.call == FIT:
            self._judge_the_result(monitor, plan, rows, y, sample_weight)

    def _validation_stop(self) -> ValidationStop | None:
        """``early_stopping``'s callback: the held-out rows encoded as the model takes them, scored
        as the estimator's ``score`` scores its ``predict``."""
        if self.held_out is None:
            return None
        estimator, held = self.estimator, self.held_out
        X = estimator.feature_encoder_.transform(estimator._validate_data(X=held.X, y=None)[0])

        # accuracy_score refuses a multiclass-multioutput y, which score measures by subset accuracy
        multioutput = getattr(estimator, "_target_kind", lambda: None)() == MULTIOUTPUT
        scorer = subset_accuracy if multioutput else estimator.scorer

        def score(outputs) -> float:
            y_pred = estimator.target_encoder_.inverse_transform(outputs)
            return scorer(held.y, y_pred, sample_weight=held.sample_weight)

        return ValidationStop(score, X, estimator.n_iter_no_change, estimator.tol)

    def _complete_fit_args(self, X, sample_weight, fit_args: dict) -> list:
        """``fit_args`` as ``keras.Model.fit`` takes them (``-1``: the whole data); the callbacks
        apart, the estimator's own first."""
        for key in ("batch_size", "validation_batch_size"):
            if fit_args.get(key) == -1:
                fit_args[key] = num_rows(X)
        fit_args["sample_weight"] = sample_weight
        return [*self.estimator._fit_callbacks, *(fit_args.pop("callbacks", None) or [])]

    def _current_callbacks(self, record: ModelRecord, fresh: bool) -> None:
        """The estimator's callbacks made from its current parameters: a continuation (warm start,
        ``partial_fit``) after ``set_params(callbacks=...)`` uses the new ones, as a new model would."""
        params = callback_params(self.estimator)
        if not fresh and not _same(params, record.callback_params):
            remake_callbacks(self.estimator)
        # copies of the lists and dicts: a callback appended in place to the same list is a change too
        record.callback_params = {key: copy.copy(value) if isinstance(value, (list, dict)) else value
                                  for key, value in params.items()}  # fmt: skip

    def _model_record(self) -> tuple[ModelRecord, bool]:
        """The estimator's record of ``model_``, and whether the model is fresh: just built, its
        record started here with what its optimizer came with (a builder's model may be compiled
        only by scikeras's ``_fit``, so not earlier)."""
        estimator = self.estimator
        record = getattr(estimator, "_model_record", None)
        if record is not None:
            return record, False
        optimizer = _optimizer.inner(estimator.model_.optimizer)
        record = estimator._model_record = ModelRecord(optimizer.clipvalue, optimizer.weight_decay)
        return record, True

    def _prepare_optimizer(
        self, plan: TrainingPlan, X, y, sample_weight, record: ModelRecord, fresh: bool
    ) -> None:
        """Give the optimizer this call's settings: at every ``fit`` and a first ``partial_fit``,
        the current parameters' clipping, weight decay and schedule (after the range test, if
        asked); later ``partial_fit`` calls go on with the running schedule."""
        estimator = self.estimator
        model = estimator.model_
        optimizer = model.optimizer
        if fresh and not optimizer.built:  # built inside the first trace, it would cost a second trace
            optimizer.build(model.trainable_variables)
        if estimator.cycle_momentum:  # refused before the range test, not after it
            _optimizer.check_momentum_can_cycle(optimizer)
        iteration = int(optimizer.iterations)
        if self.call == PARTIAL_FIT and not fresh:
            self._warn_past_the_end(record.schedule_plan, iteration + plan.steps_per_epoch)
            return
        clipvalue = record.clipvalue if estimator.clipvalue is None else estimator.clipvalue
        _optimizer.set_clipvalue(optimizer, clipvalue)
        _optimizer.set_weight_decay(optimizer, self._weight_decay(record))
        rates = self._range_test_rates(plan, X, y, sample_weight, fresh)
        record.schedule_plan = self._attach_schedule(plan, rates, iteration, fresh)

    def _attach_schedule(self, plan: TrainingPlan, rates: dict, iteration: int, fresh: bool) -> SchedulePlan:
        """The schedule of the current parameters (``rates``: the range test's) from ``iteration``
        on, attached to the optimizer; ``schedule_`` and the rates' fitted attributes set."""
        estimator = self.estimator
        model = estimator.model_
        epochs = estimator._configured_epochs() if self.call == PARTIAL_FIT else plan.epochs
        schedule_plan = SchedulePlan.build(
            estimator.schedule, estimator._settings(**rates), steps_per_epoch=plan.steps_per_epoch,
            epochs=epochs, start=iteration, momentum=estimator._momentum_bounds(),
        )  # fmt: skip
        schedule = _optimizer.attach_rate(model.optimizer, schedule_plan.schedule, replaces_ours=not fresh)
        estimator.schedule_ = schedule
        model.train_function = None  # the rate is read when the train step is traced
        for name in ("learning_rate", "base_lr", "max_lr"):
            vars(estimator).pop(f"{name}_", None)  # a warm start may have changed the schedule
            if name in schedule_plan.rates:
                setattr(estimator, f"{name}_", schedule_plan.rates[name])
        return schedule_plan

    def _warn_past_the_end(self, schedule_plan: SchedulePlan, end_of_call: int) -> None:
        """A ``partial_fit`` call that runs past the end of the schedule planned on the first call."""
        estimator = self.estimator
        if schedule_plan.end is not None and end_of_call > schedule_plan.end:
            final = _optimizer.rate_at(estimator.schedule_, schedule_plan.end - 1)
            self.warnings.append(RuntimeWarning(
                f"partial_fit runs past the end of the {estimator.schedule!r} schedule planned for "
                f"epochs={estimator._configured_epochs()} calls; it trains at the final rate {final:.3g}. "
                "Raise epochs, or use a cyclical schedule."
            ))  # fmt: skip

    def _weight_decay(self, record: ModelRecord) -> float | None:
        """The weight decay this call trains with: the parameter; else the optimizer's own (routed
        ``optimizer__weight_decay``, an ``AdamW``, a compiled model's); else, for the reference
        network, the task's default (``_reference_weight_decay``)."""
        estimator = self.estimator
        if estimator.weight_decay is not None:
            return estimator.weight_decay
        if record.weight_decay is None and estimator._uses_reference_network():
            return estimator._reference_weight_decay
        return record.weight_decay

    def _range_test_rates(self, plan: TrainingPlan, X, y, sample_weight, fresh: bool) -> dict:
        """The rates the range test sets: run now on a fresh model, kept by a warm-started fit of
        the same model unless the finder's settings changed; {} without one."""
        estimator = self.estimator
        if not estimator.lr_finder:
            vars(estimator).pop("lr_finder_", None)
            return {}
        finder = clone(estimator.lr_finder) if isinstance(estimator.lr_finder, LRFinder) else LRFinder()
        if finder.random_state is None and estimator._random_state is not None:
            finder.set_params(random_state=estimator._random_state)
        earlier = None if fresh else getattr(estimator, "lr_finder_", None)
        if earlier is None or earlier.get_params() != finder.get_params():
            self.finder = self._range_test(finder, plan, X, y, sample_weight)
            estimator.lr_finder_ = earlier = self.finder
        base_lr, max_lr = earlier.clr_bounds()
        return dict(learning_rate=earlier.suggestion_, base_lr=base_lr, max_lr=max_lr)

    def _range_test(self, finder: LRFinder, plan: TrainingPlan, X, y, sample_weight) -> LRFinder:
        """``finder`` run on ``model_`` with the rows and batch size Keras will train on, seeded."""
        with self.estimator._seeded():
            return finder.find(
                self.estimator.model_, first_rows(X, plan.n_train), first_rows(y, plan.n_train),
                batch_size=plan.batch_size,
                sample_weight=None if sample_weight is None else sample_weight[: plan.n_train],
            )  # fmt: skip

    def _start_losses(self, rows: tuple, record: ModelRecord, fresh: bool) -> tuple[float | None, float | None]:
        """The loss divergence is judged against, and the loss this call starts from.

        The first is the untrained model's. A warm start begins from a trained model, whose loss may
        be far lower (judged against it, a sane fit would be flagged), or, on new data, higher: it is
        judged against the larger of the two. Whether training came back from a blow-up is judged
        against the second (a warm start that blew up and fell back to the untrained loss lost all
        it had learned)."""
        start = start_loss(self.estimator.model_, *rows)
        if fresh:
            record.untrained_loss = start
        losses = [loss for loss in (start, record.untrained_loss) if loss is not None]
        return max(losses, default=None), start

    def _fit_keras(self, plan: TrainingPlan, X, y, fit_args: dict, callbacks: list, ours: list) -> dict:
        """The one call to ``keras.Model.fit``, on a shared copy of the model where that is allowed;
        its history. ``ours``: the run's own per-epoch callbacks (the monitor, early stopping), which
        read the model Keras trains and so do not stop it from being shared."""
        estimator = self.estimator
        model = estimator.model_
        self._run_epochs_in_one_call(plan, callbacks)
        # Keras's traced steps are shared across fits unless a user's callback would see the copy
        shareable = self.call == FIT and not callbacks and not estimator.cycle_momentum
        validation = fit_args.get("validation_data")
        data = (X, y, fit_args["sample_weight"], validation, fit_args.get("class_weight") is not None)
        if validation is not None:  # the batches Keras would cut, cheaper to iterate
            batch_size = fit_args.get("validation_batch_size") or plan.batch_size
            fit_args["validation_data"] = validation_batches(validation, batch_size)
        copy = training_copy(model, plan.steps, data, shareable)  # entered after the seed and momentum
        with estimator._seeded(), self._momentum_cycled(), copy as trained:
            history = trained.fit(x=X, y=y, **fit_args, callbacks=[*callbacks, *ours]).history
        return history

    def _keep_history(self, history: dict, warm_start: bool, initial_epoch: int) -> None:
        """``history_`` under scikeras's names; a warm start or ``partial_fit`` adds to it."""
        estimator = self.estimator
        if not warm_start or not hasattr(estimator, "history_") or initial_epoch == 0:
            estimator.history_ = defaultdict(list)
        for key, values in history.items():
            estimator.history_[history_key(key)] += values

    def _judge_the_result(
        self, monitor: EpochMonitor, plan: TrainingPlan, rows: tuple, y, sample_weight
    ) -> None:
        """Whether the model ``fit`` returns collapsed or learned less than a constant: a warning."""
        estimator = self.estimator
        model = estimator.model_
        constant = None
        if isinstance(y, np.ndarray):  # a multi-output model's list or dict of targets: no one constant
            measured = y[: min(plan.n_train, START_ROWS)]  # the rows inference_loss reads
            weights = None if sample_weight is None else sample_weight[: len(measured)]
            constant = estimator._constant_prediction(measured, weights)
        constant_loss = None if constant is None else inference_loss(model, *rows, y_pred=constant)
        failure = monitor.failure(inference_loss(model, *rows), constant_loss, estimator._constant_name)
        if failure is not None:
            self.warnings.append(FailedTrainingWarning(failure))

    # -- how Keras runs ----------------------------------------------------------

    def _run_epochs_in_one_call(self, plan: TrainingPlan, callbacks: list) -> None:
        """Let Keras run each epoch's steps in one graph call, unless a callback wants every batch.

        Per-epoch logs, ``history_["lr"]`` and the divergence check stay exact: they are read at
        epoch ends, which every call ends on.
        """
        model = self.estimator.model_
        per_batch = any(_has_batch_hooks(callback) for callback in callbacks)
        steps = 1 if per_batch or self.estimator.run_eagerly else plan.steps_per_epoch
        if model.steps_per_execution != steps:
            model.steps_per_execution = steps
            model.train_function = model.test_function = None

    @contextlib.contextmanager
    def _momentum_cycled(self):
        """While Keras trains, the momentum follows the schedule (see ``cycle_momentum``)."""
        estimator = self.estimator
        if not estimator.cycle_momentum:
            yield
            return
        estimator.model_.train_function = None  # traced again: the train step reads the cycled momentum
        try:
            with _optimizer.cycled_momentum(estimator.model_.optimizer, estimator.schedule_):
                yield
        finally:
            estimator.model_.train_function = None


_BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end")


def _same(params: dict, earlier: dict) -> bool:
    try:
        return params.keys() == earlier.keys() and all(
            value is earlier[key] or bool(value == earlier[key]) for key, value in params.items()
        )
    except (TypeError, ValueError):  # a value without a truth value for ==
        return False


def _has_batch_hooks(callback: keras.callbacks.Callback) -> bool:
    """Whether a callback does something per batch: a hook overridden by its class or set on the instance
    (``LambdaCallback(on_train_batch_end=...)``)."""
    for hook in _BATCH_HOOKS:
        method = getattr(callback, hook)
        if getattr(method, "__func__", method) is not getattr(keras.callbacks.Callback, hook):
            return True
    return False
