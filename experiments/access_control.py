"""Differential semi-gradient SARSA on the access-control queuing task (S&B Example 10.2,
Figure 10.5).

    python -m experiments.access_control                  # the book's settings, 10 seeds
    python -m experiments.access_control --sweep.beta 0.001 0.01 0.1
    python -m experiments.access_control --quick          # seconds, for tests

Tabular (one-hot) action values over (free servers, priority), alpha = beta = 0.01,
epsilon = 0.1, 2 million steps of one never-ending episode per run, 10 servers that
each free with probability 0.06 a step (:func:`rlfa.control.access_control.sarsa_program`).
Recorded per seed: the learned average reward R_bar, the exact average reward r(pi)
of the learned greedy policy (:func:`rlfa.envs.access_control.policy_average_reward`),
the greedy policy (accept where ``q(accept) > q(reject)``; a tie rejects) and the
value of the best action, ``max_a q``; R_bar is logged over time. The book reports
R_bar of about 2.31 after 2 million steps; the optimal policy's average reward on this
task is 2.7476 (relative value iteration).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rlfa import config as cfg
from rlfa import report, stats
from rlfa.control import access_control as ac
from rlfa.control.differential_sarsa import (
    DifferentialHParams,
    DifferentialSweep,
    differential_hparams,
)
from rlfa.envs.access_control import EnvParams, policy_average_reward
from rlfa.study import Job, Record, Study, StudyOptions, cli, latest_mean

BOOK_R_BAR = 2.31  # Figure 10.5's caption: "The value learned for R_bar was about 2.31."


@dataclasses.dataclass(frozen=True)
class AccessControlConfig(StudyOptions):
    """Reproduce Figure 10.5: differential semi-gradient SARSA on the access-control task.

    ``--quick``: 2 seeds of 20,000 steps, R_bar logged every 1,000.
    """

    num_steps: int = 2_000_000
    """Environment steps per run, one episode that never ends (the book: 2 million)."""
    num_seeds: int = 10
    """Independent runs per hyperparameter point (the book shows one)."""
    step_size: float = 0.01
    """alpha, per weight of the one-hot action values (the book: 0.01)."""
    beta: float = 0.01
    """The average-reward estimate's step size (the book: 0.01)."""
    epsilon: float = 0.1
    """Exploration probability (the book: 0.1)."""
    num_servers: int = 10
    """Servers k (the book: 10)."""
    free_prob: float = 0.06
    """Probability that a busy server frees in a step (the book: 0.06)."""
    sweep: DifferentialSweep = DifferentialSweep()
    """alpha, beta and epsilon values to run instead, all in one compiled program."""
    log_every: int = 20_000
    """Environment steps between logged R_bar values (a multiple of block_steps)."""
    block_steps: int = 100
    """Environment steps per program step (one bulk draw of randomness)."""

    def __post_init__(self):
        super().__post_init__()
        for name in ("num_steps", "num_seeds", "log_every", "block_steps"):
            cfg.check_positive_int(name, getattr(self, name))
        for point in self.grid(self.base()):
            differential_hparams(*(float(x) for x in point))  # names a bad (swept) value
        self.env_params()  # checks num_servers and free_prob
        if self.log_every % self.block_steps:
            raise ValueError(f"log_every={self.log_every} is invalid: must be a multiple of "
                             f"block_steps={self.block_steps}.")
        if self.num_steps % self.log_every:
            raise ValueError(f"num_steps={self.num_steps} is invalid: must be a multiple of "
                             f"log_every={self.log_every}.")

    def base(self) -> DifferentialHParams:
        return DifferentialHParams(self.step_size, self.beta, self.epsilon)

    def env_params(self) -> EnvParams:
        return EnvParams(num_servers=self.num_servers, free_prob=self.free_prob)

    def effective(self) -> AccessControlConfig:
        if not self.quick:
            return self
        return dataclasses.replace(self, num_steps=20_000, num_seeds=2, log_every=1_000)


def jobs(config: AccessControlConfig):
    grid = config.grid(config.base())
    points = [differential_hparams(*(float(x) for x in p)) for p in grid]
    labels = [{k: float(v) for k, v in p._asdict().items()} for p in grid]
    num_logs = config.num_steps // config.log_every
    yield Job("Fig 10.5", ac.sarsa_program(config.env_params(), config.block_steps), points,
              config.num_seeds, num_logs, config.log_every // config.block_steps,
              log_x=config.log_every * np.arange(1, num_logs + 1), unit="steps",
              postfix=latest_mean("r_bar", "R_bar"), grid_labels=labels)


def point_name(labels: dict, several: bool) -> str:
    if not several:
        return "Fig 10.5"
    return "Fig 10.5 (" + ", ".join(f"{k}={v:g}" for k, v in labels.items()) + ")"


