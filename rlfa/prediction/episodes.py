"""Episodic policy evaluation as a runner :class:`~rlfa.types.Program` (one step = one episode).

The Markov reward process is given as :class:`NoiseDynamics`: a deterministic
``transition(state, noise)`` driven by exogenous noise drawn in bulk, a block
of ``noise_block`` steps at a time, outside the inner loop (random draws inside
a loop body cost ~100x more on CPU). Episodes are vmapped in lock step, so a
batch of runs waits for its longest episode each time; for the random walk
that costs less than stepping every run on its own clock, because
per-episode logging and first-visit Monte Carlo then need no masking.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from rlfa.prediction.gradient_mc import Episode
from rlfa.types import Agent, Program, Transition


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


class EpisodicCarry(NamedTuple):
    """The whole training state of one run.

    Attributes:
      agent: the agent's state.
      key: the run's key, split once per episode.
      episodes: finished episodes, int32.
      steps: environment steps in total, int32.
      truncated: episodes cut at ``max_episode_steps``, int32.
      buffer: Monte Carlo's episode buffer (observations ``[T, *obs_shape]``,
        rewards ``[T]``), kept across episodes so it is never cleared; empty
        for TD agents.
    """

    agent: Any
    key: jax.Array
    episodes: jax.Array
    steps: jax.Array
    truncated: jax.Array
    buffer: tuple = ()


def rollout(dynamics: NoiseDynamics, key: jax.Array, max_steps: int, noise_block: int,
            on_step: Callable[[Any, jax.Array, Transition], Any], payload: Any):
    """Run one episode, calling ``on_step(payload, t, transition) -> payload`` per step.

    The episode ends at termination or, truncated, after ``max_steps`` steps.

    Returns:
      (length int32, truncated bool, payload).
    """
    key_reset, key_noise = jax.random.split(key)
    state = dynamics.reset(key_reset)
    obs = dynamics.observe(state)

    def block(carry):
        b, t, state, obs, terminated, truncated, payload = carry
        noise = dynamics.sample_noise(jax.random.fold_in(key_noise, b), noise_block)

        def step(inner):
            j, t, state, obs, _, _, payload = inner
            state, obs_t, r_t, terminated = dynamics.transition(state, noise[j])
            truncated = (t + 1 >= max_steps) & ~terminated
            tr = Transition(obs, jnp.int32(0), r_t, terminated, truncated, obs_t)
            return j + 1, t + 1, state, obs_t, terminated, truncated, on_step(payload, t, tr)

        running = lambda c: (c[0] < noise_block) & ~(c[4] | c[5])
        _, t, state, obs, terminated, truncated, payload = jax.lax.while_loop(
            running, step, (0, t, state, obs, terminated, truncated, payload))
        return b + 1, t, state, obs, terminated, truncated, payload

    start = (jnp.int32(0), jnp.int32(0), state, obs, jnp.bool_(False), jnp.bool_(False), payload)
    _, length, _, _, _, truncated, payload = jax.lax.while_loop(
        lambda c: ~(c[4] | c[5]), block, start)
    return length, truncated, payload


def episodic_prediction(
    dynamics: NoiseDynamics,
    agent: Agent,
    *,
    monte_carlo: bool,
    max_episode_steps: int,
    log: Callable[[Any], dict[str, jax.Array]],
    obs_example: jax.Array,
    noise_block: int = 128,
) -> Program:
    """A runner Program that evaluates a policy one episode per program step.

    Args:
      dynamics: the Markov reward process.
      agent: a prediction agent; TD agents (``monte_carlo=False``) take a
        :class:`~rlfa.types.Transition` per step, Monte Carlo ones an
        :class:`~rlfa.prediction.gradient_mc.Episode` after each episode.
      monte_carlo: which of the two the agent is.
      max_episode_steps: time limit; also the Monte Carlo episode buffer's length.
      log: ``agent_state -> metrics`` at a logged point (e.g. RMS value error).
      obs_example: an observation, for ``agent.init`` and the buffer's shape.
      noise_block: steps of noise drawn at once.
    """

    def init(key, hparams):
        del hparams
        key_agent, key_run = jax.random.split(key)
        zero = jnp.int32(0)
        buffer = ()
        if monte_carlo:
            buffer = (jnp.zeros((max_episode_steps,) + obs_example.shape, obs_example.dtype),
                      jnp.zeros((max_episode_steps,), jnp.float32))
        return EpisodicCarry(agent.init(key_agent, obs_example), key_run, zero, zero, zero, buffer)

    def step(carry: EpisodicCarry, hparams) -> EpisodicCarry:
        key, key_episode = jax.random.split(carry.key)
        buffer = carry.buffer
        if monte_carlo:
            def record(buf, t, tr):
                return buf[0].at[t].set(tr.obs_tm1), buf[1].at[t].set(tr.r_t)

            length, truncated, (obs, r) = rollout(dynamics, key_episode, max_episode_steps,
                                                  noise_block, record, buffer)
            agent_state, _ = agent.update(carry.agent, hparams, Episode(obs, r, length))
            buffer = (obs, r)
        else:
            def learn(agent_state, t, tr):
                return agent.update(agent_state, hparams, tr)[0]

            length, truncated, agent_state = rollout(dynamics, key_episode, max_episode_steps,
                                                     noise_block, learn, carry.agent)
        return EpisodicCarry(agent_state, key, carry.episodes + 1, carry.steps + length,
                             carry.truncated + truncated.astype(jnp.int32), buffer)

    def log_metrics(carry: EpisodicCarry, hparams):
        del hparams
        return {**log(carry.agent), "episodes": carry.episodes, "steps": carry.steps,
                "truncated_episodes": carry.truncated}

    return Program(init=init, step=step, log=log_metrics, weights=lambda c: c.agent.w)
