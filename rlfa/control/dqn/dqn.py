"""Deep Q-learning (Mnih et al. 2015, "Human-level control through deep reinforcement
learning"), top to bottom: the agent's state, the loss of one transition, acting, and the
training step a runner :class:`~rlfa.types.Program` repeats for one seed.

One agent covers the ladder from online Q-learning with a neural network to DQN,
with static switches of :class:`~rlfa.control.dqn.config.DQNConfig` (see
:mod:`rlfa.control.dqn.ladder`): ``replay`` (learn from mini-batches of a replay
buffer, or from the newest transitions), ``target_net`` (bootstrap from a target
network, or from the online one), ``huber`` and ``double``.

A train step (:func:`make_program`'s ``step``) is ``train_frequency`` environment
steps (all ``num_envs`` environments at once, each transition stored with its
pre-reset next observation), then ``gradient_steps`` semi-gradient updates (S&B
§9.3, §10.1) on freshly sampled mini-batches, then the step counter moves on and
the target network follows (:func:`rlfa.control.target_network.update_target`).
Every count is in environment steps summed over a seed's environments, on the one
counter ``DQNState.steps``. The warm-up (uniformly random actions filling the
buffer) runs in ``init``, so the compiled loop has no "learning yet?" branch:
under ``vmap`` a ``lax.cond`` becomes a ``select`` that computes the update anyway.

Keys: every ``lax.scan`` takes one key and folds in the iteration index instead of
scanning over split keys (under ``vmap`` a scanned key array is transposed, which
``jax.debug_key_reuse`` counts as a use). ``log``'s greedy evaluation has its own key
stream, folded with the step counter, so evaluating more or less often does not
change training.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax

from rlfa import envs, nets, replay, targets
from rlfa.control.dqn.config import DQNConfig, DQNHParams
from rlfa.control.evaluation import greedy_returns
from rlfa.control.policies import epsilon_greedy_from_noise, noise_size
from rlfa.control.schedules import linear_schedule
from rlfa.control.target_network import update_target
from rlfa.types import Program, Transition

PyTree = Any


class DQNState(NamedTuple):
    """The agent's state: online ``params``, ``target_params`` (None without a target
    network), the optax ``opt_state`` and ``steps``, int32 ``[]``, the environment steps
    taken: THE global counter of the run."""

    params: PyTree
    target_params: PyTree
    opt_state: PyTree
    steps: jax.Array


class DQNCarry(NamedTuple):
    """One seed's whole training state.

    Attributes:
      agent: :class:`DQNState`.
      buffer: the replay state (None without replay).
      env_state, obs: ``num_envs`` environment states and the observations
        ``[num_envs, *obs_shape]`` to act on next.
      episode_return: ``[num_envs]``, the return so far of each running episode.
      last_return: ``[num_envs]``, the return of each environment's last finished
        episode (NaN until one finishes).
      loss: float ``[]``, the last update's loss.
      key, eval_key: the training key stream, and the evaluation's (never split by training).
      recent: with ``train_return_window``, the last finished training episodes'
        returns (:class:`RecentReturns`; None when not tracked).
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
    recent: RecentReturns | None = None


class RecentReturns(NamedTuple):
    """A ring of the returns of a seed's last finished training episodes: ``returns``,
    float32 ``[window]`` (NaN in slots no episode has filled yet), and ``count``, int32
    ``[]``, the training episodes finished so far (the next slot is ``count % window``)."""

    returns: jax.Array
    count: jax.Array


def record_returns(recent: RecentReturns, done: jax.Array, ret: jax.Array) -> RecentReturns:
    """``recent`` with the returns ``ret [n]`` of the environments that just finished
    (``done [n]``) written in environment order (at most ``window`` of them per call)."""
    window = recent.returns.shape[0]
    slot = (recent.count + jnp.cumsum(done) - 1) % window
    returns = recent.returns.at[jnp.where(done, slot, window)].set(ret, mode="drop")
    return RecentReturns(returns, recent.count + done.sum(dtype=jnp.int32))


class DQNAgent(NamedTuple):
    """The agent's pure functions (:class:`rlfa.types.Agent`'s, plus three).

    Attributes:
      init: ``(key, obs_example) -> DQNState``.
      act: ``(state, hparams, obs [n, *obs_shape], key) -> actions int32 [n]``,
        epsilon-greedy with epsilon from the schedule at ``state.steps``.
      update: ``(state, hparams, batch: Transition [B]) -> (state, metrics)``: one step.
      advance: ``(state, hparams, num_steps) -> state``: count environment steps and
        update the target network for every multiple of ``target_period`` passed.
      q_values: ``(params, obs [n, *obs_shape]) -> [n, num_actions]``.
      epsilon: ``(state, hparams) -> float []``, the current exploration rate.
    """

    init: Callable
    act: Callable
    update: Callable
    advance: Callable
    q_values: Callable
    epsilon: Callable


