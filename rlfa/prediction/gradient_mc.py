"""Gradient Monte Carlo prediction, first or every visit (Sutton & Barto §9.3)."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from rlfa.features import FeatureMap, add_scaled, linear_value
from rlfa.prediction.base import LinearState, PredictionHParams, evaluate_only, zero_weights
from rlfa.types import Agent


class Episode(NamedTuple):
    """One finished episode, padded to a fixed length ``T``.

    Attributes:
      obs: observations S_0..S_{T-1}, ``[T, *obs_shape]`` (entries >= length unused).
      r: rewards R_1..R_T, float ``[T]``; ``r[t]`` follows ``obs[t]``.
      length: number of valid steps, int ``[]``.
    """

    obs: jax.Array
    r: jax.Array
    length: jax.Array


def gradient_monte_carlo(feature_map: FeatureMap, num_states: int, state_index,
                         first_visit: bool = True) -> Agent:
    """Gradient Monte Carlo (S&B §9.3): ``w += alpha * (G_t - v(S_t)) * phi(S_t)``.

    ``update`` takes a whole :class:`Episode`: returns are computed backwards,
    then the updates are applied in time order, each seeing the weights left by
    the one before (as in the book's algorithm box). With ``first_visit`` only
    the first visit of each state in the episode updates (the course notes'
    variant); the book's box is every-visit.

    Args:
      feature_map: phi.
      num_states: number of discrete states (for the first-visit bookkeeping).
      state_index: ``obs -> int32 []`` in ``[0, num_states)``.
      first_visit: first-visit (True) or every-visit (False) updates.
    """

    def update(state: LinearState, hparams: PredictionHParams, episode: Episode):
        horizon = episode.r.shape[0]

        def backward(i, returns_and_g):
            returns, g = returns_and_g
            t = episode.length - 1 - i
            g = episode.r[t] + hparams.gamma * g
            return returns.at[t].set(g), g

        returns, _ = jax.lax.fori_loop(0, episode.length, backward,
                                       (jnp.zeros((horizon,), jnp.float32), jnp.float32(0)))

        # Each state's first visit time, by scatter-min: a loop that both reads and
        # writes one array makes XLA copy the whole array every iteration.
        first_time = jnp.full((num_states,), horizon, jnp.int32)
        if first_visit:
            first_time = jax.lax.fori_loop(
                0, episode.length,
                lambda t, ft: ft.at[state_index(episode.obs[t])].min(t), first_time)

        def forward(t, w):
            obs = episode.obs[t]
            phi = feature_map(obs)
            scale = hparams.step_size * (returns[t] - linear_value(w, phi))
            if first_visit:
                scale = jnp.where(first_time[state_index(obs)] == t, scale, 0.0)
            return add_scaled(w, phi, scale)

        w = jax.lax.fori_loop(0, episode.length, forward, state.w)
        return LinearState(w), {"return": returns[0]}

    return Agent(init=zero_weights(feature_map), act=evaluate_only, update=update)
