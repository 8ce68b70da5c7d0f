"""CLRRegressor against scikit-learn's MLPRegressor on real data: scikit-learn's diabetes set.

442 patients, 10 features, a disease-progression score; 5-fold cross-validation, features and
target standardized inside each fold. Rows: Adam at a constant rate, one-cycle with a fixed
``max_lr``, one-cycle with the range test, and MLPRegressor (two hidden layers of 64).

    python benchmarks/bench_regression.py [--quick]
"""

from __future__ import annotations

import argparse

from _common import markdown_table

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes
from sklearn.model_selection import KFold, cross_validate
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skclr import CLRRegressor


def run(quick: bool = False) -> list[dict]:
    X, y = load_diabetes(return_X_y=True)
    epochs, n_folds = (3, 2) if quick else (60, 5)
    common = dict(epochs=epochs, batch_size=32, random_state=0)
    models = {
        "CLRRegressor, Adam constant": CLRRegressor(**common),
        "CLRRegressor, one_cycle max_lr=1e-2": CLRRegressor(schedule="one_cycle", max_lr=1e-2, **common),
        "CLRRegressor, one_cycle + range test": CLRRegressor(schedule="one_cycle", lr_finder=True, **common),
        "MLPRegressor (64, 64)": MLPRegressor(hidden_layer_sizes=(64, 64), max_iter=epochs * 10, random_state=0),
    }
    folds = KFold(n_splits=n_folds, shuffle=True, random_state=0)
    rows = []
    for name, model in models.items():
        scaled = TransformedTargetRegressor(make_pipeline(StandardScaler(), model), transformer=StandardScaler())
        scores = cross_validate(scaled, X, y, cv=folds, scoring=("r2", "neg_root_mean_squared_error"))
        rmse = -scores["test_neg_root_mean_squared_error"]
        rows.append({
            "model": name,
            "setting": f"diabetes 442x10, {n_folds} folds, {epochs} epochs / {epochs * 10} MLP iterations",
            "R2": f"{scores['test_r2'].mean():.3f} ± {scores['test_r2'].std():.3f}",
            "RMSE": f"{rmse.mean():.1f} ± {rmse.std():.1f}",
            "fit s": float(np.mean(scores["fit_time"])),
        })  # fmt: skip
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small settings (smoke test)")
    print(markdown_table(run(quick=parser.parse_args().quick)))
