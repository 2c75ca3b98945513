"""The DQN training loop as a runner :class:`~rlfa.types.Program`, for one seed.

One program step is one *train step*: ``train_frequency`` environment steps
(``train_frequency / num_envs`` steps of all ``num_envs`` environments at once,
each transition written to the replay buffer with its pre-reset next
observation), then ``gradient_steps`` updates on mini-batches, then the step
counter moves on and the target network follows
(:func:`rlfa.control.target_network.update_target`).
The warm-up (uniformly random actions filling the buffer) runs in ``init``, so
the compiled loop has no branch on "learning started yet?": under ``vmap`` such
a ``lax.cond`` becomes a ``select`` that computes the update anyway.

``log`` runs a greedy evaluation from ``DQNCarry.eval_key`` folded with the
step counter, a key stream training never touches, so evaluating more or less
often does not change training.

Every ``lax.scan`` here takes one key and folds in the iteration index
(``jax.random.fold_in``) instead of scanning over an array of split keys:
under the runner's ``vmap`` a scanned key array is transposed, which
``jax.debug_key_reuse`` counts as a use, so the program could not be checked.

:func:`rlfa.runner.run` vmaps the program over seeds and shards them over devices.
:func:`make_program` builds it from named pieces (:func:`build_parts`,
:func:`make_init`, :func:`make_step` with a :data:`Learn`, :func:`make_log`,
put together by :func:`assemble`), so a variant (a benchmark that acts without
learning, say) swaps one piece and keeps the rest.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from rlfa import envs, replay
from rlfa.control.dqn.agent import DQNAgent, DQNState, make_agent
from rlfa.control.dqn.config import DQNConfig, DQNHParams
from rlfa.control.evaluation import greedy_returns
from rlfa.types import Program, Transition


class DQNCarry(NamedTuple):
    """One seed's whole training state.

    Attributes:
      agent: the agent's state (network, target, optimizer, step counter).
      buffer: the replay state (``None`` without replay).
      env_state: ``num_envs`` environment states.
      obs: ``[num_envs, *obs_shape]``, the observations to act on next.
      episode_return: ``[num_envs]``, return so far of each running episode.
      last_return: ``[num_envs]``, return of each environment's last finished
        episode (NaN until one finishes).
      loss: float ``[]``, the last update's loss.
      key: the training key stream.
      eval_key: the evaluation key stream (never split by training).
      recent: the last ``train_return_window`` finished episodes' returns
        (:class:`RecentReturns`; ``None`` when not tracked).
    """

    agent: DQNState
    buffer: Any
    env_state: Any
    obs: jax.Array
    episode_return: jax.Array
    last_return: jax.Array
    loss: jax.Array
    key: jax.Array
    eval_key: jax.Array
    recent: Any = None


class RecentReturns(NamedTuple):
    """A ring of the returns of a seed's last finished training episodes.

    Attributes:
      returns: float32 ``[window]``, NaN in slots no episode has filled yet.
      count: int32 ``[]``, training episodes finished so far (the next slot is
        ``count % window``).
    """

    returns: jax.Array
    count: jax.Array


def record_returns(recent: RecentReturns, done: jax.Array, ret: jax.Array) -> RecentReturns:
    """``recent`` with the returns ``ret [n]`` of the environments that just finished
    (``done [n]``) written in environment order (at most ``window`` of them per call)."""
    window = recent.returns.shape[0]
    slot = (recent.count + jnp.cumsum(done) - 1) % window
    returns = recent.returns.at[jnp.where(done, slot, window)].set(ret, mode="drop")
    return RecentReturns(returns, recent.count + done.sum(dtype=jnp.int32))


class DQNSetup(NamedTuple):
    """What :func:`make_program` (or :func:`assemble`) built, for reports and tests.

    Attributes:
      program: the runner program.
      agent: the agent's functions.
      replay: the replay buffer's functions (``None`` without replay).
      replay_nbytes: bytes of one seed's replay storage (0 without replay).
      env, env_params: the environment.
      eval_max_steps: the greedy evaluation's step budget.
    """

    program: Program
    agent: DQNAgent
    replay: replay.Replay | None
    replay_nbytes: int
    env: Any
    env_params: Any
    eval_max_steps: int


def storage_dtype(config: DQNConfig, obs_dtype) -> np.dtype:
    """MinAtar frames are binary: stored as bool (a quarter of float32's memory), gymnax's
    (``Breakout-MinAtar``) and rlfa's (``Breakout-MinAtar-paper``, ``-gymnax``) alike."""
    return np.dtype(bool) if "MinAtar" in config.env.split("-") else np.dtype(obs_dtype)


def plan(config: DQNConfig, total_steps: int, num_logs: int) -> tuple[int, np.ndarray]:
    """Split a budget of environment steps into the runner's logged points.

    Returns:
      ``(steps_per_log, env_steps)``: program steps between logged points, and
      the environment steps done at each of the ``num_logs`` points (the warm-up
      included). The budget is rounded up to fill whole logged points.

    Raises:
      ValueError: the budget does not exceed the warm-up.
    """
    if total_steps <= config.warmup_steps:
        raise ValueError(f"total_steps={total_steps} is invalid: must exceed warmup_steps="
                         f"{config.warmup_steps}.")
    train_steps = math.ceil((total_steps - config.warmup_steps) / config.train_frequency)
    steps_per_log = math.ceil(train_steps / num_logs)
    env_steps = config.warmup_steps + config.train_frequency * steps_per_log * np.arange(
        1, num_logs + 1)
    return steps_per_log, env_steps


class DQNParts(NamedTuple):
    """What the program's pieces share, built once per config by :func:`build_parts`.

    Attributes:
      agent: the agent's functions.
      buffer: the replay buffer's functions (``None`` without replay).
      store: whether acting writes its transitions to ``buffer``.
      item: one stored transition's shapes and dtypes.
      env, env_params: the environment.
      obs_dtype: observations as stored (see :func:`storage_dtype`).
      num_actions: the environment's action count.
      eval_max_steps: the greedy evaluation's step budget.
    """

    agent: DQNAgent
    buffer: replay.Replay | None
    store: bool
    item: Transition
    env: Any
    env_params: Any
    obs_dtype: np.dtype
    num_actions: int
    eval_max_steps: int


def build_parts(config: DQNConfig, store: bool = True) -> DQNParts:
    """The environment, agent and replay buffer of ``config``; ``store=False`` keeps the
    buffer out of the loop (a benchmark's acting-only variant).

    Raises:
      ValueError: the network cannot take the observations (refused earlier, by
        :class:`DQNConfig`, for any environment it knows).
    """
    env, env_params = envs.make(config.env)
    obs_space = env.observation_space(env_params)
    obs_shape, obs_dtype = tuple(obs_space.shape), storage_dtype(config, obs_space.dtype)
    agent = make_agent(config, obs_shape, env.num_actions)
    buffer = (replay.make(config.buffer_capacity, config.batch_size, config.replay_impl)
              if config.replay else None)
    item = Transition(jax.ShapeDtypeStruct(obs_shape, obs_dtype),
                      jax.ShapeDtypeStruct((), jnp.int32), jax.ShapeDtypeStruct((), jnp.float32),
                      jax.ShapeDtypeStruct((), jnp.bool_), jax.ShapeDtypeStruct((), jnp.bool_),
                      jax.ShapeDtypeStruct(obs_shape, obs_dtype))
    eval_max_steps = config.eval_max_steps or int(env_params.max_steps_in_episode)
    return DQNParts(agent, buffer, store and buffer is not None, item, env, env_params, obs_dtype,
                    env.num_actions, eval_max_steps)


def make_env_step(config: DQNConfig, parts: DQNParts) -> Callable:
    """``(carry, actions [n], key) -> (carry, transitions [n])``: step every environment
    once, write the transitions to the buffer (if stored) and track episode returns."""
    n, env_params, obs_dtype, buffer = (config.num_envs, parts.env_params, parts.obs_dtype,
                                        parts.buffer)
    step_envs = jax.vmap(parts.env.step, (0, 0, 0, None))

    def env_step(carry: DQNCarry, actions: jax.Array, key: jax.Array):
        obs, env_state, r, term, trunc, info = step_envs(
            jax.random.split(key, n), carry.env_state, actions, env_params)
        transitions = Transition(carry.obs.astype(obs_dtype), actions, r, term, trunc,
                                 info["final_observation"].astype(obs_dtype))
        done = term | trunc
        ret = carry.episode_return + r
        if carry.recent is not None:
            carry = carry._replace(recent=record_returns(carry.recent, done, ret))
        carry = carry._replace(
            env_state=env_state, obs=obs,
            buffer=buffer.add_batch(carry.buffer, transitions) if parts.store else carry.buffer,
            episode_return=jnp.where(done, 0.0, ret),
            last_return=jnp.where(done, ret, carry.last_return))
        return carry, transitions

    return env_step


def make_init(config: DQNConfig, parts: DQNParts, env_step: Callable) -> Callable:
    """``(key, hparams) -> DQNCarry``: reset the environments, then the warm-up (uniformly
    random actions filling the buffer), so the compiled loop has no "learning yet?" branch."""
    n, env, agent = config.num_envs, parts.env, parts.agent

    def init(key: jax.Array, hp: DQNHParams) -> DQNCarry:
        net_key, reset_key, warm_key, train_key, eval_key = jax.random.split(key, 5)
        obs, env_state = jax.vmap(env.reset, (0, None))(jax.random.split(reset_key, n),
                                                        parts.env_params)
        carry = DQNCarry(agent.init(net_key, obs[0]),
                         parts.buffer.init(parts.item) if parts.store else None,
                         env_state, obs, jnp.zeros(n), jnp.full(n, jnp.nan), jnp.float32(jnp.nan),
                         train_key, eval_key)
        if config.train_return_window:
            carry = carry._replace(recent=RecentReturns(
                jnp.full(config.train_return_window, jnp.nan), jnp.int32(0)))
        warm = config.warmup_steps // n
        if warm:
            action_key, step_key = jax.random.split(warm_key)
            actions = jax.random.randint(action_key, (warm, n), 0, parts.num_actions, jnp.int32)

            def warm_step(c, xs):
                a, i = xs
                return env_step(c, a, jax.random.fold_in(step_key, i))

            carry, _ = jax.lax.scan(warm_step, carry, (actions, jnp.arange(warm)))
            carry = carry._replace(agent=agent.advance(carry.agent, hp, config.warmup_steps))
        return carry

    return init


def make_collect(config: DQNConfig, parts: DQNParts, env_step: Callable) -> Callable:
    """``(carry, hparams, act_key, env_key) -> (carry, fresh)``: ``train_frequency``
    environment steps, epsilon-greedy; ``fresh``: their transitions ``[train_frequency]``."""
    vec_steps, agent = config.train_frequency // config.num_envs, parts.agent

    def collect(carry: DQNCarry, hp: DQNHParams, act_key: jax.Array, env_key: jax.Array):
        def act_and_step(c, act_k, env_k):
            return env_step(c, agent.act(c.agent, hp, c.obs, act_k), env_k)

        # Each fold_in is a threefry call in the hot loop: none where one key suffices.
        if vec_steps == 1:
            return act_and_step(carry, act_key, env_key)
        carry, fresh = jax.lax.scan(
            lambda c, i: act_and_step(c, jax.random.fold_in(act_key, i),
                                      jax.random.fold_in(env_key, i)),
            carry, jnp.arange(vec_steps))
        return carry, jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), fresh)

    return collect


