"""Semi-gradient SARSA on Mountain Car (Sutton & Barto Example 10.1, Figures 10.1 and 10.2).

    python -m experiments.mountain_car                    # both figures, the book's settings
    python -m experiments.mountain_car --figure 10.2 --num-seeds 30 --sweep.epsilon 0 0.1
    python -m experiments.mountain_car --quick            # seconds, for tests

8 tilings of 8x8 tiles, step size alpha/8, epsilon = 0 (zero weights are optimistic),
undiscounted; one program per figure (:func:`rlfa.book.mountain_car_figures.sarsa_program`).
Greedy agents can get stuck, so episodes are cut at ``max_episode_steps`` (a truncation
that still bootstraps); the summary counts the episodes that hit the cap.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rlfa import config as cfg
from rlfa import control, stats, sweep
from rlfa import hparams as hp
from rlfa.book import mountain_car_figures as mc
from rlfa.study import Job, Record, Study, StudyOptions, cli, latest_mean
from rlfa.sweep import Sweep


@dataclasses.dataclass(frozen=True)
class MountainCarConfig(StudyOptions):
    """Reproduce Sutton & Barto's Figures 10.1 and 10.2: semi-gradient SARSA on Mountain Car."""

    figure: str = "all"
    """Which figure: 10.1 (cost-to-go), 10.2 (steps per episode vs alpha), or all."""
    num_seeds: int | None = None
    """Independent runs per step size (default: the book's, 1 for 10.1 and 100 for 10.2)."""
    alphas: tuple[float, ...] = (0.1, 0.2, 0.5)
    """Figure 10.2's step sizes, before dividing by the number of tilings."""
    alpha_10_1: float = 0.5
    """Figure 10.1's step size, before dividing by the number of tilings."""
    num_episodes: int = 500
    """Figure 10.2's episodes per run (Figure 10.1 runs to its last snapshot, 9000)."""
    epsilon: float = 0.0
    """Exploration probability (the book: 0, relying on optimistic initial values)."""
    num_tilings: int = 8
    """Tilings (the book: 8)."""
    tiles_per_dim: int = 8
    """Tiles per dimension in each tiling (the book: 8x8)."""
    tile_lows: tuple[float, float] = (-1.2, -0.07)
    """Lower bounds of the tiled box (position, velocity); must cover the state space."""
    tile_highs: tuple[float, float] = (0.6, 0.07)
    """Upper bounds of the tiled box (position, velocity); must cover the state space."""
    max_episode_steps: int = 10_000
    """Per-episode step cap (time limit, truncating); episodes that hit it are reported."""
    next_action: str = "reuse"
    """SARSA's action at S': reuse the A' of the update (the book) or sample it afresh."""
    block_steps: int = 64
    """Environment steps per program step (one bulk draw of randomness)."""
    sweep: Sweep[control.ControlHParams] = Sweep[control.ControlHParams]()
    """Figure 10.2's grid: step sizes replacing alphas/num_tilings, epsilons and gammas crossed
    with them (Figure 10.1 keeps its one setting)."""

    def __post_init__(self):
        super().__post_init__()
        cfg.check_choice("figure", self.figure, ("all",) + mc.SARSA_FIGURES)
        cfg.check_choice("next_action", self.next_action, control.sarsa.NEXT_ACTION_CHOICES)
        cfg.check_nonempty("alphas", self.alphas)
        for name in ("num_seeds", "num_episodes", "num_tilings", "tiles_per_dim",
                     "max_episode_steps", "block_steps"):
            if getattr(self, name) is not None:  # num_seeds None: the book's
                cfg.check_positive_int(name, getattr(self, name))
        for figure in mc.SARSA_FIGURES:
            grid(self, figure)  # checks every point against the declared bounds
        self.features()  # checks the tiled box

    def features(self):
        return mc.tile_features(self.tile_lows, self.tile_highs, self.tiles_per_dim,
                                self.num_tilings)


def grid(config: MountainCarConfig, figure: str) -> list[tuple[dict, control.ControlHParams]]:
    """A figure's (label, hparams) points: Figure 10.1's alpha; Figure 10.2's alphas, each
    crossed with --sweep.epsilon and --sweep.gamma, or --sweep.step-size in their place.

    Raises:
      ValueError: for a point outside the declared bounds, naming the setting it came
        from, e.g. ``alphas 0: step_size=0.0 is invalid: ...``.
    """
    swept = sweep.requested(config.sweep) if figure == "10.2" else {}
    setting, alphas = ("alpha_10_1", (config.alpha_10_1,)) if figure == "10.1" else \
        ("alphas", config.alphas)
    replaced = "step_size" in swept  # the swept step sizes replace alpha / num_tilings
    points = []
    for alpha in alphas[:1] if replaced else alphas:
        base = control.ControlHParams(alpha / config.num_tilings, config.epsilon, 1.0)
        hp.check(base, prefix=f"{setting} {alpha:g}: ")
        for point in config.grid(base) if swept else [base]:
            label = {} if replaced else {"alpha": alpha}
            points.append((label | {k: float(getattr(point, k)) for k in swept}, point))
    return points


