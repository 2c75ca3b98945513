"""DQN over many seeds: the CartPole settings, study jobs, greedy returns, summaries, curves.

What ``experiments.dqn``, ``experiments.dqn_ladder``, the benchmarks and the
notebook share: :func:`job` turns a :class:`DQNConfig` and its grid of
hyperparameters into one :class:`rlfa.study.Job` (every seed and grid point in
one compiled program), :func:`runs` splits its results into one :class:`DQNRun`
per grid point, :func:`run_summary` gives a run's JSON-ready numbers. :func:`train` runs one configuration
outside a study (the notebook).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import numpy as np

from rlfa import runner, stats
from rlfa.control.dqn.config import DQNConfig, DQNHParams
from rlfa.control.dqn.train import DQNSetup, make_program, plan
from rlfa.study import Job, latest_mean

# The final greedy return at which an environment counts as solved.
SOLVED = {"CartPole-v1": 475.0, "Acrobot-v1": -100.0, "MountainCar-v0": -110.0}

# CartPole-v1 in 100k environment steps. The squared loss and plain Q-learning targets beat
# Huber + Double DQN here (292 +- 100 against 473.5 +- 48.1 over 16 seeds), batch 256 beat 128
# and 64. The step size starts at 5e-3 and decays linearly to 0 over the 100k steps
# (learning_rate_decay_steps), so the final policy stops moving: final greedy return >= 475 on
# 16 of 16 seeds at --seed 0 and 14 of 16 at --seed 1, against 14 and 15 of 16 at a constant
# 1e-3 (30 of 32 against 29 of 32: no clear difference beyond the default seeds). The seeds
# of each core run one after another, so these per-seed numbers do not depend on what ran
# beside them (a sweep's point gives them alone). Longer runs need a longer decay.
CARTPOLE = DQNConfig(
    env="CartPole-v1", num_envs=4, buffer_capacity=50_000, batch_size=256, warmup_steps=1000,
    train_frequency=4, gradient_steps=1, target_period=500, epsilon_decay_steps=20_000,
    epsilon_end=0.05, learning_rate=5e-3, learning_rate_decay_steps=100_000, double=False,
    huber=False, num_eval_episodes=10)

# Environment steps per seed and logged points of a study run, and of a --quick one.
TOTAL_STEPS, NUM_LOGS, QUICK_STEPS = 100_000, 20, 600


def quick_dqn(dqn: DQNConfig) -> DQNConfig:
    """A tiny version of ``dqn`` for ``--quick``: small buffer and batches, two greedy episodes.

    The greedy episodes keep ``dqn``'s budget (by default the environment's own limit, 500
    steps on CartPole), so each ends and counts: a cap of 50 left a quick agent that had
    learnt to balance for 50 steps without a greedy return."""
    return dataclasses.replace(
        dqn, num_envs=2, buffer_capacity=500, batch_size=16, warmup_steps=100, train_frequency=2,
        target_period=100, epsilon_decay_steps=500, num_eval_episodes=2)


class DQNRun(NamedTuple):
    """One configuration's results at one grid point."""

    setup: DQNSetup
    results: runner.Results
    env_steps: np.ndarray  # [num_logs]
    greedy: np.ndarray  # [seed, num_logs], mean valid greedy return (NaN if none ended)
    point: int = 0  # the grid point of ``results`` this run is


class JobInfo(NamedTuple):
    """What a DQN :class:`~rlfa.study.Job` carries for its ``record``."""

    setup: DQNSetup
    env: str
    labels: list[dict[str, float]]  # per grid point, its swept values ({} without a sweep)


def greedy_return(metrics: dict[str, np.ndarray]) -> np.ndarray:
    """Mean return of the finished greedy episodes, ``[grid, seed, log]`` (NaN where none).

    ``metrics``: the runner's ``eval_return``/``eval_valid`` ``[grid, seed, log, episode]``;
    each logged point is computed on its own, so it also serves as a runner ``derive``.
    """
    returns, valid = metrics["eval_return"], metrics["eval_valid"].astype(bool)
    with np.errstate(invalid="ignore"):
        return np.where(valid, returns, 0.0).sum(-1) / valid.sum(-1)


