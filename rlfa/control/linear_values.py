"""Linear action values, and what the linear control agents share.

``q(s, a) = w . phi(s, a)`` with the state-action features of
:func:`rlfa.features.state_action` (Sutton & Barto §10.1): weights ``[d * A]``,
action a's block holding ``phi(s)``'s weights. Only the ``A * k`` weights of
the ``k`` active features are read and only ``k`` are written per step, so a
tile-coded agent costs O(k * A) per step, not O(d * A).

Semi-gradient SARSA (:mod:`rlfa.control.sarsa`), linear Q-learning
(:mod:`rlfa.control.q_learning`) and tabular Q-learning
(:mod:`rlfa.control.tabular_q`) share from here their hyperparameters
(:class:`ControlHParams`, swept from the command line by ``Sweep[ControlHParams]``),
their weights and initial values, their epsilon-greedy policy, the action values
the episode loop acts on (:func:`linear_q`, :func:`precomputed`) and the
cost-to-go surface of a 2-D state (:func:`cost_to_go`).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from rlfa.control.policies import epsilon_greedy
from rlfa.features import FeatureMap, Features, q_values, state_action
from rlfa.hparams import Positive, ZeroToOne

Array = jax.Array


class ControlHParams(NamedTuple):
    """The linear control agents' traced hyperparameters (S&B §10.1, §6.5)."""

    step_size: Positive
    """Step size alpha > 0 per weight (the book's "alpha = 0.5/8" with 8 tilings is 0.0625)."""
    epsilon: ZeroToOne
    """Exploration probability in [0, 1]."""
    gamma: ZeroToOne = 1.0
    """Discount factor in [0, 1]."""


class LinearQState(NamedTuple):
    """Weights ``w`` float32 ``[d * A]`` of ``q(s, a) = w . phi(s, a)``."""

    w: Array


def check_num_actions(feature_map: FeatureMap, num_actions: int) -> int:
    """Validate ``num_actions`` (and the map) and return d * A, the weight count."""
    return state_action(feature_map, num_actions).num_features


def linear_init(feature_map: FeatureMap, num_actions: int, initial_value: float = 0.0):
    """``init(key, obs_example) -> LinearQState`` with every weight ``initial_value``.

    Zero weights with reward -1 per step (Mountain Car) are optimistic, which is
    why the book's greedy agent explores (S&B §10.1).
    """
    size = check_num_actions(feature_map, num_actions)

    def init(key: Array, obs_example: Array) -> LinearQState:
        del key, obs_example
        return LinearQState(jnp.full((size,), initial_value, jnp.float32))

    return init


def linear_act(feature_map: FeatureMap, num_actions: int):
    """``act(state, hparams, obs, key) -> action``: epsilon-greedy w.r.t. q_w."""

    def act(state, hparams: ControlHParams, obs: Array, key: Array) -> Array:
        return epsilon_greedy(q_values(state.w, feature_map, num_actions, obs), hparams.epsilon,
                              key)

    return act


def linear_q(feature_map: FeatureMap, num_actions: int):
    """``(state, obs) -> [A]`` action values of a linear agent (for the episode loop)."""

    def q(state, obs: Array) -> Array:
        return q_values(state.w, feature_map, num_actions, obs)

    return q


def precomputed(feature_map: FeatureMap) -> FeatureMap:
    """``feature_map``'s features taken as the observation: ``fn`` is the identity on Features.

    An agent built on it sees ``feature_map(obs)`` computed once by its caller
    (:func:`rlfa.control.episodes.episodic_control`'s ``observe``) instead of
    evaluating ``feature_map`` at every use of an observation.
    """

    def fn(phi: Features) -> Features:
        return phi

    return FeatureMap(feature_map.num_features, feature_map.num_active, fn,
                      f"precomputed {feature_map.name}")


def cost_to_go(w: np.ndarray, feature_map: FeatureMap, num_actions: int,
               lows: tuple[float, float], highs: tuple[float, float], size: int = 60):
    """``-max_a q(s, a)`` over a ``size x size`` grid of a 2-D state (S&B Figure 10.1).

    Args:
      w: weights ``[d * A]`` of ``state_action(feature_map, num_actions)``.
      feature_map: the state features of a 2-D observation (e.g. position, velocity).
      num_actions: A.
      lows, highs: the grid's corners, per state dimension.
      size: grid points per dimension.

    Returns:
      ``(xs [size], ys [size], cost [size, size])``, ``cost[i, j]`` at ``(xs[i], ys[j])``.
    """
    xs = np.linspace(lows[0], highs[0], size)
    ys = np.linspace(lows[1], highs[1], size)
    grid = jnp.stack(jnp.meshgrid(xs, ys, indexing="ij"), -1).reshape(-1, 2)
    q = jax.vmap(lambda s: q_values(jnp.asarray(w), feature_map, num_actions, s))(grid)
    return xs, ys, -np.asarray(q.max(-1)).reshape(size, size)
