"""Differential semi-gradient SARSA on the access-control queuing task (S&B Example 10.2,
Figure 10.5).

    python -m experiments.access_control                  # the book's settings, 10 seeds
    python -m experiments.access_control --sweep.beta 0.001 0.01 0.1
    python -m experiments.access_control --quick          # seconds, for tests

Tabular (one-hot) action values over (free servers, priority), alpha = beta = 0.01,
epsilon = 0.1, 2 million steps of one never-ending episode per run, 10 servers that
each free with probability 0.06 a step (:func:`rlfa.book.access_control_figure.sarsa_program`).
Recorded per seed (:func:`rlfa.book.access_control_figure.learned_policies`): the learned
average reward R_bar; the exact average reward r(pi) of the epsilon-greedy policy it
followed (what R_bar estimates) and of its greedy policy; the greedy policy (accept where
``q(accept) > q(reject)``; a tie rejects) and the value of the best action.

The book reports R_bar of about 2.31, from one run. As a long-run expectation that is low:
R_bar estimates the average reward of the epsilon-greedy policy followed, and the optimal
policy followed epsilon-greedily earns 2.6469 (the optimal policy itself 2.7476; relative
value iteration, exact). But one run's R_bar, with beta = 0.01, wanders around that
expectation to the end, so one run reading 2.31 is no contradiction: the study prints
where the book's value falls among its own runs
(:func:`rlfa.book.access_control_figure.book_comparison`: each run's spread over the
second half of its steps, the seeds' final R_bar, the exact r(pi) of the epsilon-greedy
policies learned) and keeps those numbers in ``summary.json``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rlfa import config as cfg
from rlfa import files, report, stats
from rlfa import hparams as hp
from rlfa.book import access_control_figure as ac
from rlfa.control.differential_sarsa import DifferentialHParams
from rlfa.envs.access_control import EnvParams, policy_average_reward
from rlfa.hparams import Flat
from rlfa.study import Job, Record, Study, StudyOptions, cli, latest_mean
from rlfa.sweep import Sweep


@dataclasses.dataclass(frozen=True)
class AccessControlConfig(StudyOptions):
    """Reproduce Figure 10.5: differential semi-gradient SARSA on the access-control task.

    ``--quick``: 2 seeds of 20,000 steps, R_bar logged every 1,000.
    """

    num_steps: int = 2_000_000
    """Environment steps per run, one episode that never ends (the book: 2 million)."""
    num_seeds: int = 10
    """Independent runs per hyperparameter point (the book shows one)."""
    hparams: Flat[DifferentialHParams] = DifferentialHParams(0.01, 0.01, 0.1)
    """The agent's alpha, beta and epsilon (the book: 0.01, 0.01, 0.1): --step-size, --beta,
    --epsilon."""
    num_servers: int = 10
    """Servers k (the book: 10)."""
    free_prob: float = 0.06
    """Probability that a busy server frees in a step (the book: 0.06)."""
    sweep: Sweep[DifferentialHParams] = Sweep[DifferentialHParams]()
    """alpha, beta and epsilon values to run instead, all in one compiled program."""
    log_every: int = 20_000
    """Environment steps between logged R_bar values (a multiple of block_steps)."""
    block_steps: int = 100
    """Environment steps per program step (one bulk draw of randomness)."""

    def __post_init__(self):
        super().__post_init__()
        for name in ("num_steps", "num_seeds", "log_every", "block_steps"):
            cfg.check_positive_int(name, getattr(self, name))
        hp.check(self.hparams)
        EnvParams(num_servers=self.num_servers, free_prob=self.free_prob)  # checks both
        for name, unit in (("log_every", "block_steps"), ("num_steps", "log_every")):
            if getattr(self, name) % getattr(self, unit):
                raise ValueError(f"{name}={getattr(self, name)} is invalid: must be a multiple "
                                 f"of {unit}={getattr(self, unit)}.")

    def effective(self) -> AccessControlConfig:
        return dataclasses.replace(self, num_steps=20_000, num_seeds=2, log_every=1_000) \
            if self.quick else self


def jobs(config: AccessControlConfig):
    grid = config.grid(config.hparams)
    params = EnvParams(num_servers=config.num_servers, free_prob=config.free_prob)
    num_logs = config.num_steps // config.log_every
    yield Job("Fig 10.5", ac.sarsa_program(params, config.block_steps),
              [hp.traced(p) for p in grid], config.num_seeds, num_logs,
              config.log_every // config.block_steps, unit="steps",
              log_x=config.log_every * np.arange(1, num_logs + 1),
              postfix=latest_mean("r_bar", "R_bar"), info=params,
              grid_labels=[{k: float(v) for k, v in p._asdict().items()} for p in grid])


def record(config: AccessControlConfig, job: Job, results) -> Record:
    params, rec, several = job.info, Record(), len(job.hparams) > 1
    r_bar = np.asarray(results.final.agent.r_bar, np.float64)  # [point, seed]
    eps = np.array([p["epsilon"] for p in job.grid_labels])[:, None]
    learned = ac.learned_policies(results.final.agent.w, eps, params)  # [point, seed, ...]
    after = f"after {config.num_steps} steps"
    for g, labels in enumerate(job.grid_labels):
        name = "Fig 10.5" + (" (" + ", ".join(f"{k}={v:g}" for k, v in labels.items()) + ")"
                             if several else "")
        for label, metric, scores in (
                ("R_bar", f"learned average reward R_bar {after}", r_bar[g]),
                ("r(epsilon-greedy)", f"exact r(pi) of the epsilon-greedy policy {after}",
                 learned.behaviour_reward[g]),
                ("r(greedy)", f"exact r(pi) of the learned greedy policy {after}",
                 learned.greedy_reward[g])):
            rec.headlines[f"{name}: {label}"] = stats.headline(metric, scores,
                                                               higher_is_better=True,
                                                               task="AccessControl")
        majority = learned.accept[g].mean(0) > 0.5
        rec.summary[name] = {
            **labels, "num_seeds": job.num_seeds,
            "majority_policy_average_reward": policy_average_reward(majority, params),
            "majority_accept": majority.T.astype(int).tolist(),  # [priority][free servers]
            # states with a server free whose two action values are equal (never told apart)
            "tied_states_per_seed": learned.tied[g, :, 1:].sum((-2, -1)).tolist(),
            "diverged_seeds": np.flatnonzero(results.diverged_at[g] >= 0).tolist(),
            "book_comparison": ac.book_comparison(results.metrics["r_bar"][g], job.log_x,
                                               learned.behaviour_reward[g])}
        rec.notes.append(f"{name}: {rec.summary[name]['book_comparison']['statement']}")
    rec.summary = {"points": rec.summary, "num_steps": config.num_steps,
                   "priorities": list(params.priorities), "num_servers": params.num_servers,
                   "book_r_bar": ac.BOOK_R_BAR}
    rec.arrays = {"r_bar": results.metrics["r_bar"], "r_bar_final": r_bar, "steps": job.log_x,
                  **{k: getattr(learned, k) for k in ("accept", "tied", "best_value",
                                                      "greedy_reward", "behaviour_reward")}}
    rec.rows = files.metric_rows({"r_bar": results.metrics["r_bar"]},
                                 list(job.grid_labels) if several else [{}], "step", job.log_x)
    return rec


def figure(run):
    """The book's two panels (the policy, the best action's value) for the first point,
    and R_bar over time for every point."""
    import matplotlib.pyplot as plt

    s, a = run.summary, run.arrays
    k = s["num_servers"]
    fig, (ax_p, ax_v, ax_r) = plt.subplots(1, 3, figsize=(15, 4))
    ac.plot_policy(ax_p, a["accept"][0].mean(0), a["tied"][0].mean(0) > 0.5, s["priorities"],
                   len(a["accept"][0]))
    for i, priority in enumerate(s["priorities"]):
        report.plot_band(ax_v, np.arange(k + 1), a["best_value"][0][:, :, i],
                         f"priority {priority:g}")
    ax_v.set(xlabel="number of free servers", ylabel="differential value of best action",
             title="Value of the best action (mean over seeds, 95% CI)")
    for g, name in enumerate(s["points"]):
        report.plot_band(ax_r, a["steps"], a["r_bar"][g], name)
    for i, one_run in enumerate(a["r_bar"][0]):  # the wander of a single run, as the book's
        ax_r.plot(a["steps"], one_run, color="gray", lw=0.5, alpha=0.4,
                  label="each seed (first point)" if i == 0 else None)
    r_pi = a["behaviour_reward"][0].mean()  # what R_bar estimates, in the long run
    ax_r.axhline(r_pi, color="C3", ls=":", lw=1.5,
                 label=f"exact r(pi), epsilon-greedy policies learned (mean {r_pi:.3f})")
    ax_r.axhline(s["book_r_bar"], color="black", ls="--", lw=1,
                 label=f"book: about {s['book_r_bar']:g} (one run)")
    ax_r.set(xlabel="steps", ylabel="R_bar", title="Learned average reward R_bar")
    for ax in (ax_v, ax_r):
        ax.legend(fontsize=8)
    first = next(iter(s["points"].values()))
    fig.suptitle(f"Access control, differential semi-gradient SARSA, {s['num_steps']:,} steps "
                 f"(alpha={first['step_size']:g}, beta={first['beta']:g}, "
                 f"epsilon={first['epsilon']:g}; S&B Figure 10.5)")
    fig.tight_layout()
    return fig


STUDY = Study("access_control", jobs, record, figure)

if __name__ == "__main__":
    cli(AccessControlConfig, STUDY)  # devices and processes: see experiments/__init__.py
