"""Matplotlib figures: schedules, the range-test curve and training histories.

matplotlib is imported only when a function here is called (the ``plot`` extra).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from skclr._catalogue import schedule_values

__all__ = ["plot_schedule", "plot_all_schedules", "plot_lr_finder", "plot_history", "plot_comparison"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError('Plotting needs matplotlib: pip install "skclr[plot]"') from error
    return plt


def _axes(ax):
    return ax if ax is not None else _pyplot().figure(figsize=(6, 4)).add_subplot()


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


def plot_all_schedules(epochs: int = 40, steps_per_epoch: int = 10):
    """Draw every named schedule over ``epochs`` on one figure, with illustrative settings.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from skclr._catalogue import SCHEDULES, make_schedule

    columns = 4
    fig, axes = _pyplot().subplots(-(-len(SCHEDULES) // columns), columns, figsize=(16, 9), sharex=True)
    for ax, name in zip(axes.flat, SCHEDULES):
        schedule = make_schedule(
            name, steps_per_epoch=steps_per_epoch, epochs=epochs, learning_rate=1e-2, base_lr=1e-3,
            max_lr=1e-2, drop_every=epochs / 5, warmup=epochs / 10, gamma=0.9, step_size=epochs / 8,
        )  # fmt: skip
        plot_schedule(schedule, steps=epochs * steps_per_epoch, ax=ax)
        ax.set_title(name)
    for ax in axes.flat[len(SCHEDULES) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def plot_lr_finder(finder, ax=None, show_bounds: bool = True, title: str | None = None):
    """Plot a fitted :class:`skclr.LRFinder`: batch and smoothed loss against the rate (log axis).

    Every sweep's batch losses are drawn faintly; the suggestion is a dashed line. With
    ``show_bounds``, the chosen ``base_lr`` and ``max_lr`` are marked on the smoothed curve,
    the CLR band between them is shaded and the curve's edge (``edge_``, where the loss
    climbs back) is a dotted line.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    sweeps = finder.sweep_losses_
    for i, losses in enumerate(sweeps):
        ax.plot(finder.lrs_, losses, color="tab:blue", alpha=0.25, label="batch loss" if i == 0 else None)
    ax.plot(finder.lrs_, finder.smoothed_losses_, color="tab:orange", label="smoothed loss")
    if finder.val_losses_ is not None:
        ax.plot(finder.lrs_, finder.val_losses_, label="validation loss")
    ax.axvline(finder.suggestion_, color="k", linestyle="--", label=f"suggestion {finder.suggestion_:.2g}")
    if show_bounds:
        base, top = finder.clr_bounds()
        ax.axvspan(base, top, color="tab:green", alpha=0.15, label=f"CLR bounds {base:.2g}-{top:.2g}")
        on_curve = np.interp(np.log([base, top]), np.log(finder.lrs_), finder.smoothed_losses_)
        ax.plot([base, top], on_curve, "o", color="tab:green", label="chosen base_lr, max_lr")
        if np.isfinite(finder.edge_):
            ax.axvline(finder.edge_, color="tab:red", linestyle=":",
                       label=f"edge {finder.edge_:.2g} (sweeps' spread {finder.spread_:.2g})")  # fmt: skip
    both = np.concatenate([np.ravel(sweeps), finder.smoothed_losses_])
    finite = both[np.isfinite(both)]
    if finite.size:  # keep the diverging tail from flattening the interesting part
        top = min(finite.max(), finder.smoothed_losses_[0] * 2.0)
        ax.set_ylim(finite.min() - 0.05 * (top - finite.min()), top)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("loss")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8)
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


def plot_comparison(result):
    """The panels of a :class:`skclr.experiment.Comparison`, one line per configuration.

    Per epoch and averaged over folds: the learning rate, held-out accuracy (classification)
    and held-out loss (log-loss, or MSE of the standardized target for regression).

    Returns
    -------
    matplotlib.figure.Figure
    """
    panels = [("lr", "learning rate (end of epoch, mean over folds)"), ("val_loss", "held-out loss")]
    if result.task == "classification":
        panels.insert(1, ("val_accuracy", "held-out accuracy"))
    fig, axes = _pyplot().subplots(1, len(panels), figsize=(5.3 * len(panels), 4.5))
    for ax, (key, title) in zip(axes, panels):
        for name in result.configs:
            curve = result.mean_curve(name, key)
            ax.plot(np.arange(1, len(curve) + 1), curve, label=name)
        ax.set(title=title, xlabel="epoch", yscale="log" if key == "lr" else "linear")
    axes[-1].legend(fontsize=8)
    fig.tight_layout()
    return fig
