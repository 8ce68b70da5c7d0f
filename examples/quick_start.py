"""Quick start: a cyclical learning rate is one constructor argument of a scikit-learn classifier.

Trains skclr's default network on scikit-learn's digits (8x8 images of handwritten digits, 10
classes) with the "triangular" schedule, whose rate climbs from base_lr to max_lr and back every
2 * step_size epochs, and prints the held-out accuracy and the rate at the end of each epoch.
"""

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skclr import CLRClassifier


def main(quick: bool = False) -> float:
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
    clf = CLRClassifier(schedule="triangular", base_lr=1e-4, max_lr=3e-3, step_size=2, epochs=2 if quick else 15,
                        random_state=0)  # fmt: skip
    model = make_pipeline(StandardScaler(), clf).fit(X_train, y_train)
    accuracy = model.score(X_test, y_test)
    print(f"held-out accuracy: {accuracy:.3f}")
    print("rate at the end of each epoch:", [f"{lr:.2e}" for lr in clf.history_["lr"]])
    return accuracy


if __name__ == "__main__":
    main()
