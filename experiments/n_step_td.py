"""n-step semi-gradient TD (Sutton & Barto Figure 9.2, right) and LSTD beside TD(0), on the
1000-state random walk with state aggregation (20 groups of 50 states), gamma = 1.

    python -m experiments.n_step_td                    # both, the default workloads
    python -m experiments.n_step_td --figure 9.2-right --sweep.n 1 4 16 --sweep.step-size 0.1 0.3
    python -m experiments.n_step_td --quick            # seconds, for tests

9.2-right: every n (1, 2, 4, ..., 512) x alpha (0.01, 0.02, 0.03, 0.05, 0.1, ..., 1) in ONE program
(:func:`rlfa.prediction.n_step_td.n_step_td_program`, n traced), 100 runs of 10 episodes;
a run's score is sqrt(VE) after each of its first 10 episodes, averaged (the book plots the
RMS error over the 1000 states; sqrt(VE) weighs them by mu). A run whose weights went
non-finite or past 1e6 scores NaN and is counted per point, never clipped. Headlines: each
n at its best alpha (the best of the grid, so slightly optimistic); the whole grid (means
with 95% bootstrap CIs) is in summary.json and every run's score in metrics.npz.

lstd: LSTD (epsilon = 0.01; the book's box only asks for a small epsilon > 0, and 1e-3 to
0.1 give the same curves here) and semi-gradient TD(0) with alpha = 0.01 (still converging
after 1000 episodes) and 0.05 (faster, then stuck at its noise floor), 30 runs of 1000
episodes. Headlines: final sqrt(VE) of each, and LSTD's excess over sqrt(VE) at the exact TD
fixed point w_TD = A^-1 b (:func:`rlfa.prediction.td_fixed_point`).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rlfa import config as cfg
from rlfa import files, prediction, stats, sweep
from rlfa import hparams as hp
from rlfa.book.n_step_td_figures import (
    FEATURES,
    GRID,
    QUICK_GRID,
    WORKLOAD,
    lstd_fixed_point,
    plot_grid,
    plot_lstd,
    record_grid,
)
from rlfa.envs import random_walk as rw
from rlfa.study import Job, Record, Study, StudyOptions, cli, latest_mean
from rlfa.sweep import Sweep


@dataclasses.dataclass(frozen=True)
class NStepTDConfig(StudyOptions):
    """n-step TD's error against alpha for every n (Figure 9.2 right); LSTD beside TD(0)."""

    figure: str = "all"
    """Which: 9.2-right, lstd, or all."""
    num_seeds: int | None = None
    """Runs per configuration (default: 100 for 9.2-right, 30 for lstd; 4 with --quick)."""
    num_episodes: int | None = None
    """Episodes per run (default: 10 for 9.2-right, 1000 for lstd; 50 for lstd with --quick)."""
    td_step_sizes: tuple[float, ...] = (0.01, 0.05)
    """alpha of the TD(0) runs beside LSTD (one program)."""
    lstd_epsilon: float = 0.01
    """LSTD's epsilon: A_hat starts at epsilon I."""
    max_episode_steps: int = 2000
    """Time limit per episode; the mean episode is 87 steps and P(> 2000) is about 1e-11."""
    sweep: Sweep[prediction.NStepHParams] = Sweep[prediction.NStepHParams]()
    """Figure 9.2 right's grid: given fields replace the default n (1..512) or alpha (0.01..1)."""

    def __post_init__(self):
        super().__post_init__()
        cfg.check_choice("figure", self.figure, ("all", *WORKLOAD))
        for name in ("num_seeds", "num_episodes"):
            if getattr(self, name) is not None:
                cfg.check_positive_int(name, getattr(self, name))
        cfg.check_nonempty("td_step_sizes", self.td_step_sizes)
        self.points()
        self.lstd_points()
        cfg.check_positive_int("max_episode_steps", self.max_episode_steps)

    def points(self) -> list[prediction.NStepHParams]:
        """Figure 9.2 right's (n, alpha, gamma) points, each checked against its declared bounds;
        in grid mode unswept n/alpha: the default."""
        asked = sweep.requested(self.sweep)
        if self.sweep_mode == "grid":
            asked = {**(QUICK_GRID if self.quick else GRID), **asked}
        points = sweep.sweep_points(prediction.NStepHParams(0.2, 1.0, 4.0), asked,
                                    mode=self.sweep_mode)
        for point in points:
            hp.check(point)
        return points

    def lstd_points(self) -> tuple[list[prediction.PredictionHParams], prediction.LSTDHParams]:
        """The TD(0) points beside LSTD and LSTD's own, each checked against its declared
        bounds, the message naming the setting (``lstd_epsilon=0.0 is invalid: ...``)."""
        td = [prediction.PredictionHParams(a, 1.0) for a in self.td_step_sizes]
        for alpha, point in zip(self.td_step_sizes, td):
            hp.check(point, prefix=f"td_step_sizes {alpha:g}: ")
        lstd = prediction.LSTDHParams(1.0, self.lstd_epsilon)
        hp.check(lstd, prefix="lstd_")  # the field epsilon is the setting lstd_epsilon
        return td, lstd

    def workload(self, figure: str) -> tuple[int, int, int]:
        seeds, episodes, every = WORKLOAD[figure]
        if self.quick:
            seeds, episodes, every = 4, min(episodes, 50), min(every, 5)
        episodes = self.num_episodes or episodes
        return self.num_seeds or seeds, episodes, every if episodes % every == 0 else 1