Learn = Callable[[DQNState, jax.Array, Any, Transition, jax.Array, DQNHParams],
                 tuple[DQNState, jax.Array]]
"""A train step's learning: ``(agent_state, loss, buffer_state, fresh, key, hparams) ->
(agent_state, loss)``, ``fresh`` the transitions just collected, ``loss`` the last one."""


def repeat_updates(config: DQNConfig, buffer: replay.Replay | None, update: Callable) -> Learn:
    """``gradient_steps`` calls of ``update: (agent_state, hparams, batch) -> (agent_state,
    loss)``, each on a batch freshly sampled from ``buffer`` (its own key) or, without
    replay, on the newest transitions."""

    def learn(agent_state, loss, buffer_state, fresh, key, hp):
        def one(state_and_loss, k):
            batch = buffer.sample(buffer_state, k) if buffer else fresh
            return update(state_and_loss[0], hp, batch), None

        if config.gradient_steps == 1:
            (agent_state, loss), _ = one((agent_state, loss), key)
        else:
            (agent_state, loss), _ = jax.lax.scan(
                lambda c, i: one(c, jax.random.fold_in(key, i)),
                (agent_state, loss), jnp.arange(config.gradient_steps))
        return agent_state, loss

    return learn


def gradient_updates(config: DQNConfig, parts: DQNParts) -> Learn:
    """DQN's learning: ``gradient_steps`` updates of the agent, keeping the last loss."""

    def update(agent_state, hp, batch):
        agent_state, metrics = parts.agent.update(agent_state, hp, batch)
        return agent_state, metrics["loss"]

    return repeat_updates(config, parts.buffer, update)


