"""Sutton & Barto's Figures 9.1, 9.2, 9.5 and 9.10: prediction on the 1000-state random walk.

Figure 9.1 is gradient Monte Carlo with state aggregation (§9.3, Example 9.1), 9.2 (left)
semi-gradient TD(0) with the same features (§9.4, Example 9.2; residual-gradient TD, §11.5,
is drawn beside it), 9.5 the Fourier and polynomial bases (§9.5.2) and 9.10 one tiling
against 50 (§9.5.4). Figure 9.2 (right) is :mod:`rlfa.book.n_step_td_figures`'.

:func:`book_curves` lists each figure's curves (agent, features, step size),
:func:`book_workload` its seeds and episodes, and :func:`random_walk_program`
turns a curve into a runner Program (one episode per step) that logs sqrt(VE)
(:func:`~rlfa.prediction.value_error.rms_value_error_fn`). The schedule follows the
figure's workload (:func:`~rlfa.prediction.episodes.episodic_prediction`): the book's
single long runs (Figures 9.1 and 9.2: one run of 100,000 episodes) play one whole
episode per program step, gradient Monte Carlo as the book's box updates after each
episode; the many runs of Figures 9.5 and 9.10 each keep their own clock, taking a
little more than the walk's mean episode length
(:func:`~rlfa.envs.random_walk.mean_episode_steps`) per program step, so no run waits
for a batch's longest episode. The schedule is the figure's, not the run count's, so a
seed's numbers do not depend on how many seeds run.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from rlfa.envs import random_walk as rw
from rlfa.features import FeatureMap
from rlfa.features.fourier import fourier_basis
from rlfa.features.polynomial import polynomial_basis
from rlfa.features.state_aggregation import state_aggregation
from rlfa.features.tile_coding import tile_coding_1d_widths
from rlfa.prediction.episodes import episodic_prediction
from rlfa.prediction.gradient_mc import gradient_monte_carlo, online_gradient_monte_carlo
from rlfa.prediction.td import residual_gradient_td, semi_gradient_td0
from rlfa.prediction.value_error import rms_value_error_fn
from rlfa.types import Program

FIGURES = ("9.1", "9.2", "9.5", "9.10")
# The figures of one long run: one episode per program step (lock step) is fastest there.
LOCK_STEP_FIGURES = ("9.1", "9.2")
# The figures whose programs run faster with jax.random's hash as JAX's CPU loop than
# unrolled (runner.run's threefry; the same numbers either way), by measurement:
# `python -m benchmarks.random_walk --figures 9.1 9.2 9.5 9.10` with a figure here and not.
ROLLED_THREEFRY_FIGURES = ("9.5",)
METHODS = ("gradient_mc", "semi_gradient_td0", "residual_gradient_td")


class Curve(NamedTuple):
    """One curve of one figure: an agent (one of :data:`METHODS`), its features, its alpha."""

    figure: str
    label: str
    method: str
    feature_map: FeatureMap
    step_size: float

    @property
    def lock_step(self) -> bool:
        """Whether the figure's workload runs one episode per program step."""
        return self.figure in LOCK_STEP_FIGURES

    @property
    def threefry(self) -> str:
        """How the figure's program computes ``jax.random``'s hash on CPU
        (:func:`rlfa.runner.run`'s ``threefry``): "rolled" for
        :data:`ROLLED_THREEFRY_FIGURES`, else "unrolled"."""
        return "rolled" if self.figure in ROLLED_THREEFRY_FIGURES else "unrolled"


def book_curves(figure: str) -> list[Curve]:
    """The book's curves of ``figure`` (one of :data:`FIGURES`)."""
    aggregation = state_aggregation(1000, 100)
    if figure == "9.1":
        return [Curve(figure, "gradient MC", "gradient_mc", aggregation, 2e-5)]
    if figure == "9.2":
        return [Curve(figure, "semi-gradient TD(0)", "semi_gradient_td0", aggregation, 2e-4),
                Curve(figure, "residual-gradient TD", "residual_gradient_td", aggregation, 2e-4)]
    if figure == "9.5":
        return [Curve(figure, f"{name} order {n}", "gradient_mc", basis(n, 1, 0.0, 1000.0), alpha)
                for name, basis, alpha in (("Fourier", fourier_basis, 5e-5),
                                           ("polynomial", polynomial_basis, 1e-4))
                for n in (5, 10, 20)]
    if figure == "9.10":
        return [Curve(figure, "1 tiling", "gradient_mc",
                      tile_coding_1d_widths(1.0, 1000.0, 200.0, 1, 0.0), 1e-4),
                Curve(figure, "50 tilings", "gradient_mc",
                      tile_coding_1d_widths(1.0, 1000.0, 200.0, 50, 4.0), 1e-4 / 50)]
    raise ValueError(f"figure={figure!r} is unknown: must be one of {list(FIGURES)}.")


def book_workload(figure: str, quick: bool = False, num_seeds: int | None = None,
                  num_episodes: int | None = None) -> tuple[int, int, int]:
    """``(num_seeds, num_episodes, episodes between logged points)`` of ``figure``: the
    book's (1 run of 100,000 episodes for 9.1/9.2, 30 of 5,000 for 9.5/9.10), a
    few seconds' worth with ``quick``, or the numbers given; 100 or 500 logged points."""
    long = figure in ("9.1", "9.2")
    seeds = num_seeds or (1 if long else (3 if quick else 30))
    episodes = num_episodes or ((2000 if long else 200) if quick else (100_000 if long else 5000))
    log_every = max(1, episodes // (100 if long else 500))
    while episodes % log_every:
        log_every -= 1
    return seeds, episodes, log_every


def random_walk_program(method: str, feature_map: FeatureMap, *, first_visit: bool = True,
                        max_episode_steps: int = 2000, lock_step: bool = False,
                        params: rw.EnvParams = rw.EnvParams()) -> Program:
    """``method`` (one of :data:`METHODS`) on ``feature_map``, one episode per program
    step, logging ``rms_error`` (sqrt(VE)); ``first_visit`` is gradient MC's. With
    ``lock_step`` every run plays a whole episode per program step (gradient MC updating
    from the whole episode, :func:`~rlfa.prediction.gradient_mc.gradient_monte_carlo`);
    else each run keeps its own clock (gradient MC one transition at a time,
    :func:`~rlfa.prediction.gradient_mc.online_gradient_monte_carlo`)."""
    dynamics = rw.dynamics(params)
    log, obs_example = rms_value_error_fn(feature_map, params), rw.all_observations(params)[0]
    if method == "gradient_mc" and lock_step:
        agent = gradient_monte_carlo(feature_map, params.num_states, dynamics.state_index,
                                     first_visit)
        return episodic_prediction(dynamics, agent, max_episode_steps=max_episode_steps,
                                   log=log, obs_example=obs_example, monte_carlo=True)
    if method == "gradient_mc":
        agent = online_gradient_monte_carlo(feature_map, params.num_states,
                                            dynamics.state_index, first_visit)
    elif method == "semi_gradient_td0":
        agent = semi_gradient_td0(feature_map)
    elif method == "residual_gradient_td":
        agent = residual_gradient_td(feature_map)
    else:
        raise ValueError(f"method={method!r} is unknown: must be one of {list(METHODS)}.")
    # 6% above the mean: runs seldom fall behind the program's count and seldom wait.
    budget = min(max_episode_steps, math.ceil(1.06 * rw.mean_episode_steps(params)))
    return episodic_prediction(dynamics, agent, max_episode_steps=max_episode_steps, log=log,
                               obs_example=obs_example, lock_step=lock_step,
                               steps_per_episode=budget)
