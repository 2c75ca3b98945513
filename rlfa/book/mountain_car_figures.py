"""Sutton & Barto's Figures 10.1-10.4: semi-gradient SARSA with tile coding on Mountain Car.

Figures 10.1 (the cost-to-go ``-max_a q`` after chosen episodes) and 10.2 (steps per
episode for three step sizes) are one-step semi-gradient SARSA (§10.1, Example 10.1);
Figures 10.3 (n = 1 against n = 8) and 10.4 (early performance against alpha and n) are
n-step semi-gradient SARSA (§10.2).

:func:`tile_features` builds the book's tile coding over (position, velocity),
:func:`book_workload` gives Figures 10.1 and 10.2 their runs and episodes,
:func:`sarsa_program` one run of (n-step) semi-gradient SARSA as a runner Program (one
environment step per loop step, :func:`~rlfa.control.episodes.episodic_control`),
:func:`flagged` stops Figure 10.4's runs that blow up, :func:`log_schedule`
says how long to run so every episode could hit the time limit, :func:`flagged_runs`
which runs Figure 10.4 leaves out, :func:`cost_to_go_surfaces` Figure 10.1's surfaces;
the ``plot_*`` functions draw the book's panels from a run's arrays.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from rlfa import files, report, stats
from rlfa.control.episodes import episodic_control
from rlfa.control.linear_values import cost_to_go, linear_q, precomputed
from rlfa.control.n_step_sarsa import n_step_semi_gradient_sarsa, owes_updates
from rlfa.control.sarsa import sarsa_actions, semi_gradient_sarsa
from rlfa.envs.mountain_car import MountainCar
from rlfa.features import FeatureMap, tile_coding
from rlfa.types import Program

NUM_ACTIONS = 3
# The one-step figures, whose runs and episodes book_workload gives, and the n-step ones.
SARSA_FIGURES, N_STEP_FIGURES = ("10.1", "10.2"), ("10.3", "10.4")
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
    """``(num_seeds, num_episodes, snapshot episodes)`` of ``figure`` (one of
    :data:`SARSA_FIGURES`).

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
    raise ValueError(f"figure={figure!r} is unknown: must be one of {list(SARSA_FIGURES)}.")


def sarsa_program(features: FeatureMap, num_episodes: int, *, max_episode_steps: int,
                  next_action: str = "reuse", snapshot_episodes: tuple[int, ...] = (),
                  block_steps: int = 64, max_n: int | None = None,
                  max_run_steps: int | None = None) -> Program:
    """One run of semi-gradient SARSA on Mountain Car as a runner Program.

    Args:
      features: the state features (:func:`tile_features`).
      num_episodes: episodes per run.
      max_episode_steps: the time limit, which truncates (and still bootstraps).
      next_action: SARSA's action at S' (:func:`~rlfa.control.sarsa.sarsa_actions`).
      snapshot_episodes: episode counts after which to keep the weights.
      block_steps: environment steps per program step.
      max_n: None for one-step SARSA (hyperparameters
        :class:`~rlfa.control.linear_values.ControlHParams`); else n-step SARSA
        (:func:`~rlfa.control.n_step_sarsa.n_step_semi_gradient_sarsa`), whose traced
        ``n`` may go up to ``max_n`` (:func:`max_n`).
      max_run_steps: None, or Figure 10.4's flagged runs stop (:func:`flagged`): an
        episode hit the time limit, a weight is non-finite or the run has taken this many
        environment steps. Runs advance in lock step: one blown-up run would otherwise
        keep them all going for up to ``num_episodes`` times the time limit.
    """
    env = MountainCar()
    params = env.default_params.replace(max_steps_in_episode=max_episode_steps)
    # The tile coding runs once per observation; the agent reads the cached tiles.
    tiles = precomputed(features)
    agent = semi_gradient_sarsa(tiles, NUM_ACTIONS) if max_n is None else \
        n_step_semi_gradient_sarsa(tiles, NUM_ACTIONS, max_n)
    return episodic_control(
        env, params, agent, linear_q(tiles, NUM_ACTIONS), NUM_ACTIONS,
        num_episodes=num_episodes, actions=sarsa_actions(next_action),
        snapshot_episodes=snapshot_episodes, block_steps=block_steps, observe=features,
        stop=None if max_run_steps is None else functools.partial(
            flagged, max_run_steps=max_run_steps),
        owes=None if max_n in (None, 1) else owes_updates)  # n = 1 never owes