def no_learning(agent_state: DQNState, loss: jax.Array, *_) -> tuple[DQNState, jax.Array]:
    """A :data:`Learn` that does nothing (a benchmark's acting-only variant)."""
    return agent_state, loss


def make_step(config: DQNConfig, parts: DQNParts, env_step: Callable, learn: Learn) -> Callable:
    """``(carry, hparams) -> carry``: one train step, i.e. collect, learn, then count the
    environment steps (and let the target network follow)."""
    collect = make_collect(config, parts, env_step)

    def step(carry: DQNCarry, hp: DQNHParams) -> DQNCarry:
        key, act_key, env_key, sample_key = jax.random.split(carry.key, 4)
        carry, fresh = collect(carry._replace(key=key), hp, act_key, env_key)
        agent_state, loss = learn(carry.agent, carry.loss, carry.buffer, fresh, sample_key, hp)
        agent_state = parts.agent.advance(agent_state, hp, config.train_frequency)
        return carry._replace(agent=agent_state, loss=loss)

    return step


def make_log(config: DQNConfig, parts: DQNParts) -> Callable:
    """``(carry, hparams) -> metrics``: the counters, the last loss, the training return
    (with ``train_return_window``, also the mean over the last finished episodes and their
    count) and, with ``num_eval_episodes``, a greedy evaluation on its own key stream."""
    agent = parts.agent

    def log(carry: DQNCarry, hp: DQNHParams) -> dict[str, jax.Array]:
        metrics = {"env_steps": carry.agent.steps, "epsilon": agent.epsilon(carry.agent, hp),
                   "loss": carry.loss, "train_return": jnp.nanmean(carry.last_return)}
        if carry.recent is not None:
            metrics.update(recent_train_return=jnp.nanmean(carry.recent.returns),
                           train_episodes=carry.recent.count)
        if config.num_eval_episodes:
            def policy(obs):
                return jnp.argmax(agent.q_values(carry.agent.params, obs), axis=-1)

            returns, valid = greedy_returns(
                parts.env, parts.env_params, policy,
                jax.random.fold_in(carry.eval_key, carry.agent.steps),
                config.num_eval_episodes, parts.eval_max_steps)
            metrics.update(eval_return=returns, eval_valid=valid)
        return metrics

    return log


def assemble(config: DQNConfig, parts: DQNParts, learn: Learn) -> DQNSetup:
    """The runner program of ``config`` from its parts, learning with ``learn``."""
    env_step = make_env_step(config, parts)
    program = Program(make_init(config, parts, env_step),
                      make_step(config, parts, env_step, learn), make_log(config, parts),
                      weights=lambda carry: carry.agent.params)
    nbytes = parts.buffer.nbytes(parts.item) if parts.store else 0
    return DQNSetup(program, parts.agent, parts.buffer, nbytes, parts.env, parts.env_params,
                    parts.eval_max_steps)


def make_program(config: DQNConfig) -> DQNSetup:
    """Build the training program for ``config`` (no compilation happens here).

    Raises:
      ValueError: the network cannot take the environment's observations (an environment
        or network DQN cannot use is refused earlier, by :class:`DQNConfig`).
    """
    parts = build_parts(config)
    return assemble(config, parts, gradient_updates(config, parts))
