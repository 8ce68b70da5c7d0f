"""scikit-learn MLP's early stopping (``early_stopping``, ``validation_fraction``, ``n_iter_no_change``,
``tol``) and its fitted attributes (``loss_curve_``, ``n_iter_``, ``t_``, ``best_loss_``,
``validation_scores_``, ``best_validation_score_``), as ``MLPClassifier`` and ``MLPRegressor`` define them.

- ``hold_out``: before scikeras sees the data, ``fit`` sets ``validation_fraction`` of the rows aside
  with ``train_test_split`` (stratified for a classifier with one target, as ``MLPClassifier``; shuffled
  otherwise), drawn from the estimator's ``random_state``. Everything else (classes, the regressor's
  target scaling, the range test, the schedule's length) sees the training rows only.
- ``ValidationStop``: a per-epoch Keras callback that scores the model Keras trains (the estimator's,
  or the shared copy loaded with its state) on the held-out rows with the estimator's own ``score``
  (accuracy, R² in the target's units), keeps the best epoch's weights, stops by MLP's rule
  (``no_improvement``) and puts the best weights back when training ends, so that they reach the
  estimator's model by whichever path it trained.
- ``mlp_attributes``: the attributes from one call's training losses, continued over warm starts and
  ``partial_fit`` as MLP continues them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np
from sklearn.base import is_classifier
from sklearn.model_selection import train_test_split

from skclr._scikeras import num_rows

__all__ = ["HeldOut", "ValidationStop", "hold_out", "mlp_attributes", "no_improvement"]

#: Rows per direct call of the model when it scores the held-out rows.
SCORE_CHUNK = 8192


@dataclass
class HeldOut:
    """The rows ``early_stopping`` sets aside: as given to ``fit`` (validated), not encoded."""

    X: object
    y: np.ndarray
    sample_weight: np.ndarray | None


def hold_out(estimator, X, y, sample_weight, fit_kwargs: dict):
    """Split ``fit``'s rows into training rows and ``HeldOut`` rows, or refuse by name a split that
    cannot work. Returns ``(X_train, y_train, sample_weight_train, held_out)``."""
    fit_args = {**estimator._routed("fit"), **fit_kwargs}
    if fit_args.get("validation_data") is not None:
        raise ValueError(
            "early_stopping=True holds out its own validation set (validation_fraction); it cannot be "
            "combined with validation_data passed to fit. Give one of them."
        )
    if fit_args.get("validation_split"):
        raise ValueError(
            f"early_stopping=True holds out its own validation set (validation_fraction="
            f"{estimator.validation_fraction}); it cannot be combined with validation_split="
            f"{fit_args['validation_split']}. Set validation_split=0, or early_stopping=False."
        )
    n_rows = len(y)
    n_val = math.ceil(estimator.validation_fraction * n_rows)  # train_test_split's rounding
    if n_val < 2 or n_rows - n_val < 1:
        side = "validation" if n_val < 2 else "training"
        raise ValueError(
            f"The {side} set is too small: validation_fraction={estimator.validation_fraction} of "
            f"{n_rows} samples holds out {n_val} for validation and leaves {n_rows - n_val} for training "
            "(early_stopping needs at least 2 and 1). Change validation_fraction or use a larger data set."
        )
    stratify = _stratify(estimator, y)
    if stratify is not None:
        _check_classes_fit(estimator, stratify, n_rows, n_val)
    parts = [X, y] + ([sample_weight] if sample_weight is not None else [])
    split = train_test_split(
        *parts, test_size=estimator.validation_fraction, stratify=stratify, random_state=estimator.random_state
    )
    X_train, X_val, y_train, y_val = split[:4]
    w_train, w_val = split[4:] if sample_weight is not None else (None, None)
    if stratify is not None:
        for side, labels in (("training", y_train), ("validation", y_val)):
            missing = np.setdiff1d(np.unique(stratify), np.unique(labels))
            if len(missing):
                raise ValueError(
                    f"early_stopping's stratified split (validation_fraction={estimator.validation_fraction}) "
                    f"leaves class {_label(missing[0])!r} out of the {side} set: it has too few samples. Change "
                    "validation_fraction, use more data, or set early_stopping=False."
                )
    return X_train, y_train, w_train, HeldOut(X_val, y_val, w_val)


def _stratify(estimator, y) -> np.ndarray | None:
    """The labels to stratify on: a classifier's one target (as MLPClassifier: not multilabel)."""
    if not is_classifier(estimator):
        return None
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    return y if y.ndim == 1 else None


