"""CLRClassifier(schedule="triangular").fit against plain Keras Model.fit: same model, schedule, data.

Both sides build, compile and train the reference DNN from scratch each round (what a user's own
Keras code does); rounds alternate the two. Prints the median ratio (target <= 1.05) and the time
skclr spends outside keras.Model.fit (validation, encoding, building, schedule resolution).

    python benchmarks/bench_overhead.py [--quick]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

from _common import alternate, markdown_table, ratio_row

import keras
import numpy as np
from sklearn.datasets import make_classification

from skclr import CLRClassifier, reference_dnn
from skclr.schedules import CyclicalLearningRate


def run(quick: bool = False) -> list[dict]:
    n, epochs, batch, repeats = (1000, 3, 32, 3) if quick else (4000, 10, 32, 7)
    X, y = make_classification(n_samples=n, n_features=20, n_informative=10, n_classes=4, random_state=0)
    X = X.astype("float32")
    steps_per_epoch = math.ceil(n / batch)

    def skclr_fit():
        CLRClassifier(schedule="triangular", step_size=2.0, epochs=epochs, batch_size=batch).fit(X, y)

    def keras_fit():
        model = reference_dnn(20, 4)
        schedule = CyclicalLearningRate(2.5e-4, 1e-3, step_size=2 * steps_per_epoch)
        model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy")
        model.fit(X, y, epochs=epochs, batch_size=batch, verbose=0)

    skclr_fit(), keras_fit()  # warm-up: imports, first graph traces
    times = alternate({"skclr": skclr_fit, "keras": keras_fit}, repeats)
    outside = _time_outside_model_fit(skclr_fit)
    return [
        ratio_row("CLRClassifier.fit vs Keras Model.fit (triangular)",
                  f"{n}x20, {epochs} epochs, batch {batch}, {repeats} rounds", times, "skclr", "keras", "<= 1.05",
                  ("skclr s", "keras s")),
        {
            "benchmark": "CLRClassifier.fit time outside keras.Model.fit",
            "setting": "same fit, median of 3",
            "skclr s": outside,
            "keras s": float("nan"),
            "ratio": outside / statistics.median(times["skclr"]),
            "target": "-",
        },
    ]


def _time_outside_model_fit(fit) -> float:
    """Median seconds of ``fit`` not spent inside keras.Model.fit."""
    inner: list[float] = []
    original = keras.Model.fit

    def timed(self, *args, **kwargs):
        start = time.perf_counter()
        result = original(self, *args, **kwargs)
        inner.append(time.perf_counter() - start)
        return result

    keras.Model.fit = timed
    try:
        outside = []
        for _ in range(3):
            start = time.perf_counter()
            fit()
            outside.append(time.perf_counter() - start - inner[-1])
    finally:
        keras.Model.fit = original
    return statistics.median(outside)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small settings (smoke test)")
    print(markdown_table(run(parser.parse_args().quick)))
