"""DQN (and PQN) over many seeds, as the studies, benchmarks and notebooks run it.

:func:`job` turns a :class:`~rlfa.control.dqn.DQNConfig` (or a
:class:`~rlfa.control.pqn.PQNConfig`) and its grid of hyperparameters into one
:class:`rlfa.study.Job` (every seed and grid point in one compiled program), :func:`runs` splits its results into one :class:`DQNRun`
per grid point, :func:`run_summary` gives a run's JSON-ready numbers, and
:func:`train` runs one configuration outside a study (a notebook).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import numpy as np

from rlfa import files, runner, stats, sweep
from rlfa.control import pqn
from rlfa.control.dqn import DQN, DQNConfig, DQNHParams, make_program
from rlfa.study import Job, latest_mean

# The final greedy return at which an environment counts as solved.
SOLVED = {"CartPole-v1": 475.0, "Acrobot-v1": -100.0, "MountainCar-v0": -110.0}

# Environment steps per seed and logged points of a study run, and of a --quick one.
TOTAL_STEPS, NUM_LOGS, QUICK_STEPS = 100_000, 20, 600


def quick_dqn(dqn: DQNConfig) -> DQNConfig:
    """A tiny version of ``dqn`` for ``--quick``: small buffer and batches, two greedy episodes.

    The greedy episodes keep ``dqn``'s step budget (by default the environment's own limit),
    so an agent that learnt to balance for long still ends them and they count."""
    return dataclasses.replace(
        dqn, num_envs=2, buffer_capacity=500, batch_size=16, warmup_steps=100, train_frequency=2,
        target_period=100, epsilon_decay_steps=500, num_eval_episodes=2)


def quick_pqn(config: pqn.PQNConfig) -> pqn.PQNConfig:
    """A tiny version of PQN's ``config`` for ``--quick``: 4 environments x 8 steps, one pass
    of 2 minibatches, two greedy episodes, schedules over 600 steps."""
    return dataclasses.replace(
        config, num_envs=4, rollout_steps=8, num_epochs=1, num_minibatches=2,
        epsilon_decay_steps=QUICK_STEPS, learning_rate_decay_steps=QUICK_STEPS,
        num_eval_episodes=2)


def build(config: DQNConfig | pqn.PQNConfig) -> DQN | pqn.PQN:
    """The one-seed program of a DQN or a PQN configuration (nothing compiles here)."""
    return pqn.make_program(config) if isinstance(config, pqn.PQNConfig) else make_program(config)


def budget(config: DQNConfig | pqn.PQNConfig) -> tuple[int, int]:
    """``(warm-up steps, environment steps per train step)`` of a configuration: PQN has no
    warm-up, and a train step is one rollout of every environment."""
    if isinstance(config, pqn.PQNConfig):
        return 0, config.batch_size
    return config.warmup_steps, config.train_frequency


def plan(config: DQNConfig | pqn.PQNConfig, total_steps: int,
         num_logs: int) -> tuple[int, np.ndarray]:
    """Split a budget of environment steps into the runner's logged points.

    Returns:
      ``(steps_per_log, env_steps)``: train steps between logged points, and the
      environment steps done at each logged point (the warm-up included). DQN's budget is
      rounded up to fill ``num_logs`` whole logged points. A PQN train step is a whole
      rollout (2,048 steps at purejaxql's settings), so its budget is rounded up to whole
      rollouts only, and it logs at the fewest points, at least ``num_logs``, that divide
      them evenly, or after every rollout where there are fewer (500,000 steps: 245
      rollouts at 35 points; 100,000: 49 at 49).

    Raises:
      ValueError: the budget does not exceed the warm-up.
    """
    warmup, per_step = budget(config)
    if total_steps <= warmup:
        raise ValueError(f"total_steps={total_steps} is invalid: must exceed warmup_steps="
                         f"{warmup}.")
    train_steps = math.ceil((total_steps - warmup) / per_step)
    if isinstance(config, pqn.PQNConfig):
        num_logs = next(k for k in range(min(num_logs, train_steps), train_steps + 1)
                        if train_steps % k == 0)
    steps_per_log = math.ceil(train_steps / num_logs)
    env_steps = warmup + per_step * steps_per_log * np.arange(1, num_logs + 1)
    return steps_per_log, env_steps


class DQNRun(NamedTuple):
    """One configuration's results at one grid point."""

    dqn: DQN
    config: DQNConfig | pqn.PQNConfig  # the agent as run, this point's hyperparameters in it
    results: runner.Results
    env_steps: np.ndarray  # [num_logs]
    greedy: np.ndarray  # [seed, num_logs], mean valid greedy return (NaN if none ended)
    point: int = 0  # the grid point of ``results`` this run is


class JobInfo(NamedTuple):
    """What a DQN :class:`~rlfa.study.Job` carries for its ``record``."""

    dqn: DQN
    config: DQNConfig | pqn.PQNConfig  # the agent as run: a study's presets and flags merged
    labels: list[dict[str, float]]  # per grid point, its swept values ({} without a sweep)

    @property
    def env(self) -> str:
        return self.config.env


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


def point_name(label: str, labels: dict[str, float]) -> str:
    """``label``, followed by a grid point's swept values when there are any."""
    return f"{label} ({', '.join(f'{k}={v:g}' for k, v in labels.items())})" if labels else label


def vectorize_runs() -> bool:
    """Whether the runner vmaps DQN's runs: on accelerators yes; on a CPU they go one after
    another, each the unbatched program, which is as fast there and makes every seed's
    numbers those of the seed alone (see :func:`rlfa.runner.run`'s ``vectorize``)."""
    return jax.default_backend() != "cpu"


def job(name: str, dqn: DQNConfig | pqn.PQNConfig, points: Sequence[DQNHParams | pqn.PQNHParams],
        *, num_seeds: int, total_steps: int, num_logs: int) -> Job:
    """Every seed and grid point of ``dqn`` (a DQN or a PQN configuration) as one
    :class:`~rlfa.study.Job` called ``name``.

    The progress bar counts environment steps per seed and shows the latest mean
    greedy return; the live logger also gets ``greedy_return``.

    Raises:
      ValueError: no greedy evaluation (the studies report greedy returns), or a
        budget that does not exceed the warm-up.
    """
    if dqn.num_eval_episodes < 1:
        raise ValueError(f"num_eval_episodes={dqn.num_eval_episodes} is invalid: the experiment"
                         " reports greedy returns, so it needs >= 1.")
    built = build(dqn)
    steps_per_log, env_steps = plan(dqn, total_steps, num_logs)
    labels = sweep.labels(points, varying=True)
    return Job(name, built.program, list(points), num_seeds, len(env_steps), steps_per_log,
               log_x=env_steps, unit="env steps", derive=derived_metrics,
               postfix=latest_mean("greedy_return", "greedy return"),
               grid_labels=labels if len(points) > 1 else None,
               info=JobInfo(built, dqn, labels), vectorize=vectorize_runs())


def runs(job: Job, results: runner.Results) -> list[DQNRun]:
    """The results of a :func:`job`, one :class:`DQNRun` per grid point."""
    greedy = greedy_return(results.metrics)
    return [DQNRun(job.info.dqn, dataclasses.replace(job.info.config, hparams=job.hparams[g]),
                   results, job.log_x, greedy[g], g)
            for g in range(len(job.hparams))]


def train(dqn: DQNConfig | pqn.PQNConfig, *, num_seeds: int, total_steps: int, num_logs: int,
          **run_options: Any) -> DQNRun:
    """Train ``num_seeds`` seeds of one configuration in one compiled program.

    ``run_options`` go to :func:`rlfa.runner.run` (``seed`` defaults to 0;
    ``num_devices``, ``progress``, checkpoints, ``logger``: see
    :meth:`rlfa.study.StudyOptions.run_options`).
    """
    name = "PQN" if isinstance(dqn, pqn.PQNConfig) else "DQN"
    one = job(name, dqn, [dqn.hparams], num_seeds=num_seeds, total_steps=total_steps,
              num_logs=num_logs)
    run_options = {"seed": 0, "log_x": one.log_x, "unit": one.unit, "derive": one.derive,
                   "postfix": one.postfix, "vectorize": one.vectorize, **run_options}
    results = runner.run(one.program, runner.stack_hparams(one.hparams), num_seeds=num_seeds,
                         num_logs=one.num_logs, steps_per_log=one.steps_per_log, **run_options)
    return runs(one, results)[0]


def run_summary(run: DQNRun) -> dict:
    """Headline numbers of one configuration, JSON-ready, with the agent as run
    (``agent_settings``: every field, this point's hyperparameters among them)."""
    final = run.greedy[:, -1]
    num_seeds = len(final)
    threshold = SOLVED.get(run.config.env)
    summary = {
        "headline": stats.headline("final greedy return", final, higher_is_better=True,
                                   task=run.config.env),
        "final_greedy_return_per_seed": final.tolist(),
        "best_greedy_return_per_seed": np.nanmax(run.greedy, axis=1).tolist(),
        "env_steps_per_seed": int(run.env_steps[-1]),
        "num_seeds": num_seeds,
        "replay_bytes_per_seed": run.dqn.replay_nbytes,
        "compile_s": run.results.compile_s,
        "run_s": run.results.run_s,
        "env_steps_per_s": float(run.env_steps[-1] * num_seeds / run.results.run_s),
        "num_devices": run.results.num_devices,
        "diverged_seeds": np.flatnonzero(run.results.diverged_at[run.point] >= 0).tolist(),
        "agent_settings": files.jsonable(run.config),
    }
    if threshold is not None:
        summary["solved_threshold"] = threshold
        summary["seeds_at_threshold_final"] = int((final >= threshold).sum())
    return summary
