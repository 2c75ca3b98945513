"""The 1000-state random walk (Sutton & Barto, Example 9.1), as a gymnax Environment.

States 1..1000, every episode starts in state 500. Each step jumps to one of the
100 states on the left or the 100 on the right, side and distance uniform; a
jump past an end terminates, with reward -1 on the left and +1 on the right, 0
otherwise; undiscounted. Near an end the missing neighbours' probability goes
to terminating on that side, which is exactly "jump past the end".

Besides gymnax's ``step``, the walk is written as ``transition(position, jump)``
driven by exogenous noise ``sample_jumps(key, n)``, so a study can draw an
episode's randomness in bulk outside its loop (much faster on CPU); ``step_env``
is the same two functions, so both paths follow one dynamics.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from gymnax.environments import environment, spaces

from rlfa.envs.noise import NoiseDynamics
from rlfa.envs.registry import register


@struct.dataclass
class EnvState(environment.EnvState):
    position: jax.Array  # int32, the state number 1..num_states
    time: int


@struct.dataclass
class EnvParams(environment.EnvParams):
    num_states: int = 1000
    start_state: int = 500
    max_jump: int = 100
    # Effectively no time limit: P(an episode lasts 100k steps) is negligible.
    max_steps_in_episode: int = 100_000


def sample_jumps(key: jax.Array, shape: tuple[int, ...], max_jump: int = 100) -> jax.Array:
    """Jumps uniform on {-max_jump..-1, 1..max_jump}, int32 ``shape``."""
    u = jax.random.randint(key, shape, 0, 2 * max_jump, dtype=jnp.int32)
    return jnp.where(u < max_jump, u - max_jump, u - max_jump + 1)


def transition(position: jax.Array, jump: jax.Array, num_states: int = 1000):
    """One step from ``position`` by ``jump``.

    Returns:
      (next_position clipped to [1, num_states], reward float32, terminated bool).
    """
    nxt = position + jump
    left, right = nxt < 1, nxt > num_states
    reward = jnp.where(right, 1.0, jnp.where(left, -1.0, 0.0)).astype(jnp.float32)
    return jnp.clip(nxt, 1, num_states), reward, left | right


def observe(position: jax.Array) -> jax.Array:
    """The observation: the state number as float32 ``[1]``."""
    return jnp.asarray(position, jnp.float32)[None]


class RandomWalk(environment.Environment[EnvState, EnvParams]):
    """Sutton & Barto's 1000-state random walk; the action is ignored."""

    @property
    def default_params(self) -> EnvParams:
        return EnvParams()

    def step_env(self, key, state, action, params):
        jump = sample_jumps(key, (), params.max_jump)
        position, reward, terminated = transition(state.position, jump, params.num_states)
        state = EnvState(position=position, time=state.time + 1)
        info = {"discount": 1.0 - terminated.astype(jnp.float32)}
        return observe(position), state, reward, terminated, info

    def reset_env(self, key, params):
        state = EnvState(position=jnp.int32(params.start_state), time=0)
        return observe(state.position), state

    def get_obs(self, state, params=None, key=None):
        return observe(state.position)

    def is_terminated(self, state, params):
        return jnp.bool_(False)  # termination is decided by the jump in step_env

    @property
    def name(self) -> str:
        return "RandomWalk1000"

    @property
    def num_actions(self) -> int:
        return 1

    def action_space(self, params=None):
        return spaces.Discrete(1)

    def observation_space(self, params: EnvParams):
        return spaces.Box(1, params.num_states, (1,), jnp.float32)


def transition_matrix(params: EnvParams = EnvParams()) -> tuple[np.ndarray, np.ndarray]:
    """The walk's transition matrix among non-terminal states and expected rewards.

    Returns:
      ``P`` float64 ``[n, n]`` (``P[i, j]`` = probability of moving from state i+1
      to state j+1) and ``r`` float64 ``[n]`` (expected reward of a step from i+1).
    """
    n, m = params.num_states, params.max_jump
    p = 1.0 / (2 * m)
    P, r = np.zeros((n, n)), np.zeros(n)
    for i in range(1, n + 1):
        for jump in (*range(-m, 0), *range(1, m + 1)):
            j = i + jump
            if j < 1:
                r[i - 1] -= p
            elif j > n:
                r[i - 1] += p
            else:
                P[i - 1, j - 1] += p
    return P, r


def true_values(params: EnvParams = EnvParams()) -> np.ndarray:
    """Exact state values v_pi (undiscounted), float64 ``[num_states]``: solve (I - P) v = r."""
    P, r = transition_matrix(params)
    return np.linalg.solve(np.eye(len(r)) - P, r)


def expected_visits(params: EnvParams | None = None) -> np.ndarray:
    """Expected visits to each state per episode, float64 ``[num_states]``: eta solves
    ``eta = h + P^T eta`` with h the start distribution (S&B eq. 9.2); by default the
    book's walk."""
    params = params or EnvParams()
    P, _ = transition_matrix(params)
    h = np.zeros(params.num_states)
    h[params.start_state - 1] = 1.0
    return np.linalg.solve(np.eye(len(h)) - P.T, h)


def on_policy_distribution(params: EnvParams = EnvParams()) -> np.ndarray:
    """The on-policy distribution mu (S&B eq. 9.3), float64 ``[num_states]``: the
    :func:`expected_visits` normalised."""
    eta = expected_visits(params)
    return eta / eta.sum()


@functools.lru_cache
def mean_episode_steps(params: EnvParams | None = None) -> float:
    """The walk's expected episode length in steps (83.2 for the book's walk, the default):
    the :func:`expected_visits` summed."""
    return float(expected_visits(params).sum())


def _make() -> Any:
    return RandomWalk()


register("RandomWalk1000", _make)


def dynamics(params: EnvParams = EnvParams()) -> NoiseDynamics:
    """The walk as :class:`~rlfa.envs.noise.NoiseDynamics` (noise = the jumps)."""

    def step(position, jump):
        nxt, reward, terminated = transition(position, jump, params.num_states)
        return nxt, observe(nxt), reward, terminated

    return NoiseDynamics(
        reset=lambda key: jnp.int32(params.start_state),
        observe=observe,
        sample_noise=lambda key, n: sample_jumps(key, (n,), params.max_jump),
        transition=step,
        state_index=lambda obs: obs[0].astype(jnp.int32) - 1,
        num_states=params.num_states,
    )


def all_observations(params: EnvParams = EnvParams()) -> jax.Array:
    """Every non-terminal state's observation, ``[num_states, 1]``, in state order."""
    return jnp.arange(1, params.num_states + 1, dtype=jnp.float32)[:, None]