class DQN(NamedTuple):
    """What :func:`make_program` builds: the runner ``program``, the ``agent`` and
    ``replay_nbytes``, one seed's replay storage in bytes (0 without replay)."""

    program: Program
    agent: DQNAgent
    replay_nbytes: int


def bootstrap_target(gamma: jax.Array, r_t: jax.Array, terminated_t: jax.Array,
                     q_t: jax.Array, q_t_selector: jax.Array | None) -> jax.Array:
    """One transition's target, float ``[]``: ``y = r + discount max_b q_t[b]`` (Q-learning,
    S&B eq. 6.8), or with Double DQN (van Hasselt et al. 2016) ``r + discount
    q_t[argmax_b q_t_selector[b]]``; ``discount = gamma (1 - terminated)``, so a
    truncation still bootstraps from the final observation.

    ``q_t``: ``[num_actions]``, the evaluating network's values at ``s'`` (the target network,
    or the online one without); ``q_t_selector``: the online network's, or None."""
    discount_t = targets.discount(gamma, terminated_t)
    if q_t_selector is None:
        return targets.q_learning_target(r_t, discount_t, q_t)
    return targets.double_q_learning_target(r_t, discount_t, q_t, q_t_selector)


def transition_loss(q_tm1: jax.Array, a_tm1: jax.Array, y: jax.Array,
                    huber: bool) -> tuple[jax.Array, jax.Array]:
    """One transition's loss ``loss(y - Q(s, a))`` and ``Q(s, a)``, floats ``[]``: Huber
    (gradient clipped to +-1) or ``0.5 error**2``, with ``y`` held fixed, so its gradient
    is the semi-gradient step. ``q_tm1``: ``[num_actions]``, the online values at ``s``."""
    chex.assert_rank([q_tm1, a_tm1, y], [1, 0, 0])
    # Q(s, a) as a gather, like the batched form's: indexing compiles to another gather,
    # which moves the reported loss by an ulp.
    q_taken = jnp.take_along_axis(q_tm1, a_tm1[None], axis=0)[0]
    error = y - q_taken
    return (targets.huber_loss(error) if huber else targets.squared_loss(error)), q_taken


def update_direction(config: DQNConfig) -> optax.GradientTransformation:
    """The optimizer without its step size (the traced learning rate is applied in
    ``update``): optional global-norm clipping, then Adam's direction, centered RMSProp's
    ``g / (sqrt(E[g^2] - E[g]^2) + eps)``, PyTorch's form (optax's default
    ``eps_in_sqrt=True`` would be ``sqrt(... + eps)``, another optimizer at eps 0.01), or
    DeepMind's ``G / sqrt(E[G^2] - E[G]^2 + eps)`` of the summed gradient ``G``."""
    clip = [optax.clip_by_global_norm(config.max_grad_norm)] if config.max_grad_norm else []
    if config.optimizer == "deepmind_rmsprop":
        # DeepMind's gradient is the minibatch's sum (their network:backward of each
        # transition's clipped error), the mean loss's times batch_size; eps under the root.
        return optax.chain(*clip, optax.scale(float(config.batch_size)), optax.scale_by_stddev(
            decay=config.rmsprop_decay, eps=config.rmsprop_eps, eps_in_sqrt=True))
    if config.optimizer == "centered_rmsprop":
        return optax.chain(*clip, optax.scale_by_stddev(
            decay=config.rmsprop_decay, eps=config.rmsprop_eps, eps_in_sqrt=False))
    return optax.chain(*clip, optax.scale_by_adam())


