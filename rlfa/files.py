"""Result files: the run directory, written atomically.

Every experiment writes ``runs/<experiment>/<timestamp>/`` with ``config.json``,
``metrics.csv`` (one row per grid point per seed per logged point),
``metrics.npz`` (arrays), ``summary.json`` and its figure; each file is written
to a temporary name and then renamed, so a reader never sees half a file.
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


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a hidden temporary file and a rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def jsonable(obj: Any) -> Any:
    """``obj`` as JSON values: dataclasses and NamedTuples (a config's hyperparameters) as
    dicts, arrays as (nested) lists, numpy scalars as Python ones, paths as strings, NaN and
    infinities as None."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {k: jsonable(v) for k, v in dataclasses.asdict(obj).items()}
    if isinstance(obj, tuple) and hasattr(obj, "_asdict"):
        return jsonable(obj._asdict())
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
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
    atomic_write(Path(path), json.dumps(jsonable(obj), indent=2).encode())


def write_csv(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Write dict rows as CSV (columns from the first row), atomically."""
    rows = list(rows)
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    atomic_write(Path(path), buf.getvalue().encode())


def save_figure(fig, path: Path) -> None:
    """Save a matplotlib figure as PNG, atomically, and close it."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    atomic_write(Path(path), buf.getvalue())


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
                row = {**grid_labels[g], "seed": s, x_name: jsonable(x_values[t])}
                row.update({k: jsonable(v[g, s, t]) for k, v in scalar.items()})
                rows.append(row)
    return rows


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
        atomic_write(path / "metrics.npz", buf.getvalue())
    for stem, fig in figures.items():
        save_figure(fig, path / f"{stem}.png")
    write_json(path / "summary.json", summary)  # last: its presence marks a complete run
    return path
