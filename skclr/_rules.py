"""How the range test reads its loss curves: pure NumPy functions of rates and losses.

Nothing here trains or imports TensorFlow, so each rule is tested on synthetic curves whose
answer is known (``tests/test_rules.py``), as fast.ai tests its suggestion functions.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "CLEAR_FALL",
    "MAX_DIV",
    "SUGGESTIONS",
    "bounds",
    "curve",
    "exponential_average",
    "first_divergence",
    "landmarks",
    "mean_of_finite",
    "smoothing_width",
    "suggest",
]

#: ``max_lr`` is the curve's edge divided by this. A 100-step sweep sees the rates for a moment;
#: one-cycle holds its peak for epochs, where rows with extreme features can blow the loss up. With
#: the edge / 4, one-cycle diverged on real sets and did not come back (benchmarks/bench_finder_quality.py
#: and bench_time_to_accuracy.py: TensorFlow lending_club 4 of 5 folds, JAX attrition and wa_churn 1
#: of 5; regression, bench_regression.py: Computers 2 of 5); with the edge / 8 in none, at about the
#: same accuracy (within the fold-to-fold noise but on lending_club, which wants high rates).
MAX_DIV = 8.0
#: A fall below this fraction of the starting loss is no clear fall.
CLEAR_FALL = 0.1


def exponential_average(values, beta: float) -> np.ndarray:
    """Bias-corrected exponential moving average (fast.ai's smoothing of the loss)."""
    average, out = 0.0, np.empty(len(values))
    for i, value in enumerate(values):
        average = beta * average + (1 - beta) * value
        out[i] = average / (1 - beta ** (i + 1))
    return out


def first_divergence(losses, beta: float, threshold: float, skip: int) -> int | None:
    """Index of the step at which a sweep has blown up, or None.

    A step diverges when its loss or smoothed loss is not finite, or, from step ``skip`` on,
    when both the smoothed loss and the median of the last five losses exceed ``threshold``
    times the best smoothed loss of the earlier steps from ``skip`` on. The median keeps a few
    heavy batches (large sample or class weights) from passing for divergence.
    """
    average, best = 0.0, math.inf
    for step, loss in enumerate(losses):
        average = beta * average + (1 - beta) * loss
        smooth = average / (1 - beta ** (step + 1))
        if not math.isfinite(loss) or not math.isfinite(smooth):
            return step
        if step >= skip:
            recent = np.median(losses[max(0, step - 4) : step + 1])
            if smooth > threshold * best and recent > threshold * best:
                return step
            best = min(best, smooth)
    return None


def mean_of_finite(sweep_losses: np.ndarray) -> np.ndarray:
    """Each step's mean over the sweeps whose loss is finite there; the first sweep's where none is."""
    finite = np.isfinite(sweep_losses)
    count = finite.sum(axis=0)
    mean = np.where(finite, sweep_losses, 0.0).sum(axis=0) / np.maximum(count, 1)
    return np.where(count > 0, mean, sweep_losses[0])


def smoothing_width(num_iter: int) -> int:
    """Odd width of the centered moving average: about a tenth of a sweep of ``num_iter`` steps."""
    return max(1, int(num_iter) // 20) * 2 + 1


def curve(lrs, losses, diverged: bool, width: int | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """The part of a loss curve the rules read, or None if the loss never fell.

    Drops the point that diverged (when ``diverged``), everything from the first non-finite
    loss on (a later sweep that blew up), and the first tenth (start-up noise, as fast.ai
    does). With ``width``, applies a centered moving average of that width: smoothing
    without the exponential average's lag, possible once the sweep is over. "Never fell":
    the loss never got 0.1 % below where the remaining curve starts.
    """
    lrs, losses = np.asarray(lrs, dtype=float), np.asarray(losses, dtype=float)
    if diverged:
        lrs, losses = lrs[:-1], losses[:-1]
    finite = np.isfinite(losses)
    if not finite.all():
        stop = int(np.argmin(finite))
        lrs, losses = lrs[:stop], losses[:stop]
    skip = len(losses) // 10
    lrs, losses = lrs[skip:], losses[skip:]
    if width is not None and len(losses) >= 3:
        width = min(width, len(losses) - (1 - len(losses) % 2))
        losses = np.convolve(losses, np.ones(width) / width, mode="valid")
        lrs = lrs[width // 2 : width // 2 + len(losses)]
    if len(losses) < 3 or losses.min() >= losses[0] * (1 - 1e-3):
        return None
    return lrs, losses


def valley(lrs: np.ndarray, losses: np.ndarray) -> float:
    """fast.ai's "valley": the longest decreasing subsequence, a little past its first third.

    fast.ai takes the run's start as its end minus its length, which is one before a run that
    begins at the first point; there it gives index -1, the largest rate swept. The start is
    clamped to the first point, so the suggestion always lies inside the run.
    """
    run = np.ones(len(losses), dtype=int)
    for i in range(1, len(losses)):
        longer = losses[:i] > losses[i]
        if longer.any():
            run[i] = run[:i][longer].max() + 1
    end = int(np.argmax(run))
    start = max(end - int(run[end]), 0)
    third = (end - start) / 3
    return float(lrs[start + int(third) + int(third / 2)])


def steep(lrs: np.ndarray, losses: np.ndarray) -> float:
    """The rate where the loss falls fastest against log(rate)."""
    return float(lrs[np.argmin(np.diff(losses) / np.diff(np.log(lrs)))])


def minimum(lrs: np.ndarray, losses: np.ndarray) -> float:
    """The rate of the lowest loss, divided by 10."""
    return float(lrs[np.argmin(losses)] / 10.0)


#: The rules of :meth:`skclr.LRFinder.suggest`, by name.
_RULES = {"valley": valley, "steep": steep, "minimum": minimum}
SUGGESTIONS = tuple(_RULES)


def suggest(rule: str, lrs: np.ndarray, losses: np.ndarray) -> float:
    """The rate that ``rule`` reads off a curve returned by :func:`curve`."""
    if rule not in _RULES:
        raise ValueError(f"Unknown suggestion rule {rule!r}. Valid rules are: {', '.join(SUGGESTIONS)}.")
    return _RULES[rule](lrs, losses)


def landmarks(lrs, losses, diverged: bool, width: int) -> tuple[float, float, float] | None:
    """``(onset, edge, fall)`` of one sweep's curve, or None if its loss never fell.

    On the centered average of width ``width``: ``onset`` is the first rate where the loss is
    down a tenth of its fall (start level to lowest point); ``edge`` the first rate after the
    lowest point where it is back above half its fall, else the last rate run (``lrs[-1]``,
    the diverging step included); ``fall`` is the fall as a fraction of the start level.
    """
    read = curve(lrs, losses, diverged, width)
    if read is None:
        return None
    rates, smooth = read
    start = float(np.median(smooth[: max(1, len(smooth) // 10)]))
    low = int(np.argmin(smooth))
    fall = start - float(smooth[low])
    if fall <= 0:
        return None
    onset = float(rates[np.flatnonzero(smooth <= start - 0.1 * fall)[0]])
    back_up = np.flatnonzero(smooth[low:] > smooth[low] + 0.5 * fall)
    edge = float(rates[low + back_up[0]] if back_up.size else lrs[-1])
    return onset, edge, fall / start


def bounds(
    onset: float, edge: float, max_div: float = MAX_DIV, base_div: float | None = None
) -> tuple[float, float]:
    """``(base_lr, max_lr)``: ``max_lr = edge / max_div``; ``base_lr`` is ``onset``, capped at
    ``max_lr / 3``, or ``max_lr / base_div`` when that is given."""
    top = float(edge / max_div)
    return (top / base_div if base_div else min(float(onset), top / 3)), top
