"""Figures: learning curves with bootstrap bands, and the benchmarks' bar charts; Student-t
summaries (``summary_stats``).

A figure is drawn from a run's saved arrays and saved with
:func:`rlfa.files.save_figure`; matplotlib is imported only when one is drawn.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rlfa import stats

# Two-sided 95% Student-t quantiles for 1..30 degrees of freedom; 1.96 beyond.
_T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def t95(n: int) -> float:
    """The 95% two-sided Student-t quantile for a mean over ``n`` samples."""
    if n < 2:
        return float("nan")
    return _T95[n - 2] if n - 1 <= len(_T95) else 1.96


def mean_ci(x, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mean over ``axis`` and the half-width of its 95% confidence interval (t-based).

    Non-finite samples (diverged seeds) are left out; the half-width is NaN with
    fewer than two finite samples.
    """
    x = np.asarray(x, np.float64)
    finite = np.isfinite(x)
    n = finite.sum(axis)
    safe = np.where(finite, x, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = safe.sum(axis) / n
        var = (np.where(finite, (x - np.expand_dims(mean, axis)) ** 2, 0.0)).sum(axis) / (n - 1)
        half = np.sqrt(var / n) * np.vectorize(t95, otypes=[float])(n)
    return mean, half


def summary_stats(x) -> dict[str, float]:
    """``{"mean", "ci95", "n"}`` of a 1-D sample, JSON-ready."""
    x = np.asarray(x, np.float64).ravel()
    mean, half = mean_ci(x)
    return {"mean": float(mean), "ci95": float(half), "n": int(np.isfinite(x).sum())}


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
