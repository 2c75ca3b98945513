"""Sutton & Barto chapter 9 on the 1000-state random walk: Figures 9.1, 9.2, 9.5 and 9.10.

    python -m experiments.random_walk                  # every figure, the book's workloads
    python -m experiments.random_walk --figure 9.10 --num-seeds 10
    python -m experiments.random_walk --quick          # seconds, for tests
    python -m experiments.random_walk --resume runs/checkpoints/random_walk/<timestamp>

Each configuration (agent x feature map x step size) runs all its seeds in one
compiled program through :func:`rlfa.runner.run`; configurations with different
feature maps change array shapes, so they run one after another. The error is
the book's root mean squared value error, sqrt(VE) with VE = sum_s mu(s) (v(s) -
v_hat(s))^2 (eq. 9.1), against the exact values from a linear solve.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from rlfa import config as cfg
from rlfa import distributed, prediction, report, runner, stats, sweep
from rlfa.envs import random_walk as rw
from rlfa.features import FeatureMap, Features, linear_value
from rlfa.features.fourier import fourier_basis
from rlfa.features.polynomial import polynomial_basis
from rlfa.features.state_aggregation import state_aggregation
from rlfa.features.tile_coding import tile_coding_1d_widths
from rlfa.study import StudyOptions, cli, finish, latest_mean

FIGURES = ("9.1", "9.2", "9.5", "9.10")
STRUCTURAL = ("order", "num_tilings", "group_size", "tile_width")


@dataclasses.dataclass(frozen=True)
class Sweep:
    """Continuous hyperparameters to sweep, in one compiled program per configuration."""

    step_size: tuple[str, ...] = ()
    """Step sizes replacing each configuration's book value, e.g. 1e-4 2e-4 0.1/8."""
    gamma: tuple[str, ...] = ()
    """Discounts (the book's walk is undiscounted, gamma = 1)."""


@dataclasses.dataclass(frozen=True)
class RandomWalkConfig(StudyOptions):
    """Reproduce Sutton & Barto's chapter 9 figures on the 1000-state random walk."""

    figure: str = "all"
    """Which figure: 9.1, 9.2, 9.5, 9.10, or all."""
    num_seeds: int | None = None
    """Independent runs per configuration (default: the book's, 1 for 9.1/9.2 and 30 for 9.5/9.10)."""
    num_episodes: int | None = None
    """Episodes per run (default: the book's, 100,000 for 9.1/9.2 and 5,000 for 9.5/9.10)."""
    max_episode_steps: int = 2000
    """Time limit per episode; the mean episode is 84 steps and P(> 2000) is about 1e-11."""
    first_visit: bool = True
    """First-visit gradient Monte Carlo (the course notes) or every-visit (the book's box)."""
    sweep: Sweep = Sweep()
    """Hyperparameters to sweep (each value crossed with every seed)."""
    sweep_mode: str = "grid"
    """How several swept fields combine: grid (every combination) or list (i-th with i-th)."""

    def __post_init__(self):
        super().__post_init__()
        cfg.check_choice("figure", self.figure, ("all",) + FIGURES)
        cfg.check_choice("sweep_mode", self.sweep_mode, ("grid", "list"))
        for point in self.hparams(1e-3):
            cfg.check_positive("sweep.step_size", float(point.step_size))
            cfg.check_in_range("sweep.gamma", float(point.gamma), 0.0, 1.0)
        if self.num_seeds is not None:
            cfg.check_positive_int("num_seeds", self.num_seeds)
        if self.num_episodes is not None:
            cfg.check_positive_int("num_episodes", self.num_episodes)
        cfg.check_positive_int("max_episode_steps", self.max_episode_steps)

    def hparams(self, step_size: float) -> list[prediction.PredictionHParams]:
        """The grid for a configuration whose book step size is ``step_size``."""
        return sweep.sweep_points(prediction.PredictionHParams(step_size, 1.0),
                                  sweep.requested(self.sweep), mode=self.sweep_mode,
                                  structural=STRUCTURAL)

    @property
    def figures(self) -> tuple[str, ...]:
        return FIGURES if self.figure == "all" else (self.figure,)


