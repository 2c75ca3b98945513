"""Episodic policy evaluation as a runner :class:`~rlfa.types.Program` (one step = one episode).

The Markov reward process is given as :class:`~rlfa.envs.noise.NoiseDynamics`: a
deterministic ``transition(state, noise)`` driven by exogenous noise drawn in bulk, a
block of steps at a time, outside the inner loop (random draws inside a loop body
cost ~100x more on CPU).

Runs vmapped together finish their episodes at different times (a random-walk
episode takes 5 to 700 steps, 83 on average). Running them in lock step, one
episode per run per program step, costs each batch its longest episode every
time: 2.9 times the mean for 15 runs. So :func:`episodic_prediction` gives each
run its own clock, as the control loop (:mod:`rlfa.control.episodes`) does: one
environment step per loop step, an automatic reset at an episode's end, and a
fixed number of loop steps per program step (about the mean episode length;
a fixed count, because a vmapped loop whose length depends on the run selects
over its whole carry at every iteration). A run is thus a few episodes ahead of
the program's count or behind it:

* ahead: the agent's state after each episode goes into a ring of the last
  ``lead`` episodes (one scatter a step, dropped unless an episode ended), and
  program step n takes episode n's entry as the carry's ``agent``, so what is
  logged is exactly the state after n episodes; a run ``lead - 1``
  episodes ahead is paused (``active=False``: its agent's ``update`` changes
  nothing) until the program's count catches up;
* behind: a catch-up loop runs it until it has finished n episodes (rare: its
  fixed loop steps are a few percent above the mean episode length).

Each run's results depend on its key alone, not on the runs beside it
(``python -m benchmarks.random_walk --figures 9.10`` times Figure 9.10's 60 runs of
5,000 episodes). Agents take a :class:`~rlfa.types.Transition` per step; Monte Carlo runs as
:func:`~rlfa.prediction.gradient_mc.online_gradient_monte_carlo`, which needs no
episode buffer.

With ``lock_step``, every run instead plays one whole episode per program step, all in
lock step: a batch then waits for its longest episode, but there is no ring, pausing or
catching up, so a workload of one run per device (the book's Figures 9.1 and 9.2: one
run of 100,000 episodes) runs many times faster. Agents that take a whole
:class:`~rlfa.prediction.gradient_mc.Episode` (``monte_carlo=True``) always run so.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from rlfa.config import check_positive_int
from rlfa.envs.noise import NoiseDynamics
from rlfa.prediction.gradient_mc import Episode
from rlfa.types import Agent, Program, Transition


class EpisodicCarry(NamedTuple):
    """The whole training state of one run of a lock-step loop (one episode per program step).

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


class StepCarry(NamedTuple):
    """The whole training state of one run of the step-scheduled loop.

    Attributes:
      agent: the agent's state after ``episodes`` episodes (what is logged).
      episodes: program steps taken, int32 ``[]``: episodes logged.
      steps: environment steps of those episodes, int32 ``[]``.
      truncated: those of them cut at ``max_episode_steps``, int32 ``[]``.
      learner: the agent's state now, possibly a few episodes further on.
      env_state: the process's state S_t (already reset after an episode's end).
      obs: the observation of S_t.
      t: steps into the current episode, int32 ``[]``.
      key: the run's key, split once per block.
      finished: episodes the run has finished, int32 ``[]``.
      taken: environment steps the run has taken, int32 ``[]``.
      cut: episodes of them cut at ``max_episode_steps``, int32 ``[]``.
      ring: the agent's state after episode m at row ``m % lead``, leaves ``[lead, ...]``.
      ring_counts: ``taken`` and ``cut`` after episode m at row ``m % lead``,
        int32 ``[lead, 2]``.
    """

    agent: Any
    episodes: jax.Array
    steps: jax.Array
    truncated: jax.Array
    learner: Any
    env_state: Any
    obs: jax.Array
    t: jax.Array
    key: jax.Array
    finished: jax.Array
    taken: jax.Array
    cut: jax.Array
    ring: Any
    ring_counts: jax.Array


class _StepLoop(NamedTuple):
    """What the step-scheduled loop closes over (static: shapes and functions)."""

    dynamics: NoiseDynamics
    agent: Agent
    obs_example: jax.Array
    max_steps: int
    block_steps: int
    blocks: int  # per program step
    lead: int


