"""Which network a fit builds, and which parameters reach it.

The reference network (:func:`skclr.reference_dnn`) is built when neither ``model`` nor a
subclass's ``_keras_build_fn`` gives one (scikeras's two ways); its parameters
(``hidden_layer_sizes``, ``dropout``, ``negative_slope``) are validated only then. With a
user's builder, a reference-network parameter the user set reaches the builder when it takes
it, and is refused otherwise: it never silently does nothing.
"""

from __future__ import annotations

import functools
import inspect
from numbers import Integral, Real

import keras
import numpy as np
from skclr._sklearn_internals import Interval, validate_parameter_constraints

from skclr._scikeras import SCIKERAS_PARAMETERS, builder_only_params, has_param, takes_keyword
from skclr._warn import warn_at_caller
from skclr.models import DEFAULT_HIDDEN, reference_dnn

__all__ = ["REFERENCE_PARAMETERS", "NetworkChoice"]

#: The reference network's parameters.
REFERENCE_PARAMETERS = ("hidden_layer_sizes", "dropout", "negative_slope")

_REFERENCE_CONSTRAINTS: dict = {
    "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left"), None],
    "dropout": [Interval(Real, 0, 1, closed="left"), "array-like", None],
    "negative_slope": [Interval(Real, 0, None, closed="left"), None],
}


class NetworkChoice:
    """The estimators' network: the reference network, or the user's builder with its parameters."""

    def _check_reference(self) -> None:
        """The reference network's parameters, and no parameter meant for a builder."""
        validate_parameter_constraints(
            _REFERENCE_CONSTRAINTS, {name: getattr(self, name) for name in REFERENCE_PARAMETERS}, type(self).__name__
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
        given = {name: getattr(self, name) for name in REFERENCE_PARAMETERS if getattr(self, name) is not None}
        taken = {name: value for name, value in given.items() if takes_keyword(builder, name)}
        given_model = self._given_model()
        if given_model is None:
            return taken
        given_as = "model" if self.model is not None else "build_fn"
        what = f"the Keras model given as {given_as}" if isinstance(given_model, keras.Model) else (
            f"{given_as}={getattr(given_model, '__name__', given_model)!r}"
        )  # fmt: skip
        ignored = [name for name in given if name not in taken]
        if ignored:
            raise ValueError(
                f"{ignored[0]}={given[ignored[0]]!r} sets the reference network, which {what} replaces, and "
                f"{what} takes no {ignored[0]!r} parameter, so it would have no effect. Give it to the builder "
                f"under a name it takes (model__<name>=...), or leave {ignored[0]} unset."
            )
        # scikeras would pass a plain keyword of one of skclr's own names to the builder; skclr keeps it.
        shadowed = [
            name for name, default in self._own_parameter_defaults().items()
            if has_param(builder, name) and not hasattr(self, f"model__{name}")
            and not _is_default(getattr(self, name), default)
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


    def _uses_reference_network(self) -> bool:
        """No ``model`` (nor ``build_fn``) and no ``_keras_build_fn`` of a subclass (scikeras's two ways
        to give a network)."""
        return self._given_model() is None and not hasattr(self, "_keras_build_fn")

    def _given_model(self):
        """``model``, or else ``build_fn``, its old name, which scikeras 0.13 still uses (with a warning)."""
        return self.model if self.model is not None else self.build_fn

    def _user_builder(self):
        """The function that builds the user's network, as scikeras's ``_check_model_param`` finds it
        (and with its errors), ``build_fn`` standing for ``model``; no warning."""
        if self.model is not None or self.build_fn is None:
            return super()._check_model_param()
        given = self.build_fn
        if isinstance(given, keras.Model):
            return lambda: given
        if not (inspect.isfunction(given) or isinstance(given, functools.partial)):
            raise TypeError(f"``build_fn`` must be a callable, a Keras Model instance or None. Got {given!r}.")
        if hasattr(self, "_keras_build_fn"):
            raise ValueError("This class cannot implement ``_keras_build_fn`` if using the `model` parameter")
        return given


    def _build_reference_model(self, compile_kwargs: dict) -> keras.Model:
        slope = {} if self.negative_slope is None else {"negative_slope": self.negative_slope}  # else reference_dnn's
        units, activation, loss = self._reference_output()  # the task's: the target's type decides
        model = reference_dnn(
            self.n_features_in_,
            units,
            hidden_layer_sizes=self._layer_sizes(),
            dropout=self.dropout,
            seed=self._random_state,
            output_activation=activation,
            **slope,
        )
        model.compile(**{**compile_kwargs, "loss": compile_kwargs["loss"] or loss})
        return model

    def _reference_output(self) -> tuple:
        """The reference network's output units (a list: one output each), activation and default loss."""
        return self._output_units(), self._output_activation, self._default_loss


    def _check_model_param(self):
        if self._uses_reference_network():
            return self._build_reference_model
        if self.model is None and self.build_fn is not None:  # scikeras's warning, where scikeras gives it
            warn_at_caller(
                "``build_fn`` will be renamed to ``model`` in a future release, at which point use of "
                "``build_fn`` will raise an Error instead."
            )
        builder = self._user_builder()
        settings = self._builder_settings(builder)  # routed model__* given at the call take precedence
        return functools.partial(builder, **settings) if settings else builder

    def _own_parameter_defaults(self) -> dict:
        """skclr's parameters other than scikeras's and the reference network's (which a builder may take)."""
        skip = {"self", "kwargs", "class_weight", *SCIKERAS_PARAMETERS, *REFERENCE_PARAMETERS}
        parameters = inspect.signature(type(self).__init__).parameters.items()
        return {name: p.default for name, p in parameters if name not in skip}


def _is_default(value, default) -> bool:
    """Whether a parameter still holds its constructor default (only scalars can be told apart safely)."""
    scalar = isinstance(value, (bool, int, float, str)) and type(value) is type(default)
    return value is default or (scalar and value == default)
