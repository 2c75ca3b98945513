"""Semi-gradient SARSA on Mountain Car (Sutton & Barto Example 10.1, Figures 10.1 and 10.2).

    python -m experiments.mountain_car                    # both figures, the book's settings
    python -m experiments.mountain_car --figure 10.2 --num-seeds 30
    python -m experiments.mountain_car --quick            # seconds, for tests

Tile coding with 8 tilings of 8x8 tiles over position and velocity with the
book's asymmetric offsets, step size alpha/8 per tiling, epsilon = 0 (zero
initial weights are optimistic: rewards are -1), undiscounted. Every run of
every step size is one compiled program (:func:`rlfa.control.episodic_control`:
one environment step per step, each run on its own episode clock), stopped as
soon as every run has finished its episodes.

Greedy agents can get stuck (the car circling near x = -0.52 while its action
values sink together), so episodes are cut at ``max_episode_steps``: a
time-limit truncation that still bootstraps. The summary counts the episodes
that hit the cap, per alpha.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from rlfa import config as cfg
from rlfa import control, distributed, report, runner, stats
from rlfa.control.linear_q import precomputed
from rlfa.envs.mountain_car import MountainCar
from rlfa.features import FeatureMap, q_values, tile_coding
from rlfa.study import StudyOptions, cli, finish, latest_mean

FIGURES = ("10.1", "10.2")
NUM_ACTIONS = 3
SNAPSHOTS_10_1 = (1, 12, 104, 1000, 9000)
REPORT_EPISODES = (1, 10, 100, 500)


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

    def __post_init__(self):
        super().__post_init__()
        cfg.check_choice("figure", self.figure, ("all",) + FIGURES)
        if self.num_seeds is not None:
            cfg.check_positive_int("num_seeds", self.num_seeds)
        cfg.check_nonempty("alphas", self.alphas)
        cfg.check_positive("alphas", list(self.alphas))
        cfg.check_positive("alpha_10_1", self.alpha_10_1)
        cfg.check_positive_int("num_episodes", self.num_episodes)
        cfg.check_in_range("epsilon", self.epsilon, 0.0, 1.0)
        cfg.check_positive_int("num_tilings", self.num_tilings)
        cfg.check_positive_int("tiles_per_dim", self.tiles_per_dim)
        cfg.check_positive_int("max_episode_steps", self.max_episode_steps)
        cfg.check_choice("next_action", self.next_action, control.episodes.NEXT_ACTION_CHOICES)
        cfg.check_positive_int("block_steps", self.block_steps)
        env = MountainCar().default_params
        state_lows, state_highs = (env.min_position, -env.max_speed), (env.max_position,
                                                                       env.max_speed)
        for name, bounds in (("tile_lows", self.tile_lows), ("tile_highs", self.tile_highs)):
            if len(bounds) != 2:
                raise ValueError(f"{name}={bounds!r} is invalid: must be (position, velocity).")
        if any(lo > s for lo, s in zip(self.tile_lows, state_lows)) or any(
                hi < s for hi, s in zip(self.tile_highs, state_highs)):
            raise ValueError(
                f"tile_lows={self.tile_lows!r}, tile_highs={self.tile_highs!r} are invalid: the "
                f"tilings must cover the state space, lows <= {state_lows} and highs >= "
                f"{state_highs}.")
        self.features()  # tile coding validates the rest (e.g. highs > lows)

    @property
    def figures(self) -> tuple[str, ...]:
        return FIGURES if self.figure == "all" else (self.figure,)

    def features(self) -> FeatureMap:
        return tile_coding(list(self.tile_lows), list(self.tile_highs), self.tiles_per_dim,
                           self.num_tilings)


def sarsa_program(config: MountainCarConfig, num_episodes: int,
                  snapshots: tuple[int, ...] = ()) -> runner.Program:
    """One run of semi-gradient SARSA on Mountain Car as a runner Program (one env step a step)."""
    env = MountainCar()
    params = env.default_params.replace(max_steps_in_episode=config.max_episode_steps)
    features = config.features()
    # The tile coding runs once per observation; the agent reads the cached tiles.
    tiles = precomputed(features)
    agent = control.semi_gradient_sarsa(tiles, NUM_ACTIONS)
    return control.episodic_control(
        env, params, agent, control.linear_q(tiles, NUM_ACTIONS), NUM_ACTIONS,
        num_episodes=num_episodes, sarsa=True, next_action=config.next_action,
        snapshot_episodes=snapshots, block_steps=config.block_steps, observe=features)


def run_sarsa(config: MountainCarConfig, alphas: tuple[float, ...], num_seeds: int,
              num_episodes: int, snapshots: tuple[int, ...] = (), checkpoints: Path | None = None,
              name: str = "Mountain Car", logger=None) -> runner.Results:
    """Every (alpha, seed) run of semi-gradient SARSA in one compiled program.

    ``checkpoints``: the run's checkpoint directory (``name`` is this program's
    subdirectory), or None for no checkpoints; ``logger``: see
    :meth:`StudyOptions.logging`. The bar counts environment steps per run (the
    runs advance together until the last has run its episodes).
    """
    program = sarsa_program(config, num_episodes, snapshots)
    hparams = runner.stack_hparams([
        control.ControlHParams(a / config.num_tilings, config.epsilon, 1.0) for a in alphas])
    # Enough steps for every episode to hit the cap; the runner stops once all runs are done.
    steps_per_log, logs_per_chunk = 16, config.logs_per_chunk
    budget = num_episodes * config.max_episode_steps
    num_logs = -(-budget // (config.block_steps * steps_per_log * logs_per_chunk)) * logs_per_chunk
    env_steps_per_log = config.block_steps * steps_per_log
    return runner.run(program, hparams, num_seeds=num_seeds, num_logs=num_logs,
                      steps_per_log=steps_per_log, divergence_bound=1e6,
                      log_x=env_steps_per_log * np.arange(1, num_logs + 1), unit="env steps",
                      postfix=latest_mean("episodes", "episodes"),
                      **config.run_options(checkpoints, name, logger=logger,
                                           grid_labels=[{"alpha": a} for a in alphas]))


def cost_to_go(w: np.ndarray, features: FeatureMap, size: int = 60):
    """-max_a q(s, a) on a ``size x size`` grid of (position, velocity), ``[size, size]``."""
    positions = np.linspace(-1.2, 0.6, size)
    velocities = np.linspace(-0.07, 0.07, size)
    grid = jnp.stack(jnp.meshgrid(positions, velocities, indexing="ij"), -1).reshape(-1, 2)
    q = jax.vmap(lambda s: q_values(jnp.asarray(w), features, NUM_ACTIONS, s))(grid)
    return positions, velocities, -np.asarray(q.max(-1)).reshape(size, size)


def figure_10_2(config: MountainCarConfig, quick: bool, checkpoints: Path | None = None,
                logger=None):
    num_seeds = config.num_seeds or (2 if quick else 100)
    num_episodes = 20 if quick else config.num_episodes
    res = run_sarsa(config, config.alphas, num_seeds, num_episodes, checkpoints=checkpoints,
                    name="Fig 10.2", logger=logger)
    lengths = np.asarray(res.final.lengths, np.float64)  # [alpha, seed, episode]
    capped = np.asarray(res.final.truncated)
    per_alpha, headlines = {}, {}
    for g, alpha in enumerate(config.alphas):
        entry = {"alpha": alpha, "step_size": alpha / config.num_tilings,
                 "num_seeds": num_seeds, "num_episodes": num_episodes}
        for e in REPORT_EPISODES:
            if e <= num_episodes:
                entry[f"steps_episode_{e}"] = report.summary_stats(lengths[g, :, e - 1])
        entry["steps_mean_all_episodes"] = report.summary_stats(lengths[g].mean(-1))
        entry["capped_episodes"] = int(capped[g].sum())
        entry["runs_with_capped_episodes"] = int(capped[g].any(-1).sum())
        entry["diverged_seeds"] = np.flatnonzero(res.diverged_at[g] >= 0).tolist()
        per_alpha[f"alpha={alpha}/{config.num_tilings}"] = entry
        headlines[f"Fig 10.2: alpha={alpha}/{config.num_tilings}"] = stats.headline(
            f"mean steps per episode over {num_episodes} episodes", lengths[g].mean(-1),
            higher_is_better=False, task="MountainCar")
    summary = {"headlines": headlines, "per_alpha": per_alpha,
               "run_s": res.run_s, "compile_s": res.compile_s,
               "env_steps": int(res.final.steps.sum()),
               "max_env_steps_per_run": int(res.final.steps.max()),
               "num_devices": res.num_devices}
    rows = report.metric_rows({"steps": lengths},
                              [{"figure": "10.2", "alpha": a} for a in config.alphas],
                              "episode", np.arange(1, num_episodes + 1))
    return summary, rows, lengths, res


def figure_10_1(config: MountainCarConfig, quick: bool, checkpoints: Path | None = None,
                logger=None):
    num_seeds = config.num_seeds or 1
    snapshots = (1, 2, 4, 8, 12) if quick else SNAPSHOTS_10_1
    res = run_sarsa(config, (config.alpha_10_1,), num_seeds, snapshots[-1], snapshots,
                    checkpoints=checkpoints, name="Fig 10.1", logger=logger)
    w = np.asarray(res.final.snapshots[0, 0])  # seed 0, as the book's single run
    surfaces = [cost_to_go(w[i], config.features()) for i in range(len(snapshots))]
    lengths = np.asarray(res.final.lengths[0], np.float64)
    summary = {"alpha": config.alpha_10_1, "snapshot_episodes": list(snapshots),
               "num_seeds": num_seeds,
               "max_cost_to_go": [float(s[2].max()) for s in surfaces],
               "steps_last_episode": report.summary_stats(lengths[:, -1]),
               "capped_episodes": int(res.final.truncated.sum()),
               "run_s": res.run_s, "compile_s": res.compile_s,
               "env_steps": int(res.final.steps.sum())}
    return summary, surfaces, snapshots, res


def draw(results: dict, config: MountainCarConfig):
    import matplotlib.pyplot as plt

    panels = ("10.1" in results) * 5 + ("10.2" in results)
    fig, axes = plt.subplots(1, panels, figsize=(3.6 * panels, 3.4), squeeze=False)
    axes = list(axes[0])
    if "10.1" in results:
        _, surfaces, snapshots, _ = results["10.1"]
        for ax, (pos, vel, ctg), episode in zip(axes, surfaces, snapshots):
            im = ax.imshow(ctg.T, origin="lower", aspect="auto", cmap="viridis",
                           extent=(pos[0], pos[-1], vel[0], vel[-1]))
            ax.set(title=f"Episode {episode}", xlabel="position", ylabel="velocity")
            fig.colorbar(im, ax=ax, label="-max_a q")
        axes = axes[5:]
    if "10.2" in results:
        _, _, lengths, _ = results["10.2"]
        ax = axes[0]
        episodes = np.arange(1, lengths.shape[-1] + 1)
        for g, alpha in enumerate(config.alphas):
            mean, low, high = stats.bootstrap_band(lengths[g])
            line, = ax.plot(episodes, mean, label=f"alpha={alpha}/{config.num_tilings}")
            ax.fill_between(episodes, low, high, color=line.get_color(), alpha=0.2)
        ax.set(yscale="log", xlabel="episode", ylabel="steps per episode (log scale)",
               title=f"Figure 10.2 ({lengths.shape[1]} runs, 95% bootstrap CI)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def main(config: MountainCarConfig) -> Path | None:
    """Run the requested figures, write ``runs/mountain_car/<timestamp>/``, return its path."""
    t0 = time.perf_counter()
    checkpoints = config.checkpoint_root("mountain_car")
    results, summary, rows = {}, {"headlines": {}, "figures": {}}, []
    with config.logging("mountain_car", checkpoints) as logger:
        if "10.2" in config.figures:
            results["10.2"] = figure_10_2(config, config.quick, checkpoints, logger)
        if "10.1" in config.figures:
            results["10.1"] = figure_10_1(config, config.quick, checkpoints, logger)
    if "10.2" in results:
        summary["figures"]["10.2"], rows = results["10.2"][0], results["10.2"][1]
        summary["headlines"].update(summary["figures"]["10.2"].pop("headlines"))
    if "10.1" in results:
        summary["figures"]["10.1"] = results["10.1"][0]
    summary["wall_s"] = time.perf_counter() - t0
    arrays = {}
    if "10.1" in results:
        arrays["cost_to_go_10_1"] = np.stack([s[2] for s in results["10.1"][1]])
    if "10.2" in results:
        arrays["steps_10_2"] = results["10.2"][2]
    if not distributed.is_main_process():
        return None  # every process has every result; process 0 writes them
    path = report.write_run("mountain_car", config, summary, rows,
                            {"figure": draw(results, config)}, root=config.out, arrays=arrays)
    if "10.2" in summary["figures"]:
        f = summary["figures"]["10.2"]
        for label, e in f["per_alpha"].items():
            head = summary["headlines"][f"Fig 10.2: {label}"]
            print(f"Fig 10.2  {label:<12} mean steps/episode {stats.describe(head)}"
                  f"  capped episodes {e['capped_episodes']}")
        print(f"Fig 10.2  run {f['run_s']:.2f} s (compile {f['compile_s']:.2f} s)")
    if "10.1" in summary["figures"]:
        f = summary["figures"]["10.1"]
        print(f"Fig 10.1  run {f['run_s']:.2f} s (compile {f['compile_s']:.2f} s)")
    return finish(path, [r[-1] for r in results.values()])


if __name__ == "__main__":
    cli(MountainCarConfig, main)  # devices and processes: see experiments/__init__.py
