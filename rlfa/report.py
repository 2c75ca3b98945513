"""Summaries over seeds (mean and 95% confidence interval) and the run directory.

Every experiment writes ``runs/<experiment>/<timestamp>/`` with ``config.json``,
``metrics.csv`` (one row per grid point per seed per logged point),
``summary.json`` and its figure; files are written to a temporary name and then
renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as _dt
import io
import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

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


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _jsonable(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(obj).items()}
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


def flatten(tree: Any, sep: str = ".") -> dict[str, Any]:
    """Nested dicts (a ``config.json``) as one dict, keys joined by ``sep``: ``{"a.b": 1}``."""
    if not isinstance(tree, dict):
        return {"": tree}
    out: dict[str, Any] = {}
    for key, value in tree.items():
        for sub, leaf in flatten(value, sep).items():
            out[f"{key}{sep}{sub}" if sub else str(key)] = leaf
    return out


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON (NaN/inf become null), atomically."""
    _atomic_write(Path(path), json.dumps(_jsonable(obj), indent=2).encode())


def write_csv(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Write dict rows as CSV (columns from the first row), atomically."""
    rows = list(rows)
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    _atomic_write(Path(path), buf.getvalue().encode())


def new_run_dir(experiment: str, root: str | Path = "runs") -> Path:
    """Create ``root/experiment/<timestamp>/``, never reusing an existing directory."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    parent = Path(root) / experiment
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(f"results directory {parent} cannot be created: {err}") from err
    if not os.access(parent, os.W_OK):
        raise ValueError(f"results directory {parent} is not writable.")
    for i in range(1000):
        path = parent / (stamp if i == 0 else f"{stamp}-{i}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise RuntimeError(f"could not create a fresh run directory under {parent}")


def metric_rows(metrics: dict[str, np.ndarray], grid_labels: list[dict[str, Any]],
                x_name: str, x_values: np.ndarray) -> list[dict[str, Any]]:
    """Rows for ``metrics.csv``: one per grid point, seed and logged point.

    Only scalar-per-logged-point metrics (``[grid, seed, log]``) become columns.
    """
    scalar = {k: v for k, v in metrics.items() if v.ndim == 3}
    if not scalar:
        return []
    num_grid, num_seeds, num_logs = next(iter(scalar.values())).shape
    rows = []
    for g in range(num_grid):
        for s in range(num_seeds):
            for t in range(num_logs):
                row = {**grid_labels[g], "seed": s, x_name: _jsonable(x_values[t])}
                row.update({k: _jsonable(v[g, s, t]) for k, v in scalar.items()})
                rows.append(row)
    return rows


def save_figure(fig, path: Path) -> None:
    """Save a matplotlib figure as PNG, atomically, and close it."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    _atomic_write(Path(path), buf.getvalue())


def plot_band(ax, x: np.ndarray, per_seed: np.ndarray, label: str, **line) -> None:
    """A learning curve on ``ax``: the mean over seeds of ``per_seed`` ``[seed, len(x)]``
    and its 95% percentile-bootstrap band (:func:`rlfa.stats.bootstrap_band`, which
    stays within the values the seeds reached); ``line``: matplotlib line options."""
    from rlfa import stats

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
    return fig  # save_figure's bbox_inches="tight" takes in the legend and the tick labels


def write_run(
    experiment: str,
    config: Any,
    summary: dict[str, Any],
    rows: list[dict[str, Any]],
    figures: dict[str, Any],
    *,
    root: str | Path = "runs",
    arrays: dict[str, np.ndarray] | None = None,
) -> Path:
    """Write one run's results and return its directory.

    Args:
      experiment: the experiment's name (``runs/<experiment>/``).
      config: the frozen config dataclass, saved as ``config.json``.
      summary: headline numbers, saved as ``summary.json``.
      rows: ``metrics.csv`` rows (see :func:`metric_rows`).
      figures: file stem -> matplotlib figure; the main one is named ``figure``.
      root: the results root.
      arrays: optional non-scalar metrics saved as ``metrics.npz``.
    """
    path = new_run_dir(experiment, root)
    write_json(path / "config.json", config)
    write_csv(path / "metrics.csv", rows)
    if arrays:
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        _atomic_write(path / "metrics.npz", buf.getvalue())
    for stem, fig in figures.items():
        save_figure(fig, path / f"{stem}.png")
    write_json(path / "summary.json", summary)  # last: its presence marks a complete run
    return path


USAGE = ("usage: python -m rlfa.report compare RUN_DIR [RUN_DIR ...] [--out DIR] [--reps N] "
         "[--seed S]\n       python -m rlfa.report redraw RUN_DIR [RUN_DIR ...]\n"
         "compare: statistics across runs (python -m rlfa.report compare --help); redraw: a run's "
         "figure.png again from its files, without rerunning it")


def _redraw(paths: list[str]) -> int:
    from rlfa import study

    if not paths:
        print(USAGE + "\nerror: redraw needs at least one RUN_DIR", file=sys.stderr)
        return 2
    for path in paths:
        try:
            print(f"figure: {study.redraw(path)}", flush=True)
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] in (["-h"], ["--help"]):
        print(USAGE)
        sys.exit(0)
    if sys.argv[1:2] == ["redraw"]:
        sys.exit(_redraw(sys.argv[2:]))
    if sys.argv[1:2] != ["compare"]:
        print(USAGE + "\nerror: the subcommands are 'compare' and 'redraw'", file=sys.stderr)
        sys.exit(2)
    from rlfa import compare

    sys.exit(compare.main(sys.argv[2:]))
