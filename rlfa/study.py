"""What every study's config shares: seeds, devices, results, checkpoints, processes.

An experiment's config subclasses :class:`StudyOptions` (a frozen dataclass, so
tyro documents every field in ``--help``), adds its own fields, calls
``super().__post_init__()`` from its own validation, and passes
:meth:`StudyOptions.run_options` to :func:`rlfa.runner.run`, so checkpoints,
resume, device choice, progress bars and live logging work the same way in
every study::

    checkpoints = config.checkpoint_root("my_study")
    with config.logging("my_study", checkpoints) as logger:
        results = runner.run(program, hparams, num_seeds=..., num_logs=..., steps_per_log=...,
                             log_x=env_steps, unit="env steps",  # the bar counts in it
                             **config.run_options(checkpoints, "name", logger=logger))
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np

from rlfa import checkpoint
from rlfa import config as cfg
from rlfa import logger as live
from rlfa.distributed import DistributedConfig, is_main_process
from rlfa.types import Results


def absolute_paths(config: Any, *fields: str) -> None:
    """Make the path ``fields`` of a frozen config absolute, in place (None stays None).

    Called from ``__post_init__``, where the options are validated, so nothing
    downstream sees a relative path: orbax refuses them, and a printed
    ``--resume DIR`` must work from any working directory.
    """
    for name in fields:
        value = getattr(config, name)
        if value is not None:
            object.__setattr__(config, name, str(Path(value).expanduser().absolute()))


@dataclasses.dataclass(frozen=True)
class StudyOptions:
    """Options every study shares."""

    seed: int = 0
    """The seed every key is derived from."""
    quick: bool = False
    """Tiny workloads that run in seconds (for tests and smoke checks)."""
    num_devices: int | None = None
    """Local devices to spread the runs over (default: all; one per core on CPU)."""
    out: str = "runs"
    """Root directory for results."""
    progress: bool = True
    """Show progress bars."""
    checkpoint_every: int = 0
    """Chunks between checkpoints (0: only at the end of each program and when interrupted)."""
    logs_per_chunk: int = 10
    """Logged points per compiled chunk: progress, checkpoints and Ctrl-C act between chunks."""
    checkpoint_dir: str | None = None
    """Checkpoint directory (default: <out>/checkpoints/<experiment>/<timestamp>/)."""
    resume: str | None = None
    """Continue an interrupted run from its checkpoint directory (give the same other flags)."""
    distributed: DistributedConfig = DistributedConfig()
    """Several processes (hosts): coordinator address, process count and id."""
    log: tuple[str, ...] = ()
    """Live logging: tensorboard and/or wandb (pip install "rlfa[tensorboard]" / "rlfa[wandb]");
    files go to <out>/logs/<experiment>/<name of the checkpoint directory>/, printed at start."""

    def __post_init__(self):
        absolute_paths(self, "out", "checkpoint_dir", "resume")
        if self.num_devices is not None:
            cfg.check_positive_int("num_devices", self.num_devices)
        cfg.check_nonnegative_int("checkpoint_every", self.checkpoint_every)
        cfg.check_positive_int("logs_per_chunk", self.logs_per_chunk)
        checkpoint.check_resume("resume", self.resume)
        object.__setattr__(self, "log", tuple(dict.fromkeys(self.log)))  # each backend once
        for kind in self.log:
            cfg.check_choice("log", kind, live.KINDS)

    def checkpoint_root(self, experiment: str) -> Path | None:
        """This run's checkpoint directory (created; None across several processes).

        Every study calls it before compiling or writing anything, so it first
        checks that ``--log``'s packages import: a missing one is a ValueError of
        one line naming the extra to install.
        """
        if self.log and is_main_process():  # only process 0 logs
            live.require(self.log)
        if jax.process_count() > 1:  # checkpoints are per process: not written there
            return None
        return checkpoint.experiment_dir(experiment, self)

    @contextlib.contextmanager
    def logging(self, experiment: str,
                checkpoint_root: Path | None = None) -> Iterator[live.Logger | None]:
        """The live logger of this run (``--log``), closed when the block ends.

        Yields None without ``--log`` and on processes other than 0 (every process
        has every result; process 0 logs them). Files go to
        ``<out>/logs/<experiment>/<checkpoint_root's name>/`` (a resumed run goes on
        in the directory it started in; a fresh timestamp without checkpoints),
        printed as ``logs: DIR``. Give the logger to :meth:`run_options`.
        """
        if not self.log or not is_main_process():
            yield None
            return
        live.require(self.log)
        if checkpoint_root is None:
            from rlfa.report import new_run_dir
            directory = new_run_dir(experiment, Path(self.out) / "logs")
        else:
            directory = Path(self.out) / "logs" / experiment / Path(checkpoint_root).name
        logger = live.open_logger(self.log, experiment, directory.name, directory, self)
        print(f"logs: {directory} ({', '.join(self.log)})", flush=True)
        try:
            yield logger
        except BaseException:
            logger.close(failed=True)
            raise
        logger.close()

    def run_options(self, checkpoint_root: Path | None, name: str,
                    logger: live.Logger | None = None,
                    grid_labels: Sequence[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Keyword arguments for :func:`rlfa.runner.run` for the program called ``name``.

        ``logger`` (from :meth:`logging`) records the program's scalar metrics live,
        under ``name`` and, with several grid points, ``grid_labels`` (one dict per
        point, as for :func:`rlfa.report.metric_rows`; default ``grid_<g>``).
        """
        options = {
            "seed": self.seed,
            "num_devices": self.num_devices,
            "progress": name if self.progress else False,
            "checkpoint_dir": checkpoint_root,
            "checkpoint_every": self.checkpoint_every,
            "logs_per_chunk": self.logs_per_chunk,
            "resume": self.resume if checkpoint_root is not None else None,
            "checkpoint_name": checkpoint.study_name(name),
            "fingerprint": checkpoint.config_fingerprint(self),
        }
        if logger is not None:
            options["logger"] = logger.program(name, grid_labels)
        return options


