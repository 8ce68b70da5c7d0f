"""Regression: CLRRegressor with a one-cycle schedule and the range test, against MLPRegressor.

scikit-learn's bundled diabetes data (442 patients, 10 features, a disease-progression score):
5-fold cross-validated R² and RMSE of the reference network with a per-fold range test, next to
scikit-learn's MLPRegressor, both on the raw target (a score of 25-346). CLRRegressor standardizes
the target for training itself (``standardize_target=True``) and predicts in the target's units;
MLPRegressor gets the same from a TransformedTargetRegressor.
"""

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes
from sklearn.model_selection import KFold, cross_validate
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skclr import CLRRegressor


def main(quick: bool = False) -> dict[str, float]:
    X, y = load_diabetes(return_X_y=True)
    epochs = 3 if quick else 60
    models = {
        "CLRRegressor one_cycle + range test": CLRRegressor(
            schedule="one_cycle", lr_finder=True, epochs=epochs, batch_size=32, random_state=0
        ),
        "MLPRegressor (sklearn)": MLPRegressor(hidden_layer_sizes=(64, 64), max_iter=epochs * 10, random_state=0),
    }
    folds = KFold(n_splits=2 if quick else 5, shuffle=True, random_state=0)
    results = {}
    models["MLPRegressor (sklearn)"] = TransformedTargetRegressor(models["MLPRegressor (sklearn)"], transformer=StandardScaler())
    for name, model in models.items():
        pipeline = make_pipeline(StandardScaler(), model)
        scores = cross_validate(pipeline, X, y, cv=folds, scoring=("r2", "neg_root_mean_squared_error"))
        results[name] = scores["test_r2"].mean()
        rmse = -scores["test_neg_root_mean_squared_error"]
        print(f"{name:<38} R2 {scores['test_r2'].mean():.3f} ± {scores['test_r2'].std():.3f}  "
              f"RMSE {rmse.mean():.1f}  fit {np.mean(scores['fit_time']):.1f} s")  # fmt: skip
    return results


if __name__ == "__main__":
    main()