def episodic_prediction(
    dynamics: NoiseDynamics,
    agent: Agent,
    *,
    max_episode_steps: int,
    log: Callable[[Any], dict[str, jax.Array]],
    obs_example: jax.Array,
    monte_carlo: bool = False,
    lock_step: bool = False,
    steps_per_episode: int | None = None,
    lead: int = 64,
    noise_block: int = 128,
) -> Program:
    """A runner Program that evaluates a policy, one episode per program step.

    Args:
      dynamics: the Markov reward process.
      agent: a prediction agent whose state has weights ``w``; it takes a
        :class:`~rlfa.types.Transition` per step (as ``update(state, hparams,
        transition, active)`` where it accepts ``active``, leaving its state
        unchanged when False; other agents are frozen by a select over their state),
        or with ``monte_carlo`` a whole :class:`~rlfa.prediction.gradient_mc.Episode`.
      max_episode_steps: time limit (truncation; targets still bootstrap).
      log: ``agent_state -> metrics`` at a logged point (e.g. RMS value error).
      obs_example: an observation, for ``agent.init``.
      monte_carlo: the agent takes whole episodes: run them in lock step.
      lock_step: run one whole episode of every run per program step (a transition
        agent updated at each step of it): for a workload of one run per device, where
        no run waits for another, it costs far less per step than the step schedule
        (``python -m benchmarks.random_walk --figures 9.1`` times the book's one run).
      steps_per_episode: environment steps per run per program step (default
        ``min(max_episode_steps, 64)``): the mean episode length plus 5-10% is
        fastest; a shorter one makes runs catch up often, a longer one pauses them.
        It changes which noise each step draws, not the results' distribution.
      lead: episodes a run may finish ahead of the program's count (states kept).
      noise_block: steps of noise drawn at once (``monte_carlo`` only).

    Returns:
      A :class:`~rlfa.types.Program` (carry :class:`StepCarry`, or
      :class:`EpisodicCarry` with ``monte_carlo``) whose log reports ``log``'s
      metrics and ``episodes``, ``steps`` and ``truncated_episodes``, all as they
      were after the program's count of episodes, as is the carry's ``agent``.

    Raises:
      ValueError: naming the field, for a non-positive count.
    """
    check_positive_int("max_episode_steps", max_episode_steps)
    check_positive_int("lead", lead)

    def log_metrics(carry, hparams):
        del hparams
        return {**log(carry.agent), "episodes": carry.episodes, "steps": carry.steps,
                "truncated_episodes": carry.truncated}

    if monte_carlo or lock_step:
        return _lock_step_program(dynamics, agent, max_episode_steps, obs_example,
                                  noise_block, monte_carlo)._replace(log=log_metrics)
    budget = min(max_episode_steps, 64) if steps_per_episode is None else steps_per_episode
    check_positive_int("steps_per_episode", budget)
    blocks = -(-budget // 64)  # blocks of at most 64 steps, one bulk draw of noise each
    loop = _StepLoop(dynamics, agent._replace(update=_with_active(agent.update)), obs_example,
                     max_episode_steps, -(-budget // blocks), blocks, lead)
    return Program(init=functools.partial(_step_init, loop),
                   step=functools.partial(_program_step, loop), log=log_metrics,
                   weights=lambda c: c.agent.w)


def _with_active(update: Callable) -> Callable:
    """``update`` taking ``active``; an agent without it is frozen by a select over its state."""
    if "active" in inspect.signature(update).parameters:
        return update

    def frozen(state, hparams, tr, active):
        new, metrics = update(state, hparams, tr)
        return jax.tree.map(lambda a, b: jnp.where(active, a, b), new, state), metrics

    return frozen


def _step_init(loop: _StepLoop, key: jax.Array, hparams) -> StepCarry:
    del hparams
    key_agent, key_reset, key_run = jax.random.split(key, 3)
    agent_state = loop.agent.init(key_agent, loop.obs_example)
    env_state = loop.dynamics.reset(key_reset)
    ring = jax.tree.map(lambda x: jnp.zeros((loop.lead,) + x.shape, x.dtype), agent_state)
    zero = jnp.int32(0)
    return StepCarry(agent_state, zero, zero, zero, agent_state, env_state,
                     loop.dynamics.observe(env_state), zero, key_run, zero, zero, zero, ring,
                     jnp.zeros((loop.lead, 2), jnp.int32))


def _env_step(loop: _StepLoop, c: StepCarry, hparams, noise: jax.Array,
              key_reset: jax.Array) -> StepCarry:
    """One environment step and update of one run (nothing changes while it is paused)."""
    active = c.finished < c.episodes + loop.lead - 1  # one more would overwrite `episodes`
    state, obs, r_t, terminated = loop.dynamics.transition(c.env_state, noise)
    truncated = (c.t + 1 >= loop.max_steps) & ~terminated
    tr = Transition(c.obs, jnp.int32(0), r_t, terminated, truncated, obs)
    learner, _ = loop.agent.update(c.learner, hparams, tr, active=active)
    done = terminated | truncated
    start = loop.dynamics.reset(key_reset)  # the random walk's ignores the key (no draw)
    env_state = jax.tree.map(lambda s0, s, old: jnp.where(active, jnp.where(done, s0, s), old),
                             start, state, c.env_state)
    obs = jnp.where(active, jnp.where(done, loop.dynamics.observe(start), obs), c.obs)
    ended = done & active
    finished = c.finished + ended.astype(jnp.int32)
    taken = c.taken + active.astype(jnp.int32)
    cut = c.cut + (ended & truncated).astype(jnp.int32)
    # Only an episode's end writes a row; every other step's write is dropped.
    slot = jnp.where(ended, finished % loop.lead, loop.lead)
    return c._replace(
        learner=learner, env_state=env_state, obs=obs,
        t=jnp.where(active, jnp.where(done, 0, c.t + 1), c.t), finished=finished, taken=taken,
        cut=cut, ring=jax.tree.map(lambda r, x: r.at[slot].set(x, mode="drop"), c.ring, learner),
        ring_counts=c.ring_counts.at[slot].set(jnp.stack([taken, cut]), mode="drop"))


def _block(loop: _StepLoop, c: StepCarry, hparams) -> StepCarry:
    """``block_steps`` environment steps on noise drawn at once."""
    key, key_noise, key_reset = jax.random.split(c.key, 3)
    noise = loop.dynamics.sample_noise(key_noise, loop.block_steps)

    def step(c, xs):
        noise_t, j = xs
        return _env_step(loop, c, hparams, noise_t, jax.random.fold_in(key_reset, j)), None

    c, _ = jax.lax.scan(step, c._replace(key=key), (noise, jnp.arange(loop.block_steps)))
    return c


def _program_step(loop: _StepLoop, c: StepCarry, hparams) -> StepCarry:
    """Episode ``episodes + 1``: a fixed number of blocks, then a catch-up loop for a run
    that has not finished it yet (a run ahead is paused, not waited for); its state and
    counts then come from the ring."""
    episodes = c.episodes + 1
    c = jax.lax.fori_loop(0, loop.blocks, lambda _, c: _block(loop, c, hparams),
                          c._replace(episodes=episodes))
    c = jax.lax.while_loop(lambda c: c.finished < c.episodes,
                           lambda c: _block(loop, c, hparams), c)
    slot = episodes % loop.lead
    return c._replace(agent=jax.tree.map(lambda r: r[slot], c.ring),
                      steps=c.ring_counts[slot, 0], truncated=c.ring_counts[slot, 1])


def _lock_step_program(dynamics: NoiseDynamics, agent: Agent, max_episode_steps: int,
                       obs_example: jax.Array, noise_block: int, monte_carlo: bool) -> Program:
    """Every run's next episode per program step, vmapped in lock step (``log`` is the
    caller's): a whole-episode agent (``monte_carlo``) updates from the recorded episode
    at its end, a transition agent at each of its steps."""

    def init(key, hparams):
        del hparams
        key_agent, key_run = jax.random.split(key)
        zero = jnp.int32(0)
        buffer = (jnp.zeros((max_episode_steps,) + obs_example.shape, obs_example.dtype),
                  jnp.zeros((max_episode_steps,), jnp.float32)) if monte_carlo else ()
        return EpisodicCarry(agent.init(key_agent, obs_example), key_run, zero, zero, zero, buffer)

    def step(carry: EpisodicCarry, hparams) -> EpisodicCarry:
        key, key_episode = jax.random.split(carry.key)
        if monte_carlo:
            def record(buf, t, tr):
                return buf[0].at[t].set(tr.obs_tm1), buf[1].at[t].set(tr.r_t)

            length, truncated, (obs, r) = rollout(dynamics, key_episode, max_episode_steps,
                                                  noise_block, record, carry.buffer)
            agent_state, _ = agent.update(carry.agent, hparams, Episode(obs, r, length))
            buffer = (obs, r)
        else:
            length, truncated, agent_state = rollout(
                dynamics, key_episode, max_episode_steps, noise_block,
                lambda state, t, tr: agent.update(state, hparams, tr)[0], carry.agent)
            buffer = ()
        return EpisodicCarry(agent_state, key, carry.episodes + 1, carry.steps + length,
                             carry.truncated + truncated.astype(jnp.int32), buffer)

    return Program(init=init, step=step, log=lambda c, hparams: {},
                   weights=lambda c: c.agent.w)
