"""The episode loop of online control as a runner :class:`~rlfa.types.Program`: one program
step = ``block_steps`` environment steps.

This module is the loop's machinery only; the algorithms live in
:mod:`rlfa.control.sarsa`, :mod:`rlfa.control.q_learning` and
:mod:`rlfa.control.tabular_q`. Which action runs at each state and which action
the update bootstraps from is the algorithm's part, an :class:`ActionRule`:
SARSA's (:func:`rlfa.control.sarsa.sarsa_actions`: ``A'`` reused or drawn
again) or the off-policy default here, :func:`act_afresh`.

Runs vmapped together finish their episodes at different times (a Mountain Car
episode takes 100 to 1000+ steps). Waiting for the slowest run at every
episode boundary would cost, per episode, the longest episode of the batch; so
each run keeps its own clock instead: one environment step per loop step,
an automatic reset at an episode's end (gymnax's ``step``), the episode's
length written into a per-run ``[num_episodes]`` array at its episode number.
A run that has finished its episodes is frozen: the loop passes ``active=False``
to the agent's ``update``, which then leaves the agent's state unchanged, and
its counters stop, so further steps change nothing it reports;
:attr:`Program.finished` lets the runner stop once every run is done. (The
agent, not a ``where`` over its whole state here, keeps it unchanged: a linear
agent writes only its k active weights, where a select over all of them would
copy every weight every step, half as much again as a Mountain Car step.)

Randomness is drawn in bulk: one program step is a block of ``block_steps``
environment steps whose uniforms (action choices, tie-breaking, resets) are drawn
at once before the block's loop (on CPU a ``jax.random`` call inside a loop step
costs about a hundred times as much as the same randomness drawn in bulk). The
environment is therefore noise-driven (:mod:`rlfa.envs.noise`) and the policy is
epsilon-greedy w.r.t. ``q(state, obs)``
(:func:`~rlfa.control.policies.epsilon_greedy_from_noise`), the same policy as the
agent's key-based ``act``.

On CPU a step of the vmapped loop costs roughly a microsecond per XLA kernel it
runs, whatever the kernel's size (``python -m benchmarks.mountain_car`` times a step),
so the loop keeps kernels few: the episode records of a block
are written by one scatter after its loop (each step writes one packed row,
:func:`pack_episode_end`), only the uniforms the action rule uses are drawn, and
``observe`` lets a feature map run once per observation, its output cached in
the carry (Mountain Car's tile coding: once instead of five times a step).

Targets bootstrap through a time-limit truncation from the episode's last
observation (``info["final_observation"]``) and never through termination
(treating the two alike changes the MDP: gymnax#109, cleanrl#198, purejaxrl#20).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from rlfa.config import check_positive_int
from rlfa.control.policies import epsilon_greedy_from_noise, noise_size
from rlfa.envs.noise import step_with_noise, transition_noise_size
from rlfa.types import Agent, Program, Transition

Array = jax.Array
# policy(agent_state, hparams, obs, u) -> action: epsilon-greedy w.r.t. q from the uniforms u.
Policy = Callable[[Any, Any, Array, Array], Array]


class ActionRule(NamedTuple):
    """How an algorithm chooses the actions around its update, in :func:`episodic_control`.

    Each function gets ``policy(agent_state, hparams, obs, u) -> action``, the
    epsilon-greedy policy w.r.t. ``q`` from one block ``u`` of uniforms, and ``u``,
    a dict of this step's blocks by name.

    Attributes:
      uniforms: the names of the blocks of uniforms drawn per environment step, in
        draw order (only those the rule uses: each costs a draw).
      at_s: ``(policy, agent_state, hparams, obs, carried, u) -> A_t``, the action
        executed at S_t; ``carried`` is the action the previous step left.
      learn_from: ``(policy, agent_state, hparams, transition, u) -> (input,
        a_next)``: what ``agent.update`` learns from and the action it chose at
        S_{t+1} (None if none), from the weights before the update.
      carry: ``(policy, agent_state, hparams, obs, done, a_next, carried, u) ->
        action``: the action left for the next step; ``agent_state`` is the
        updated one and ``obs`` is S_{t+1}, or the next episode's first
        observation when ``done``.
    """

    uniforms: tuple[str, ...]
    at_s: Callable[..., Array]
    learn_from: Callable[..., tuple[Any, Array | None]]
    carry: Callable[..., Array]


def act_afresh() -> ActionRule:
    """The off-policy rule (Q-learning): an epsilon-greedy action drawn afresh at every S_t,
    the update learning from the plain :class:`~rlfa.types.Transition`."""

    def at_s(policy, agent_state, hparams, obs, carried, u):
        del carried
        return policy(agent_state, hparams, obs, u["fresh"])

    def learn_from(policy, agent_state, hparams, transition, u):
        del policy, agent_state, hparams, u
        return transition, None

    def carry(policy, agent_state, hparams, obs, done, a_next, carried, u):
        del policy, agent_state, hparams, obs, done, a_next, u
        return carried

    return ActionRule(("fresh",), at_s, learn_from, carry)


class ControlCarry(NamedTuple):
    """The whole training state of one run.

    Attributes:
      agent: the agent's state.
      env_state: the environment's state.
      obs: the current observation S_t (already reset after an episode's end), as
        the agent sees it (``observe(S_t)``).
      action: the action the previous step left for this one
        (:attr:`ActionRule.carry`; SARSA's reused A').
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


class _Loop(NamedTuple):
    """What :func:`episodic_control` closes over (static: shapes and functions)."""

    env: Any
    env_params: Any
    agent: Agent
    policy: Policy
    rule: ActionRule
    observe: Callable[[Array], Any]
    num_episodes: int
    snapshot_episodes: tuple[int, ...]
    block_steps: int
    act_size: int  # uniforms per policy call
    stop: Callable[[Any], Array] | None
    owes: Callable[[Any], Array] | None


def episodic_control(env, env_params, agent: Agent, q, num_actions: int, *,
                     num_episodes: int, actions: ActionRule | None = None,
                     snapshot_episodes: tuple[int, ...] = (), block_steps: int = 64,
                     observe=None, stop: Callable[[Any], Array] | None = None,
                     owes: Callable[[Any], Array] | None = None) -> Program:
    """A runner Program: ``num_episodes`` episodes of online control per run, ``block_steps``
    environment steps per program step.

    Args:
      env: a noise-driven gymnax environment (:mod:`rlfa.envs.noise`); its
        ``max_steps_in_episode`` param is the time limit (the per-episode step
        cap), which truncates, not terminates.
      env_params: its params.
      agent: a control agent whose state has weights ``w``, whose hyperparameters
        (:class:`~rlfa.control.linear_values.ControlHParams`) have an ``epsilon``,
        and whose ``update(state, hparams, input, active)`` leaves the state
        unchanged when ``active`` is False (a run that has finished its episodes).
      q: ``(agent_state, obs) -> [num_actions]`` action values, the agent's
        policy being epsilon-greedy w.r.t. them.
      num_actions: A.
      num_episodes: episodes per run.
      actions: the algorithm's :class:`ActionRule`: SARSA's
        (:func:`rlfa.control.sarsa.sarsa_actions`) or, by default,
        :func:`act_afresh` (off-policy agents: Q-learning, linear or tabular).
      snapshot_episodes: episode counts after which to keep a copy of the
        weights (Figure 10.1's 1, 12, 104, 1000, 9000).
      block_steps: environment steps per program step (one bulk draw of noise).
      observe: ``obs -> x``, what the agent and ``q`` see instead of the raw
        observation (e.g. a tile coding's :class:`~rlfa.features.Features`, with
        the agent built on :func:`~rlfa.control.linear_values.precomputed`), or None
        for the observation itself. It is evaluated once per observation and kept
        in the carry, so acting at S', the update at S and S' and the next step
        share one evaluation instead of computing phi up to five times a step.
      stop: ``carry -> bool []``, or None: a run for which it holds at the start of a
        program step stops there, before its episodes are done (a run that blew up):
        its state no longer changes and it counts as finished, so when it stops does
        not depend on the runs beside it.
      owes: ``agent_state -> bool []``, or None: the agent still owes updates from an
        episode that has ended (n-step SARSA's,
        :func:`~rlfa.control.n_step_sarsa.owes_updates`). As the book's n-step loop runs
        on to ``tau = T - 1``, a loop step then steps no environment (its draw is unused)
        and calls ``update`` for the next owed update; the next episode's first action is
        chosen once nothing is owed, from the updated weights, and a run's last episode
        finishes when its updates are made.

    Returns:
      A :class:`~rlfa.types.Program` whose log reports ``episodes``, ``steps``
      and ``truncated_episodes``; per-episode results live in the final carry
      (:class:`ControlCarry`).

    Raises:
      ValueError: naming the field, for a bad count.
    """
    check_positive_int("num_actions", num_actions)
    check_positive_int("num_episodes", num_episodes)
    check_positive_int("block_steps", block_steps)
    for e in snapshot_episodes:
        check_positive_int("snapshot_episodes", e)

    def policy(agent_state, hparams, obs, u):
        return epsilon_greedy_from_noise(q(agent_state, obs), hparams.epsilon, u)

    loop = _Loop(env, env_params, agent, policy, actions or act_afresh(),
                 observe or (lambda obs: obs), num_episodes, tuple(snapshot_episodes),
                 block_steps, noise_size(num_actions), stop, owes)

    def finished(c: ControlCarry) -> Array:
        done = c.episodes >= num_episodes
        if owes is not None:
            done = done & ~owes(c.agent)
        return done if stop is None else done | stop(c)

    return Program(init=functools.partial(_init, loop), step=functools.partial(_block, loop),
                   log=_log, weights=lambda c: c.agent.w, finished=finished)


def _init(loop: _Loop, key: Array, hparams) -> ControlCarry:
    """The carry at the first observation of the first episode, its first action chosen."""
    act_size = loop.act_size
    key_agent, key_noise, key_run = jax.random.split(key, 3)
    noise = jax.random.uniform(key_noise, (loop.env.noise_size + act_size,))
    obs, env_state = loop.env.reset_from_noise(noise[act_size:], loop.env_params)
    obs = loop.observe(obs)
    agent_state = loop.agent.init(key_agent, obs)
    action = loop.policy(agent_state, hparams, obs, noise[:act_size])
    snapshots = ()
    if loop.snapshot_episodes:
        snapshots = jax.tree.map(
            lambda w: jnp.zeros((len(loop.snapshot_episodes),) + w.shape, w.dtype), agent_state.w)
    zero, n = jnp.int32(0), loop.num_episodes
    return ControlCarry(agent_state, env_state, obs, action, key_run, zero, zero, zero,
                        jnp.float32(0), jnp.zeros((n,), jnp.int32), jnp.zeros((n,), jnp.float32),
                        jnp.zeros((n,), bool), snapshots)


def _env_step(loop: _Loop, c: ControlCarry, hparams, noise: Array,
              running: Array) -> tuple[ControlCarry, Array]:
    """One environment step and update of one run (``running``: not stopped), or, while
    the agent owes updates (``loop.owes``), one owed update and no environment step;
    returns the carry and the step's packed episode-end row (:func:`pack_episode_end`)."""
    rule, policy, act_size = loop.rule, loop.policy, loop.act_size
    u = {name: noise[i * act_size:(i + 1) * act_size] for i, name in enumerate(rule.uniforms)}
    owing = None if loop.owes is None else loop.owes(c.agent)
    active = c.episodes < loop.num_episodes
    active = (active if owing is None else active | owing) & running
    a_tm1 = rule.at_s(policy, c.agent, hparams, c.obs, c.action, u)
    obs, env_state, r_t, terminated, truncated, info = step_with_noise(
        loop.env, c.env_state, a_tm1, noise[len(rule.uniforms) * act_size:], loop.env_params)
    # A time limit and termination on the same step is a termination.
    truncated = truncated & ~terminated
    tr = Transition(c.obs, a_tm1, r_t, terminated, truncated,
                    loop.observe(info["final_observation"]))
    learn_input, a_next = rule.learn_from(policy, c.agent, hparams, tr, u)
    agent_state, _ = loop.agent.update(c.agent, hparams, learn_input, active=active)
    done = terminated | truncated
    obs = loop.observe(obs)
    if owing is None:
        action = rule.carry(policy, agent_state, hparams, obs, done, a_next, c.action, u)
        tick, stepped, settled = 1, active, done
    else:  # an owed update's step leaves the environment and the episode's counters be
        done, tick, stepped = done & ~owing, (~owing).astype(jnp.int32), active & ~owing
        env_state, obs = jax.tree.map(lambda old, new: jnp.where(owing, old, new),
                                      (c.env_state, c.obs), (env_state, obs))
        r_t = jnp.where(owing, 0.0, r_t)
        settled = (done | owing) & ~loop.owes(agent_state)  # the episode's updates all made
        action = jnp.where(settled | ~(done | owing),
                           rule.carry(policy, agent_state, hparams, obs, done | owing, a_next,
                                      c.action, u), c.action)

    ended = done & active
    episode_return = c.episode_return + r_t
    episodes = c.episodes + ended.astype(jnp.int32)
    carry = c._replace(
        agent=agent_state, env_state=env_state, obs=obs, action=action, episodes=episodes,
        t=jnp.where(done, 0, c.t + tick),
        steps=c.steps + stepped.astype(jnp.int32),
        episode_return=jnp.where(done, 0.0, episode_return),
        snapshots=_snapshot(loop, c.snapshots, agent_state.w, settled & active, episodes))
    return carry, pack_episode_end(ended, c.t + 1, truncated, episode_return)


def _snapshot(loop: _Loop, snapshots, w, ended: Array, episodes: Array):
    """``snapshots`` with ``w`` written at the slot of ``episodes`` if an episode just ended
    there (a write past the end, dropped, otherwise)."""
    if not loop.snapshot_episodes:
        return snapshots
    snapshot_at = jnp.asarray(loop.snapshot_episodes, jnp.int32)
    hit = jnp.argmax(snapshot_at == episodes)
    hit = jnp.where(ended & (snapshot_at[hit] == episodes), hit, len(loop.snapshot_episodes))
    return jax.tree.map(lambda s, x: s.at[hit].set(x, mode="drop"), snapshots, w)


def pack_episode_end(ended: Array, length: Array, truncated: Array,
                     episode_return: Array) -> Array:
    """One int32 row ``[4]`` per step: ended, length, truncated, the return's float32 bits.

    The block's loop then writes one array per step instead of four, and every
    write costs a kernel on CPU; :func:`unpack_episode_ends` reverses it.
    """
    return jnp.stack([ended.astype(jnp.int32), length, truncated.astype(jnp.int32),
                      jax.lax.bitcast_convert_type(episode_return.astype(jnp.float32), jnp.int32)])


def unpack_episode_ends(rows: Array) -> tuple[Array, Array, Array, Array]:
    """``rows`` ``[steps, 4]`` of :func:`pack_episode_end` -> (ended, length, truncated, return)."""
    return (rows[:, 0] == 1, rows[:, 1], rows[:, 2] == 1,
            jax.lax.bitcast_convert_type(rows[:, 3], jnp.float32))


def _block(loop: _Loop, c: ControlCarry, hparams) -> ControlCarry:
    """One program step: ``block_steps`` environment steps on uniforms drawn at once, then
    the block's episode records written by one scatter each."""
    step_noise = len(loop.rule.uniforms) * loop.act_size + transition_noise_size(loop.env)
    key, key_noise = jax.random.split(c.key)
    noise = jax.random.uniform(key_noise, (loop.block_steps, step_noise))
    first = c.episodes
    running = jnp.bool_(True) if loop.stop is None else ~loop.stop(c)
    c, rows = jax.lax.scan(lambda c, u: _env_step(loop, c, hparams, u, running), c, noise)
    ended, length, truncated, episode_return = unpack_episode_ends(rows)
    # One scatter per block, not per step (scatters dominate a step's cost on CPU):
    # the block's i-th episode end goes to slot first + i; other steps are dropped.
    slot = jnp.where(ended, first + jnp.cumsum(ended) - 1, loop.num_episodes)
    return c._replace(
        key=key,
        lengths=c.lengths.at[slot].set(length, mode="drop"),
        returns=c.returns.at[slot].set(episode_return, mode="drop"),
        truncated=c.truncated.at[slot].set(truncated, mode="drop"))


def _log(c: ControlCarry, hparams) -> dict[str, Array]:
    del hparams
    return {"episodes": c.episodes, "steps": c.steps,
            "truncated_episodes": jnp.sum(c.truncated, dtype=jnp.int32)}
