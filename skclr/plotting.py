"""Matplotlib figures: schedules, the range-test curve and training histories.

matplotlib is imported only when a function here is called (the ``plot`` extra).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from skclr.schedules import schedule_values

__all__ = ["plot_schedule", "plot_lr_finder", "plot_history"]


def _axes(ax):
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError('Plotting needs matplotlib: pip install "skclr[plot]"') from error
    return plt.figure(figsize=(6, 4)).add_subplot()


def plot_schedule(schedule_or_estimator: Any, steps: int | None = None, ax=None, label: str | None = None):
    """Plot a schedule's rate against the iteration, without training.

    Parameters
    ----------
    schedule_or_estimator : LearningRateSchedule, float or fitted CLRClassifier
        A schedule, or an estimator whose ``schedule_`` is drawn.
    steps : int, optional
        Iterations to draw; for an estimator, defaults to its whole training.
    ax : matplotlib Axes, optional
        Where to draw; a new figure otherwise.
    label : str, optional
        Legend label.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from skclr.schedules import CyclicalLearningRate
    >>> from skclr.plotting import plot_schedule
    >>> ax = plot_schedule(CyclicalLearningRate(1e-4, 1e-2, step_size=50), steps=400)
    >>> ax.get_ylabel()
    'learning rate'
    """
    schedule = getattr(schedule_or_estimator, "schedule_", schedule_or_estimator)
    if steps is None:
        model = getattr(schedule_or_estimator, "model_", None)
        steps = int(model.optimizer.iterations) if model is not None else 1000
    ax = _axes(ax)
    ax.plot(np.arange(steps), schedule_values(schedule, steps), label=label)
    ax.set_xlabel("iteration")
    ax.set_ylabel("learning rate")
    if label:
        ax.legend()
    return ax


def plot_lr_finder(finder, ax=None, show_bounds: bool = True):
    """Plot a fitted :class:`skclr.LRFinder`: raw and smoothed loss against the rate (log axis).

    The suggestion is a dashed line and, with ``show_bounds``, the CLR bounds a shaded band.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    ax.plot(finder.lrs_, finder.losses_, alpha=0.3, label="batch loss")
    ax.plot(finder.lrs_, finder.smoothed_losses_, label="smoothed loss")
    if finder.val_losses_ is not None:
        ax.plot(finder.lrs_, finder.val_losses_, label="validation loss")
    ax.axvline(finder.suggestion_, color="k", linestyle="--", label=f"suggestion {finder.suggestion_:.2g}")
    if show_bounds:
        base, top = finder.clr_bounds()
        ax.axvspan(base, top, color="tab:green", alpha=0.15, label=f"CLR bounds {base:.2g}-{top:.2g}")
    both = np.concatenate([finder.losses_, finder.smoothed_losses_])
    finite = both[np.isfinite(both)]
    if finite.size:  # keep the diverging tail from flattening the interesting part
        top = min(finite.max(), finder.smoothed_losses_[0] * 2.0)
        ax.set_ylim(finite.min() - 0.05 * (top - finite.min()), top)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("loss")
    ax.legend()
    ax.figure.tight_layout()
    return ax


def plot_history(history: dict, keys: tuple[str, ...] = ("loss", "val_loss"), ax=None, label: str = ""):
    """Plot per-epoch entries of a ``history_`` (e.g. ``CLRClassifier().fit(...).history_``).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    for key in keys:
        if key in history:
            values = history[key]
            ax.plot(np.arange(1, len(values) + 1), values, label=f"{label} {key}".strip())
    ax.set_xlabel("epoch")
    ax.legend()
    return ax
