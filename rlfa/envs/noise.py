"""Environments driven by exogenous noise, so a loop can draw its randomness in bulk.

gymnax's ``step(key, ...)`` hashes its key on every call (a split and a draw
for the reset); inside a ``lax.fori_loop`` on CPU that costs far more than the
dynamics (about ten times a Mountain Car step's, with the same uniforms drawn 64 steps
at a time instead: ``python -m benchmarks.mountain_car`` times the loop). A
noise-driven environment takes the step's uniforms instead:

* ``noise_size``: uniforms on [0, 1) one ``step_from_noise`` (or one reset) consumes;
* ``step_from_noise(state, action, noise, params) -> (obs, state, reward, terminated, info)``:
  one transition, no reset;
* ``reset_from_noise(noise, params) -> (obs, state)``: a start state.

:func:`step_with_noise` then follows gymnax's ``Environment.step`` exactly:
automatic reset, ``truncated`` from the time limit, ``info["final_observation"]``.
It takes :func:`transition_noise_size` ``= 2 * noise_size`` uniforms: the step's, then the
automatic reset's, so the state an episode restarts in is independent of where
the previous one ended (as gymnax's split key makes it).

A Markov reward process (no actions: a policy fixed inside it, as policy evaluation
needs) is written the same way as :class:`NoiseDynamics`, which
:mod:`rlfa.prediction.episodes` runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from gymnax.environments import environment, spaces


class NoiseEnvironment(environment.Environment):
    """A gymnax Environment written as ``step_from_noise`` / ``reset_from_noise``.

    gymnax's key-based ``step_env`` / ``reset_env`` draw the ``noise_size``
    uniforms from the key, so both paths follow one dynamics.
    """

    noise_size: int = 1

    def step_env(self, key, state, action, params):
        return self.step_from_noise(state, action, jax.random.uniform(key, (self.noise_size,)),
                                    params)

    def reset_env(self, key, params):
        return self.reset_from_noise(jax.random.uniform(key, (self.noise_size,)), params)


class TwoActionStateEnvironment(NoiseEnvironment):
    """Small MDPs with two actions, integer ``state.position`` and a float32 ``[1]`` observation.

    Termination, where there is any, is decided by ``step_from_noise``.
    """

    def get_obs(self, state, params=None, key=None):
        return jnp.asarray(state.position, jnp.float32)[None]

    def is_terminated(self, state, params):
        return jnp.bool_(False)

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def num_actions(self) -> int:
        return 2

    def action_space(self, params=None):
        return spaces.Discrete(2)


def transition_noise_size(env) -> int:
    """Uniforms one :func:`step_with_noise` of ``env`` consumes: the step's, then the reset's."""
    return 2 * env.noise_size


def step_with_noise(env, state, action, noise: jax.Array, params):
    """gymnax's ``Environment.step`` with uniforms for a key.

    Args:
      noise: ``[transition_noise_size(env)]`` uniforms on [0, 1): the first
        ``env.noise_size`` drive the step, the rest the automatic reset.

    Returns:
      ``(obs, state, reward, terminated, truncated, info)`` as gymnax 1.0: ``obs``
      and ``state`` already reset when the episode ended; ``info`` holds
      ``final_observation`` (the observation before any reset), ``terminated``
      and ``truncated``.
    """
    step_noise, reset_noise = noise[:env.noise_size], noise[env.noise_size:]
    obs_st, state_st, reward, terminated, info = env.step_from_noise(
        state, action, step_noise, params)
    truncated = env.is_truncated(state_st, params)
    done = jnp.logical_or(terminated, truncated)
    obs_re, state_re = env.reset_from_noise(reset_noise, params)
    state = jax.tree.map(lambda x, y: jax.lax.select(done, x, y), state_re, state_st)
    # Part of a state may outlive its episode (MinAtar's last action, for sticky actions).
    persist = getattr(env, "persist_across_reset", None)
    if persist is not None:
        state = persist(state_st, state)
    obs = jax.tree.map(lambda x, y: jax.lax.select(done, x, y), obs_re, obs_st)
    info = {**info, "terminated": terminated, "truncated": truncated, "final_observation": obs_st}
    return obs, state, reward, terminated, truncated, info


class NoiseDynamics(NamedTuple):
    """An episodic Markov reward process driven by exogenous noise.

    Attributes:
      reset: ``key -> state``: the start state.
      observe: ``state -> obs``.
      sample_noise: ``(key, n) -> noise [n, ...]``: n steps' randomness.
      transition: ``(state, noise_t) -> (state, obs, reward, terminated)``.
      state_index: ``obs -> int32 []`` in ``[0, num_states)`` (first-visit MC).
      num_states: number of non-terminal states.
    """

    reset: Callable[[jax.Array], Any]
    observe: Callable[[Any], jax.Array]
    sample_noise: Callable[[jax.Array, int], jax.Array]
    transition: Callable[[Any, jax.Array], tuple]
    state_index: Callable[[jax.Array], jax.Array]
    num_states: int
