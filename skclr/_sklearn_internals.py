"""scikit-learn's private parameter validation, the one piece of its private API skclr uses.

``_parameter_constraints`` with these classes is how scikit-learn's own estimators check their
parameters (and how its error messages read); scikit-learn keeps it private, so a release that
moves it breaks here, in one place.
"""

from sklearn.utils._param_validation import Interval, Options, StrOptions, validate_parameter_constraints

__all__ = ["Interval", "Options", "StrOptions", "validate_parameter_constraints"]
