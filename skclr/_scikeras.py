"""Everything skclr takes from scikeras, in one place, so that the base class could be swapped.

scikeras 0.13 is unmaintained; skclr overrides a few of its private hooks and corrects what it
gets wrong on current scikit-learn:

- its classes list ``BaseEstimator`` before the task mixin, so their tags never say
  "classifier"/"regressor": ``__sklearn_tags__`` sets them here;
- its check that the model has a loss sits in ``_fit_keras_model``, which skclr replaces: it is
  repeated here;
- it maps every ``np.random.RandomState`` to the same seed (``randint(low=1)`` is always 0);
- ``predict_proba`` squeezes a single row to shape ``(n_classes,)``;
- ``predict`` refuses ``X`` of a dtype that cannot be cast safely to the training ``X``'s (float64
  after float32 or int): ``X`` is cast to the dtype the model computes in, as Keras would;
- pickling and ``deepcopy`` (its ``keras.Model.__reduce__``, a ``.keras`` file) drop the state of the
  model's seed generators (dropout's): the estimator carries them, so a warm start or
  ``partial_fit`` after a pickle round trip continues as the original would;
- ``keras.Model.predict`` traces a function and builds a data pipeline for every new model, which
  costs more than the whole forward pass of a tabular batch.

The estimator implements ``_train(X, y, sample_weight, fit_args, warm_start)``, the one call to
``keras.Model.fit`` and everything around it; the hooks below hand it the routed arguments.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import sys
import types

import keras
import numpy as np

from skclr import backend
from skclr._startup import import_quietly

_RANDOM_STATE = "scikeras.utils.random_state"


def _lazy_tensorflow_random_state(seed: int):
    """scikeras's ``tensorflow_random_state``, its module (and TensorFlow) imported at the first call:
    a plain scikeras estimator in the same process seeds as scikeras does."""
    module = sys.modules.get(_RANDOM_STATE)
    if getattr(module, "tensorflow_random_state", None) is _lazy_tensorflow_random_state:
        del sys.modules[_RANDOM_STATE]  # the stand-in (``_import_scikeras``): import the real module
    return importlib.import_module(_RANDOM_STATE).tensorflow_random_state(seed)


def _import_scikeras() -> None:
    """Import scikeras. Its one TensorFlow import is in ``scikeras.utils.random_state``, the seeding
    helper skclr replaces with ``seeded_section``; only ``scikeras.wrappers`` imports it. On JAX that
    module is a stand-in until its helper is first called, unless TensorFlow is already imported:
    starting TensorFlow costs a JAX process about 3 s (every loky or Dask worker, every CLI run)."""
    if backend.NAME == "jax" and "tensorflow" not in sys.modules and _RANDOM_STATE not in sys.modules:
        stand_in = types.ModuleType(_RANDOM_STATE)
        stand_in.tensorflow_random_state = _lazy_tensorflow_random_state
        sys.modules[_RANDOM_STATE] = stand_in
    import_quietly("scikeras.wrappers")  # on TensorFlow, its start-up log lines held to the user's level


_import_scikeras()
from scikeras._utils import accepts_kwargs, has_param, route_params  # noqa: E402
from scikeras.utils import loss_name, metric_name  # noqa: E402
from scikeras.wrappers import BaseWrapper, KerasClassifier, KerasRegressor  # noqa: E402
from scipy.sparse import issparse  # noqa: E402
from sklearn.base import BaseEstimator  # noqa: E402
from sklearn.utils import ClassifierTags, RegressorTags  # noqa: E402
from sklearn.utils.class_weight import compute_sample_weight  # noqa: E402

from skclr._labels import LabelEncoder, is_one_hot  # noqa: E402
from skclr.backend import in_keras_steps, seeded_section  # noqa: E402

__all__ = [
    "SCIKERAS_PARAMETERS",
    "ScikerasClassifier",
    "ScikerasRegressor",
    "builder_only_params",
    "callback_params",
    "remake_callbacks",
    "first_rows",
    "has_param",
    "history_key",
    "input_dtype",
    "loss_name",
    "num_rows",
    "takes_keyword",
]

#: The constructor parameters of scikeras's wrappers, which it never passes to a builder as keywords.
SCIKERAS_PARAMETERS = frozenset(inspect.signature(BaseWrapper.__init__).parameters) - {"self", "kwargs"}

#: Rows per direct call of the model in the prediction fast path.
PREDICT_CHUNK = 8192


class _Hooks:
    """scikeras's private hooks, overridden for skclr (mixed in before scikeras's wrappers)."""

    build_fn = None  # scikeras reads it; a class attribute keeps it out of get_params
    __repr__ = BaseEstimator.__repr__  # scikit-learn's compact repr, not scikeras's one-per-line dump

    def __getstate__(self):
        state = dict(super().__getstate__())
        model = state.get("model_")
        if model is not None:  # a .keras file does not hold them (see the module's docstring)
            state["_seed_states"] = [keras.ops.convert_to_numpy(v) for v in _seed_states(model)]
        return state

    def __setstate__(self, state):
        state = dict(state)
        seeds = state.pop("_seed_states", None)
        super().__setstate__(state)
        if seeds is not None:
            variables = _seed_states(self.model_)
            if len(variables) == len(seeds):  # the same model, rebuilt from its configuration
                for variable, value in zip(variables, seeds):
                    variable.assign(value)

    def _validate_data(self, X=None, y=None, reset: bool = False, y_numeric: bool = False):
        # the classifier's y of another width, refused before scikeras's check of y's dimensions answers
        check_columns = getattr(getattr(self, "target_encoder_", None), "check_columns", None)
        if not reset and y is not None and check_columns is not None:
            check_columns(y, self.__name__)
        # scikeras refuses X whose dtype cannot be cast safely to the training X's (float64 after
        # int or float32): X is cast here to the float dtype the model computes in, as Keras does.
        fitted = getattr(self, "X_dtype_", None)
        if reset or X is None or fitted is None or issparse(X) or isinstance(X, dict):
            return super()._validate_data(X, y, reset, y_numeric)
        try:
            array = np.asarray(X)
        except ValueError:  # ragged: a multi-input model's list of arrays
            return super()._validate_data(X, y, reset, y_numeric)
        dtype = input_dtype(getattr(self, "model_", None))
        if array.dtype.kind not in "biuf" or np.can_cast(array.dtype, fitted) or dtype.kind != "f":
            return super()._validate_data(X, y, reset, y_numeric)
        X = array.astype(dtype)
        if np.can_cast(X.dtype, fitted):
            return super()._validate_data(X, y, reset, y_numeric)
        _, y = super()._validate_data(None, y, reset, y_numeric)  # trained on int X: scikeras's shape checks
        if X.ndim != len(self.X_shape_):
            raise ValueError(  # scikeras's words
                f"X has {X.ndim} dimensions, but this {self.__name__} is expecting "
                f"{len(self.X_shape_)} dimensions in X."
            )
        if X.shape[1:] != self.X_shape_[1:]:
            raise ValueError(
                f"X has shape {X.shape[1:]}, but this {self.__name__} is expecting X of shape "
                f"{self.X_shape_[1:]}"
            )
        return X, y

    def _routed(self, destination: str) -> dict:
        """The ``destination__*`` parameters (``fit``, ``predict``...) as scikeras routes them."""
        return route_params(self.get_params(), destination=destination, pass_filter=self._fit_kwargs
                            if destination == "fit" else self._predict_kwargs)  # fmt: skip

    def _initialize(self, X, y=None):
        random_state = self.random_state
        if isinstance(random_state, np.random.RandomState):  # a real draw, as scikit-learn's estimators
            self.random_state = int(random_state.randint(np.iinfo(np.int32).max))
        try:
            return super()._initialize(X, y)
        finally:
            self.random_state = random_state

    def _build_keras_model(self):
        # scikeras's own, seeded through seeded_section: scikeras's tensorflow_random_state calls
        # tf.random.set_seed, which would drop every compiled function at each seeded build.
        build = self._check_model_param()
        params = route_params(self.get_params(), destination="model", strict=True,
                              pass_filter=getattr(self, "_user_params", set()) - SCIKERAS_PARAMETERS)  # build_fn
        if has_param(build, "meta") or accepts_kwargs(build):
            params["meta"] = self._get_metadata()
        if has_param(build, "compile_kwargs") or accepts_kwargs(build):
            params["compile_kwargs"] = self._get_compile_kwargs()
        if has_param(build, "params") or accepts_kwargs(build):
            params["params"] = self.get_params()
        with seeded_section(self._random_state):
            return build(**params)

    def _fit_keras_model(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        _check_loss(self.model_.loss)  # scikeras's check, which its _fit_keras_model (replaced here) makes
        fit_args = {**self._routed("fit"), **kwargs, "epochs": initial_epoch + epochs, "initial_epoch": initial_epoch}
        self._train(X, y, sample_weight, fit_args, warm_start)

    def _seeded(self):
        """This fit's seed in the process-wide random generators, one seeded section at a time."""
        if self._random_state is None:
            return contextlib.nullcontext()
        return seeded_section(self._random_state)

    def _predict_raw(self, X, **kwargs):
        with in_keras_steps():  # a new model's predict step traces once: no retracing warning for it
            return self._predict_outputs(X, **kwargs)

    def _predict_outputs(self, X, **kwargs):
        # A direct call of the model gives Model.predict's answer only for Keras's own predict_step,
        # without predict arguments of the user's (predict__batch_size...), callbacks or progress
        # bars. scikeras also routes the training batch_size to predict, where it only sizes chunks.
        model = getattr(self, "model_", None)
        own_step = model is not None and type(model).predict_step is keras.Model.predict_step
        for_predict = [name for name in vars(self) if name.startswith("predict__")]
        if kwargs or for_predict or self._predict_callbacks or self.verbose or not own_step:
            return super()._predict_raw(X, **kwargs)
        encoded = self.feature_encoder_.transform(self._validate_data(X=X, y=None)[0])
        if not isinstance(encoded, np.ndarray):  # a multi-input model's list or dict: Keras's predict
            return super()._predict_raw(X)
        outputs = []
        for start in range(0, len(encoded), PREDICT_CHUNK):
            output = model(encoded[start : start + PREDICT_CHUNK], training=False)
            if keras.tree.is_nested(output):  # a multi-output model: Keras's predict assembles the outputs
                return super()._predict_raw(X)
            outputs.append(keras.ops.convert_to_numpy(output))
        return np.concatenate(outputs)


