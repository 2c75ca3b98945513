"""Gradient Monte Carlo prediction, first or every visit (Sutton & Barto §9.3)."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from rlfa.features import FeatureMap, add_scaled, linear_value
from rlfa.prediction.base import LinearState, PredictionHParams, evaluate_only, zero_weights
from rlfa.types import Agent, Transition


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


class OnlineMCState(NamedTuple):
    """The state of :func:`online_gradient_monte_carlo`.

    Attributes:
      w: float32 ``[d]``; at an episode boundary, exactly the weights the episode's
        Monte Carlo updates leave; inside an episode, the running ``u_t`` below.
      trace: float32 ``[d]``, the episode's trace ``e_t`` (zero at its start).
      visited: uint32 ``[ceil(num_states / 32)]``, the states seen so far this
        episode, one bit each (first-visit updates; ``[0]`` for every-visit): a
        bitset, because an int per state is copied whole at every step of a loop
        that both reads and writes it (XLA's copies, 1000 states: most of a step).
    """

    w: jax.Array
    trace: jax.Array
    visited: jax.Array


def online_gradient_monte_carlo(feature_map: FeatureMap, num_states: int, state_index,
                                first_visit: bool = True) -> Agent:
    """Gradient Monte Carlo driven one :class:`~rlfa.types.Transition` at a time.

    At each episode's end ``w`` equals what :func:`gradient_monte_carlo`'s
    ``update`` makes of the whole episode (the book's sequential updates
    ``w <- A_t w + alpha_t G_t x_t``, ``A_t = I - alpha_t x_t x_t^T``), up to
    float rounding, yet no episode is stored and no return is computed backwards.
    Expanding ``G_t = sum_{j>=t} gamma^{j-t} R_{j+1}`` in the final weights groups
    them by reward: with the trace ``e_j = gamma A_j e_{j-1} + alpha_j x_j``
    (van Seijen & Sutton's dutch trace, here with lambda = 1),

        u_j = A_j u_{j-1} + R_{j+1} e_j,     u_{-1} = w at the episode's start,

    and ``u_{T-1}`` is the episode's final ``w``. Each step costs O(k) gathers and
    scatters plus two O(d) vector operations, so a loop in which every run keeps
    its own clock (:func:`rlfa.prediction.episodes.episodic_prediction`) can run
    Monte Carlo like TD(0). ``alpha_t`` is ``alpha`` at a first visit (or every
    visit) and 0 otherwise. Between episodes the trace is cleared; the weights
    mid-episode are not the book's (which change only at the end) and are never logged.

    ``update(state, hparams, transition, active=True)``: with ``active`` False the
    state is left unchanged (a run paused by the loop).

    Args:
      feature_map: phi.
      num_states: number of discrete states (for the first-visit bookkeeping).
      state_index: ``obs -> int32 []`` in ``[0, num_states)``.
      first_visit: first-visit (True) or every-visit (False) updates.
    """
    words = -(-num_states // 32) if first_visit else 0

    def init(key, obs_example) -> OnlineMCState:
        w = zero_weights(feature_map)(key, obs_example).w
        return OnlineMCState(w, jnp.zeros_like(w), jnp.zeros((words,), jnp.uint32))

    def update(state: OnlineMCState, hparams: PredictionHParams, tr: Transition, active=True):
        phi = feature_map(tr.obs_tm1)
        alpha = jnp.where(active, hparams.step_size, 0.0)
        visited = state.visited
        if first_visit:
            s = state_index(tr.obs_tm1)
            word, bit = s // 32, jnp.uint32(1) << (s % 32).astype(jnp.uint32)
            alpha = jnp.where(visited[word] & bit, 0.0, alpha)
            visited = visited.at[word].set(jnp.where(active, visited[word] | bit, visited[word]))
        # Inactive: gamma 1, alpha 0 and reward 0 make every line below the identity.
        gamma = jnp.where(active, hparams.gamma, 1.0)
        reward = jnp.where(active, tr.r_t, 0.0)
        # e_j = gamma (e - alpha x (x.e)) + alpha x;  u_j = u - alpha x (x.u) + R e_j.
        trace = add_scaled(gamma * state.trace, phi,
                           alpha * (1.0 - gamma * linear_value(state.trace, phi)))
        w = add_scaled(state.w, phi, -alpha * linear_value(state.w, phi)) + reward * trace
        done = (tr.terminated_t | tr.truncated_t) & active
        return OnlineMCState(w, jnp.where(done, 0.0, trace),
                             jnp.where(done, jnp.uint32(0), visited)), {}

    return Agent(init=init, act=evaluate_only, update=update)
