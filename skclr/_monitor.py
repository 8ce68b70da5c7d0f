"""What a training run says about itself: the rate of each epoch, and whether it diverged."""

from __future__ import annotations

import math

import keras
import numpy as np

from skclr._optimizer import current_rate, cycled_momentum_value

__all__ = ["DIVERGE_FACTOR", "DivergenceError", "EpochMonitor", "start_loss"]

#: Training diverged when an epoch's mean training loss is not finite or exceeds this multiple of
#: the untrained model's loss: the range test ends its sweep at the same factor over its best loss.
DIVERGE_FACTOR = 4.0
#: Rows of the training data on which the untrained model's loss is measured.
START_ROWS = 1024


class DivergenceError(RuntimeError):
    """Raised by ``fit`` when training diverges (see :data:`DIVERGE_FACTOR`)."""


def start_loss(model: keras.Model, X, y, sample_weight=None) -> float | None:
    """The untrained model's loss on the first rows of the training data, in inference mode.

    One eager forward pass over at most :data:`START_ROWS` rows: no trace, a few milliseconds.
    None when the loss is not a finite positive number (then only a non-finite loss counts).
    """
    rows = keras.tree.map_structure(lambda a: a[:START_ROWS], (X, y))
    weights = None if sample_weight is None else np.asarray(sample_weight[:START_ROWS], dtype="float32")
    loss = model._compute_loss(x=rows[0], y=rows[1], y_pred=model(rows[0], training=False),
                               sample_weight=weights, training=False)  # fmt: skip
    model.reset_metrics()  # computing a loss feeds the loss tracker
    loss = float(keras.ops.convert_to_numpy(loss))
    return loss if math.isfinite(loss) and loss > 0 else None


class EpochMonitor(keras.callbacks.Callback):
    """Per epoch: log the rate as ``lr`` (and a cycled momentum), and stop at divergence.

    Parameters
    ----------
    start_loss : float or None
        The untrained model's loss; None checks only for non-finite losses.
    """

    def __init__(self, start_loss: float | None):
        super().__init__()
        self.start_loss = start_loss
        self.diverged_at: tuple[int, float, float] | None = None  # epoch (from 0), rate, loss

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = {} if logs is None else logs
        momentum = cycled_momentum_value(self.model.optimizer)
        if momentum is not None:  # cycle_momentum: the momentum of the epoch's last step
            logs["momentum"] = momentum
        logs["lr"] = current_rate(self.model.optimizer)
        loss = logs.get("loss")
        if loss is not None and self._diverged(float(loss)):
            self.diverged_at = (epoch, logs["lr"], float(loss))
            self.model.stop_training = True

    def _diverged(self, loss: float) -> bool:
        return not math.isfinite(loss) or (self.start_loss is not None and loss > DIVERGE_FACTOR * self.start_loss)

    def raise_if_diverged(self, epochs_run: int) -> None:
        """Raise :class:`DivergenceError` if an epoch diverged or the weights are no longer finite."""
        if self.diverged_at is None and not _all_finite(self.model.trainable_weights):
            # the loss is measured before each update: the very last one can still blow up
            self.diverged_at = (epochs_run - 1, current_rate(self.model.optimizer), math.nan)
        if self.diverged_at is None:
            return
        epoch, rate, loss = self.diverged_at
        if math.isfinite(loss):
            what = (f"the training loss reached {loss:.3g}, more than {DIVERGE_FACTOR:g} times the untrained "
                    f"model's {self.start_loss:.3g},")  # fmt: skip
        else:
            what = "the loss (or the weights) became non-finite"
        raise DivergenceError(
            f"Training diverged: {what} in epoch {epoch + 1} at learning rate {rate:.3g}. Use a lower "
            "learning_rate/max_lr, set clipvalue, or let lr_finder=True choose the rates."
        )


def _all_finite(variables) -> bool:
    return all(bool(keras.ops.all(keras.ops.isfinite(v))) for v in variables)
