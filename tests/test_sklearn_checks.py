"""scikit-learn's own estimator checks on CLRClassifier and CLRRegressor.

The expected failures are strict (``xfail_strict`` in pyproject.toml): a check that starts to
pass must leave the list.
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skclr import CLRClassifier, CLRRegressor

# Each check that cannot pass for a Keras network, with the reason.
EXPECTED_FAILED_CHECKS = {
    "check_estimator_tags_renamed": (
        "scikeras 0.13's BaseWrapper, KerasClassifier and KerasRegressor define _more_tags; the "
        "check walks the whole MRO, so no subclass can pass it (our __sklearn_tags__ is correct)."
    ),
    "check_mixin_order": (
        "scikeras declares KerasClassifier(BaseWrapper, ClassifierMixin) and KerasRegressor(BaseWrapper, "
        "RegressorMixin); a subclass cannot reorder their bases (C3 linearization), so "
        "__sklearn_tags__ sets the tags."
    ),
    "check_sample_weight_equivalence_on_dense_data": (
        "minibatch SGD: weighting a sample by 2 is not the same as repeating it, because the "
        "batches (and so the gradient steps) differ."
    ),
}


SMALL = dict(hidden_layer_sizes=(8,), dropout=0.0, epochs=2, random_state=0)


@parametrize_with_checks(
    [CLRClassifier(**SMALL), CLRRegressor(**SMALL)],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible_estimator(estimator, check):
    if _name(check) in ("check_methods_sample_order_invariance", "check_methods_subset_invariance"):
        # They ask for rtol=1e-7; float32 matrix products compute a row in a vector lane or a
        # remainder lane depending on its position in the batch, so some outputs move by 1-2 ulps
        # when rows are reordered or subset, or not, depending on the weights (and the regressor's
        # target scale multiplies them).
        pytest.skip("row order within float32 rounding: test_predictions_do_not_depend_on_row_order_or_chunks")
    check(estimator)


def _name(check) -> str:
    return getattr(check, "func", check).__name__
