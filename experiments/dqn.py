"""DQN on any gymnax environment, many seeds in one compiled program.

    python -m experiments.dqn                          # CartPole-v1, 16 seeds x 100k env steps
    python -m experiments.dqn --env Acrobot-v1 --num-seeds 8 --total-steps 200000
    python -m experiments.dqn --env Breakout-MinAtar   # the small CNN is picked from the shape
    python -m experiments.dqn --quick                  # seconds, for tests

Every flag of :class:`rlfa.control.dqn.DQNConfig` is a flag here (``--double``,
``--huber``, ``--learning-rate``, ``--target-period``...). All seeds run as one
program through :func:`rlfa.runner.run`, spread over every core. At each logged
point a greedy evaluation (its own key stream) runs ``--num-eval-episodes``
episodes; the curves show their mean return with a 95% confidence interval over
seeds, and ``summary.json`` gives each seed's final greedy return. The progress bar
counts environment steps per seed and shows the latest mean greedy return;
``--log tensorboard`` / ``--log wandb`` record every ``metrics.csv`` column live.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np

from rlfa import config as cfg
from rlfa import distributed, report, runner, stats
from rlfa.control.dqn import DQNConfig
from rlfa.control.dqn_train import DQNSetup, make_program, plan
from rlfa.study import StudyOptions, cli, finish, latest_mean

SOLVED = {"CartPole-v1": 475.0, "Acrobot-v1": -100.0, "MountainCar-v0": -110.0}

# CartPole-v1 in 100k environment steps, from a small search over 16-seed runs (final greedy
# return >= 475 on 14 of 16 seeds, mean 473.5 +- 48.1). On this task the squared loss and
# plain Q-learning targets beat Huber + Double DQN (292 +- 100), and batch 256 beat 128 and 64.
CARTPOLE = DQNConfig(
    env="CartPole-v1", num_envs=4, buffer_capacity=50_000, batch_size=256, warmup_steps=1000,
    train_frequency=4, gradient_steps=1, target_period=500, epsilon_decay_steps=20_000,
    epsilon_end=0.05, learning_rate=1e-3, double=False, huber=False, num_eval_episodes=10)


@dataclasses.dataclass(frozen=True)
class ExperimentConfig(StudyOptions):
    """Train DQN on a gymnax environment over many seeds and write curves and a summary."""

    dqn: DQNConfig = CARTPOLE
    """The agent, its training loop and hyperparameters."""
    num_seeds: int = 16
    """Independent runs, all in one compiled program."""
    total_steps: int | None = None
    """Environment steps per seed (warm-up included), rounded up to fill whole logged points
    (default: 100,000; 600 with --quick)."""
    num_logs: int | None = None
    """Logged points, each with a greedy evaluation (default: 20; 2 with --quick)."""

    def __post_init__(self):
        super().__post_init__()
        cfg.check_positive_int("num_seeds", self.num_seeds)
        for name in ("total_steps", "num_logs"):
            if getattr(self, name) is not None:
                cfg.check_positive_int(name, getattr(self, name))

    def effective(self) -> ExperimentConfig:
        """The config actually run: defaults filled in; ``--quick`` shrinks the workload
        (a smaller agent, at most 2 seeds, and step and log counts not given explicitly)."""
        if not self.quick:
            return dataclasses.replace(self, total_steps=self.total_steps or TOTAL_STEPS,
                                       num_logs=self.num_logs or NUM_LOGS)
        return dataclasses.replace(self, dqn=quick_dqn(self.dqn), num_seeds=min(self.num_seeds, 2),
                                   total_steps=self.total_steps or QUICK_STEPS,
                                   num_logs=self.num_logs or 2, quick=False)


TOTAL_STEPS, NUM_LOGS, QUICK_STEPS = 100_000, 20, 600


def quick_dqn(dqn: DQNConfig) -> DQNConfig:
    """A tiny version of ``dqn`` for ``--quick``: small buffer and batches, short evaluations."""
    return dataclasses.replace(
        dqn, num_envs=2, buffer_capacity=500, batch_size=16, warmup_steps=100, train_frequency=2,
        target_period=100, epsilon_decay_steps=500, num_eval_episodes=2,
        eval_max_steps=min(dqn.eval_max_steps or 50, 50))


class DQNRun(NamedTuple):
    """One configuration's results."""

    setup: DQNSetup
    results: runner.Results
    env_steps: np.ndarray  # [num_logs]
    greedy: np.ndarray  # [seed, num_logs], mean valid greedy return (NaN if none ended)


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


