"""A short deterministic chain with exactly known action values: a probe for control agents.

States ``0 .. n-1``; action 0 moves left (staying at 0), action 1 right; every
step pays ``step_reward`` (-1: hurry right), and moving right from the last state
terminates the episode. By default the time limit (3 steps) is shorter than the
way out from state 0 (4 steps). Episodes start in a uniformly random state and are cut (truncated,
not terminated) after ``max_steps_in_episode`` steps, so the time limit only
hides the future: an agent that bootstraps through truncation learns the
infinite-horizon values of :func:`optimal_q` / :func:`policy_q`, one that
treats truncation as termination learns smaller ones (the termination-vs-truncation
mix-up reported against several RL libraries: gymnax#109, cleanrl#198, purejaxrl#20).
Noise-driven (:mod:`rlfa.envs.noise`): one uniform per step picks the start state.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from gymnax.environments import environment, spaces

from rlfa.envs.noise import TwoActionStateEnvironment
from rlfa.envs.registry import register


@struct.dataclass
class EnvState(environment.EnvState):
    position: jax.Array  # int32 in [0, num_states)
    time: int


@struct.dataclass
class EnvParams(environment.EnvParams):
    num_states: int = 4
    step_reward: float = -1.0
    max_steps_in_episode: int = 3


class Chain(TwoActionStateEnvironment):
    """The chain; observations are the state number as float32 ``[1]``."""

    noise_size = 1

    @property
    def default_params(self) -> EnvParams:
        return EnvParams()

    def step_from_noise(self, state: EnvState, action, noise, params: EnvParams):
        del noise
        right = jnp.asarray(action) == 1
        terminated = right & (state.position == params.num_states - 1)
        position = jnp.clip(state.position + jnp.where(right, 1, -1), 0, params.num_states - 1)
        state = EnvState(position=position.astype(jnp.int32), time=state.time + 1)
        reward = jnp.float32(params.step_reward)
        return self.get_obs(state), state, reward, terminated, {}

    def reset_from_noise(self, noise, params: EnvParams):
        position = jnp.minimum(jnp.floor(noise[0] * params.num_states), params.num_states - 1)
        state = EnvState(position=position.astype(jnp.int32), time=0)
        return self.get_obs(state), state

    def observation_space(self, params: EnvParams):
        return spaces.Box(0, params.num_states - 1, (1,), jnp.float32)


def _model(params: EnvParams) -> tuple[np.ndarray, np.ndarray]:
    """Next state ``[n, 2]`` (-1 for termination) and reward ``[n, 2]``."""
    n = params.num_states
    nxt = np.array([[max(s - 1, 0), s + 1 if s + 1 < n else -1] for s in range(n)])
    return nxt, np.full((n, 2), params.step_reward)


def optimal_q(params: EnvParams | None = None, gamma: float = 0.9) -> np.ndarray:
    """q* ``[n, 2]`` float64 without time limit, by value iteration to convergence."""
    nxt, r = _model(params or EnvParams())
    q = np.zeros_like(r)
    for _ in range(10_000):
        v = np.append(q.max(1), 0.0)  # index -1: the terminal state, value 0
        q = r + gamma * v[nxt]
    return q


def policy_q(params: EnvParams | None = None, gamma: float = 0.9,
             right_prob: float = 0.5) -> np.ndarray:
    """q_pi ``[n, 2]`` float64 without time limit for the policy going right w.p. ``right_prob``."""
    params = params or EnvParams()
    nxt, r = _model(params)
    n = params.num_states
    pi = np.array([1 - right_prob, right_prob])
    # q(s, a) = r + gamma * sum_b pi(b) q(s', b): a linear system in the 2n unknowns.
    a_matrix = np.eye(2 * n)
    for s in range(n):
        for a in range(2):
            if nxt[s, a] >= 0:
                for b in range(2):
                    a_matrix[2 * s + a, 2 * nxt[s, a] + b] -= gamma * pi[b]
    return np.linalg.solve(a_matrix, r.ravel()).reshape(n, 2)


def _make() -> Chain:
    return Chain()


register("Chain", _make)
