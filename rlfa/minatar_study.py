"""The MinAtar paper's study (Young & Tian 2019, Figure 2): its records and figure panels.

:func:`quick_dqn` shrinks the paper's agent for ``--quick``; :func:`record_rung` turns one
rung on one game (a :func:`rlfa.dqn_study.job` named ``"GAME: RUNG"``) into its
headlines, curves and rows, the paper's metric (:func:`metric`) first; :func:`plot_game`
draws one game's column of the figure from those curves.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rlfa import dqn_study, files, report, stats
from rlfa.control.dqn import DQNConfig
from rlfa.study import Job, Record
from rlfa.types import Results


def metric(window: int) -> str:
    """The headline metric's name: the paper's, with its window of episodes (100)."""
    return f"mean return of the last {window} training episodes"


def quick_dqn(dqn: DQNConfig) -> DQNConfig:
    """A tiny version of ``dqn`` for ``--quick``: small replay and warm-up, short schedules,
    two greedy episodes of at most 100 frames."""
    return dataclasses.replace(
        dqn, buffer_capacity=1_000, warmup_steps=500, target_period=100,
        epsilon_decay_steps=1_000, num_eval_episodes=2, eval_max_steps=100)


def record_rung(job: Job, results: Results, window: int) -> tuple[Record, dict[str, dict]]:
    """One rung on one game, each of its grid points a run.

    Args:
      job: a :func:`rlfa.dqn_study.job` named ``"GAME: RUNG"``.
      results: its results, with the program's ``recent_train_return`` and
        ``train_episodes`` ``[grid, seed, log]``.
      window: the training episodes the paper's metric averages (100).

    Returns:
      ``(record, summaries)``: the record's headlines (per run the paper's metric, the
      final mean return of the last ``window`` training episodes, then the greedy
      return), arrays (``"GAME: NAME recent_train_return"``, ``... greedy_return``
      ``[seed, log]``, ``... env_steps`` ``[log]``) and rows; a summary per run name.
    """
    env, rec, runs = job.info.env, Record(), {}
    game, rung = job.name.split(": ", 1)
    recent = results.metrics["recent_train_return"]  # [grid, seed, log]
    episodes = results.metrics["train_episodes"]
    for run, point in zip(dqn_study.runs(job, results), job.info.labels):
        name = dqn_study.point_name(rung, point)
        summary = dqn_study.run_summary(run)
        greedy_head = summary.pop("headline")
        final = recent[run.point, :, -1]
        rec.headlines[f"{game}: {name}"] = stats.headline(metric(window), final,
                                                          higher_is_better=True, task=env)
        rec.headlines[f"{game}: {name}, greedy"] = greedy_head
        summary.update(recent_train_return_per_seed=final.tolist(), train_return_window=window,
                       train_episodes_per_seed=episodes[run.point, :, -1].tolist())
        runs[name] = summary
        curves = {"recent_train_return": recent[run.point], "greedy_return": run.greedy}
        for key, curve in curves.items():
            rec.arrays[f"{game}: {name} {key}"] = curve
        rec.arrays[f"{game}: {name} env_steps"] = run.env_steps
        rec.rows += files.metric_rows({k: v[None] for k, v in curves.items()},
                                      [{"game": game, "rung": rung, **point}], "env_steps",
                                      run.env_steps)
    return rec, runs


def plot_game(axes, arrays: dict[str, np.ndarray], game: str, runs: dict[str, dict],
              title: str) -> None:
    """One game's column of the figure, as the paper's Figure 2: on ``axes[0]`` each run's
    training-return curve (the last ``window`` episodes' mean, against frames) with a 95%
    bootstrap band over seeds, on ``axes[1]`` its greedy return; from
    :func:`record_rung`'s ``arrays`` and summaries ``runs``."""
    for name in runs:
        x = arrays[f"{game}: {name} env_steps"]
        for ax, key in zip(axes, ("recent_train_return", "greedy_return")):
            curve = arrays[f"{game}: {name} {key}"]
            if np.isfinite(curve).any():
                report.plot_band(ax, x, curve, name)
    window = next(iter(runs.values()))["train_return_window"]
    axes[0].set(title=title, ylabel=f"training return, last {window} episodes")
    axes[1].set(xlabel="frames per seed", ylabel="greedy return")
    for ax in axes:
        ax.legend(fontsize=8)