def make_agent(config: DQNConfig, obs_shape: tuple[int, ...], num_actions: int) -> DQNAgent:
    """The agent for one observation shape and action count.

    Raises:
      ValueError: the network cannot take ``obs_shape``.
    """
    network = nets.q_network(obs_shape, num_actions, config.network, config.hidden)
    optimizer, q_values = update_direction(config), network.apply
    # The MinAtar paper's decay starts after its random frames (the warm-up ends at 1.0).
    decay_start = config.warmup_steps if config.epsilon_after_warmup else 0

    def init(key: jax.Array, obs_example: jax.Array) -> DQNState:
        params = network.init(key, jnp.asarray(obs_example)[None])
        target = params if config.target_net else None
        return DQNState(params, target, optimizer.init(params), jnp.int32(0))

    def epsilon(state: DQNState, hp: DQNHParams) -> jax.Array:
        steps = state.steps - decay_start if decay_start else state.steps
        return linear_schedule(steps, hp.epsilon_start, hp.epsilon_end,
                               config.epsilon_decay_steps)

    def act(state: DQNState, hp: DQNHParams, obs: jax.Array, key: jax.Array) -> jax.Array:
        q = q_values(state.params, obs)
        noise = jax.random.uniform(key, (q.shape[0], noise_size(num_actions)))
        return jax.vmap(epsilon_greedy_from_noise, (0, None, 0))(q, epsilon(state, hp), noise)

    def loss(params: PyTree, batch: Transition, y: jax.Array):
        """The mean over the batch of :func:`transition_loss`, and the mean Q(s, a)."""
        losses, q_taken = jax.vmap(functools.partial(transition_loss, huber=config.huber))(
            q_values(params, batch.obs_tm1), batch.a_tm1.astype(jnp.int32), y)
        return jnp.mean(losses), jnp.mean(q_taken)

    def update(state: DQNState, hp: DQNHParams, batch: Transition):
        q_t = q_values(state.target_params if config.target_net else state.params, batch.obs_t)
        selector = q_values(state.params, batch.obs_t) if config.double else None
        y = jax.lax.stop_gradient(jax.vmap(bootstrap_target, (None, 0, 0, 0, (
            None if selector is None else 0)))(hp.gamma, batch.r_t, batch.terminated_t, q_t,
                                               selector))
        (mean_loss, q_mean), grads = jax.value_and_grad(loss, has_aux=True)(
            state.params, batch, y)
        direction, opt_state = optimizer.update(grads, state.opt_state, state.params)
        lr = hp.learning_rate
        if config.learning_rate_decay_steps:
            lr = linear_schedule(state.steps, lr, 0.0, config.learning_rate_decay_steps)
        params = jax.tree.map(lambda p, d: p - lr * d, state.params, direction)
        metrics = {"loss": mean_loss, "q_mean": q_mean, "grad_norm": optax.tree.norm(grads)}
        return state._replace(params=params, opt_state=opt_state), metrics

    def advance(state: DQNState, hp: DQNHParams, num_steps: int) -> DQNState:
        after, target = state.steps + num_steps, state.target_params
        if config.target_net:
            target = update_target(state.params, target, state.steps, after,
                                   config.target_period, hp.tau)
        return state._replace(target_params=target, steps=after)

    return DQNAgent(init, act, update, advance, q_values, epsilon)


def storage_dtype(config: DQNConfig, obs_dtype) -> np.dtype:
    """MinAtar frames are binary: stored as bool (a quarter of float32's memory)."""
    return np.dtype(bool) if "MinAtar" in config.env.split("-") else np.dtype(obs_dtype)