class ScikerasClassifier(_Hooks, KerasClassifier):
    """scikeras's ``KerasClassifier`` with its tags and ``predict_proba`` shape corrected, and
    multiclass-multioutput targets encoded (``skclr._labels``)."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        # multilabel as MLPClassifier; multiclass-multioutput as scikeras (and sklearn's MultiOutputClassifier)
        tags.classifier_tags = ClassifierTags(poor_score=True, multi_class=True, multi_label=True)
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.input_tags.sparse = False
        tags.non_deterministic = self.random_state is None
        return tags

    def fit(self, X, y, sample_weight=None, **kwargs):
        with self._class_weight_of_one_hot(y, sample_weight) as sample_weight:
            return super().fit(X, y, sample_weight=sample_weight, **kwargs)

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs):
        with self._class_weight_of_one_hot(y, sample_weight) as sample_weight:
            return super().partial_fit(X, y, classes=classes, sample_weight=sample_weight, **kwargs)

    @contextlib.contextmanager
    def _class_weight_of_one_hot(self, y, sample_weight):
        """``class_weight`` for a one-hot ``y``, by class (``classes_`` are its columns' indices).

        scikeras weights a 2-D ``y`` as scikit-learn weights multi-output targets, column by column;
        for one-hot rows that would weight each class by a product over all columns, not by its own
        weight. Here the weights are those of the class indices, and scikeras sees none.
        """
        if self.class_weight is None or not is_one_hot(y):
            yield sample_weight
            return
        weights = compute_sample_weight(class_weight=self.class_weight, y=np.argmax(y, axis=1))
        class_weight = self.class_weight
        self.class_weight = None
        try:
            yield weights if sample_weight is None else sample_weight * weights
        finally:
            self.class_weight = class_weight

    @property
    def target_encoder(self) -> LabelEncoder:
        """scikeras's encoder (``ClassifierLabelEncoder``), which skclr's extends to multiclass-multioutput ``y``."""
        categories = "auto" if self.classes_ is None else [self.classes_]
        return LabelEncoder(loss=self.loss, categories=categories)

    def predict_proba(self, X, **kwargs) -> np.ndarray:
        proba = super().predict_proba(X, **kwargs)
        if isinstance(proba, list):  # multiclass-multioutput: one array per column, each (n_samples, n_classes)
            return [p.reshape(1, -1) if p.ndim == 1 else p for p in proba]
        return proba.reshape(1, -1) if proba.ndim == 1 and num_rows(X) == 1 else proba  # scikeras squeezes one row


class ScikerasRegressor(_Hooks, KerasRegressor):
    """scikeras's ``KerasRegressor`` with its tags corrected."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "regressor"
        tags.regressor_tags = RegressorTags(poor_score=True)
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.input_tags.sparse = False
        tags.non_deterministic = self.random_state is None
        return tags


def _check_loss(loss) -> None:
    """scikeras's refusal of a list or dict of losses with no loss in it (``loss=[None]``), with its message."""
    losses = loss.values() if isinstance(loss, dict) else loss if isinstance(loss, list) else None
    if losses is not None and not any(callable(item) or isinstance(item, str) for item in losses):
        raise ValueError(
            "No valid loss function found. You must provide a loss function to train."
            "\n\nTo resolve this issue, do one of the following:"
            "\n 1. Provide a loss function via the loss parameter."
            "\n 2. Compile your model with a loss function inside the model-building method."
            "\n\nSee https://www.adriangb.com/scikeras/stable/advanced.html#compilation-of-model"
            " for more information on compiling SciKeras models."
            "\n\nSee https://www.tensorflow.org/api_docs/python/tf/keras/losses"
            " for more information on Keras losses."
        )


def input_dtype(model: keras.Model | None) -> np.dtype:
    """The dtype Keras casts ``X`` to for ``model``: its one input's, else Keras's ``floatx``
    (a model not built yet, a subclassed model, several inputs, a dtype NumPy does not know)."""
    try:
        inputs = model.inputs if model is not None else None
        return np.dtype(inputs[0].dtype) if inputs and len(inputs) == 1 else np.dtype(keras.backend.floatx())
    except (AttributeError, TypeError, ValueError):
        return np.dtype(keras.backend.floatx())


def _seed_states(model: keras.Model) -> list:
    """The state variables of the model's seed generators: in ``variables``, not in ``weights``."""
    weights = {id(weight) for weight in model.weights}
    return [variable for variable in model.variables if id(variable) not in weights]


def num_rows(X) -> int:
    """Samples in ``X``: an array, or the list or dict of arrays of a multi-input model."""
    return len(keras.tree.flatten(X)[0]) if isinstance(X, (dict, list, tuple)) else len(X)


def first_rows(X, stop: int):
    """The first ``stop`` samples of an array, or of each array of a multi-input model's list or dict."""
    return keras.tree.map_structure(lambda array: array[:stop], X) if isinstance(X, (dict, list, tuple)) else X[:stop]


def takes_keyword(builder, name: str) -> bool:
    """Whether ``builder`` takes a keyword ``name``: it names it or takes ``**kwargs``."""
    return has_param(builder, name) or accepts_kwargs(builder)


def builder_only_params(estimator) -> list[str]:
    """The parameters scikeras passes to a model builder: keywords unknown to the constructor, and ``model__*``."""
    unknown = getattr(estimator, "_user_params", set()) - SCIKERAS_PARAMETERS  # build_fn is scikeras's own
    return sorted(
        name for name in estimator.get_params() if name.startswith("model__") or (name in unknown and "__" not in name)
    )


def history_key(key: str) -> str:
    """scikeras's names for Keras's history keys (``acc`` -> ``accuracy``...)."""
    if key == "loss" or key.startswith("val_") or key in ("lr", "momentum"):
        return key
    try:
        return metric_name(key)
    except ValueError:  # a custom metric
        return key


_CALLBACK_PARAMS = ("callbacks", "fit__callbacks", "predict__callbacks")


def callback_params(estimator) -> dict:
    """The parameters scikeras makes the estimator's callbacks from (``callbacks``, ``fit__callbacks``,
    ``predict__callbacks`` and their routed ``__`` arguments)."""
    return {key: value for key, value in estimator.get_params().items()
            if key in _CALLBACK_PARAMS or key.startswith(tuple(f"{name}__" for name in _CALLBACK_PARAMS))}  # fmt: skip


def remake_callbacks(estimator) -> None:
    """Make the estimator's callbacks again from its parameters (scikeras makes them only with a new
    model, so a warm start or ``partial_fit`` would keep using callbacks ``set_params`` replaced)."""
    estimator._initialize_callbacks()
