"""Greedy evaluation: episode returns with a validity mask, on their own key stream.

An episode that has not ended when the step budget runs out has no return yet,
so it is marked invalid rather than counted as whatever it had collected; an
episode that ends with a genuine return of zero is valid (gymnax#62, Stoix
PR#10 are what goes wrong otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp


def greedy_returns(env: Any, env_params: Any, policy: Callable[[jax.Array], jax.Array],
                   key: jax.Array, num_episodes: int, max_steps: int):
    """Run ``num_episodes`` episodes side by side, each for at most ``max_steps`` steps.

    Args:
      env, env_params: a gymnax environment.
      policy: ``obs [num_episodes, *obs_shape] -> actions [num_episodes]``
        (deterministic, e.g. argmax of a Q-network).
      key: the evaluation stream; all randomness (resets, stochastic dynamics)
        is drawn from it (step ``t`` from ``fold_in(step_key, t)``: a scan over
        split keys would trip ``jax.debug_key_reuse`` under ``vmap``).
      num_episodes: episodes, one per environment copy.
      max_steps: step budget (static).

    Returns:
      ``(returns float32 [num_episodes], valid bool [num_episodes])``: the
      undiscounted return of each environment's first episode, and whether that
      episode ended (terminated or truncated) within the budget.
    """
    reset_key, step_key = jax.random.split(key)
    obs, state = jax.vmap(env.reset, (0, None))(jax.random.split(reset_key, num_episodes),
                                                env_params)

    def one_step(carry, t):
        obs, state, returns, ended = carry
        keys = jax.random.split(jax.random.fold_in(step_key, t), num_episodes)
        obs, state, reward, terminated, truncated, _ = jax.vmap(
            env.step, (0, 0, 0, None))(keys, state, policy(obs), env_params)
        returns = returns + jnp.where(ended, 0.0, reward)
        return (obs, state, returns, ended | terminated | truncated), None

    zeros = jnp.zeros(num_episodes, jnp.float32)
    carry = (obs, state, zeros, jnp.zeros(num_episodes, bool))
    (_, _, returns, ended), _ = jax.lax.scan(one_step, carry, jnp.arange(max_steps))
    return returns, ended
