"""Live logging of a study's metrics to TensorBoard and/or Weights & Biases.

The runner calls a logger on the host between compiled chunks, never inside the
jitted loop, with that chunk's new logged points. For every scalar metric (one
number per grid point, seed and logged point: ``[grid, seed, log]`` numpy) it
records, at each logged point, one series per seed and the mean and IQM over
seeds, with the logged point's x value (environment steps, episodes... the
study's unit) as the step:

    <program>/<grid label>/<metric>/seed_<k>
    <program>/<grid label>/<metric>/mean      (over the finite seeds)
    <program>/<grid label>/<metric>/iqm       (scipy.stats.trim_mean(x, 0.25), finite seeds)

(``<grid label>/`` is left out for a single grid point without a label.) The
run's config is recorded as hyperparameters: TensorBoard gets it as JSON text
and in the HParams dashboard, W&B as the run's ``config``.

Both backends are optional extras (``pip install "rlfa[tensorboard]"``,
``pip install "rlfa[wandb]"``). W&B logs online when the user is logged in
(``wandb login``, ``WANDB_API_KEY``) or sets ``WANDB_MODE``; otherwise offline, on
disk (``wandb sync`` uploads it later), so it never waits for a login prompt.
Studies open loggers with :meth:`rlfa.study.StudyOptions.logging`.
"""

from __future__ import annotations

import importlib
import json
import netrc
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

# --log choice -> (module it needs, the pip extra that installs it)
BACKENDS = {"tensorboard": "tensorboardX", "wandb": "wandb"}
KINDS = tuple(BACKENDS)


def require(kinds: Sequence[str]) -> None:
    """Import every backend in ``kinds`` now, before anything compiles.

    Raises:
      ValueError: one line naming the extra to install, for the first backend
        whose package cannot be imported.
    """
    for kind in kinds:
        module = BACKENDS[kind]
        try:
            importlib.import_module(module)
        except ImportError as err:
            raise ValueError(f"--log {kind} needs the {module} package, which cannot be "
                             f"imported ({err}): pip install \"rlfa[{kind}]\"") from None


def seed_summaries(values: np.ndarray) -> dict[str, np.ndarray]:
    """Per-seed series and their mean and IQM over seeds.

    Args:
      values: ``[seed, log]`` numbers of one metric at one grid point.

    Returns:
      name -> ``[log]`` float64: ``seed_<k>`` for each seed, ``mean`` and ``iqm`` over
      the seeds whose value is finite (NaN where none is): a diverged seed or a
      greedy evaluation without a finished episode does not poison the summary.
    """
    from scipy.stats import trim_mean

    values = np.asarray(values, np.float64)
    out = {f"seed_{k}": values[k] for k in range(values.shape[0])}
    mean, iqm = [], []
    for column in values.T:  # one logged point: the finite seeds only
        finite = column[np.isfinite(column)]
        mean.append(finite.mean() if finite.size else np.nan)
        iqm.append(trim_mean(finite, 0.25) if finite.size else np.nan)
    out["mean"], out["iqm"] = np.array(mean), np.array(iqm)
    return out


