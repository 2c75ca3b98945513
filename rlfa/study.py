"""The shape of every study: a config, the jobs it runs, what each job records, a figure.

A study module (``experiments/NAME.py``) holds four things and nothing else:

* its config, a frozen dataclass subclassing :class:`StudyOptions` (so tyro
  documents every field in ``--help``; validation in ``__post_init__`` calls
  ``super().__post_init__()``), with a ``sweep`` field ``Sweep[HParams]`` of the
  agent's traced hyperparameters (``--sweep.NAME v1 v2 ...``, see :mod:`rlfa.sweep`;
  :class:`StudyOptions` checks the values against their declared bounds);
* ``jobs(config)``: the :class:`Job` s to run, each one compiled program over
  seeds and a grid of hyperparameters;
* ``record(config, job, results)``: what a finished job adds to the run
  directory, a :class:`Record` (headlines, summary numbers, CSV rows, arrays);
* ``figure(run)``: the figure, drawn from the written files (:class:`RunFiles`),
  so ``python -m rlfa redraw RUN_DIR`` redraws any run without rerunning it.

and ends with ``STUDY = Study("name", jobs, record, figure)`` and
``if __name__ == "__main__": cli(Config, STUDY)``. :func:`main` does the rest
the same way for every study: the checkpoint root, live logging, the runner
(devices, checkpoints, resume, progress bar), timings, ``summary.json``,
``metrics.csv``, ``metrics.npz``, the figure, the printed headlines and the
``results:`` line, with files written by process 0 only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np

from rlfa import checkpoint, files, hparams, runner, stats, sweep
from rlfa import config as cfg
from rlfa import logger as live
from rlfa.devices import DistributedConfig, is_main_process
from rlfa.types import Program, Results


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
    vectorize: bool | None = None
    """vmap the runs on each device (True) or run them one after another (False); default:
    each program's own choice (DQN on a CPU: one after another)."""
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
    sweep_mode: str = "grid"
    """How several --sweep.* fields combine: grid (every combination) or list (i-th with i-th)."""

    def __post_init__(self):
        cfg.check_choice("sweep_mode", self.sweep_mode, ("grid", "list"))
        absolute_paths(self, "out", "checkpoint_dir", "resume")
        if self.num_devices is not None:
            cfg.check_positive_int("num_devices", self.num_devices)
        cfg.check_nonnegative_int("checkpoint_every", self.checkpoint_every)
        cfg.check_positive_int("logs_per_chunk", self.logs_per_chunk)
        checkpoint.check_resume("resume", self.resume)
        object.__setattr__(self, "log", tuple(dict.fromkeys(self.log)))  # each backend once
        for kind in self.log:
            cfg.check_choice("log", kind, live.KINDS)
        if hasattr(type(getattr(self, "sweep", None)), "hparams"):  # a sweep.Sweep[...]
            sweep.check_requested(self.sweep)

    def effective(self) -> StudyOptions:
        """The config actually run, which ``jobs``, ``record`` and the live logger see:
        a study whose ``--quick`` shrinks its workload returns the shrunk copy here."""
        return self

    def grid(self, base: Any, structural: Sequence[str] = ()) -> list[Any]:
        """The hyperparameter points to run around ``base`` (a NamedTuple of floats), each
        checked against its declared bounds (:func:`rlfa.hparams.check`): ``[base]`` unless
        the config's ``sweep`` field asks for more (see :func:`rlfa.sweep.sweep_points`;
        ``structural`` fields are refused by name)."""
        requested = sweep.requested(getattr(self, "sweep", {}))
        points = sweep.sweep_points(base, requested, mode=self.sweep_mode, structural=structural)
        for point in points:
            hparams.check(point)
        return points

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
            directory = files.new_run_dir(experiment, Path(self.out) / "logs")
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
        point, as for :func:`rlfa.files.metric_rows`; default ``grid_<g>``).
        """
        options = {
            "seed": self.seed,
            "num_devices": self.num_devices,
            "progress": name if self.progress else False,
            "logs_per_chunk": self.logs_per_chunk,
            "checkpoints": runner.Checkpoints(
                checkpoint_root, self.checkpoint_every,
                self.resume if checkpoint_root is not None else None,
                checkpoint.study_name(name), checkpoint.config_fingerprint(self)),
        }
        if logger is not None:
            options["logger"] = logger.program(name, grid_labels)
        return options


@dataclasses.dataclass(frozen=True)
class Job:
    """One compiled program of a study: every (grid point, seed) run of it.

    ``name`` names it on the progress bar, in the live logger and as its
    checkpoint subdirectory (unique within a study). ``hparams``: the grid, one
    NamedTuple of floats per point (``config.grid(base)``), run in ONE program.
    ``num_seeds``, ``num_logs``, ``steps_per_log``, ``divergence_bound``,
    ``log_x``, ``unit``, ``postfix`` and ``derive`` are :func:`rlfa.runner.run`'s.
    ``grid_labels``: one dict per grid point (metrics.csv columns, logger names).
    ``info``: whatever the study's ``record`` needs to describe the job.
    ``vectorize``: :func:`rlfa.runner.run`'s, unless ``--vectorize`` says otherwise.
    ``x64``: run in JAX's 64-bit mode, with float64 hyperparameters
    (:func:`rlfa.runner.run`'s ``x64``).
    ``threefry``: how the program computes ``jax.random``'s hash on CPU, "unrolled" or
    "rolled" (:func:`rlfa.runner.run`'s ``threefry``; the same numbers either way).
    """

    name: str
    program: Program
    hparams: Sequence[Any]
    num_seeds: int
    num_logs: int
    steps_per_log: int
    log_x: np.ndarray | None = None
    unit: str | None = None
    postfix: Callable[[dict], dict[str, float]] | None = None
    derive: Callable[[dict], dict[str, np.ndarray]] | None = None
    divergence_bound: float = 1e6
    grid_labels: Sequence[dict[str, Any]] | None = None
    info: Any = None
    vectorize: bool = True
    x64: bool = False
    threefry: str = "unrolled"


@dataclasses.dataclass
class Record:
    """What one finished job adds to its run directory.

    ``headlines``: label -> :func:`rlfa.stats.headline` (``summary.json``'s
    ``headlines``, printed at the end); ``summary``: nested numbers merged
    recursively into ``summary.json``; ``rows``: ``metrics.csv`` rows (see
    :func:`rlfa.files.metric_rows`); ``arrays``: ``metrics.npz`` entries, which
    with ``summary.json`` must hold everything the figure draws; ``notes``:
    sentences that say what the headlines mean, made from the numbers recorded
    (printed after the headlines, and ``summary.json``'s ``notes``).

    ``grid_arrays``: ``metrics.npz`` entries whose first axis is a figure's grid points,
    for a grid split over several jobs (programs whose static settings differ): each
    job's part is joined to the earlier jobs' under the same name, in job order.
    """

    headlines: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    summary: dict[str, Any] = dataclasses.field(default_factory=dict)
    rows: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    arrays: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    grid_arrays: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    notes: list[str] = dataclasses.field(default_factory=list)


class RunFiles(NamedTuple):
    """A written run directory, as a study's ``figure`` reads it."""

    path: Path
    config: dict[str, Any]  # config.json: the config as given (before --quick shrinks it)
    summary: dict[str, Any]  # summary.json
    arrays: dict[str, np.ndarray]  # metrics.npz (empty without one)


def read_run(path: str | Path) -> RunFiles:
    """Read the files of a run directory written by :func:`main`."""
    path = Path(path).expanduser().absolute()
    if not (path / "summary.json").is_file():
        raise ValueError(f"run directory {path} has no summary.json (not a run directory, or a "
                         "run that did not finish).")
    arrays = {}
    if (path / "metrics.npz").is_file():
        with np.load(path / "metrics.npz") as npz:
            arrays = {k: npz[k] for k in npz.files}
    return RunFiles(path, json.loads((path / "config.json").read_text()),
                    json.loads((path / "summary.json").read_text()), arrays)


@dataclasses.dataclass(frozen=True)
class Study:
    """A study: its name (``runs/<name>/``) and its three functions (see the module doc)."""

    name: str
    jobs: Callable[[Any], Iterable[Job]]
    record: Callable[[Any, Job, Results], Record]
    figure: Callable[[RunFiles], Any]

    def run(self, config: StudyOptions) -> Path | None:
        """Run the study on ``config`` (see :func:`main`); returns the run directory."""
        return main(self, config)

    @property
    def module(self) -> str:
        """The importable module defining the study (``experiments.baird``, also under -m)."""
        name = self.figure.__module__
        spec = getattr(sys.modules.get(name), "__spec__", None)
        return spec.name if name == "__main__" and spec is not None else name


def _merge(into: dict, new: dict) -> None:
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def run_job(job: Job, config: StudyOptions, checkpoints: Path | None = None,
            logger: live.Logger | None = None) -> Results:
    """Run one job through :func:`rlfa.runner.run` with the study's options."""
    dtype = np.float64 if job.x64 else np.float32
    return runner.run(job.program, runner.stack_hparams(list(job.hparams), dtype), x64=job.x64,
                      num_seeds=job.num_seeds, num_logs=job.num_logs,
                      steps_per_log=job.steps_per_log, divergence_bound=job.divergence_bound,
                      log_x=job.log_x, unit=job.unit, postfix=job.postfix, derive=job.derive,
                      vectorize=job.vectorize if config.vectorize is None else config.vectorize,
                      threefry=job.threefry,
                      **config.run_options(checkpoints, job.name, logger=logger,
                                           grid_labels=job.grid_labels))


def main(study: Study, config: StudyOptions) -> Path | None:
    """Run every job of ``study``, write ``<out>/<name>/<timestamp>/`` and return it.

    ``jobs``, ``record`` and the logger see ``config.effective()``. The directory holds
    ``config.json``, ``summary.json`` (the records' numbers, ``headlines``, ``notes``, ``study``,
    per-job and total timings, device and process counts), ``metrics.csv``,
    ``metrics.npz`` (if any arrays) and ``figure.png``, drawn from those files.
    Processes other than 0 write nothing and return None.
    """
    t0 = time.perf_counter()
    checkpoints = config.checkpoint_root(study.name)
    given, config = config, config.effective()  # config.json keeps the flags as given
    summary: dict[str, Any] = {"study": study.module, "headlines": {}, "timings": {}}
    rows: list[dict[str, Any]] = []
    arrays: dict[str, np.ndarray] = {}
    results: list[Results] = []
    with config.logging(study.name, checkpoints) as logger:
        for job in study.jobs(config):
            result = run_job(job, config, checkpoints, logger)
            record = study.record(config, job, result)
            summary["headlines"].update(record.headlines)
            _merge(summary, record.summary)
            rows += record.rows
            arrays.update(record.arrays)
            for name, part in record.grid_arrays.items():
                arrays[name] = np.concatenate([arrays[name], part]) if name in arrays else part
            if record.notes:
                summary.setdefault("notes", []).extend(record.notes)
            results.append(result)
            summary["timings"][job.name] = {"compile_s": result.compile_s,
                                            "run_s": result.run_s}
    summary["compile_s"] = sum(r.compile_s for r in results)
    summary["run_s"] = sum(r.run_s for r in results)
    summary["wall_s"] = time.perf_counter() - t0
    summary["num_devices"] = max(r.num_devices for r in results)  # a 1-seed job uses 1
    summary["num_processes"] = jax.process_count()
    if not is_main_process():
        return None  # every process has every result; process 0 writes them
    path = files.write_run(study.name, given, summary, rows, {}, root=config.out,
                           arrays=arrays)
    redraw(path, study)
    for label, head in summary["headlines"].items():
        print(f"{label}: {head['metric']} {stats.describe(head)}")
    for note in summary.get("notes", []):
        print(note)
    print(f"{len(results)} program(s): run {summary['run_s']:.2f} s, compile "
          f"{summary['compile_s']:.2f} s, wall {summary['wall_s']:.1f} s "
          f"({summary['num_devices']} devices)")
    print(f"checkpoints: {checkpoints}")
    return finish(path, results)


def redraw(path: str | Path, study: Study | None = None) -> Path:
    """Draw ``figure.png`` of a run directory from its files; returns the figure's path.

    Without ``study``, the one named in ``summary.json`` (its module's ``STUDY``)
    is imported: ``python -m rlfa redraw RUN_DIR``.
    """
    run = read_run(path)
    if study is None:
        module = run.summary.get("study")
        if not isinstance(module, str):
            raise ValueError(f"run directory {run.path}: summary.json names no study to draw it.")
        study = importlib.import_module(module).STUDY
    out = run.path / "figure.png"
    files.save_figure(study.figure(run), out)
    return out


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


def cli(config_type: type, study: Study | Callable[[Any], Any]) -> None:
    """Parse the command line into ``config_type`` with tyro and run ``study`` on it
    (a :class:`Study`, through :func:`main`, or any function of the config).

    A ``ValueError`` (rlfa's validation errors: a bad value, or a combination found
    invalid only once the environment or network is built) reaches the user as one
    line and exit status 2, as tyro's own argument errors do; set
    ``RLFA_TRACEBACK=1`` to see the traceback instead.
    """
    import tyro

    config = tyro.cli(config_type)
    try:
        main(study, config) if isinstance(study, Study) else study(config)
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
