"""What a training run says about itself: the rate of each epoch, whether it diverged, and whether
the model it returns learned anything.

Three rules, all measured against the untrained model's loss (``start_loss``):

- divergence (an error): an epoch's mean training loss is not finite (training stops there), or
  the weights are not, or an epoch's loss blew up past :data:`DIVERGE_FACTOR` times the untrained
  model's and never came back: the last epoch's loss is not back within :data:`COLLAPSE_SHARE` of
  the way from the loss before training to the lowest loss before the blow-up (judged on every
  epoch run, also those after the epoch early stopping returns). Training goes on after a finite
  blow-up, because it can come back: one-cycle's peak may spike the loss of a few rows with extreme
  features and the annealing that follows bring it down to where it was (seen on TensorFlow, whose
  softmax loss is computed from the logits and so unbounded; on JAX, Keras clips the probabilities
  and a row's loss stays under about 16);
- collapse (a warning): the loss fell a meaningful share (:data:`MEANINGFUL_FALL`) of the untrained
  model's loss and the returned model's loss climbed back more than :data:`COLLAPSE_SHARE` of that
  fall above the best epoch's;
- no better than a constant (a warning): the returned model's loss is not :data:`CONSTANT_MARGIN`
  below the loss of the best constant prediction (the target's mean, the class prior) on the same
  rows, and not :data:`MEANINGFUL_FALL` below the untrained model's: it learned nothing. A model
  still worse than the constant but far better than it started is short of epochs, not failed.

A warm-started fit is judged against the larger of the untrained model's loss and the loss it starts
from (new data may start higher). The untrained and the returned model's losses are computed in
inference mode (no dropout) on the first :data:`START_ROWS` training rows, in one forward pass each
(:func:`inference_loss`); the best epoch's loss is the epoch's mean training loss, which dropout and
the moving weights only raise, so the collapse rule errs towards silence.
"""

from __future__ import annotations

import math

import keras
import numpy as np

from skclr import backend
from skclr._keras_internals import compute_loss
from skclr._optimizer import current_rate, cycled_momentum_value, highest_rate, inner
from skclr._shelf import architecture_key

__all__ = [
    "COLLAPSE_SHARE", "CONSTANT_MARGIN", "DIVERGE_FACTOR", "MEANINGFUL_FALL", "DivergenceError", "EpochMonitor",
    "FailedTrainingWarning", "as_tracked", "inference_loss", "refuse_unreduced_loss", "start_loss",
]  # fmt: skip

#: An epoch's mean training loss above this multiple of the untrained model's loss is a blow-up;
#: it is divergence unless training comes back. The range test ends its sweep at the same factor
#: over its best loss.
DIVERGE_FACTOR = 4.0
#: Rows of the training data on which the untrained and the returned model's losses are measured.
START_ROWS = 1024
#: A collapse: the returned model's loss is above the best epoch's by more than this share of the fall
#: from the untrained model's loss to the best; half the progress lost is no fluctuation.
COLLAPSE_SHARE = 0.5
#: The fall counts only when the best epoch's loss is at least this share below the untrained
#: model's: a loss that barely moved has no progress to lose, only noise.
MEANINGFUL_FALL = 0.1
#: No better than a constant: a loss above this share below the constant prediction's (a training
#: R² under 1% for the mean squared error) is what predicting the constant alone reaches.
CONSTANT_MARGIN = 0.01


class DivergenceError(RuntimeError):
    """Raised by ``fit`` when training diverges (see :data:`DIVERGE_FACTOR`)."""


class FailedTrainingWarning(RuntimeWarning):
    """Warned by ``fit`` when the returned model collapsed or learned no more than a constant."""