def finish(path: Path | None, results: Iterable[Results]) -> Path | None:
    """The end of a study: print its results directory, then fail if a checkpoint save did.

    Call it after the results are written: a failed save is reported (with its
    directory) and turns into exit status 1 only once the results are on disk.
    ``path`` is None on processes other than 0, which write nothing.
    """
    if path is not None:
        print(f"results: {path}", flush=True)
    errors = [error for r in results for error in r.checkpoint_errors]
    if errors:
        print(f"rlfa: the results are complete, but {len(errors)} checkpoint save(s) failed, "
              "so this run cannot be resumed from them:\n  " + "\n  ".join(errors),
              file=sys.stderr, flush=True)
        raise SystemExit(1)
    return path


def cli(config_type: type, main: Callable[[Any], Any], *, omit_prefixes: bool = False) -> None:
    """Parse the command line into ``config_type`` with tyro and run ``main`` on it.

    A ``ValueError`` (rlfa's validation errors: a bad value, or a combination found
    invalid only once the environment or network is built) reaches the user as one
    line and exit status 2, as tyro's own argument errors do; set
    ``RLFA_TRACEBACK=1`` to see the traceback instead.
    """
    import tyro

    config = tyro.cli(config_type, config=(tyro.conf.OmitArgPrefixes,) if omit_prefixes else ())
    try:
        main(config)
    except ValueError as err:
        if os.environ.get("RLFA_TRACEBACK"):
            raise
        print(f"error: {err}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


def latest_mean(metric: str, label: str) -> Callable[[dict], dict[str, float]]:
    """A progress-bar ``postfix`` for :func:`rlfa.runner.run`: ``metric`` at the latest
    logged point, averaged over every run that has a finite value (NaN while none has)."""

    def postfix(metrics: dict) -> dict[str, float]:
        latest = np.asarray(metrics[metric], np.float64)[:, :, -1]
        finite = latest[np.isfinite(latest)]
        return {label: float(finite.mean()) if finite.size else float("nan")}

    return postfix