def record(config: AccessControlConfig, job: Job, results) -> Record:
    params, rec = config.env_params(), Record()
    r_bar = np.asarray(results.final.agent.r_bar, np.float64)  # [point, seed]
    # [point, seed, k + 1, P] over (free servers, priority index)
    accept, best_value, tied = ac.greedy_tables(results.final.agent.w, params)
    policy_r = np.array([[policy_average_reward(a, params) for a in per_seed]
                         for per_seed in accept])
    points, several = {}, len(job.hparams) > 1
    logged = np.asarray(results.metrics["r_bar"], np.float64)  # [point, seed, log]
    half = logged.shape[-1] // 2
    for g, labels in enumerate(job.grid_labels):
        name = point_name(labels, several)
        rec.headlines[f"{name}: R_bar"] = stats.headline(
            f"learned average reward R_bar after {config.num_steps} steps", r_bar[g],
            higher_is_better=True, task="AccessControl")
        rec.headlines[f"{name}: r(greedy)"] = stats.headline(
            f"exact average reward of the learned greedy policy after {config.num_steps} steps",
            policy_r[g], higher_is_better=True, task="AccessControl")
        majority = accept[g].mean(0) > 0.5
        points[name] = {
            **labels, "num_seeds": job.num_seeds, "r_bar": report.summary_stats(r_bar[g]),
            "r_bar_logged_second_half": report.summary_stats(logged[g, :, half:].mean(-1)),
            "greedy_policy_average_reward": report.summary_stats(policy_r[g]),
            "majority_policy_average_reward": policy_average_reward(majority, params),
            # [priority index][free servers]: accepted by most seeds (0 free: nothing to accept)
            "majority_accept": majority.T.astype(int).tolist(),
            # states with a server free whose two action values are equal (never told apart)
            "tied_states_per_seed": tied[g, :, 1:].sum((-2, -1)).tolist(),
            "diverged_seeds": np.flatnonzero(results.diverged_at[g] >= 0).tolist()}
    rec.summary = {
        "points": points, "num_steps": config.num_steps, "log_every": config.log_every,
        "num_servers": params.num_servers, "free_prob": params.free_prob,
        "priorities": list(params.priorities), "book_r_bar": BOOK_R_BAR,
        "accept_all_average_reward": policy_average_reward(np.ones_like(accept[0, 0]), params)}
    rec.arrays = {"r_bar": results.metrics["r_bar"], "r_bar_final": r_bar,
                  "policy_average_reward": policy_r, "accept": accept,
                  "tied": tied, "best_value": best_value, "steps": job.log_x}
    rec.rows = report.metric_rows({"r_bar": results.metrics["r_bar"]},
                                  list(job.grid_labels) if several else [{}], "step", job.log_x)
    return rec


def figure(run):
    import matplotlib.pyplot as plt

    s, arrays = run.summary, run.arrays
    accept, values = arrays["accept"][0], arrays["best_value"][0]  # the first point, [seed, ...]
    tied = arrays["tied"][0].mean(0).T[::-1, 1:] > 0.5  # most seeds never told the actions apart
    num_seeds, k = accept.shape[0], s["num_servers"]
    fig, (ax_p, ax_v, ax_r) = plt.subplots(1, 3, figsize=(15, 4))
    share = accept.mean(0).T[::-1, 1:]  # rows: priorities high to low; free servers 1..k
    ax_p.imshow(share, cmap="Greys", vmin=0, vmax=1, aspect="auto",
                extent=(0.5, k + 0.5, -0.5, len(s["priorities"]) - 0.5))
    for row, (shares, ties) in enumerate(zip(share, tied)):
        for f, (frac, tie) in enumerate(zip(shares, ties), start=1):
            mark = "?" if tie else "A" if frac > 0.5 else "R"
            ax_p.text(f, len(s["priorities"]) - 1 - row, mark,
                      ha="center", va="center", color="white" if frac > 0.5 else "black")
    ax_p.set(xticks=range(1, k + 1), yticks=range(len(s["priorities"])),
             yticklabels=[f"{p:g}" for p in s["priorities"]], xlabel="number of free servers",
             ylabel="priority", title=f"Policy: A(ccept)/R(eject) by majority of {num_seeds} "
             "seeds\n(shade: share of seeds accepting; ?: untried, rejected)")
    free = np.arange(k + 1)
    for i, priority in enumerate(s["priorities"]):
        report.plot_band(ax_v, free, values[:, :, i], f"priority {priority:g}")
    ax_v.set(xlabel="number of free servers", ylabel="differential value of best action",
             title=f"Value of the best action (mean of {num_seeds} seeds, 95% CI)")
    ax_v.legend(fontsize=8)
    for g, name in enumerate(s["points"]):
        report.plot_band(ax_r, arrays["steps"], arrays["r_bar"][g], name)
    ax_r.axhline(s["book_r_bar"], color="gray", ls="--", lw=1, label="book: about 2.31")
    ax_r.set(xlabel="steps", ylabel="R_bar", title="Learned average reward R_bar")
    ax_r.legend(fontsize=8)
    first = next(iter(s["points"].values()))
    fig.suptitle(f"Access control, differential semi-gradient SARSA after {s['num_steps']:,} "
                 f"steps (alpha={first['step_size']:g}, beta={first['beta']:g}, "
                 f"epsilon={first['epsilon']:g}; S&B Figure 10.5)")
    fig.tight_layout()
    return fig


STUDY = Study("access_control", jobs, record, figure)

if __name__ == "__main__":
    cli(AccessControlConfig, STUDY)  # devices and processes: see experiments/__init__.py