def scalar_series(program: str, grid_labels: Sequence[dict[str, Any]] | None,
                  metrics: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every series to record, by tag (see the module docstring).

    Args:
      program: the runner call's name (``run_options``' ``name``).
      grid_labels: one dict per grid point (as for :func:`rlfa.files.metric_rows`),
        or None: ``grid_<g>``; left out for a single grid point.
      metrics: name -> ``[grid, seed, log, ...]``; only ``[grid, seed, log]`` ones
        (the ``metrics.csv`` columns) are recorded.

    Returns:
      tag -> ``[log]`` float64.
    """
    out = {}
    for name, values in metrics.items():
        if np.ndim(values) != 3:
            continue
        for g in range(values.shape[0]):
            parts = [program, _grid_label(grid_labels, g, values.shape[0]), name]
            prefix = "/".join(_tag(p) for p in parts if p)
            for stat, series in seed_summaries(values[g]).items():
                out[f"{prefix}/{stat}"] = series
    return out


def _grid_label(grid_labels, g: int, num_grid: int) -> str:
    if num_grid == 1:  # a program without a sweep keeps its plain tags
        return ""
    if grid_labels is None:
        return f"grid_{g}"
    return ",".join(f"{k}={v}" for k, v in grid_labels[g].items())


def _tag(text: str) -> str:
    """A tag component without '/' (it separates components) or spaces."""
    return re.sub(r"[/\s]+", "_", str(text)).strip("_")


def flat_config(config: Any) -> dict[str, Any]:
    """The config as JSON values, nested keys joined by '/' (lists as JSON text)."""
    from rlfa.checkpoint import jsonable
    from rlfa.files import flatten

    return {k: json.dumps(v) if isinstance(v, list) else v
            for k, v in flatten(jsonable(config), "/").items()}


class _TensorBoard:
    """tensorboardX event files in ``directory`` (``tensorboard --logdir DIR``)."""

    def __init__(self, directory: Path, config: Any):
        from tensorboardX import SummaryWriter
        from tensorboardX.summary import hparams

        from rlfa.checkpoint import jsonable

        # Event files are named after the second they were opened in: a resumed run
        # writing into the same directory must not overwrite the first one's file.
        self.writer = SummaryWriter(logdir=str(directory), filename_suffix=f".{time.time_ns()}")
        text = json.dumps(jsonable(config), indent=2)
        self.writer.add_text("config", "    " + text.replace("\n", "\n    "))  # markdown code
        # Written into this run (add_hparams would open a sub-run of its own).
        experiment, start, self._end = hparams(flat_config(config), {})
        self.writer.file_writer.add_summary(experiment)
        self.writer.file_writer.add_summary(start)
        self.writer.flush()

    def write(self, x_name: str, x_values: np.ndarray, series: dict[str, np.ndarray]) -> None:
        for t, x in enumerate(x_values):
            step = round(float(x))  # TensorBoard steps are integers
            for tag, values in series.items():
                self.writer.add_scalar(tag, float(values[t]), global_step=step)
        self.writer.flush()  # live: readers see each chunk as soon as it is done

    def close(self, failed: bool) -> None:
        if not failed:
            self.writer.file_writer.add_summary(self._end)
        self.writer.close()


def wandb_mode() -> str | None:
    """W&B's mode: the user's ``WANDB_MODE`` if set; online when logged in (``WANDB_API_KEY``
    or a netrc entry for the W&B host, as ``wandb login`` writes); else ``"offline"``, so a
    machine without an account or a network never blocks on a login prompt."""
    if os.environ.get("WANDB_MODE") or os.environ.get("WANDB_API_KEY"):
        return None  # wandb reads them itself
    host = urlparse(os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai")).hostname
    try:
        logged_in = netrc.netrc().authenticators(host) is not None
    except (OSError, netrc.NetrcParseError):  # no ~/.netrc, or not one we can read
        logged_in = False
    return None if logged_in else "offline"


class _Wandb:
    """A W&B run in ``directory``, online or offline (see :func:`wandb_mode`)."""

    def __init__(self, directory: Path, config: Any, experiment: str, run_name: str):
        import wandb

        from rlfa.checkpoint import jsonable

        mode = wandb_mode()
        self.run = wandb.init(project=os.environ.get("WANDB_PROJECT", "rlfa"),
                              group=experiment, name=f"{experiment}/{run_name}",
                              dir=str(directory), config=jsonable(config), mode=mode)
        if mode == "offline":
            print(f"wandb: offline (not logged in); upload with: wandb sync {directory}/wandb/"
                  "offline-run-*", file=sys.stderr, flush=True)
        self._defined: set[str] = set()

    def write(self, x_name: str, x_values: np.ndarray, series: dict[str, np.ndarray]) -> None:
        # Each program gets its own x axis (several programs each start at 0, and
        # W&B's own step must only grow), declared once as the step of its series.
        by_program: dict[str, dict[str, np.ndarray]] = {}
        for tag, values in series.items():
            by_program.setdefault(tag.split("/", 1)[0], {})[tag] = values
        for program, tags in by_program.items():
            x_key = f"{program}/{_tag(x_name)}"
            if program not in self._defined:
                self.run.define_metric(x_key)
                self.run.define_metric(f"{program}/*", step_metric=x_key)
                self._defined.add(program)
            for t, x in enumerate(x_values):
                self.run.log({x_key: float(x), **{k: float(v[t]) for k, v in tags.items()}})

    def close(self, failed: bool) -> None:
        self.run.finish(exit_code=1 if failed else 0)


class Logger:
    """Live logs of one experiment run: what :func:`open_logger` returns."""

    def __init__(self, directory: Path, backends: list):
        self.directory = directory
        self._backends = backends

    def write(self, program: str, grid_labels: Sequence[dict[str, Any]] | None,
              x_values: np.ndarray, metrics: dict[str, np.ndarray], x_name: str = "step") -> None:
        """Record new logged points.

        Args:
          program: the runner call's name.
          grid_labels: one dict per grid point, or None.
          x_values: ``[logs]`` the points' x values in the study's unit (the step).
          metrics: name -> ``[grid, seed, logs, ...]``; scalar ones are recorded.
          x_name: the unit of ``x_values`` (W&B's x axis is called after it).
        """
        series = scalar_series(program, grid_labels, metrics)
        if not series or len(x_values) == 0:
            return
        for backend in self._backends:
            backend.write(x_name, np.asarray(x_values), series)

    def program(self, name: str, grid_labels: Sequence[dict[str, Any]] | None = None):
        """The callable :func:`rlfa.runner.run` takes as ``logger=`` for program ``name``:
        ``(x_values [logs], metrics {name: [grid, seed, logs, ...]}, unit)``."""
        def log(x_values, metrics, unit="step"):
            self.write(name, grid_labels, x_values, metrics, x_name=unit)
        return log

    def close(self, failed: bool = False) -> None:
        """Flush and close every backend (``failed`` marks the run as crashed where
        the backend can tell)."""
        for backend in self._backends:
            try:
                backend.close(failed)
            except Exception as err:  # closing one must not stop the others
                print(f"rlfa: closing the {type(backend).__name__.strip('_')} log failed: "
                      f"{type(err).__name__}: {err}", file=sys.stderr, flush=True)


def open_logger(kinds: Sequence[str], experiment: str, run_name: str, directory: str | Path,
                config: Any) -> Logger:
    """Open the live-logging backends ``kinds`` (``"tensorboard"``, ``"wandb"``).

    Args:
      kinds: backends; each one's package must be installed (see :func:`require`).
      experiment: the experiment's name (W&B group).
      run_name: this run's name (W&B run ``<experiment>/<run_name>``).
      directory: where the backends write (created); TensorBoard's event files go
        directly in it, W&B's files under ``directory/wandb/``.
      config: the run's config, recorded as hyperparameters.
    """
    require(kinds)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    backends = []
    try:
        for kind in kinds:
            backends.append(_TensorBoard(directory, config) if kind == "tensorboard"
                            else _Wandb(directory, config, experiment, run_name))
    except BaseException:
        Logger(directory, backends).close(failed=True)
        raise
    return Logger(directory, backends)