def max_n(points) -> int:
    """The n-step ring buffer's length: the largest n of some
    :class:`~rlfa.control.n_step_sarsa.NStepSarsaHParams` points (at least 1)."""
    return max(1, *(round(float(p.n)) for p in points))


def flagged(carry, max_run_steps: int) -> jax.Array:
    """Whether a run of :func:`sarsa_program` blew up, bool ``[]``: an episode hit the time
    limit, a weight is non-finite, or it has taken ``max_run_steps`` environment steps."""
    return (jnp.any(carry.truncated) | ~jnp.all(jnp.isfinite(carry.agent.w))
            | (carry.steps >= max_run_steps))


def log_schedule(num_episodes: int, max_episode_steps: int, block_steps: int,
                 logs_per_chunk: int, steps_per_log: int = 16,
                 max_n: int | None = None) -> tuple[int, int, np.ndarray]:
    """``(num_logs, steps_per_log, log_x)`` for :func:`rlfa.runner.run`: enough program steps
    for every episode to hit the cap (the runner stops once every run is done), and for
    n-step SARSA's ``max_n - 1`` owed updates after each, in whole chunks of
    ``logs_per_chunk``; ``log_x``: loop steps per run at each logged point (environment
    steps, and owed updates)."""
    budget = num_episodes * (max_episode_steps + (max_n or 1) - 1)
    num_logs = -(-budget // (block_steps * steps_per_log * logs_per_chunk)) * logs_per_chunk
    return num_logs, steps_per_log, block_steps * steps_per_log * np.arange(1, num_logs + 1)


class FlaggedRuns(NamedTuple):
    """Why Figure 10.4 leaves runs out, each bool ``[point, seed]``; :attr:`flagged`: a run
    diverged, capped or incomplete (over budget is a kind of incomplete).

    Attributes:
      diverged: a weight non-finite, or past the runner's divergence bound.
      capped: an episode hit the time limit.
      incomplete: the run did not finish its episodes.
      over_budget: incomplete because it spent its step budget.
    """

    diverged: np.ndarray
    capped: np.ndarray
    incomplete: np.ndarray
    over_budget: np.ndarray

    @property
    def flagged(self) -> np.ndarray:
        """bool ``[point, seed]``: the runs left out."""
        return self.diverged | self.capped | self.incomplete

    def counts(self, g: int) -> dict:
        """Grid point ``g``'s counts of each, its flagged seeds, and whether it is valid
        (no run flagged: a point with a flagged run has no number, as it blew up)."""
        flagged = self.flagged[g]
        return {"diverged_runs": int(self.diverged[g].sum()),
                "capped_runs": int(self.capped[g].sum()),
                "over_budget_runs": int(self.over_budget[g].sum()),
                "incomplete_runs": int(self.incomplete[g].sum()),
                "flagged_seeds": np.flatnonzero(flagged).tolist(), "valid": not flagged.any()}


def flagged_runs(final, diverged_at: np.ndarray, num_episodes: int,
                 max_run_steps: int) -> FlaggedRuns:
    """The :class:`FlaggedRuns` of a flagged runs' :func:`sarsa_program` final carry
    ``final`` (``[point, seed, ...]`` leaves) and the runner's ``diverged_at``
    ``[point, seed]`` (-1: never)."""
    diverged = (diverged_at >= 0) | ~np.isfinite(np.asarray(final.agent.w)).all(-1)
    incomplete = np.asarray(final.episodes) < num_episodes
    return FlaggedRuns(diverged, np.asarray(final.truncated).any(-1), incomplete,
                       incomplete & (np.asarray(final.steps) >= max_run_steps))


def steps_headline(lengths: np.ndarray, first: bool = False) -> dict:
    """A point's headline (:func:`rlfa.stats.headline`) over its runs' mean steps per
    episode, from ``lengths`` ``[run, episode]``; ``first``: the episodes are the first of
    longer runs (Figure 10.4's)."""
    over = f"{'the first ' if first else ''}{lengths.shape[-1]} episodes"
    return stats.headline(f"mean steps per episode over {over}", lengths.mean(-1),
                          higher_is_better=False, task="MountainCar")


def steps_rows(lengths: np.ndarray, figure: str, labels: list[dict]) -> list[dict]:
    """``metrics.csv``'s rows of ``lengths`` ``[point, run, episode]``: the figure, the
    point's ``labels`` and the episode number beside each run's steps."""
    return files.metric_rows({"steps": lengths}, [{"figure": figure, **lab} for lab in labels],
                             "episode", np.arange(1, lengths.shape[-1] + 1))


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
    episodes = np.arange(1, lengths.shape[-1] + 1)
    for g, label in enumerate(labels):
        report.plot_band(ax, episodes, lengths[g], label)
    ax.set(yscale="log", xlabel="episode", ylabel="steps per episode (log scale)",
           title=f"Figure {figure} ({lengths.shape[1]} runs, 95% bootstrap CI)")
    ax.legend(fontsize=8)



def plot_cost_to_go(ax, cost: np.ndarray, positions: np.ndarray, velocities: np.ndarray,
                    episode: int) -> None:
    """One panel of Figure 10.1: ``cost`` ``[position, velocity]`` (:func:`cost_to_go_surfaces`)
    as an image over the state space, with its colour bar, after ``episode`` episodes."""
    image = ax.imshow(cost.T, origin="lower", aspect="auto", cmap="viridis",
                      extent=(positions[0], positions[-1], velocities[0], velocities[-1]))
    ax.set(title=f"Episode {episode}", xlabel="position", ylabel="velocity")
    ax.figure.colorbar(image, ax=ax, label="-max_a q")


def plot_steps_against_alpha(ax, lengths: np.ndarray, flagged: np.ndarray, ns: np.ndarray,
                             alphas: np.ndarray) -> None:
    """Figure 10.4: mean steps per episode against alpha x tilings, one line per n through
    its valid points; points with a flagged run marked x along the top, one row per n.

    Args:
      ax: a matplotlib axis.
      lengths: ``[point, run, episode]`` episode lengths.
      flagged: bool ``[point, run]`` (:attr:`FlaggedRuns.flagged`).
      ns, alphas: ``[point]``, each point's n and alpha x number of tilings.
    """
    per_seed = lengths.mean(-1)
    top = max([per_seed[g].mean() for g in range(len(ns)) if not flagged[g].any()] + [300])
    for i, n in enumerate(dict.fromkeys(ns.tolist())):
        rows = np.flatnonzero(ns == n)
        ok = [g for g in rows if not flagged[g].any()]
        if ok:
            report.plot_band(ax, alphas[ok], per_seed[ok].T, f"n={n}", marker="o", ms=3)
        color = ax.lines[-1].get_color() if ok else None
        bad = [g for g in rows if flagged[g].any()]
        ax.plot(alphas[bad], np.full(len(bad), top * (1.03 + 0.03 * i)), "x", color=color,
                label=None if ok else f"n={n}")
    ax.set(xlabel="alpha x number of tilings", ylabel=(
        f"mean steps per episode, first {lengths.shape[-1]} episodes"),
        title=f"Figure 10.4 ({lengths.shape[1]} runs; x: a run blew up)")
    ax.legend(fontsize=8)