def train(dqn: DQNConfig, *, num_seeds: int, total_steps: int, num_logs: int,
          **run_options) -> DQNRun:
    """Train ``num_seeds`` seeds of one configuration in one compiled program.

    ``run_options`` go to :func:`rlfa.runner.run` (``seed`` defaults to 0;
    ``num_devices``, ``progress``, checkpoints, ``logger``: see
    :meth:`StudyOptions.run_options`). The progress bar counts environment steps per
    seed and shows the latest mean greedy return; the logger also gets ``greedy_return``.
    """
    if dqn.num_eval_episodes < 1:
        raise ValueError(f"num_eval_episodes={dqn.num_eval_episodes} is invalid: the experiment"
                         " reports greedy returns, so it needs >= 1.")
    setup = make_program(dqn)
    steps_per_log, env_steps = plan(dqn, total_steps, num_logs)
    run_options = {"seed": 0, "log_x": env_steps, "unit": "env steps",
                   "derive": derived_metrics,
                   "postfix": latest_mean("greedy_return", "greedy return"), **run_options}
    results = runner.run(setup.program, runner.stack_hparams([dqn.hparams()]),
                         num_seeds=num_seeds, num_logs=num_logs, steps_per_log=steps_per_log,
                         **run_options)
    return DQNRun(setup, results, env_steps, greedy_return(results.metrics)[0])


def run_summary(run: DQNRun, env_name: str) -> dict:
    """Headline numbers of one configuration, JSON-ready."""
    final = run.greedy[:, -1]
    num_seeds = len(final)
    threshold = SOLVED.get(env_name)
    summary = {
        "headline": stats.headline("final greedy return", final, higher_is_better=True,
                                   task=env_name),
        "final_greedy_return_per_seed": final.tolist(),
        "final_greedy_return": report.summary_stats(final),
        "best_greedy_return_per_seed": np.nanmax(run.greedy, axis=1).tolist(),
        "env_steps_per_seed": int(run.env_steps[-1]),
        "num_seeds": num_seeds,
        "replay_bytes_per_seed": run.setup.replay_nbytes,
        "compile_s": run.results.compile_s,
        "run_s": run.results.run_s,
        "env_steps_per_s": float(run.env_steps[-1] * num_seeds / run.results.run_s),
        "num_devices": run.results.num_devices,
        "diverged_seeds": np.flatnonzero(run.results.diverged_at[0] >= 0).tolist(),
    }
    if threshold is not None:
        summary["solved_threshold"] = threshold
        summary["seeds_at_threshold_final"] = int((final >= threshold).sum())
    return summary


def plot_curves(ax, env_steps: np.ndarray, greedy: np.ndarray, label: str) -> None:
    """Mean greedy return over seeds with its 95% bootstrap band (inside the data's range)."""
    mean, low, high = stats.bootstrap_band(greedy)
    line, = ax.plot(env_steps, mean, label=label)
    ax.fill_between(env_steps, low, high, color=line.get_color(), alpha=0.2)


def draw(run: DQNRun, config: ExperimentConfig):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    plot_curves(ax, run.env_steps, run.greedy, f"DQN, {config.num_seeds} seeds")
    threshold = SOLVED.get(config.dqn.env)
    if threshold is not None:
        ax.axhline(threshold, color="grey", ls="--", lw=1, label=f"solved ({threshold:g})")
    ax.set(xlabel="environment steps per seed", ylabel="greedy return (mean, 95% bootstrap CI)",
           title=config.dqn.env)
    ax.legend()
    return fig


def main(config: ExperimentConfig) -> Path | None:
    """Train, write ``runs/dqn/<timestamp>/``, print the headline and return the directory."""
    t0 = time.perf_counter()
    run_config = config.effective()
    checkpoints = config.checkpoint_root("dqn")
    with run_config.logging("dqn", checkpoints) as logger:  # the config as run: hparams
        run = train(run_config.dqn, num_seeds=run_config.num_seeds,
                    total_steps=run_config.total_steps, num_logs=run_config.num_logs,
                    **run_config.run_options(checkpoints, "DQN", logger=logger))
    summary = {"env": run_config.dqn.env, **run_summary(run, run_config.dqn.env)}
    summary["headlines"] = {f"{run_config.dqn.env}: DQN": summary.pop("headline")}
    summary["wall_s"] = time.perf_counter() - t0
    metrics = {k: v for k, v in run.results.metrics.items() if v.ndim == 3}
    metrics["greedy_return"] = run.greedy[None]
    rows = report.metric_rows(metrics, [{"env": run_config.dqn.env}], "env_steps", run.env_steps)
    if not distributed.is_main_process():
        return None  # every process has every result; process 0 writes them
    path = report.write_run("dqn", config, summary, rows, {"figure": draw(run, run_config)},
                            root=config.out, arrays={k: v for k, v in run.results.metrics.items()})
    (head,) = summary["headlines"].values()
    solved = (f", {summary['seeds_at_threshold_final']}/{run_config.num_seeds} seeds >= "
              f"{summary['solved_threshold']:g}" if "solved_threshold" in summary else "")
    print(f"{run_config.dqn.env}: final greedy return {stats.describe(head)}"
          f"{solved} after {summary['env_steps_per_seed']} env steps per seed"
          f" (run {summary['run_s']:.1f} s, compile {summary['compile_s']:.1f} s,"
          f" {summary['num_devices']} devices)")
    return finish(path, [run.results])


if __name__ == "__main__":
    # devices and processes: see experiments/__init__.py
    cli(ExperimentConfig, main, omit_prefixes=True)
