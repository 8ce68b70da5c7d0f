"""Memory across many fits in one process (a joblib or Dask worker's life): RSS growth per fit.

Each side runs in its own fresh process: 15 warm-up fits, then the slope of RSS over the next
fits, over all of them and over their first and second halves (a cache that fills up would show
a falling slope). "after malloc_trim" returns freed heap pages to the OS first, to separate
allocator fragmentation from memory that is still held.

    python benchmarks/bench_memory.py [--quick] [--fits N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from _common import markdown_table

CHILD = r"""
import ctypes, gc, os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np, psutil, keras
from sklearn.datasets import load_digits
from skclr import CLRClassifier

side, fits = sys.argv[1], int(sys.argv[2])
X, y = load_digits(return_X_y=True)
X, y = (X[:600] / 16).astype("float32"), y[:600]

def one_fit():
    if side.startswith("keras"):
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32), keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(X, y, epochs=1, verbose=0)
        model.predict(X, verbose=0)
        if side == "keras_clear":
            del model
            keras.backend.clear_session()  # Keras's documented remedy for models built in a loop
    else:
        finder = dict(schedule="one_cycle", lr_finder=True) if side == "skclr_finder" else {}
        CLRClassifier(hidden_layer_sizes=(32,), dropout=0.0, epochs=1, **finder).fit(X, y).predict(X)
    gc.collect()

def rss(trim):
    if trim:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return psutil.Process().memory_info().rss / 2**20

for _ in range(15):
    one_fit()
start = rss(True)
for _ in range(fits // 2):
    one_fit()
middle = rss(True)
for _ in range(fits - fits // 2):
    one_fit()
end_untrimmed, end = rss(False), rss(True)
print((end_untrimmed - start) / fits, (end - start) / fits, (middle - start) / (fits // 2),
      (end - middle) / (fits - fits // 2))
"""


def run(quick: bool = False, fits: int | None = None) -> list[dict]:
    fits = fits or (16 if quick else 60)
    rows = []
    sides = (("keras", "plain Keras build + fit + predict"),
             ("keras_clear", "the same + keras.backend.clear_session()"),
             ("skclr", "CLRClassifier fit + predict"),
             ("skclr_finder", "the same with one_cycle and lr_finder=True"))  # fmt: skip
    for side, label in sides:
        out = subprocess.run([sys.executable, "-c", CHILD, side, str(fits)], capture_output=True, text=True, check=True)
        per_fit, trimmed, first_half, second_half = map(float, out.stdout.split()[-4:])
        rows.append({"process runs": label, "fits measured": fits, "MB per fit": per_fit,
                     "after malloc_trim": trimmed, "first half": first_half,
                     "second half": second_half})  # fmt: skip
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small settings (smoke test)")
    parser.add_argument("--fits", type=int, help="fits measured after the warm-up (default 60)")
    args = parser.parse_args()
    print(markdown_table(run(args.quick, args.fits)))