def inference_loss(model: keras.Model, X, y, sample_weight=None, y_pred=None) -> float:
    """The model's loss on the first :data:`START_ROWS` rows of the training data, in inference mode.

    One forward pass: eager on TensorFlow (no trace, a few milliseconds); on JAX, where each eager op
    compiles a program per shape in each process, one program per architecture
    (``backend.inference_loss_function``; eagerly for a model that cannot share one). ``y_pred`` (one
    row per row of ``X``, or one row broadcast to all) replaces the model's prediction: the loss of
    a constant prediction, with the regularization of the weights and no activity losses (a
    constant has no activations).
    """
    rows = keras.tree.map_structure(lambda a: a[:START_ROWS], (X, y))
    n_rows = len(keras.tree.flatten(rows[1])[0])  # the weights of all rows may come with fewer rows of X, y
    weights = None if sample_weight is None else np.asarray(sample_weight[:n_rows], dtype="float32")
    if y_pred is not None:
        y_pred = np.broadcast_to(y_pred, (len(rows[1]), *np.shape(y_pred)[-1:])).astype("float32")
    compiled = backend.inference_loss_function(model, architecture_key)  # the key only where it is used
    if compiled is not None:
        return as_tracked(keras.ops.convert_to_numpy(compiled(model, *rows, weights, y_pred)))
    if y_pred is None:
        loss = compute_loss(model, rows[0], rows[1], model(rows[0], training=False), weights, training=False)
        model.reset_metrics()  # computing a loss feeds the loss tracker
    else:  # stateless: the layers' activity losses of an earlier call would count as the constant's
        state = [[v.value for v in group] for group in (model.trainable_variables, model.non_trainable_variables,
                                                        model.metrics_variables)]  # fmt: skip
        loss, _ = model.stateless_compute_loss(*state, rows[0], rows[1], y_pred, weights, training=False)
    return as_tracked(keras.ops.convert_to_numpy(loss))


def refuse_unreduced_loss(model: keras.Model, X, y) -> None:
    """On JAX, raise ``TypeError`` before training when the model's loss gives one value per row.

    Keras's TensorFlow backend trains with such a loss (the gradient of the values' sum); its JAX
    backend differentiates only a scalar and fails inside the first step. Keras's own losses reduce,
    so only a user's loss is measured (one eager forward pass on a few rows)."""
    if backend.NAME != "jax" or all(_from_keras(loss) for loss in keras.tree.flatten(model.loss)):
        return
    rows = keras.tree.map_structure(lambda a: a[:8], (X, y))
    loss = compute_loss(model, rows[0], rows[1], model(rows[0], training=False), None, training=False)
    if np.ndim(keras.ops.convert_to_numpy(loss)):
        raise TypeError(
            f"The model's loss ({model.loss!r}) returns one value per row (shape {tuple(np.shape(loss))}); "
            "Keras's JAX backend trains only with a loss that reduces to one number (TensorFlow's sums "
            "the rows). Reduce it in the loss (e.g. keras.ops.mean, or a keras.losses.Loss subclass that "
            "implements call() and lets __call__ reduce), or use KERAS_BACKEND=tensorflow."
        )


def _from_keras(loss) -> bool:
    """Whether ``loss`` is a name or one of Keras's own loss functions or classes that reduces (all do
    but a ``keras.losses.Loss`` built with ``reduction=None`` or ``"none"``)."""
    if isinstance(loss, keras.losses.Loss) and loss.reduction in (None, "none"):
        return False
    home = loss if callable(loss) and not isinstance(loss, keras.losses.Loss) else type(loss)
    return loss is None or isinstance(loss, str) or getattr(home, "__module__", "").startswith("keras.")


def as_tracked(loss: np.ndarray) -> float:
    """A batch's loss as Keras's loss tracker (``history["loss"]``) records it, which the epochs' losses
    are compared with: a loss of one value per row (a ``keras.losses.Loss`` whose ``__call__`` does not
    reduce, which Keras trains with) counts as their mean. A scalar loss passes untouched."""
    loss = np.asarray(loss)
    return float(loss.mean() if loss.ndim else loss)


