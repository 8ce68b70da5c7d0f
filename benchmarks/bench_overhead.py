"""CLRClassifier(schedule="triangular").fit against plain Keras Model.fit: same model, schedule, data.

Both sides build, compile and train the reference DNN from scratch each round (what a user's own
Keras code does); rounds alternate the two (the reference column is Keras's). Prints the median ratio (target <= 1.05) and the time
skclr spends outside keras.Model.fit (validation, encoding, building, schedule resolution).

Two rows on digits (1437 training rows, batch 38, one-cycle, a new seed each fit, as in a
cross-validation): a fit with ``validation_data`` (the other 360 rows; Keras evaluates them after
every epoch) against the same fit without (the reference column; target <= 1.1), and a fit's fixed cost, what it costs
beyond its epochs: a 1-epoch fit less one epoch, an epoch being the difference between a 12-epoch
and a 1-epoch fit / 11 (target <= 0.2 s).

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
from sklearn.datasets import load_digits, make_classification

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
        *_validation_and_fixed_cost(quick),
        ratio_row("CLRClassifier.fit vs Keras Model.fit (triangular)",
                  f"{n}x20, {epochs} epochs, batch {batch}, {repeats} rounds", times, "skclr", "keras", "<= 1.05",
                  ("skclr s", "reference s")),
        {
            "benchmark": "CLRClassifier.fit time outside keras.Model.fit",
            "setting": "same fit, median of 3",
            "skclr s": outside,
            "reference s": float("nan"),
            "ratio": outside / statistics.median(times["skclr"]),
            "target": "-",
        },
    ]


def _validation_and_fixed_cost(quick: bool) -> list[dict]:
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype("float32")
    train, held_out = (slice(0, 1437), slice(1437, None))
    epochs, repeats = (3, 2) if quick else (12, 5)
    seeds = iter(range(10_000))

    def fit(epochs: int, validate: bool):
        kwargs = {"validation_data": (X[held_out], y[held_out])} if validate else {}
        CLRClassifier(schedule="one_cycle", epochs=epochs, batch_size=38, random_state=next(seeds)).fit(
            X[train], y[train], **kwargs
        )

    fit(epochs, True), fit(1, False)  # warm-up: the shared train and test steps are traced once per process
    validation = alternate({"with": lambda: fit(epochs, True), "without": lambda: fit(epochs, False)}, repeats)
    lengths = alternate({"one": lambda: fit(1, False), "many": lambda: fit(epochs, False)}, repeats)
    one, many = statistics.median(lengths["one"]), statistics.median(lengths["many"])
    epoch = (many - one) / (epochs - 1)
    setting = f"digits 1437 rows, batch 38, one_cycle, new seed per fit, {repeats} rounds"
    return [
        ratio_row("fit with validation_data (360 rows) vs without", f"{setting}, {epochs} epochs", validation,
                  "with", "without", "<= 1.1", ("skclr s", "reference s")),
        {"benchmark": "fixed cost of a fit: 1-epoch fit less one epoch (ratio: its share of the 12-epoch fit)", "setting": setting,
         "skclr s": one - epoch, "reference s": float("nan"), "ratio": (one - epoch) / many, "target": "<= 0.2 s"},
    ]  # fmt: skip


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
