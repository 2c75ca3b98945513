"""Figures: learning curves with bootstrap bands, and the benchmarks' bar charts.

A figure is drawn from a run's saved arrays and saved with
:func:`rlfa.files.save_figure`; matplotlib is imported only when one is drawn.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rlfa import stats


def plot_band(ax, x: np.ndarray, per_seed: np.ndarray, label: str, **line) -> None:
    """A learning curve on ``ax``: the mean over seeds of ``per_seed`` ``[seed, len(x)]``
    and its 95% percentile-bootstrap band (:func:`rlfa.stats.bootstrap_band`, which
    stays within the values the seeds reached); ``line``: matplotlib line options."""
    mean, low, high = stats.bootstrap_band(per_seed)
    drawn, = ax.plot(x, mean, label=label, **line)
    ax.fill_between(x, low, high, color=drawn.get_color(), alpha=0.2)


def bar_figure(labels: list[str], series: dict[str, Any], ylabel: str, title: str, *,
               target: float | None = None, target_label: str | None = None,
               log: bool = False):
    """A grouped bar chart (a benchmark's figure): one group per label, one bar per series.

    Args:
      labels: the groups' names on the x axis (e.g. one per timed case).
      series: legend name -> one value per label; a non-finite value draws no bar.
      ylabel: the y axis' label; title: the figure's title.
      target: draw a dashed horizontal line at this value (e.g. a goal), with
        ``target_label`` (default ``"target <value>"``) in the legend.
      log: a logarithmic y axis (for values that span decades).

    Every bar is labelled with its value; matplotlib is imported only here.
    """
    import matplotlib.pyplot as plt

    labels = [str(label) for label in labels]
    names = list(series)
    x = np.arange(len(labels))
    width = 0.8 / max(len(names), 1)
    width_in = min(max(4.0, 1.5 + 0.45 * len(labels) * max(len(names), 1)), 16.0)
    fig, ax = plt.subplots(figsize=(width_in, 4.2))
    for i, name in enumerate(names):
        values = np.asarray(series[name], np.float64)
        if values.shape != (len(labels),):
            raise ValueError(f"series {name!r} has {values.size} values for {len(labels)} labels.")
        shown = np.isfinite(values) & ((values > 0) if log else True)
        bars = ax.bar(x[shown] + (i - (len(names) - 1) / 2) * width, values[shown], width,
                      label=name)
        ax.bar_label(bars, fmt="%.3g", fontsize=7)
    if target is not None:
        ax.axhline(target, color="k", ls="--", lw=1,
                   label=target_label if target_label is not None else f"target {target:g}")
    ax.set_xticks(x, labels)
    if len(labels) * max((len(label) for label in labels), default=0) * 0.075 > width_in:
        plt.setp(ax.get_xticklabels(), rotation=30, ha="right")  # they would overlap
    if log:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, axis="y", which="both", alpha=0.3)
    ax.set_axisbelow(True)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside, not over
    return fig  # files.save_figure's bbox_inches="tight" takes in the legend and the tick labels
