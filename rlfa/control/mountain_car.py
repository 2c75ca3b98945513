"""Semi-gradient SARSA with tile coding on Mountain Car (Sutton & Barto Example 10.1).

:func:`tile_features` builds the book's tile coding over (position, velocity),
:func:`book_workload` gives each figure's runs and episodes, :func:`sarsa_program` one run of semi-gradient SARSA as a runner Program (one
environment step per loop step, :func:`~rlfa.control.episodes.episodic_control`),
:func:`log_schedule` how long to run it so every episode could hit the time
limit, and :func:`cost_to_go_surfaces` Figure 10.1's ``-max_a q`` over the state
space.
"""

from __future__ import annotations

import numpy as np

from rlfa.control.episodes import episodic_control
from rlfa.control.linear_values import cost_to_go, linear_q, precomputed
from rlfa.control.sarsa import sarsa_actions, semi_gradient_sarsa
from rlfa.envs.mountain_car import MountainCar
from rlfa.features import FeatureMap, tile_coding
from rlfa.types import Program

NUM_ACTIONS = 3
FIGURES = ("10.1", "10.2")
# The state space (position, velocity): gymnax's MountainCar-v0 bounds.
STATE_LOWS, STATE_HIGHS = (-1.2, -0.07), (0.6, 0.07)


def tile_features(tile_lows: tuple[float, float] = STATE_LOWS,
                  tile_highs: tuple[float, float] = STATE_HIGHS, tiles_per_dim: int = 8,
                  num_tilings: int = 8) -> FeatureMap:
    """``num_tilings`` asymmetric tilings of ``tiles_per_dim`` x ``tiles_per_dim`` tiles over
    the box ``[tile_lows, tile_highs]`` of (position, velocity), which must cover the state
    space; by default the book's 8 tilings of 8x8 tiles over the state space.

    Raises:
      ValueError: naming the field, for bounds that are not (position, velocity)
        pairs or do not cover the state space, and for what :func:`tile_coding`
        refuses.
    """
    for name, bounds in (("tile_lows", tile_lows), ("tile_highs", tile_highs)):
        if len(bounds) != 2:
            raise ValueError(f"{name}={bounds!r} is invalid: must be (position, velocity).")
    if any(lo > s for lo, s in zip(tile_lows, STATE_LOWS)) or any(
            hi < s for hi, s in zip(tile_highs, STATE_HIGHS)):
        raise ValueError(
            f"tile_lows={tile_lows!r}, tile_highs={tile_highs!r} are invalid: the tilings must "
            f"cover the state space, lows <= {STATE_LOWS} and highs >= {STATE_HIGHS}.")
    return tile_coding(list(tile_lows), list(tile_highs), tiles_per_dim, num_tilings)


def book_workload(figure: str, quick: bool = False, num_seeds: int | None = None,
                  num_episodes: int = 500) -> tuple[int, int, tuple[int, ...]]:
    """``(num_seeds, num_episodes, snapshot episodes)`` of ``figure`` (one of :data:`FIGURES`).

    Figure 10.1: one run to the book's snapshots, episodes 1, 12, 104, 1000 and
    9000 (1, 2, 4, 8, 12 with ``quick``); Figure 10.2: 100 runs (2 with ``quick``)
    of ``num_episodes`` (20 with ``quick``). ``num_seeds``, if given, replaces the
    book's runs.
    """
    if figure == "10.1":
        snapshots = (1, 2, 4, 8, 12) if quick else (1, 12, 104, 1000, 9000)
        return num_seeds or 1, snapshots[-1], snapshots
    if figure == "10.2":
        return num_seeds or (2 if quick else 100), 20 if quick else num_episodes, ()
    raise ValueError(f"figure={figure!r} is unknown: must be one of {list(FIGURES)}.")


def sarsa_program(features: FeatureMap, num_episodes: int, *, max_episode_steps: int,
                  next_action: str = "reuse", snapshot_episodes: tuple[int, ...] = (),
                  block_steps: int = 64) -> Program:
    """One run of semi-gradient SARSA on Mountain Car as a runner Program.

    Args:
      features: the state features (:func:`tile_features`).
      num_episodes: episodes per run.
      max_episode_steps: the time limit, which truncates (and still bootstraps).
      next_action: SARSA's action at S' (:func:`~rlfa.control.sarsa.sarsa_actions`).
      snapshot_episodes: episode counts after which to keep the weights.
      block_steps: environment steps per program step.
    """
    env = MountainCar()
    params = env.default_params.replace(max_steps_in_episode=max_episode_steps)
    # The tile coding runs once per observation; the agent reads the cached tiles.
    tiles = precomputed(features)
    return episodic_control(
        env, params, semi_gradient_sarsa(tiles, NUM_ACTIONS), linear_q(tiles, NUM_ACTIONS),
        NUM_ACTIONS, num_episodes=num_episodes, actions=sarsa_actions(next_action),
        snapshot_episodes=snapshot_episodes, block_steps=block_steps, observe=features)


def log_schedule(num_episodes: int, max_episode_steps: int, block_steps: int,
                 logs_per_chunk: int, steps_per_log: int = 16) -> tuple[int, int, np.ndarray]:
    """``(num_logs, steps_per_log, log_x)`` for :func:`rlfa.runner.run`: enough program steps
    for every episode to hit the cap (the runner stops once every run is done), in whole
    chunks of ``logs_per_chunk``; ``log_x``: environment steps per run at each logged point."""
    budget = num_episodes * max_episode_steps
    num_logs = -(-budget // (block_steps * steps_per_log * logs_per_chunk)) * logs_per_chunk
    return num_logs, steps_per_log, block_steps * steps_per_log * np.arange(1, num_logs + 1)


def cost_to_go_surfaces(weights: np.ndarray, features: FeatureMap, size: int = 60):
    """Figure 10.1's ``-max_a q`` over the state space for each of several weight vectors.

    Args:
      weights: ``[n, d * A]``, e.g. one run's snapshots.
      features: the state features the weights go with.
      size: grid points per dimension.

    Returns:
      ``(positions [size], velocities [size], cost [n, size, size])``, ``cost[k, i, j]``
      at ``(positions[i], velocities[j])``.
    """
    surfaces = [cost_to_go(w, features, NUM_ACTIONS, STATE_LOWS, STATE_HIGHS, size)
                for w in np.asarray(weights)]
    positions, velocities, _ = surfaces[0]
    return positions, velocities, np.stack([cost for _, _, cost in surfaces])


def plot_steps_per_episode(ax, lengths: np.ndarray, labels, figure: str) -> None:
    """The book's learning-curve panel (Figures 10.2, 10.3): steps per episode on a log
    scale, one band (mean, 95% bootstrap CI over runs) per configuration.

    Args:
      ax: a matplotlib axis.
      lengths: ``[config, run, episode]`` episode lengths.
      labels: one legend label per configuration.
      figure: the book's figure number, for the title.
    """
    from rlfa import report

    episodes = np.arange(1, lengths.shape[-1] + 1)
    for g, label in enumerate(labels):
        report.plot_band(ax, episodes, lengths[g], label)
    ax.set(yscale="log", xlabel="episode", ylabel="steps per episode (log scale)",
           title=f"Figure {figure} ({lengths.shape[1]} runs, 95% bootstrap CI)")
    ax.legend(fontsize=8)

