"""``CLRClassifier``'s target encoder: scikeras's ``ClassifierLabelEncoder``, plus multiclass-multioutput
targets split into one output per column.

scikeras 0.13's encoder passes a multiclass-multioutput ``y`` (a 2-D array of labels, more than two
per column) to the model unchanged, with ``classes_ = None``, and ``predict`` then raises
``NotImplementedError``: it leaves such targets to a user's own encoder. skclr encodes each column
as scikeras encodes a 1-D ``y`` (ordinal codes of the sorted labels) and gives the model one target
per column, so that a model with one softmax output per column (the reference network's, or a
builder's, which reads ``n_classes_`` and ``n_outputs_expected_`` from ``meta``) trains with a
sparse categorical cross-entropy per output. Every other target type is scikeras's, unchanged.
"""

from __future__ import annotations

import keras
import numpy as np
from scikeras.utils.transformers import ClassifierLabelEncoder
from sklearn.preprocessing import OrdinalEncoder
from sklearn.utils.multiclass import type_of_target

__all__ = ["MULTIOUTPUT", "LabelEncoder", "is_one_hot", "subset_accuracy"]

#: scikit-learn's name (``type_of_target``) for a 2-D ``y`` of labels with more than two per column.
MULTIOUTPUT = "multiclass-multioutput"


class LabelEncoder(ClassifierLabelEncoder):
    """scikeras's ``ClassifierLabelEncoder``; a multiclass-multioutput ``y`` becomes one target per column.

    Parameters
    ----------
    loss : str, keras.losses.Loss or None, default=None
        As scikeras's: categorical cross-entropy one-hot encodes a 1-D ``y``.
    categories : "auto" or list, default="auto"
        As scikeras's; for a multiclass-multioutput ``y`` (``partial_fit(classes=...)``), one
        array of labels per column.

    Attributes
    ----------
    classes_ : ndarray, or list of ndarray for a multiclass-multioutput ``y`` (one per column)
    n_classes_ : int, or list of int for a multiclass-multioutput ``y``
    n_outputs_ : int
        Columns of a multiclass-multioutput ``y``; 1 otherwise (scikeras's).
    n_outputs_expected_ : int
        Outputs the model must have: one per column of a multiclass-multioutput ``y``; 1 otherwise.
    """

    def fit(self, y: np.ndarray) -> LabelEncoder:
        if self._type_of_target(y) != MULTIOUTPUT:
            return super().fit(y)
        categories = "auto" if isinstance(self.categories, str) else [np.asarray(c) for c in self.categories[0]]
        self._final_encoder = OrdinalEncoder(dtype=np.dtype(keras.backend.floatx()), categories=categories).fit(y)
        self._target_type = MULTIOUTPUT
        self._y_shape = y.shape
        self._y_dtype = y.dtype
        self.classes_ = list(self._final_encoder.categories_)
        self.n_classes_ = [len(labels) for labels in self.classes_]
        self.n_outputs_ = self.n_outputs_expected_ = y.shape[1]
        return self

    def check_columns(self, y, owner: str) -> None:
        """Refuse a ``y`` (``partial_fit``, a warm-started ``fit``, ``score``) with another number of
        columns than the ``y`` this encoder was fitted on, before any training.

        scikeras's encoders refuse it in ``transform`` ("expecting ... features", scikit-learn's
        words) for one target, and pass a multilabel ``y`` of another width on to Keras. skclr
        flattens a one-column ``y`` before scikeras sees it, so that scikeras's check of ``y``'s
        dimensions would answer first, and with other words: this check runs before it.

        Parameters
        ----------
        y : array-like
            The new target, after the estimator's own flattening of a one-column ``y``.
        owner : str
            The estimator's class name, for the message.
        """
        given_shape = np.shape(y)
        if len(given_shape) != 2:
            return  # a 1-D y after a 2-D one: scikeras's check of y's dimensions says so
        given, fitted = given_shape[1], int(np.prod(self._y_shape[1:], dtype=int))
        if given != fitted:
            one = len(self._y_shape) == 1
            first = "one target (a 1-D y or one column)" if one else f"a y of {fitted} columns"
            raise ValueError(
                f"y has {given} columns (shape {given_shape}), but this {owner} was fitted on {first}: its "
                f"target encoder is expecting {fitted} features as input. partial_fit (and fit with "
                "warm_start=True) keep training on the first fit's target; call fit to start over on a "
                "new one."
            )

    def transform(self, y: np.ndarray):
        if self._target_type != MULTIOUTPUT:
            return super().transform(y)
        codes = self._final_encoder.transform(y)
        return [codes[:, column] for column in range(codes.shape[1])]

    def inverse_transform(self, y, return_proba: bool = False):
        """The labels (or, with ``return_proba``, the probabilities) of the model's outputs.

        For a multiclass-multioutput ``y`` the probabilities are a list with one array of shape
        ``(n_samples, n_classes_[i])`` per column, as scikit-learn's ``MultiOutputClassifier``
        returns them, and the labels an array of ``y``'s shape.
        """
        if self._target_type != MULTIOUTPUT:
            return super().inverse_transform(y, return_proba=return_proba)
        outputs = [np.asarray(output) for output in (y if isinstance(y, (list, tuple)) else [y])]
        if return_proba:
            return outputs
        codes = np.column_stack([np.argmax(output, axis=1) for output in outputs])
        return self._final_encoder.inverse_transform(codes).astype(self._y_dtype, copy=False)


def is_one_hot(y) -> bool:
    """Whether scikeras's encoder takes ``y`` for one-hot classes ("multiclass-onehot"): a multilabel
    indicator with exactly one 1 per row. Such a ``y`` trains a softmax, not one sigmoid per label."""
    y = np.asarray(y)
    return y.ndim == 2 and type_of_target(y) == "multilabel-indicator" and y.min() == 0 and bool((y.sum(axis=1) == 1).all())


def subset_accuracy(y_true, y_pred, sample_weight=None) -> float:
    """The (weighted) share of rows whose every column is predicted right: scikit-learn's
    ``accuracy_score`` on indicator matrices, for a multiclass-multioutput ``y`` too, which it refuses."""
    return float(np.average(np.all(np.asarray(y_true) == np.asarray(y_pred), axis=1), weights=sample_weight))
