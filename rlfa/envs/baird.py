"""Baird's counterexample (Sutton & Barto Example 11.1, Figure 11.1), as a gymnax Environment.

Seven states, two actions. ``DASHED`` (0) moves to one of the six upper states
uniformly, ``SOLID`` (1) to the seventh (lower) state; every reward is 0, so
the true values are all zero, and the task is continuing (no termination). The
behaviour policy takes dashed with probability 6/7 and solid 1/7; the target
policy always takes solid, so the importance-sampling ratio is 7 after solid and
0 after dashed. With the book's features (:func:`features`) and initial weights
(:data:`INITIAL_WEIGHTS`), semi-gradient off-policy TD diverges for any positive
step size (Figure 11.2).

Observations are the state number 0..6 as float32 ``[1]`` (the book's states
1..7). Noise-driven (:mod:`rlfa.envs.noise`): one uniform per step picks the
upper state a dashed action lands in (and the start state on reset).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from gymnax.environments import environment, spaces

from rlfa.envs.noise import TwoActionStateEnvironment
from rlfa.envs.registry import register
from rlfa.features import FeatureMap, Features

NUM_STATES = 7
NUM_FEATURES = 8
DASHED, SOLID = 0, 1
SOLID_PROB = 1.0 / 7.0
"""Behaviour policy's probability of the solid action."""
INITIAL_WEIGHTS = np.array([1, 1, 1, 1, 1, 1, 10, 1], np.float32)
"""Figure 11.2's initial weights: w_7 = 10, every other weight 1."""
GAMMA = 0.99


@struct.dataclass
class EnvState(environment.EnvState):
    position: jax.Array  # int32 in [0, 7): 0..5 upper, 6 lower
    time: int


@struct.dataclass
class EnvParams(environment.EnvParams):
    # Continuing task: no time limit in practice.
    max_steps_in_episode: int = 2**31 - 1


def next_state(action: jax.Array, noise: jax.Array) -> jax.Array:
    """Where ``action`` leads, with ``noise`` uniform on [0, 1): int32 ``[]``."""
    upper = jnp.minimum(jnp.floor(noise * 6), 5).astype(jnp.int32)
    return jnp.where(action == SOLID, jnp.int32(NUM_STATES - 1), upper)


def behaviour_action(noise: jax.Array) -> jax.Array:
    """The behaviour policy's action from a uniform: solid w.p. 1/7, int32 ``[]``."""
    return jnp.where(noise < SOLID_PROB, SOLID, DASHED).astype(jnp.int32)


def importance_ratio(action: jax.Array) -> jax.Array:
    """rho = pi(a|s) / b(a|s): 7 for solid, 0 for dashed (S&B eq. 11.1)."""
    return jnp.where(action == SOLID, 1.0 / SOLID_PROB, 0.0).astype(jnp.float32)


def features() -> FeatureMap:
    """The book's features: upper state i has 2 at feature i and 1 at feature 8; the lower
    state has 1 at feature 7 and 2 at feature 8 (0-based: 6 and 7)."""

    def fn(obs: jax.Array) -> Features:
        s = jnp.asarray(obs).reshape(()).astype(jnp.int32)
        lower = s == NUM_STATES - 1
        indices = jnp.stack([s, jnp.int32(NUM_FEATURES - 1)])
        values = jnp.where(lower, jnp.array([1.0, 2.0]), jnp.array([2.0, 1.0]))
        return Features(indices, values)

    return FeatureMap(NUM_FEATURES, 2, fn, "baird")


def feature_matrix() -> np.ndarray:
    """X ``[7, 8]`` float64: row s is phi(s) (Figure 11.1)."""
    x = np.zeros((NUM_STATES, NUM_FEATURES))
    for s in range(NUM_STATES - 1):
        x[s, s], x[s, -1] = 2, 1
    x[-1, -2], x[-1, -1] = 1, 2
    return x


class Baird(TwoActionStateEnvironment):
    """Baird's counterexample; the action is DASHED (0) or SOLID (1)."""

    noise_size = 1

    @property
    def default_params(self) -> EnvParams:
        return EnvParams()

    def step_from_noise(self, state: EnvState, action, noise, params: EnvParams):
        state = EnvState(position=next_state(jnp.asarray(action), noise[0]), time=state.time + 1)
        return self.get_obs(state), state, jnp.float32(0.0), jnp.bool_(False), {}

    def reset_from_noise(self, noise, params: EnvParams):
        position = jnp.minimum(jnp.floor(noise[0] * NUM_STATES), NUM_STATES - 1)
        state = EnvState(position=position.astype(jnp.int32), time=0)
        return self.get_obs(state), state

    def observation_space(self, params: EnvParams):
        return spaces.Box(0, NUM_STATES - 1, (1,), jnp.float32)


def _make() -> Baird:
    return Baird()


register("Baird", _make)
