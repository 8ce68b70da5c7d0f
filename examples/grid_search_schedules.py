"""GridSearchCV over learning-rate schedules and cyclical bounds: the headline use of skclr.

Every schedule and bound is a constructor parameter, so a grid compares them with the same
folds, scoring and refit as any other hyperparameter.
"""

import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skclr import CLRClassifier


def main(quick: bool = False) -> GridSearchCV:
    X, y = load_breast_cancer(return_X_y=True)
    pipe = Pipeline([("scale", StandardScaler()), ("clf", CLRClassifier(epochs=2 if quick else 15, random_state=0))])
    grid = [
        {"clf__schedule": ["constant", "cosine", "one_cycle"]},
        {"clf__schedule": ["triangular", "exp_range"], "clf__max_lr": [1e-3, 1e-2], "clf__base_lr": [1e-4]},
    ]
    search = GridSearchCV(pipe, grid, cv=3, scoring="neg_log_loss", n_jobs=1).fit(X, y)
    table = pd.DataFrame(search.cv_results_)[["params", "mean_test_score", "std_test_score", "mean_fit_time"]]
    print(table.sort_values("mean_test_score", ascending=False).to_string(index=False))
    print("best:", search.best_params_)
    return search


if __name__ == "__main__":
    main()
