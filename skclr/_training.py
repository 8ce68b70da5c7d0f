"""One call to ``keras.Model.fit`` and everything around it: the optimizer's settings for the call
(clipping, the range test if asked, the schedule rebuilt from the current parameters), the
monitoring of the run, and the history.

- ``_prepare_optimizer``: at every ``fit`` (and the first ``partial_fit``), the current parameters'
  clipping and a ``SchedulePlan`` (``skclr._plan``), after the range test if asked; later
  ``partial_fit`` calls go on with the running schedule.
- ``_train``: the call itself, on the model or on a shared copy with its traced steps
  (``skclr._runner``), with ``EpochMonitor`` (``skclr._monitor``) reporting the rate per
  epoch, stopping at divergence and, after ``fit``, judging whether the returned model collapsed
  or learned less than a constant prediction.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict

import keras
import numpy as np
from sklearn.base import clone

from skclr import _optimizer
from skclr._monitor import START_ROWS, EpochMonitor, inference_loss, start_loss
from skclr._plan import SchedulePlan, TrainingPlan
from skclr._runner import training_copy, validation_batches
from skclr._scikeras import first_rows, history_key, num_rows
from skclr.finder import LRFinder

__all__ = ["Training"]


class Training:
    """The estimators' training: the optimizer for each call, the call to ``keras.Model.fit``, the report."""

    def _initialize(self, X, y=None):
        X, y = super()._initialize(X, y)
        self._fresh_model = True  # a builder's model may be compiled only later, by scikeras's _fit
        return X, y

    def _prepare_optimizer(self, plan: TrainingPlan, X, y, sample_weight, fresh: bool) -> None:
        """Give the optimizer this call's settings: at every ``fit`` and a first ``partial_fit``,
        the current parameters' clipping and schedule (after the range test, if asked); later
        ``partial_fit`` calls go on with the running schedule. ``fresh``: the model was just built."""
        model = self.model_
        optimizer = model.optimizer
        if fresh:
            self._own_clipvalue = _optimizer.inner(optimizer).clipvalue  # what clipvalue=None leaves in place
            self._own_weight_decay = _optimizer.inner(optimizer).weight_decay  # ... and weight_decay=None
            if not optimizer.built:  # built inside the first trace, it would cost a second trace
                optimizer.build(model.trainable_variables)
        if self.cycle_momentum:  # refused before the range test, not after it
            _optimizer.check_momentum_can_cycle(optimizer)
        iteration = int(optimizer.iterations)
        if self._call == "partial_fit" and not fresh:
            if self._schedule_plan.end is not None and iteration + plan.steps_per_epoch > self._schedule_plan.end:
                final = _optimizer.rate_at(self.schedule_, self._schedule_plan.end - 1)
                self._call_warnings.append(RuntimeWarning(
                    f"partial_fit runs past the end of the {self.schedule!r} schedule planned for "
                    f"epochs={self._configured_epochs()} calls; it trains at the final rate {final:.3g}. "
                    "Raise epochs, or use a cyclical schedule."
                ))  # fmt: skip
            return
        _optimizer.set_clipvalue(optimizer, self._own_clipvalue if self.clipvalue is None else self.clipvalue)
        _optimizer.set_weight_decay(optimizer, self._weight_decay())
        epochs = plan.epochs if self._call == "fit" else self._configured_epochs()
        schedule_plan = SchedulePlan.build(
            self.schedule, self._settings(**self._range_test_rates(plan, X, y, sample_weight, fresh)),
            steps_per_epoch=plan.steps_per_epoch, epochs=epochs, start=iteration, momentum=self._momentum_bounds(),
        )  # fmt: skip
        self.schedule_ = _optimizer.attach_rate(optimizer, schedule_plan.schedule, replaces_ours=not fresh)
        model.train_function = None  # the rate is read when the train step is traced
        self._schedule_plan = schedule_plan
        for name in ("learning_rate", "base_lr", "max_lr"):
            vars(self).pop(f"{name}_", None)  # a warm start may have changed the schedule
            if name in schedule_plan.rates:
                setattr(self, f"{name}_", schedule_plan.rates[name])

    def _weight_decay(self) -> float | None:
        """The weight decay this fit trains with: the parameter; else the optimizer's own (routed
        ``optimizer__weight_decay``, an ``AdamW``, a compiled model's); else, for the reference
        network, the task's default (``_reference_weight_decay``)."""
        if self.weight_decay is not None:
            return self.weight_decay
        if self._own_weight_decay is None and self._uses_reference_network():
            return self._reference_weight_decay
        return self._own_weight_decay

    def _range_test_rates(self, plan: TrainingPlan, X, y, sample_weight, fresh: bool) -> dict:
        """The rates the range test sets: run now on a new model, kept by a warm-started fit of the
        same model unless the finder's settings changed; {} without one."""
        if not self.lr_finder:
            vars(self).pop("lr_finder_", None)
            return {}
        finder = clone(self.lr_finder) if isinstance(self.lr_finder, LRFinder) else LRFinder()
        if finder.random_state is None and self._random_state is not None:
            finder.set_params(random_state=self._random_state)
        earlier = None if fresh else getattr(self, "lr_finder_", None)
        if earlier is None or earlier.get_params() != finder.get_params():
            with self._seeded():
                finder.find(
                    self.model_, first_rows(X, plan.n_train), first_rows(y, plan.n_train),
                    batch_size=plan.batch_size,
                    sample_weight=None if sample_weight is None else sample_weight[: plan.n_train],
                )  # fmt: skip
            self.lr_finder_ = earlier = finder
        base_lr, max_lr = earlier.clr_bounds(max_div=self._range_test_max_div)
        return dict(learning_rate=earlier.suggestion_, base_lr=base_lr, max_lr=max_lr)

    def _train(self, X, y, sample_weight, fit_args: dict, warm_start: bool) -> None:
        """The one call to ``keras.Model.fit``: arguments, plan, schedule, monitoring, history."""
        for key in ("batch_size", "validation_batch_size"):
            if fit_args.get(key) == -1:
                fit_args[key] = num_rows(X)
        callbacks = [*self._fit_callbacks, *(fit_args.pop("callbacks", None) or [])]
        fit_args["sample_weight"] = sample_weight
        plan = TrainingPlan.from_fit_args(num_rows(X), fit_args)
        fresh, self._fresh_model = self._fresh_model, False
        self._prepare_optimizer(plan, X, y, sample_weight, fresh)
        if getattr(self, "_only_range_test", False):
            return
        model = self.model_
        rows = (first_rows(X, plan.n_train), first_rows(y, plan.n_train), sample_weight)  # what Keras fits
        # Divergence is judged against the untrained model's loss. A warm start begins from a trained
        # model, whose loss may be far lower (judged against it, a sane fit would be flagged), or, on
        # new data, higher: it is judged against the larger of the two.
        start = start_loss(model, *rows)
        if fresh:
            self._untrained_loss = start
        losses = [loss for loss in (start, getattr(self, "_untrained_loss", None)) if loss is not None]
        monitor = EpochMonitor(max(losses, default=None), range_test=bool(self.lr_finder))
        self._run_epochs_in_one_call(plan, callbacks)
        # Keras's traced steps are shared across fits unless a user's callback would see the copy
        shareable = self._call == "fit" and not callbacks and not self.cycle_momentum
        data = (X, y, sample_weight, fit_args.get("validation_data"), fit_args.get("class_weight") is not None)
        if fit_args.get("validation_data") is not None:  # the batches Keras would cut, cheaper to iterate
            batch_size = fit_args.get("validation_batch_size") or plan.batch_size
            fit_args["validation_data"] = validation_batches(fit_args["validation_data"], batch_size)
        with self._seeded(), self._momentum_cycled(), training_copy(model, plan.steps, data, shareable) as trained:
            history = trained.fit(x=X, y=y, **fit_args, callbacks=[*callbacks, monitor]).history
        if not warm_start or not hasattr(self, "history_") or fit_args["initial_epoch"] == 0:
            self.history_ = defaultdict(list)
        for key, values in history.items():
            self.history_[history_key(key)] += values
        monitor.raise_if_diverged(len(self.history_["loss"]))
        if self._call == "fit":
            constant = None
            if isinstance(y, np.ndarray):  # a multi-output model's list or dict of targets: no one constant
                measured = y[: min(plan.n_train, START_ROWS)]  # the rows inference_loss reads
                weights = None if sample_weight is None else sample_weight[: len(measured)]
                constant = self._constant_prediction(measured, weights)
            constant_loss = None if constant is None else inference_loss(model, *rows, y_pred=constant)
            self._failure = monitor.failure(inference_loss(model, *rows), constant_loss, self._constant_name)

    def _constant_prediction(self, y, sample_weight) -> np.ndarray | None:
        """The best constant prediction of ``y`` (in the model's units) under the task's default loss;
        None under another loss."""
        raise NotImplementedError

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


_BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end")


def _has_batch_hooks(callback: keras.callbacks.Callback) -> bool:
    """Whether a callback does something per batch: a hook overridden by its class or set on the instance
    (``LambdaCallback(on_train_batch_end=...)``)."""
    for hook in _BATCH_HOOKS:
        method = getattr(callback, hook)
        if getattr(method, "__func__", method) is not getattr(keras.callbacks.Callback, hook):
            return True
    return False
