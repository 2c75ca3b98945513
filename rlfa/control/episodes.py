"""Episodic control as a runner :class:`~rlfa.types.Program`: one program step = one env step.

Runs vmapped together finish their episodes at different times (a Mountain Car
episode takes 100 to 1000+ steps). Waiting for the slowest run at every
episode boundary would cost, per episode, the longest episode of the batch; so
each run keeps its own clock instead: one environment step per program step,
an automatic reset at an episode's end (gymnax's ``step``), the episode's
length written into a per-run ``[num_episodes]`` array at its episode number.
A run that has finished its episodes is frozen: its step size becomes zero and
its counters stop, so further steps change nothing it reports, and
:attr:`Program.finished` lets the runner stop once every run is done.

Randomness is drawn in bulk: one program step is a block of ``block_steps``
environment steps whose uniforms (action choice, tie-breaking, resets) are drawn
at once before the block's loop (on CPU a ``jax.random`` call inside a loop step
cost 3.3 us against 0.034 us for the same randomness drawn in bulk before the
loop, in a random-walk TD(0) step). The environment is therefore noise-driven
(:mod:`rlfa.envs.noise`) and the policy is epsilon-greedy w.r.t. ``q(state, obs)``
(:func:`~rlfa.control.policies.epsilon_greedy_from_noise`), the same policy as
the agent's key-based ``act``.

On CPU a step of the vmapped loop costs roughly a microsecond per XLA kernel it
runs, whatever the kernel's size (Mountain Car, 150 runs a device: ~40 kernels,
~50 us a step), so the loop keeps kernels few: the episode
records of a block are written by one scatter after its loop (each step writes
one packed row), only the uniforms a variant uses are drawn, and ``observe``
lets a feature map run once per observation, its output cached in the carry
(Mountain Car's tile coding: once instead of five times a step).

Targets bootstrap through a time-limit truncation from the episode's last
observation (``info["final_observation"]``) and never through termination
(treating the two alike changes the MDP: gymnax#109, cleanrl#198, purejaxrl#20).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from rlfa.config import check_choice, check_positive_int
from rlfa.control.policies import epsilon_greedy_from_noise, noise_size
from rlfa.control.sarsa import sarsa_transition
from rlfa.envs.noise import step_with_noise, transition_noise_size
from rlfa.types import Agent, Program, Transition

Array = jax.Array
NEXT_ACTION_CHOICES = ("reuse", "fresh")


class ControlCarry(NamedTuple):
    """The whole training state of one run.

    Attributes:
      agent: the agent's state.
      env_state: the environment's state.
      obs: the current observation S_t (already reset after an episode's end), as
        the agent sees it (``observe(S_t)``).
      action: A_t, chosen at S_t by the previous step (SARSA's "reuse" variant).
      key: the run's key, split once per block.
      episodes: episodes finished, int32 ``[]``.
      t: steps into the current episode, int32 ``[]``.
      steps: environment steps taken before the run finished, int32 ``[]``.
      episode_return: undiscounted return of the current episode so far.
      lengths: steps of each finished episode, int32 ``[num_episodes]`` (0: not yet).
      returns: undiscounted return of each finished episode, float32 ``[num_episodes]``.
      truncated: whether each episode was cut by the time limit, bool ``[num_episodes]``.
      snapshots: ``weights`` after each of the snapshot episodes, stacked
        ``[num_snapshots, ...]`` (zeros until reached); ``()`` without snapshots.
    """

    agent: Any
    env_state: Any
    obs: Array
    action: Array
    key: Array
    episodes: Array
    t: Array
    steps: Array
    episode_return: Array
    lengths: Array
    returns: Array
    truncated: Array
    snapshots: Any


def episodic_control(env, env_params, agent: Agent, q, num_actions: int, *,
                     num_episodes: int, sarsa: bool, next_action: str = "reuse",
                     snapshot_episodes: tuple[int, ...] = (), block_steps: int = 64,
                     observe=None) -> Program:
    """A runner Program: ``num_episodes`` episodes of online control, ``block_steps`` env steps per step.

    Args:
      env: a noise-driven gymnax environment (:mod:`rlfa.envs.noise`); its
        ``max_steps_in_episode`` param is the time limit (the per-episode step
        cap), which truncates, not terminates.
      env_params: its params.
      agent: a control agent whose state has weights ``w`` and whose
        hyperparameters (:class:`~rlfa.control.linear_q.ControlHParams`) have a
        ``step_size`` (zeroed to freeze a finished run) and an ``epsilon``.
      q: ``(agent_state, obs) -> [num_actions]`` action values, the agent's
        policy being epsilon-greedy w.r.t. them.
      num_actions: A.
      num_episodes: episodes per run.
      sarsa: the agent's update takes a
        :class:`~rlfa.control.sarsa.SarsaTransition` (it needs A'), else a
        :class:`~rlfa.types.Transition`.
      next_action: SARSA only: ``"reuse"`` executes at S' the A' the update used
        (S&B's box); ``"fresh"`` samples the action at S' again from the
        updated weights. Off-policy agents always act afresh.
      snapshot_episodes: episode counts after which to keep a copy of the
        weights (Figure 10.1's 1, 12, 104, 1000, 9000).
      block_steps: environment steps per program step (one bulk draw of noise).
      observe: ``obs -> x``, what the agent and ``q`` see instead of the raw
        observation (e.g. a tile coding's :class:`~rlfa.features.Features`, with
        the agent built on :func:`~rlfa.control.linear_q.precomputed`), or None
        for the observation itself. It is evaluated once per observation and kept
        in the carry, so acting at S', the update at S and S' and the next step
        share one evaluation instead of computing phi up to five times a step.

    Returns:
      A :class:`~rlfa.types.Program` whose log reports ``episodes``, ``steps``
      and ``truncated_episodes``; per-episode results live in the final carry
      (:class:`ControlCarry`).

    Raises:
      ValueError: naming the field, for a bad count or choice.
    """
    check_positive_int("num_actions", num_actions)
    check_positive_int("num_episodes", num_episodes)
    check_positive_int("block_steps", block_steps)
    check_choice("next_action", next_action, NEXT_ACTION_CHOICES)
    for e in snapshot_episodes:
        check_positive_int("snapshot_episodes", e)
    reuse = sarsa and next_action == "reuse"
    if observe is None:
        def observe(obs):
            return obs
    snapshot_at = jnp.asarray(snapshot_episodes, jnp.int32)
    act_size = noise_size(num_actions)
    # Per env step, only the uniforms this variant uses (each costs a draw): the action
    # executed at S when it is chosen afresh, SARSA's A' at S', the first action after a
    # reset when A' is reused; then the environment's.
    choices = (("fresh",) if not reuse else ()) + (("next",) if sarsa else ()) + (
        ("reset",) if reuse else ())
    step_noise = len(choices) * act_size + transition_noise_size(env)

    def act(agent_state, hparams, obs, noise):
        return epsilon_greedy_from_noise(q(agent_state, obs), hparams.epsilon, noise)

    def init(key: Array, hparams) -> ControlCarry:
        key_agent, key_noise, key_run = jax.random.split(key, 3)
        noise = jax.random.uniform(key_noise, (env.noise_size + act_size,))
        obs, env_state = env.reset_from_noise(noise[act_size:], env_params)
        obs = observe(obs)
        agent_state = agent.init(key_agent, obs)
        action = act(agent_state, hparams, obs, noise[:act_size])
        snapshots = ()
        if snapshot_episodes:
            snapshots = jax.tree.map(
                lambda w: jnp.zeros((len(snapshot_episodes),) + w.shape, w.dtype), agent_state.w)
        zero = jnp.int32(0)
        return ControlCarry(agent_state, env_state, obs, action, key_run, zero, zero, zero,
                            jnp.float32(0), jnp.zeros((num_episodes,), jnp.int32),
                            jnp.zeros((num_episodes,), jnp.float32),
                            jnp.zeros((num_episodes,), bool), snapshots)

    def env_step(c: ControlCarry, hparams, noise: Array) -> tuple[ControlCarry, Array]:
        u = {name: noise[i * act_size:(i + 1) * act_size] for i, name in enumerate(choices)}
        active = c.episodes < num_episodes
        learning = hparams._replace(step_size=jnp.where(active, hparams.step_size, 0.0))
        a_tm1 = c.action if reuse else act(c.agent, hparams, c.obs, u["fresh"])
        obs, env_state, r_t, terminated, truncated, info = step_with_noise(
            env, c.env_state, a_tm1, noise[len(choices) * act_size:], env_params)
        # A time limit and termination on the same step is a termination.
        truncated = truncated & ~terminated
        tr = Transition(c.obs, a_tm1, r_t, terminated, truncated,
                        observe(info["final_observation"]))
        if sarsa:
            a_t = act(c.agent, hparams, tr.obs_t, u["next"])
            agent_state, _ = agent.update(c.agent, learning, sarsa_transition(tr, a_t))
        else:
            agent_state, _ = agent.update(c.agent, learning, tr)
        done = terminated | truncated
        obs = observe(obs)
        action = c.action
        if reuse:  # after a reset the episode's first action is chosen afresh
            action = jnp.where(done, act(agent_state, hparams, obs, u["reset"]), a_t)

        ended = done & active
        episode_return = c.episode_return + r_t
        episodes = c.episodes + ended.astype(jnp.int32)
        snapshots = c.snapshots
        if snapshot_episodes:
            hit = jnp.argmax(snapshot_at == episodes)
            hit = jnp.where(ended & (snapshot_at[hit] == episodes), hit, len(snapshot_episodes))
            snapshots = jax.tree.map(lambda s, w: s.at[hit].set(w, mode="drop"), snapshots,
                                     agent_state.w)
        carry = c._replace(
            agent=agent_state, env_state=env_state, obs=obs, action=action, episodes=episodes,
            t=jnp.where(done, 0, c.t + 1),
            steps=c.steps + active.astype(jnp.int32),
            episode_return=jnp.where(done, 0.0, episode_return),
            snapshots=snapshots)
        # One int32 row per step (the return's float bits included): the block's loop then
        # writes one array per step instead of four, and every write costs a kernel on CPU.
        end = jnp.stack([ended.astype(jnp.int32), c.t + 1, truncated.astype(jnp.int32),
                         jax.lax.bitcast_convert_type(episode_return.astype(jnp.float32),
                                                      jnp.int32)])
        return carry, end

    def step(c: ControlCarry, hparams) -> ControlCarry:
        key, key_noise = jax.random.split(c.key)
        noise = jax.random.uniform(key_noise, (block_steps, step_noise))
        first = c.episodes
        c, end = jax.lax.scan(lambda c, u: env_step(c, hparams, u), c, noise)
        ended, length, truncated = end[:, 0] == 1, end[:, 1], end[:, 2] == 1
        episode_return = jax.lax.bitcast_convert_type(end[:, 3], jnp.float32)
        # One scatter per block, not per step (scatters dominate a step's cost on CPU):
        # the block's i-th episode end goes to slot first + i; other steps are dropped.
        slot = jnp.where(ended, first + jnp.cumsum(ended) - 1, num_episodes)
        return c._replace(
            key=key,
            lengths=c.lengths.at[slot].set(length, mode="drop"),
            returns=c.returns.at[slot].set(episode_return, mode="drop"),
            truncated=c.truncated.at[slot].set(truncated, mode="drop"))

    def log(c: ControlCarry, hparams) -> dict[str, Array]:
        del hparams
        return {"episodes": c.episodes, "steps": c.steps,
                "truncated_episodes": jnp.sum(c.truncated, dtype=jnp.int32)}

    return Program(init=init, step=step, log=log, weights=lambda c: c.agent.w,
                   finished=lambda c: c.episodes >= num_episodes)