class Study(NamedTuple):
    """One curve of one figure: an agent, its features and step size."""

    figure: str
    label: str
    method: str  # "gradient_mc", "semi_gradient_td0" or "residual_gradient_td"
    feature_map: FeatureMap
    step_size: float


def studies(figure: str) -> list[Study]:
    """The book's configurations for one figure."""
    aggregation = state_aggregation(1000, 100)
    if figure == "9.1":
        return [Study(figure, "gradient MC", "gradient_mc", aggregation, 2e-5)]
    if figure == "9.2":
        return [Study(figure, "semi-gradient TD(0)", "semi_gradient_td0", aggregation, 2e-4),
                Study(figure, "residual-gradient TD", "residual_gradient_td", aggregation, 2e-4)]
    if figure == "9.5":
        return [Study(figure, f"{name} order {n}", "gradient_mc", basis(n, 1, 0.0, 1000.0), alpha)
                for name, basis, alpha in (("Fourier", fourier_basis, 5e-5),
                                           ("polynomial", polynomial_basis, 1e-4))
                for n in (5, 10, 20)]
    if figure == "9.10":
        return [Study(figure, "1 tiling", "gradient_mc",
                      tile_coding_1d_widths(1.0, 1000.0, 200.0, 1, 0.0), 1e-4),
                Study(figure, "50 tilings", "gradient_mc",
                      tile_coding_1d_widths(1.0, 1000.0, 200.0, 50, 4.0), 1e-4 / 50)]
    raise ValueError(f"figure={figure!r} is unknown: must be one of {list(FIGURES)}.")