def jobs(config: NStepTDConfig):
    common = {"max_episode_steps": config.max_episode_steps, "obs_example":
              rw.all_observations()[0], "log": prediction.rms_value_error_fn(FEATURES)}
    for figure in WORKLOAD if config.figure == "all" else (config.figure,):
        seeds, episodes, every = config.workload(figure)
        x = every * np.arange(1, episodes // every + 1)
        run = {"log_x": x, "unit": "episodes", "postfix": latest_mean("rms_error", "sqrt(VE)")}
        if figure == "9.2-right":
            program = prediction.n_step_td.n_step_td_program(rw.dynamics(), FEATURES, **common)
            points = config.points()
            yield Job("9.2-right n-step TD", program, points, seeds, len(x), every, **run,
                      info=figure, grid_labels=sweep.labels(points))
            continue
        td, lstd = config.lstd_points()
        for agent, points, labels in (
                (prediction.semi_gradient_td0(FEATURES), td,
                 [f"TD(0) (alpha={a:g})" for a in config.td_step_sizes]),
                (prediction.lstd(FEATURES), [lstd], [f"LSTD (epsilon={config.lstd_epsilon:g})"])):
            program = prediction.episodic_prediction(rw.dynamics(), agent, monte_carlo=False,
                                                     **common)
            yield Job(f"lstd {labels[0].split()[0]}", program, points, seeds, len(x), every,
                      **run, grid_labels=[{"figure": "lstd", "config": c} for c in labels])


def record(config: NStepTDConfig, job: Job, results) -> Record:
    err = results.metrics["rms_error"]
    ok = np.isfinite(err).all(-1) & (results.diverged_at < 0)  # [grid, seed]: flagged runs
    if job.info == "9.2-right":
        return record_grid(job, err, ok)
    fixed = lstd_fixed_point()
    rec, episodes = Record(summary={"lstd": {"sqrt_ve": fixed}}), results.metrics["episodes"][0, 0]
    for g, label in enumerate(p["config"] for p in job.grid_labels):
        final = np.where(ok[g], err[g, :, -1], np.nan)
        rec.arrays |= {f"lstd {label}": err[g], "lstd episodes": episodes}
        rec.headlines[f"lstd: {label}"] = stats.headline(
            f"sqrt(VE) after {episodes[-1]} episodes", final, higher_is_better=False,
            task="RandomWalk1000")
        if label.startswith("LSTD"):
            rec.headlines["lstd: LSTD minus the TD fixed point"] = stats.headline(
                "final sqrt(VE) - sqrt(VE(w_TD))", final - fixed["td_fixed_point"],
                higher_is_better=False, task="RandomWalk1000")
    rec.rows = files.metric_rows({"rms_error": err}, job.grid_labels, "episodes", episodes)
    return rec


def figure(run):
    """Figure 9.2 right (error against alpha, one curve per n; x: a run gone non-finite) and
    LSTD beside TD(0) (error against episodes, the TD fixed point's and the best error)."""
    import matplotlib.pyplot as plt

    panels = [k for k in WORKLOAD if k in run.summary]
    fig, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 5), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        if panel == "9.2-right":
            plot_grid(ax, run.arrays)
        else:
            plot_lstd(ax, run.arrays["lstd episodes"], {
                k.removeprefix("lstd "): v for k, v in run.arrays.items()
                if k.startswith("lstd ") and k != "lstd episodes"}, run.summary["lstd"]["sqrt_ve"])
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


STUDY = Study("n_step_td", jobs, record, figure)

if __name__ == "__main__":
    cli(NStepTDConfig, STUDY)
