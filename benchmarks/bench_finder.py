"""Cost of the LR range test: N sweep steps against N plain training steps, and against a
per-batch-callback finder in the style of keras_lr_finder (Keras's running-mean loss, rate set
from Python after every batch).

Each side gets a freshly compiled reference DNN per round; rounds alternate. Plain training
traces its train step every time; the range test reuses the trace of the process's copy of the
architecture, as every range test of a grid search after the first does, and the "first" side
empties that shelf before each round, so that it traces as the first range test in a process does.
Prints median ratios; the target against plain training is <= 1.2.

    python benchmarks/bench_finder.py [--quick]
"""

from __future__ import annotations

import argparse

from _common import alternate, markdown_table, ratio_row

import keras
import numpy as np
from sklearn.datasets import make_classification

from skclr import LRFinder, _shelf, reference_dnn


class CallbackFinder(keras.callbacks.Callback):
    """The classic approach: a Python callback after every batch reads logs and sets the rate."""

    def __init__(self, rates):
        super().__init__()
        self.rates, self.losses, self.best = rates, [], np.inf

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate.assign(self.rates[batch])

    def on_train_batch_end(self, batch, logs=None):
        loss = float(logs["loss"])  # the running mean since the epoch began, not this batch's loss
        self.losses.append(loss)
        if not np.isfinite(loss) or loss > 4 * self.best:
            self.model.stop_training = True
        self.best = min(self.best, loss)


def compiled_model():
    model = reference_dnn(20, 4)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    return model


def run(quick: bool = False) -> list[dict]:
    steps, batch, repeats = (50, 32, 3) if quick else (200, 32, 7)
    X, y = make_classification(n_samples=steps * batch, n_features=20, n_informative=10, n_classes=4, random_state=0)
    X = X.astype("float32")
    # A range that does not diverge, so every side runs all `steps` steps.
    finder = LRFinder(min_lr=1e-6, max_lr=1e-3, num_iter=steps, n_sweeps=1)

    def sweep():
        finder.find(compiled_model(), X, y, batch_size=batch)
        assert len(finder.losses_) == steps

    def first_sweep():
        _shelf.clear()  # as in a fresh process: the sweep is traced again
        sweep()

    def plain_steps():
        compiled_model().fit(X, y, epochs=1, batch_size=batch, shuffle=True, verbose=0)

    def callback_finder():
        compiled_model().fit(X, y, epochs=1, batch_size=batch, verbose=0, callbacks=[CallbackFinder(finder.rates())])

    sweep(), plain_steps(), callback_finder()  # warm-up
    sides = {"finder": sweep, "first": first_sweep, "plain": plain_steps, "callback": callback_finder}
    times = alternate(sides, repeats)
    setting = f"{steps} steps, batch {batch}, reference DNN, {repeats} rounds"
    columns = ("ours s", "other s")
    return [
        ratio_row("range test vs plain training steps", setting, times, "finder", "plain", "<= 1.2", columns),
        ratio_row("first range test in a process vs plain training steps", setting, times, "first", "plain", "<= 1.2",
                  columns),  # fmt: skip
        ratio_row("range test vs per-batch-callback finder", setting, times, "finder", "callback", "-", columns),
    ]

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small settings (smoke test)")
    print(markdown_table(run(parser.parse_args().quick)))
