"""A Pipeline on a pandas DataFrame with numeric and text columns, missing values and string labels.

The preprocessing (impute, scale, one-hot) is fitted inside each cross-validation fold, like
any scikit-learn step; CLRClassifier keeps the column names it was fitted on.
"""

import numpy as np
import pandas as pd
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skclr import CLRClassifier


def make_data(n: int = 600) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    plan = rng.choice(["basic", "plus", "pro"], n)
    usage = rng.gamma(2.0, 10.0, n) + (plan == "pro") * 15
    frame = pd.DataFrame({"usage": usage, "tenure": rng.integers(1, 60, n).astype(float), "plan": plan,
                          "region": rng.choice(["north", "south", "east", "west"], n)})  # fmt: skip
    churn = np.where(usage + rng.normal(0, 8, n) < 20, "churned", "stayed")
    frame.loc[rng.random(n) < 0.05, "tenure"] = np.nan
    frame.loc[rng.random(n) < 0.05, "region"] = np.nan
    return frame, pd.Series(churn, name="churn")


def main(quick: bool = False) -> np.ndarray:
    X, y = make_data()
    preprocess = make_column_transformer(
        (make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), make_column_selector(dtype_include="number")),
        (make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")),
         make_column_selector(dtype_exclude="number")),
        sparse_threshold=0.0,  # CLRClassifier takes dense input
    )  # fmt: skip
    model = make_pipeline(preprocess, CLRClassifier(schedule="one_cycle", max_lr=5e-3, epochs=2 if quick else 20,
                                                    random_state=0))  # fmt: skip
    scores = cross_val_score(model, X, y, cv=3, scoring="roc_auc")
    print(f"ROC AUC per fold: {np.round(scores, 3)}  mean {scores.mean():.3f}")
    return scores


if __name__ == "__main__":
    main()