def derived_metrics(metrics: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The columns ``metrics.csv`` adds to the program's own: ``greedy_return``, for the
    live logger (the same numbers as the CSV)."""
    return {"greedy_return": greedy_return(metrics)}


def varying_labels(points: Sequence[DQNHParams]) -> list[dict[str, float]]:
    """Per grid point, ``{field: value}`` of the fields that differ between the points."""
    values = [{k: float(v) for k, v in p._asdict().items()} for p in points]
    varying = [k for k in DQNHParams._fields if len({v[k] for v in values}) > 1]
    return [{k: v[k] for k in varying} for v in values]


def point_name(label: str, labels: dict[str, float]) -> str:
    """``label``, followed by a grid point's swept values when there are any."""
    return f"{label} ({', '.join(f'{k}={v:g}' for k, v in labels.items())})" if labels else label


def job(name: str, dqn: DQNConfig, points: Sequence[DQNHParams], *, num_seeds: int,
        total_steps: int, num_logs: int) -> Job:
    """Every seed and grid point of ``dqn`` as one :class:`~rlfa.study.Job` called ``name``.

    The progress bar counts environment steps per seed and shows the latest mean
    greedy return; the live logger also gets ``greedy_return``.

    Raises:
      ValueError: no greedy evaluation (the studies report greedy returns), or a
        budget that does not exceed the warm-up.
    """
    if dqn.num_eval_episodes < 1:
        raise ValueError(f"num_eval_episodes={dqn.num_eval_episodes} is invalid: the experiment"
                         " reports greedy returns, so it needs >= 1.")
    setup = make_program(dqn)
    steps_per_log, env_steps = plan(dqn, total_steps, num_logs)
    labels = varying_labels(points)
    return Job(name, setup.program, list(points), num_seeds, num_logs, steps_per_log,
               log_x=env_steps, unit="env steps", derive=derived_metrics,
               postfix=latest_mean("greedy_return", "greedy return"),
               grid_labels=labels if len(points) > 1 else None,
               info=JobInfo(setup, dqn.env, labels), vectorize=vectorize_runs())


def vectorize_runs() -> bool:
    """Whether the runner vmaps DQN's runs: yes on accelerators; on a CPU no, its runs go
    one after another. There one seed's update already keeps a core busy, so vmapping
    gains nothing: the MinAtar paper's agent is 1.7x slower vmapped over one seed (0.8
    ms per frame unbatched, 1.3 ms vmapped), CartPole's 16 seeds take 74 s one after
    another against 84 s vmapped; and every seed's numbers are then those of the seed
    alone, whatever runs beside it (a sweep's point reproduces on its own)."""
    return jax.default_backend() != "cpu"


def runs(job: Job, results: runner.Results) -> list[DQNRun]:
    """The results of a :func:`job`, one :class:`DQNRun` per grid point."""
    greedy = greedy_return(results.metrics)
    return [DQNRun(job.info.setup, results, job.log_x, greedy[g], g)
            for g in range(len(job.hparams))]


def train(dqn: DQNConfig, *, num_seeds: int, total_steps: int, num_logs: int,
          **run_options: Any) -> DQNRun:
    """Train ``num_seeds`` seeds of one configuration in one compiled program.

    ``run_options`` go to :func:`rlfa.runner.run` (``seed`` defaults to 0;
    ``num_devices``, ``progress``, checkpoints, ``logger``: see
    :meth:`rlfa.study.StudyOptions.run_options`).
    """
    one = job("DQN", dqn, [dqn.hparams()], num_seeds=num_seeds, total_steps=total_steps,
              num_logs=num_logs)
    run_options = {"seed": 0, "log_x": one.log_x, "unit": one.unit, "derive": one.derive,
                   "postfix": one.postfix, "vectorize": one.vectorize, **run_options}
    results = runner.run(one.program, runner.stack_hparams(one.hparams), num_seeds=num_seeds,
                         num_logs=num_logs, steps_per_log=one.steps_per_log, **run_options)
    return runs(one, results)[0]


def run_summary(run: DQNRun, env_name: str) -> dict:
    """Headline numbers of one configuration, JSON-ready."""
    final = run.greedy[:, -1]
    num_seeds = len(final)
    threshold = SOLVED.get(env_name)
    summary = {
        "headline": stats.headline("final greedy return", final, higher_is_better=True,
                                   task=env_name),
        "final_greedy_return_per_seed": final.tolist(),
        "best_greedy_return_per_seed": np.nanmax(run.greedy, axis=1).tolist(),
        "env_steps_per_seed": int(run.env_steps[-1]),
        "num_seeds": num_seeds,
        "replay_bytes_per_seed": run.setup.replay_nbytes,
        "compile_s": run.results.compile_s,
        "run_s": run.results.run_s,
        "env_steps_per_s": float(run.env_steps[-1] * num_seeds / run.results.run_s),
        "num_devices": run.results.num_devices,
        "diverged_seeds": np.flatnonzero(run.results.diverged_at[run.point] >= 0).tolist(),
    }
    if threshold is not None:
        summary["solved_threshold"] = threshold
        summary["seeds_at_threshold_final"] = int((final >= threshold).sum())
    return summary