def workload(config: RandomWalkConfig, figure: str) -> tuple[int, int, int]:
    """(num_seeds, num_episodes, episodes between logged points) for a figure."""
    long = figure in ("9.1", "9.2")
    seeds = config.num_seeds or (1 if long else (3 if config.quick else 30))
    episodes = config.num_episodes or ((2000 if long else 200) if config.quick
                                       else (100_000 if long else 5000))
    log_every = max(1, episodes // (100 if long else 500))
    while episodes % log_every:
        log_every -= 1
    return seeds, episodes, log_every


def all_state_features(feature_map: FeatureMap, params=rw.EnvParams()) -> Features:
    """phi of every state, computed once: ``Features`` with leaves ``[num_states, k]``."""
    return jax.vmap(feature_map)(rw.all_observations(params))


def rms_value_error_fn(feature_map: FeatureMap, params=rw.EnvParams()) -> Callable:
    """``agent_state -> {"rms_error": sqrt(VE)}`` against the exact values."""
    v_true = jnp.asarray(rw.true_values(params), jnp.float32)
    mu = jnp.asarray(rw.on_policy_distribution(params), jnp.float32)
    # A constant of the program: the logged points only gather weights, never re-featurise.
    phi = all_state_features(feature_map, params)

    def log(state):
        v_hat = jax.vmap(linear_value, in_axes=(None, 0))(state.w, phi)
        return {"rms_error": jnp.sqrt(jnp.sum(mu * (v_hat - v_true) ** 2))}

    return log


def build_program(study: Study, config: RandomWalkConfig, params=rw.EnvParams()) -> runner.Program:
    dynamics = rw.dynamics(params)
    if study.method == "gradient_mc":
        agent = prediction.gradient_monte_carlo(study.feature_map, params.num_states,
                                                dynamics.state_index, config.first_visit)
    elif study.method == "semi_gradient_td0":
        agent = prediction.semi_gradient_td0(study.feature_map)
    else:
        agent = prediction.residual_gradient_td(study.feature_map)
    return prediction.episodic_prediction(
        dynamics, agent, monte_carlo=study.method == "gradient_mc",
        max_episode_steps=config.max_episode_steps,
        log=rms_value_error_fn(study.feature_map, params),
        obs_example=rw.all_observations(params)[0])


def run_study(study: Study, config: RandomWalkConfig, checkpoint_dir: Path | None = None,
              logger=None) -> list[tuple[Study, runner.Results, np.ndarray]]:
    """Run one configuration over its seeds and swept hyperparameters, in one program.

    Returns one ``(study, results, final values [seed, 1000])`` per grid point,
    each ``results`` with a grid axis of length 1; swept points get labels that
    name their hyperparameters.

    With ``checkpoint_dir``, it is checkpointed in a subdirectory named after the
    study, and resumed from there when ``config.resume`` is set; ``logger``: see
    :meth:`StudyOptions.logging`.
    """
    num_seeds, num_episodes, log_every = workload(config, study.figure)
    points = config.hparams(study.step_size)
    hparams = runner.stack_hparams(points)
    num_logs = num_episodes // log_every
    labels = [{"alpha": float(p.step_size), "gamma": float(p.gamma)} for p in points]
    results = runner.run(build_program(study, config), hparams, num_seeds=num_seeds,
                         num_logs=num_logs, steps_per_log=log_every,
                         log_x=log_every * np.arange(1, num_logs + 1), unit="episodes",
                         postfix=latest_mean("rms_error", "sqrt(VE)"),
                         **config.run_options(checkpoint_dir, f"Fig {study.figure} {study.label}",
                                              logger=logger, grid_labels=labels))
    phi = all_state_features(study.feature_map)
    out = []
    for g, point in enumerate(points):
        one = lambda tree: jax.tree.map(lambda x: x[g:g + 1], tree)  # noqa: E731
        # The grid shares one program: its compile and run time are split evenly.
        part = results._replace(
            metrics=one(results.metrics), diverged_at=one(results.diverged_at),
            final=one(results.final), compile_s=results.compile_s / len(points),
            run_s=results.run_s / len(points))
        label = study.label if len(points) == 1 else \
            f"{study.label} (alpha={float(point.step_size):g}, gamma={float(point.gamma):g})"
        w = np.asarray(results.final.agent.w[g])  # [seed, d]
        values = (w[:, np.asarray(phi.indices)] * np.asarray(phi.values)).sum(-1)  # [seed, 1000]
        out.append((study._replace(label=label, step_size=float(point.step_size)), part, values))
    return out


def draw(figure_results: dict[str, list], params=rw.EnvParams()):
    """One panel per figure (two for 9.1: values and the state distribution)."""
    import matplotlib.pyplot as plt

    figs = list(figure_results)
    ncols = min(len(figs), 2)
    nrows = -(-len(figs) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(6.5 * ncols, 4.5 * nrows), squeeze=False)
    for ax in axes.flat[len(figs):]:
        ax.set_visible(False)
    states = np.arange(1, params.num_states + 1)
    for ax, figure in zip(axes.flat, figs):
        entries = figure_results[figure]
        if figure in ("9.1", "9.2"):
            ax.plot(states, rw.true_values(params), "k", lw=1, label="true value $v_\\pi$")
            for study, results, values in entries:
                ax.plot(states, values.mean(0), lw=1.5, label=f"{study.label} $\\hat v$")
            ax.set(xlabel="state", ylabel="value", title=f"Figure {figure}")
            if figure == "9.1":
                twin = ax.twinx()
                twin.bar(states, rw.on_policy_distribution(params), width=1.0, color="0.8",
                         alpha=0.6, label="state distribution $\\mu$")
                twin.set_ylabel("distribution $\\mu$")
                twin.set_zorder(-1)
                ax.patch.set_visible(False)
            ax.legend(fontsize=8, loc="upper left")
        else:
            for study, results, values in entries:
                err = results.metrics["rms_error"][0]
                episodes = results.metrics["episodes"][0, 0]
                mean, low, high = stats.bootstrap_band(err)
                line, = ax.plot(episodes, mean, lw=1.2, label=study.label)
                ax.fill_between(episodes, low, high, color=line.get_color(), alpha=0.2)
            n = entries[0][1].metrics["rms_error"].shape[1]
            ax.set(xlabel="episodes", ylabel="$\\sqrt{VE}$ (averaged over runs)",
                   title=f"Figure {figure} ({n} runs, 95% bootstrap CI)")
            ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def run_figure(figure: str, config: RandomWalkConfig, checkpoint_dir: Path | None, logger):
    """Every configuration of one figure: ``(entries, configs, headlines, rows)``.

    ``entries``: ``(study, results, final values)`` per configuration (for the
    figure); ``configs``: label -> its numbers for ``summary.json``; ``headlines``:
    label -> :func:`rlfa.stats.headline` of its final sqrt(VE); ``rows``: its
    ``metrics.csv`` rows.
    """
    entries, configs, headlines, rows = [], {}, {}, []
    for study, results, values in (entry for base in studies(figure)
                                   for entry in run_study(base, config, checkpoint_dir, logger)):
        entries.append((study, results, values))
        final_err = results.metrics["rms_error"][0, :, -1]
        num_episodes = int(results.metrics["episodes"][0, 0, -1])
        headlines[f"Fig {figure}: {study.label}"] = stats.headline(
            f"sqrt(VE) after {num_episodes} episodes", final_err, higher_is_better=False,
            task="RandomWalk1000")
        configs[study.label] = {
            "method": study.method,
            "features": study.feature_map.name,
            "step_size": study.step_size,
            "num_seeds": int(final_err.shape[0]),
            "num_episodes": num_episodes,
            "final_rms_error": report.summary_stats(final_err),
            "truncated_episodes": int(results.metrics["truncated_episodes"][0, :, -1].sum()),
            "diverged_seeds": np.flatnonzero(results.diverged_at[0] >= 0).tolist(),
            "compile_s": results.compile_s,
            "run_s": results.run_s,
        }
        if figure in ("9.1", "9.2"):
            configs[study.label]["final_weights"] = np.asarray(
                results.final.agent.w[0]).mean(0).tolist()
            configs[study.label]["final_values"] = values.mean(0).tolist()
        rows += report.metric_rows(
            {"rms_error": results.metrics["rms_error"]},
            [{"figure": figure, "config": study.label, "step_size": study.step_size}],
            "episode", results.metrics["episodes"][0, 0])
    return entries, configs, headlines, rows


def main(config: RandomWalkConfig) -> Path | None:
    """Run the requested figures, write ``runs/random_walk/<timestamp>/``, return its path."""
    t0 = time.perf_counter()
    checkpoint_dir = config.checkpoint_root("random_walk")
    figure_results: dict[str, list] = {}
    summary: dict = {"headlines": {}, "figures": {}}
    rows: list[dict] = []
    with config.logging("random_walk", checkpoint_dir) as logger:
        for figure in config.figures:
            entries, configs, headlines, figure_rows = run_figure(figure, config,
                                                                  checkpoint_dir, logger)
            summary["headlines"].update(headlines)
            rows += figure_rows
            summary["figures"][figure] = {
                "configs": configs,
                "run_s": sum(c["run_s"] for c in configs.values()),
                "compile_s": sum(c["compile_s"] for c in configs.values()),
            }
            figure_results[figure] = entries
    summary["run_s"] = sum(f["run_s"] for f in summary["figures"].values())
    summary["compile_s"] = sum(f["compile_s"] for f in summary["figures"].values())
    summary["wall_s"] = time.perf_counter() - t0
    summary["num_devices"] = entries[0][1].num_devices
    summary["num_processes"] = jax.process_count()
    if not distributed.is_main_process():
        return None  # every process has every result; process 0 writes them
    path = report.write_run("random_walk", config, summary, rows,
                            {"figure": draw(figure_results)}, root=config.out)
    for figure, fs in summary["figures"].items():
        for label, c in fs["configs"].items():
            head = summary["headlines"][f"Fig {figure}: {label}"]
            print(f"Fig {figure:>4}  {label:<22} final sqrt(VE) {stats.describe(head)}"
                  f"  (run {c['run_s']:.2f} s, compile {c['compile_s']:.2f} s)")
    print(f"checkpoints: {checkpoint_dir}")
    # A swept study's grid points share its checkpoint errors: report each once.
    return finish(path, [entries[0][1] for entries in figure_results.values()])


if __name__ == "__main__":
    cli(RandomWalkConfig, main)  # devices and processes: see experiments/__init__.py
