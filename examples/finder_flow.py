"""Range test, then cyclical learning rates: by hand on a Keras model, then in one estimator.

1. By hand: ``LRFinder`` sweeps the learning rate on a compiled Keras model (as the
   keras_lr_finder package does), suggests the bounds of a cyclical schedule, and the model is
   trained with ``CyclicalLearningRate`` between them.
2. The same in one line: ``CLRClassifier(lr_finder=True)`` runs the test inside each ``fit``.

Prints the bounds each way found and the final validation accuracy; saves the range-test curve,
the schedule and the loss curves to skclr-output/examples/finder_flow.png.
"""

from pathlib import Path

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skclr import CLRClassifier, LRFinder, reference_dnn  # noqa: E402
from skclr.plotting import plot_history, plot_schedule  # noqa: E402
from skclr.schedules import CyclicalLearningRate  # noqa: E402

OUTPUT = Path("skclr-output/examples")


def main(quick: bool = False) -> CLRClassifier:
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X).astype("float32")
    epochs, batch = (2, 38) if quick else (15, 38)

    # 1. By hand: range test on a compiled Keras model, then CLR with the bounds it suggests.
    keras.utils.set_random_seed(0)
    model = reference_dnn(X.shape[1], 10)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    finder = LRFinder(min_lr=1e-6, max_lr=1.0, num_iter=40 if quick else 100).find(model, X, y, batch_size=batch)
    base_lr, max_lr = finder.clr_bounds()
    print(f"suggestion {finder.suggestion_:.2e}; CLR bounds {base_lr:.2e} .. {max_lr:.2e}")
    steps_per_epoch = -(-len(X) // batch)
    schedule = CyclicalLearningRate(base_lr, max_lr, step_size=2 * steps_per_epoch)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(X, y, epochs=epochs, batch_size=batch, validation_split=0.25, verbose=0)

    # 2. The same inside a scikit-learn estimator: each fit (each CV fold) runs its own test.
    clf = CLRClassifier(schedule="triangular", step_size=2, lr_finder=LRFinder(min_lr=1e-6, max_lr=1.0),
                        epochs=epochs, batch_size=batch, validation_split=0.25, metrics=["accuracy"],
                        random_state=0).fit(X, y)  # fmt: skip
    print(f"CLRClassifier found base_lr_={clf.base_lr_:.2e}, max_lr_={clf.max_lr_:.2e}; "
          f"final validation accuracy {clf.history_['val_accuracy'][-1]:.3f}")  # fmt: skip

    OUTPUT.mkdir(parents=True, exist_ok=True)
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(15, 4))
    clf.lr_finder_.plot(ax=a)
    plot_schedule(clf, ax=b)
    plot_history(clf.history_, keys=("loss", "val_loss"), ax=c)
    fig.tight_layout()
    fig.savefig(OUTPUT / "finder_flow.png", dpi=100)
    print(f"figure: {OUTPUT / 'finder_flow.png'}")
    return clf


if __name__ == "__main__":
    main()
