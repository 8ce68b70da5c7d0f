"""One grid over 6 schedules x 3 folds: one process, joblib's loky with 2 workers, a 2-worker Dask cluster.

Workers are started and have imported TensorFlow before timing (a long search pays that once).
Inside a worker, joblib and Dask set OMP_NUM_THREADS=1, which CLRClassifier passes on to
TensorFlow; the single process lets TensorFlow use every core.

    python benchmarks/bench_parallel.py [--quick]
"""

from __future__ import annotations

import argparse
import time

from _common import markdown_table

import numpy as np
from joblib import Parallel, delayed, parallel_backend
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV

from skclr import CLRClassifier

SCHEDULES = ["constant", "time", "cosine", "triangular", "exp_range", "one_cycle"]


def _warm():
    import skclr  # noqa: F401 - imports TensorFlow in the worker

    return True


def run(quick: bool = False) -> list[dict]:
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype("float32")
    epochs = 1 if quick else 5
    if quick:
        X, y = X[:400], y[:400]
    grid = {"schedule": SCHEDULES}

    def search(n_jobs):
        clf = CLRClassifier(epochs=epochs, batch_size=38, random_state=0)
        start = time.perf_counter()
        scores = GridSearchCV(clf, grid, cv=3, n_jobs=n_jobs).fit(X, y).cv_results_["mean_test_score"]
        return time.perf_counter() - start, scores

    rows = []
    one_s, one_scores = search(1)
    rows.append({"backend": "n_jobs=1 (TF uses all cores)", "grid s": one_s, "ratio to n_jobs=1": 1.0,
                 "same scores": True})  # fmt: skip

    Parallel(n_jobs=2)(delayed(_warm)() for _ in range(2))
    loky_s, loky_scores = search(2)
    rows.append({"backend": "loky, n_jobs=2 (1 TF thread each)", "grid s": loky_s,
                 "ratio to n_jobs=1": loky_s / one_s, "same scores": bool(np.array_equal(loky_scores, one_scores))})  # fmt: skip

    import distributed

    start = time.perf_counter()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:  # fmt: skip
        client.run(_warm)
        startup = time.perf_counter() - start
        with parallel_backend("dask"):
            dask_s, dask_scores = search(-1)
    if not np.array_equal(dask_scores, one_scores):  # report, do not hide, a mismatch
        print("dask scores", dask_scores, "\none-process scores", one_scores)
    rows.append({"backend": f"Dask LocalCluster, 2 workers (start-up {startup:.0f} s not counted)",
                 "grid s": dask_s, "ratio to n_jobs=1": dask_s / one_s,
                 "same scores": bool(np.array_equal(dask_scores, one_scores))})  # fmt: skip
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small settings (smoke test)")
    print(markdown_table(run(parser.parse_args().quick)))
