"""Sutton & Barto chapter 9 on the 1000-state random walk: Figures 9.1, 9.2, 9.5 and 9.10.

    python -m experiments.random_walk                  # every figure, the book's workloads
    python -m experiments.random_walk --figure 9.2 --num-seeds 10 --sweep.step-size 1e-4 2e-4
    python -m experiments.random_walk --quick          # seconds, for tests

Each curve (:func:`rlfa.book.random_walk_figures.book_curves`: an agent, its features) is
one compiled program over its seeds and swept hyperparameters; the error is sqrt(VE)
(eq. 9.1).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rlfa import config as cfg
from rlfa import files, prediction, report, stats
from rlfa.book import random_walk_figures as rwf
from rlfa.envs import random_walk as rw
from rlfa.study import Job, Record, Study, StudyOptions, cli, latest_mean
from rlfa.sweep import Sweep

STRUCTURAL = ("order", "num_tilings", "group_size", "tile_width")  # shapes: not sweepable


@dataclasses.dataclass(frozen=True)
class RandomWalkConfig(StudyOptions):
    """Reproduce Sutton & Barto's chapter 9 figures on the 1000-state random walk."""

    figure: str = "all"
    """Which figure: 9.1, 9.2, 9.5, 9.10, or all."""
    num_seeds: int | None = None
    """Independent runs per configuration (default: the book's, 1 for 9.1/9.2 and 30 for
    9.5/9.10)."""
    num_episodes: int | None = None
    """Episodes per run (default: the book's, 100,000 for 9.1/9.2 and 5,000 for 9.5/9.10)."""
    max_episode_steps: int = 2000
    """Time limit per episode; the mean episode is 84 steps and P(> 2000) is about 1e-11."""
    first_visit: bool = True
    """First-visit gradient Monte Carlo (the course notes) or every-visit (the book's box)."""
    sweep: Sweep[prediction.PredictionHParams] = Sweep[prediction.PredictionHParams]()
    """Hyperparameters to sweep (each value crossed with every seed)."""

    def __post_init__(self):
        super().__post_init__()
        cfg.check_choice("figure", self.figure, ("all",) + rwf.FIGURES)
        for name in ("num_seeds", "num_episodes"):  # None: the book's
            if getattr(self, name) is not None:
                cfg.check_positive_int(name, getattr(self, name))
        cfg.check_positive_int("max_episode_steps", self.max_episode_steps)


def jobs(config: RandomWalkConfig):
    figures = rwf.FIGURES if config.figure == "all" else (config.figure,)
    for figure in figures:
        num_seeds, num_episodes, every = rwf.book_workload(
            figure, config.quick, config.num_seeds, config.num_episodes)
        log_x = every * np.arange(1, num_episodes // every + 1)
        for curve in rwf.book_curves(figure):
            points = config.grid(prediction.PredictionHParams(curve.step_size, 1.0),
                                 structural=STRUCTURAL)
            program = rwf.random_walk_program(
                curve.method, curve.feature_map, first_visit=config.first_visit,
                max_episode_steps=config.max_episode_steps, lock_step=curve.lock_step)
            yield Job(f"Fig {figure} {curve.label}", program, points, num_seeds, len(log_x),
                      every, log_x=log_x, unit="episodes", info=curve, threefry=curve.threefry,
                      postfix=latest_mean("rms_error", "sqrt(VE)"),
                      grid_labels=[{"alpha": float(p.step_size), "gamma": float(p.gamma)}
                                   for p in points])


def record(config: RandomWalkConfig, job: Job, results) -> Record:
    curve, rec, configs = job.info, Record(), {}
    phi = prediction.all_state_features(curve.feature_map, rw.all_observations())
    episodes = results.metrics["episodes"][0, 0]  # [num_logs]
    metric = f"sqrt(VE) after {int(episodes[-1])} episodes"
    for g, point in enumerate(job.grid_labels):
        label = curve.label if len(job.hparams) == 1 else \
            f"{curve.label} (alpha={point['alpha']:g}, gamma={point['gamma']:g})"
        name, err = f"Fig {curve.figure}: {label}", results.metrics["rms_error"][g]
        rec.headlines[name] = stats.headline(metric, err[:, -1], higher_is_better=False,
                                             task="RandomWalk1000")
        configs[label] = {
            "method": curve.method, "features": curve.feature_map.name, "step_size": point["alpha"],
            "num_seeds": len(err), "num_episodes": int(episodes[-1]),
            "truncated_episodes": int(results.metrics["truncated_episodes"][g, :, -1].sum()),
            "diverged_seeds": np.flatnonzero(results.diverged_at[g] >= 0).tolist()}
        rec.arrays |= {f"{name} rms_error": err, f"{name} episodes": episodes}
        if curve.figure in ("9.1", "9.2"):  # the learned values: [seed, d] -> [seed, 1000]
            w = np.asarray(results.final.agent.w[g])
            rec.arrays[f"{name} values"] = values = prediction.state_values(w, phi)
            configs[label] |= {"final_weights": w.mean(0).tolist(),
                               "final_values": values.mean(0).tolist()}
        rec.rows += files.metric_rows({"rms_error": err[None]}, [
            {"figure": curve.figure, "config": label, "step_size": point["alpha"]}], "episode",
            episodes)
    rec.summary = {"figures": {curve.figure: {"configs": configs}}}
    return rec


def figure(run):
    """One panel per figure (9.1 with the state distribution mu behind its values)."""
    import matplotlib.pyplot as plt

    figures, states = run.summary["figures"], np.arange(1, rw.EnvParams().num_states + 1)
    n = 1 if len(figures) == 1 else 2  # one figure, or all four
    fig, axes = plt.subplots(n, n, figsize=(6.5 * n, 4.5 * n), squeeze=False)
    for ax, (number, entry) in zip(axes.flat, figures.items()):
        curves = {label: f"Fig {number}: {label}" for label in entry["configs"]}
        if number in ("9.1", "9.2"):
            ax.plot(states, rw.true_values(), "k", lw=1, label="true value $v_\\pi$")
            for label, name in curves.items():
                ax.plot(states, run.arrays[f"{name} values"].mean(0), lw=1.5,
                        label=f"{label} $\\hat v$")
            ax.set(xlabel="state", ylabel="value", title=f"Figure {number}")
            if number == "9.1":
                twin = ax.twinx()
                twin.bar(states, rw.on_policy_distribution(), width=1.0, color="0.8",
                         alpha=0.6, label="state distribution $\\mu$")
                twin.set(ylabel="distribution $\\mu$", zorder=-1)
                ax.patch.set_visible(False)
            ax.legend(fontsize=8, loc="upper left")
            continue
        for label, name in curves.items():
            episodes, err = run.arrays[f"{name} episodes"], run.arrays[f"{name} rms_error"]
            report.plot_band(ax, episodes, err, label, lw=1.2)
        ax.set(xlabel="episodes", ylabel="$\\sqrt{VE}$ (averaged over runs)",
               title=f"Figure {number} ({len(err)} runs, 95% bootstrap CI)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


STUDY = Study("random_walk", jobs, record, figure)

if __name__ == "__main__":
    cli(RandomWalkConfig, STUDY)  # devices and processes: see experiments/__init__.py