def _check_classes_fit(estimator, labels: np.ndarray, n_rows: int, n_val: int) -> None:
    """Refuse a stratified split that cannot put every class on both sides."""
    classes, counts = np.unique(labels, return_counts=True)
    if counts.min() < 2:
        raise ValueError(
            f"early_stopping holds out a stratified validation set, which needs at least 2 samples of each "
            f"class; class {_label(classes[np.argmin(counts)])!r} has 1. Use more data or set early_stopping=False."
        )
    if min(n_val, n_rows - n_val) < len(classes):
        raise ValueError(
            f"validation_fraction={estimator.validation_fraction} of {n_rows} samples holds out {n_val} for "
            f"validation and leaves {n_rows - n_val} for training: fewer than the {len(classes)} classes, so a "
            "class would be missing from one side. Change validation_fraction or use a larger data set."
        )


def _label(value):
    """A class label as the user wrote it (``7``, not ``np.int64(7)``)."""
    return value.item() if isinstance(value, np.generic) else value


def no_improvement(count: int, best: float, score: float, tol: float) -> tuple[int, float]:
    """MLP's rule (``_update_no_improvement_count``): the count of epochs in a row whose score did
    not beat the best by ``tol``, and the best score, after ``score``. Training stops once the count
    exceeds ``n_iter_no_change``. A NaN score counts as no improvement (MLP's comparison would reset
    the count)."""
    improved = score >= best + tol  # False for NaN
    return (0 if improved else count + 1), (score if score > best else best)


class ValidationStop(keras.callbacks.Callback):
    """Score the model on the held-out rows at each epoch's end, keep the best epoch's weights, stop
    by MLP's rule, and restore the best weights when training ends.

    Parameters
    ----------
    score : callable
        ``score(raw_predictions) -> float``, the estimator's score of the model's outputs on the
        held-out rows.
    X : array or structure of arrays
        The held-out rows, encoded as the model takes them.
    n_iter_no_change : int or inf
    tol : float
    """

    def __init__(self, score, X, n_iter_no_change: float, tol: float):
        super().__init__()
        self.score, self.X = score, X
        self.n_iter_no_change, self.tol = n_iter_no_change, tol
        self.scores: list[float] = []
        self.best_score = -np.inf
        self.best_epoch: int | None = None  # index into this call's epochs
        self._count = 0
        self._best_weights: list[np.ndarray] | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        score = float(self.score(predict_rows(self.model, self.X)))
        self.scores.append(score)
        if score > self.best_score:  # NaN is never the best
            self._best_weights = [np.array(v.numpy()) for v in self.model.weights]
            self.best_epoch = len(self.scores) - 1
        self._count, self.best_score = no_improvement(self._count, self.best_score, score, self.tol)
        if self._count > self.n_iter_no_change:
            self.model.stop_training = True

    def on_train_end(self, logs: dict | None = None) -> None:
        # the model Keras trained (maybe the shared copy, emptied into the estimator's model after this)
        if self._best_weights is not None and self.best_epoch != len(self.scores) - 1:
            for variable, value in zip(self.model.weights, self._best_weights):
                variable.assign(value)

    @property
    def best(self) -> float | None:
        """The best score, None when no epoch scored (all NaN)."""
        return None if self.best_epoch is None else self.best_score


def predict_rows(model: keras.Model, X):
    """The model's outputs on ``X`` in inference mode, by direct calls (as ``predict``'s fast path)."""
    n_rows = num_rows(X)
    parts = []
    for start in range(0, n_rows, SCORE_CHUNK):
        rows = keras.tree.map_structure(lambda a: a[start : start + SCORE_CHUNK], X)
        parts.append(keras.tree.map_structure(keras.ops.convert_to_numpy, model(rows, training=False)))
    return keras.tree.map_structure(lambda *chunks: np.concatenate(chunks), *parts)


def mlp_attributes(estimator, losses: list, n_train: int, continues: bool, stop: ValidationStop | None) -> None:
    """Set MLP's fitted attributes after one call that trained ``len(losses)`` epochs on ``n_train`` rows.

    As MLP: ``loss_curve_``, ``t_`` and ``validation_scores_`` go on over warm starts and ``partial_fit``
    calls of the same model (``continues``); ``n_iter_`` counts this call's epochs; ``best_loss_`` is
    None when early stopping, ``validation_scores_`` and ``best_validation_score_`` None when not.
    ``best_validation_score_`` is this call's best, whose weights the model holds.
    """
    earlier = getattr(estimator, "loss_curve_", None) if continues else None
    estimator.loss_curve_ = [*(earlier or []), *(float(loss) for loss in losses)]
    estimator.n_iter_ = len(losses)
    estimator.t_ = (getattr(estimator, "t_", 0) if continues else 0) + len(losses) * n_train
    finite = [loss for loss in estimator.loss_curve_ if math.isfinite(loss)]
    estimator.best_loss_ = None if stop is not None else min(finite, default=None)
    if stop is None:
        estimator.validation_scores_ = estimator.best_validation_score_ = None
        return
    earlier = getattr(estimator, "validation_scores_", None) if continues else None
    estimator.validation_scores_ = [*(earlier or []), *stop.scores]
    estimator.best_validation_score_ = stop.best