def start_loss(model: keras.Model, X, y, sample_weight=None) -> float | None:
    """The untrained model's :func:`inference_loss`; None when it is not a finite positive number
    (then only a non-finite loss counts as divergence, and no collapse is measured)."""
    loss = inference_loss(model, X, y, sample_weight)
    return loss if math.isfinite(loss) and loss > 0 else None


class EpochMonitor(keras.callbacks.Callback):
    """Per epoch: log the rate as ``lr`` (and a cycled momentum), note a blow-up, and stop at a
    non-finite loss; after training, say whether the returned model diverged, collapsed or learned
    less than a constant.

    Parameters
    ----------
    start_loss : float or None
        The untrained model's loss; None checks only for non-finite losses.
    range_test : bool, default=False
        Whether the range test chose the rates: then "let lr_finder choose the rates" is no advice.
    own_start : float or None, default=None
        The loss this run starts from, if not ``start_loss`` (a warm start's): the lowest loss
        before a blow-up when no epoch came before it.
    """

    def __init__(self, start_loss: float | None, range_test: bool = False, own_start: float | None = None):
        super().__init__()
        self.start_loss = start_loss
        self.own_start = start_loss if own_start is None else own_start
        self.range_test = range_test
        # the first epoch whose loss blew up or was not finite: epoch (from 0), the highest rate of
        # the run up to its end, loss
        self.blew_up_at: tuple[int, float, float] | None = None
        self.epochs: list[tuple[int, float, float]] = []  # epoch (from 0), mean training loss, rate
        self._first_step = 0
        self._compiled = True

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._first_step = int(inner(self.model.optimizer).iterations)  # a warm start goes on counting
        self._compiled = bool(self.model.jit_compile) and not self.model.run_eagerly

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = {} if logs is None else logs
        momentum = cycled_momentum_value(self.model.optimizer)
        if momentum is not None:  # cycle_momentum: the momentum of the epoch's last step
            logs["momentum"] = momentum
        logs["lr"] = current_rate(self.model.optimizer, self._compiled)
        loss = logs.get("loss")
        if loss is None:
            return
        self.epochs.append((epoch, float(loss), logs["lr"]))
        if self.blew_up_at is None and self._blew_up(float(loss)):
            # the rate that blew up is the highest so far, not the epoch's last (one-cycle, triangular)
            rate = highest_rate(self.model.optimizer, self._first_step, self._compiled)
            self.blew_up_at = (epoch, rate, float(loss))
        if not math.isfinite(loss):
            self.model.stop_training = True  # nothing comes back from a non-finite loss

    def _came_back(self, blown_epoch: int, last_loss: float) -> bool:
        """Whether the last epoch's loss is back near the lowest before the blow-up (or the run's start)."""
        lowest = min([loss for epoch, loss, _ in self.epochs if epoch < blown_epoch] + [self.own_start])
        return last_loss <= lowest + COLLAPSE_SHARE * (self.start_loss - lowest)

    def _blew_up(self, loss: float) -> bool:
        return not math.isfinite(loss) or (self.start_loss is not None and loss > DIVERGE_FACTOR * self.start_loss)

    def raise_if_diverged(self, epochs_run: int) -> None:
        """Raise :class:`DivergenceError` if the run diverged (see the module's docstring)."""
        last_epoch, last_loss = self.epochs[-1][:2] if self.epochs else (epochs_run - 1, math.nan)
        blown = self.blew_up_at
        what = ""
        if blown is not None and math.isfinite(blown[2]):
            epoch, rate, loss = blown
            what = (f"the training loss reached {loss:.3g}, more than {DIVERGE_FACTOR:g} times the loss "
                    f"before training, {self.start_loss:.3g}, in epoch {epoch + 1}, after the learning rate "
                    f"reached {rate:.3g}")  # fmt: skip
        # the loss is measured before each update: the very last one can still blow the weights up
        if (self.epochs and not math.isfinite(last_loss)) or not _all_finite(self.model.trainable_weights):
            non_finite = f"became non-finite in epoch {last_epoch + 1}"
            if what:
                what += f", then {non_finite}"
            else:
                rate = highest_rate(self.model.optimizer, self._first_step, self._compiled)
                what = f"the loss (or the weights) {non_finite}, after the learning rate reached {rate:.3g}"
        elif not what or self._came_back(blown[0], last_loss):
            return  # no blow-up, or training came back from it: the collapse rule judges the model
        else:
            what += f", and never came back (the last epoch's: {last_loss:.3g})"
        where = f"Training diverged: {what}"
        if not self.range_test:
            raise DivergenceError(
                f"{where}. Use a lower learning_rate/max_lr, set clipvalue, or let lr_finder=True choose "
                "the rates."
            )
        raise DivergenceError(
            f"{where}, within the rates the range test (lr_finder) chose. A range test on few rows or "
            "small batches is noisy and can place the rates at the edge of divergence: train on more data "
            "or with a larger batch_size, or set lower rates yourself with lr_finder=False (e.g. max_lr "
            "from est.find_lr(X, y).clr_bounds(max_div=16)), or set clipvalue."
        )


    def failure(self, end_loss: float, constant_loss: float | None, constant: str) -> str | None:
        """Why the returned model should not be trusted (a collapse, or no better than a constant), or None.

        Parameters
        ----------
        end_loss : float
            The returned model's :func:`inference_loss`, on the rows of ``start_loss``.
        constant_loss : float or None
            The best constant prediction's :func:`inference_loss` on the same rows; None skips that
            rule (for a loss whose best constant is not known).
        constant : str
            What that constant is, for the message (``"the target's mean"``).
        """
        if not self.epochs:
            return None
        reasons = [self._collapse(end_loss)]
        if self._no_better_than(constant_loss, end_loss):
            last_epoch, _, last_rate = self.epochs[-1]
            reasons.append(
                f"training ended no better than predicting {constant}: the returned model's loss on the "
                f"training rows is {end_loss:.3g}, the constant prediction's {constant_loss:.3g} (after "
                f"epoch {last_epoch + 1}, at learning rate {last_rate:.3g})"
            )
        message = "; ".join(reason for reason in reasons if reason)
        if not message:
            return None
        return (message[0].upper() + message[1:] + ". Lower learning_rate/max_lr (lr_finder=True chooses them "
                "on the training data), train for more epochs, or check that X carries information about y.")

    def _no_better_than(self, constant_loss: float | None, end_loss: float) -> bool:
        """The no-better-than-a-constant rule (see the module's docstring)."""
        if constant_loss is None or not math.isfinite(constant_loss):
            return False
        if end_loss <= (1 - CONSTANT_MARGIN) * constant_loss:
            return False
        return self.start_loss is None or end_loss > (1 - MEANINGFUL_FALL) * self.start_loss

    def _collapse(self, end_loss: float) -> str | None:
        """The collapse rule (see the module's docstring), with the epoch and rate where the loss rose."""
        best_epoch, best, _ = min(self.epochs, key=lambda entry: entry[1])
        if self.start_loss is None or self.start_loss - best <= MEANINGFUL_FALL * self.start_loss:
            return None
        threshold = best + COLLAPSE_SHARE * (self.start_loss - best)
        if not end_loss > threshold:  # a non-finite loss is divergence's
            return None
        risen = [(epoch, rate) for epoch, loss, rate in self.epochs if epoch > best_epoch and loss > threshold]
        epoch, rate = risen[0] if risen else (self.epochs[-1][0], self.epochs[-1][2])
        return (f"training collapsed: the loss fell from the untrained model's {self.start_loss:.3g} to "
                f"{best:.3g} in epoch {best_epoch + 1}, then rose above {threshold:.3g} in epoch {epoch + 1} at "
                f"learning rate {rate:.3g}; the returned model's loss on the training rows is {end_loss:.3g}")


def _all_finite(variables) -> bool:
    # checked in NumPy: on JAX each weight's shape would compile two programs of its own (isfinite, all)
    return all(np.isfinite(np.asarray(v.value)).all() for v in variables)