def jobs(config: MountainCarConfig):
    for figure in [f for f in ("10.2", "10.1") if config.figure in ("all", f)]:
        num_seeds, num_episodes, snapshots = mc.book_workload(figure, config.quick,
                                                              config.num_seeds, config.num_episodes)
        num_logs, steps_per_log, log_x = mc.log_schedule(
            num_episodes, config.max_episode_steps, config.block_steps, config.logs_per_chunk)
        program = mc.sarsa_program(config.features(), num_episodes,
                                   max_episode_steps=config.max_episode_steps,
                                   next_action=config.next_action, snapshot_episodes=snapshots,
                                   block_steps=config.block_steps)
        points = grid(config, figure)
        yield Job(f"Fig {figure}", program, [p for _, p in points], num_seeds, num_logs,
                  steps_per_log, log_x=log_x, unit="env steps",
                  postfix=latest_mean("episodes", "episodes"),
                  grid_labels=[label for label, _ in points], info=snapshots)


def record(config: MountainCarConfig, job: Job, results) -> Record:
    final, snapshots = results.final, job.info
    lengths = np.asarray(final.lengths, np.float64)  # [point, seed, episode]
    common = {"run_s": results.run_s, "compile_s": results.compile_s,
              "env_steps": int(final.steps.sum())}
    if snapshots:  # Figure 10.1: the cost-to-go of seed 0, as the book's single run
        positions, velocities, cost = mc.cost_to_go_surfaces(final.snapshots[0, 0],
                                                             config.features())
        return Record(summary={"figures": {"10.1": {
            "alpha": config.alpha_10_1, "snapshot_episodes": list(snapshots),
            "num_seeds": job.num_seeds, "max_cost_to_go": [float(c.max()) for c in cost],
            "steps_last_episode": stats.interval_estimates(lengths[0, :, -1]),
            "capped_episodes": int(final.truncated.sum()), **common}}},
            arrays={"cost_to_go_10_1": cost, "cost_to_go_positions": positions,
                    "cost_to_go_velocities": velocities})
    rec, num_episodes = Record(arrays={"steps_10_2": lengths}), lengths.shape[-1]
    per_alpha = {}
    for g, (label, point) in enumerate(zip(job.grid_labels, job.hparams)):
        key = ", ".join(f"alpha={v}/{config.num_tilings}" if k == "alpha" else f"{k}={v:g}"
                        for k, v in label.items())
        per_alpha[key] = {**label, "step_size": float(point.step_size),
                          "num_seeds": job.num_seeds, "num_episodes": num_episodes,
                          **stats.episode_summary(lengths[g], final.truncated[g],
                                                  (1, 10, 100, 500)),
                          "diverged_seeds": np.flatnonzero(results.diverged_at[g] >= 0).tolist()}
        rec.headlines[f"Fig 10.2: {key}"] = mc.steps_headline(lengths[g])
    rec.summary = {"figures": {"10.2": {"per_alpha": per_alpha, **common,
                                        "max_env_steps_per_run": int(final.steps.max()),
                                        "num_devices": results.num_devices}}}
    rec.rows = mc.steps_rows(lengths, "10.2", job.grid_labels)
    return rec


def figure(run):
    import matplotlib.pyplot as plt

    figures, arrays = run.summary["figures"], run.arrays
    snapshots = figures["10.1"]["snapshot_episodes"] if "10.1" in figures else []
    panels = len(snapshots) + ("10.2" in figures)
    fig, axes = plt.subplots(1, panels, figsize=(3.6 * panels, 3.4), squeeze=False)
    for ax, cost, episode in zip(axes[0], arrays.get("cost_to_go_10_1", []), snapshots):
        mc.plot_cost_to_go(ax, cost, arrays["cost_to_go_positions"],
                           arrays["cost_to_go_velocities"], episode)
    if "10.2" in figures:
        mc.plot_steps_per_episode(axes[0][-1], arrays["steps_10_2"],
                                  list(figures["10.2"]["per_alpha"]), "10.2")
    fig.tight_layout()
    return fig


STUDY = Study("mountain_car", jobs, record, figure)

if __name__ == "__main__":
    cli(MountainCarConfig, STUDY)  # devices and processes: see experiments/__init__.py