def make_program(config: DQNConfig, agent: DQNAgent | None = None) -> DQN:
    """The training program of ``config`` for one seed (nothing compiles here).

    ``agent``: the agent to train, by default :func:`make_agent`'s (another with the same
    functions, a different loss say, runs in the same loop).

    Raises:
      ValueError: the network cannot take the environment's observations (an environment
        or network DQN cannot use is refused earlier, by :class:`DQNConfig`).
    """
    n = config.num_envs
    env, env_params = envs.make(config.env)
    space = env.observation_space(env_params)
    obs_shape, obs_dtype = tuple(space.shape), storage_dtype(config, space.dtype)
    agent = agent or make_agent(config, obs_shape, env.num_actions)
    buffer = (replay.make(config.buffer_capacity, config.batch_size, config.replay_impl)
              if config.replay else None)
    item = Transition(jax.ShapeDtypeStruct(obs_shape, obs_dtype),
                      jax.ShapeDtypeStruct((), jnp.int32), jax.ShapeDtypeStruct((), jnp.float32),
                      jax.ShapeDtypeStruct((), jnp.bool_), jax.ShapeDtypeStruct((), jnp.bool_),
                      jax.ShapeDtypeStruct(obs_shape, obs_dtype))
    eval_max_steps = config.eval_max_steps or int(env_params.max_steps_in_episode)
    step_envs = jax.vmap(env.step, (0, 0, 0, None))

    def env_step(carry: DQNCarry, actions: jax.Array, key: jax.Array):
        """Step every environment once, store the transitions, track episode returns."""
        obs, env_state, r, term, trunc, info = step_envs(
            jax.random.split(key, n), carry.env_state, actions, env_params)
        transitions = Transition(carry.obs.astype(obs_dtype), actions, r, term, trunc,
                                 info["final_observation"].astype(obs_dtype))
        done, ret = term | trunc, carry.episode_return + r
        if carry.recent is not None:
            carry = carry._replace(recent=record_returns(carry.recent, done, ret))
        return carry._replace(
            env_state=env_state, obs=obs,
            buffer=buffer.add_batch(carry.buffer, transitions) if buffer else None,
            episode_return=jnp.where(done, 0.0, ret),
            last_return=jnp.where(done, ret, carry.last_return)), transitions

    def init(key: jax.Array, hp: DQNHParams) -> DQNCarry:
        net_key, reset_key, warm_key, train_key, eval_key = jax.random.split(key, 5)
        obs, env_state = jax.vmap(env.reset, (0, None))(jax.random.split(reset_key, n),
                                                        env_params)
        recent = (RecentReturns(jnp.full(config.train_return_window, jnp.nan), jnp.int32(0))
                  if config.train_return_window else None)
        carry = DQNCarry(agent.init(net_key, obs[0]), buffer.init(item) if buffer else None,
                         env_state, obs, jnp.zeros(n), jnp.full(n, jnp.nan), jnp.float32(jnp.nan),
                         train_key, eval_key, recent)
        warm = config.warmup_steps // n
        if warm:  # uniformly random actions fill the buffer
            action_key, step_key = jax.random.split(warm_key)
            actions = jax.random.randint(action_key, (warm, n), 0, env.num_actions, jnp.int32)
            carry, _ = jax.lax.scan(lambda c, xs: env_step(c, xs[0], jax.random.fold_in(
                step_key, xs[1])), carry, (actions, jnp.arange(warm)))
            carry = carry._replace(agent=agent.advance(carry.agent, hp, config.warmup_steps))
        return carry

    def collect(carry: DQNCarry, hp: DQNHParams, act_key: jax.Array, env_key: jax.Array):
        """``train_frequency`` environment steps, epsilon-greedy: the carry after them
        and their transitions ``[train_frequency]``."""
        def act_and_step(c, act_k, env_k):
            return env_step(c, agent.act(c.agent, hp, c.obs, act_k), env_k)

        if config.train_frequency == n:  # one step of every environment: no fold_in needed
            return act_and_step(carry, act_key, env_key)
        carry, fresh = jax.lax.scan(
            lambda c, i: act_and_step(c, jax.random.fold_in(act_key, i),
                                      jax.random.fold_in(env_key, i)),
            carry, jnp.arange(config.train_frequency // n))
        return carry, jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), fresh)

    def learn(state: DQNState, loss, buffer_state, fresh: Transition, key: jax.Array, hp):
        """``gradient_steps`` updates, each on a fresh mini-batch (its own key) or, without
        replay, on the newest transitions; returns the state and the last loss."""
        def one(state_and_loss, k):
            batch = buffer.sample(buffer_state, k) if buffer else fresh
            new_state, metrics = agent.update(state_and_loss[0], hp, batch)
            return (new_state, metrics["loss"]), None

        if config.gradient_steps == 1:
            return one((state, loss), key)[0]
        return jax.lax.scan(lambda c, i: one(c, jax.random.fold_in(key, i)), (state, loss),
                            jnp.arange(config.gradient_steps))[0]

    def step(carry: DQNCarry, hp: DQNHParams) -> DQNCarry:
        key, act_key, env_key, sample_key = jax.random.split(carry.key, 4)
        carry, fresh = collect(carry._replace(key=key), hp, act_key, env_key)
        state, loss = learn(carry.agent, carry.loss, carry.buffer, fresh, sample_key, hp)
        return carry._replace(agent=agent.advance(state, hp, config.train_frequency), loss=loss)

    def log(carry: DQNCarry, hp: DQNHParams) -> dict[str, jax.Array]:
        metrics = {"env_steps": carry.agent.steps, "epsilon": agent.epsilon(carry.agent, hp),
                   "loss": carry.loss, "train_return": jnp.nanmean(carry.last_return)}
        if carry.recent is not None:
            metrics.update(recent_train_return=jnp.nanmean(carry.recent.returns),
                           train_episodes=carry.recent.count)
        if config.num_eval_episodes:
            def greedy(obs):
                return jnp.argmax(agent.q_values(carry.agent.params, obs), axis=-1)

            returns, valid = greedy_returns(
                env, env_params, greedy, jax.random.fold_in(carry.eval_key, carry.agent.steps),
                config.num_eval_episodes, eval_max_steps)
            metrics.update(eval_return=returns, eval_valid=valid)
        return metrics

    program = Program(init, step, log, weights=lambda carry: carry.agent.params)
    return DQN(program, agent, buffer.nbytes(item) if buffer else 0)
