"""Deep Q-learning, rung by rung: a Q-network, then replay, then fixed targets, then DQN.

One agent covers the ladder of Mnih et al. (2015), "Human-level control through
deep reinforcement learning", with static switches in :class:`DQNConfig`:

=====================  ==========  ===============  ==========================
rung                   ``replay``  ``target_net``   loss / target
=====================  ==========  ===============  ==========================
online Q-learning, NN  False       False            squared, Q-learning target
+ experience replay    True        False            squared, Q-learning target
+ fixed Q-targets      True        True             squared, Q-learning target
DQN                    True        True             Huber, optionally Double DQN
=====================  ==========  ===============  ==========================

Each update is one semi-gradient step on a mini-batch of the loss of
:mod:`rlfa.control.dqn.loss` (Sutton & Barto §9.3, §10.1), through Adam with
gradient clipping; the target network follows the online one as
:func:`rlfa.control.target_network.update_target` says. Every count is in
environment steps summed over a seed's environments, on the one counter
``DQNState.steps``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from rlfa import nets
from rlfa.control.dqn import loss
from rlfa.control.dqn.config import DQNConfig, DQNHParams
from rlfa.control.policies import epsilon_greedy_from_noise, noise_size
from rlfa.control.schedules import linear_schedule
from rlfa.control.target_network import update_target
from rlfa.types import Transition

PyTree = Any


class DQNState(NamedTuple):
    """The agent's whole state.

    Attributes:
      params: online Q-network parameters.
      target_params: target-network parameters (``None`` without a target network).
      opt_state: optax state (gradient clipping, Adam or RMSProp moments).
      steps: int32 ``[]``, environment steps taken: THE global counter of the run.
    """

    params: PyTree
    target_params: PyTree
    opt_state: PyTree
    steps: jax.Array


class DQNAgent(NamedTuple):
    """Pure functions over :class:`DQNState` (the :class:`rlfa.types.Agent` contract, plus two).

    Attributes:
      init: ``(key, obs_example) -> DQNState``.
      act: ``(state, hparams, obs [n, *obs_shape], key) -> actions int32 [n]``,
        epsilon-greedy with epsilon from the schedule at ``state.steps``.
      update: ``(state, hparams, batch: Transition [B]) -> (state, metrics)``: one
        gradient step.
      advance: ``(state, hparams, num_steps) -> state``: count environment steps
        and update the target network once for every multiple of ``target_period``
        the counter passes.
      q_values: ``(params, obs [n, *obs_shape]) -> [n, num_actions]``.
      epsilon: ``(state, hparams) -> float []``, the current exploration rate.
    """

    init: Callable
    act: Callable
    update: Callable
    advance: Callable
    q_values: Callable
    epsilon: Callable


def update_direction(config: DQNConfig) -> optax.GradientTransformation:
    """The optimizer without its step size (the learning rate is a traced hyperparameter,
    applied in ``update``): optional global-norm clipping, then Adam's direction or
    centered RMSProp's ``g / (sqrt(E[g^2] - E[g]^2) + eps)``, PyTorch's form (optax's
    default ``eps_in_sqrt=True`` would be ``sqrt(... + eps)``, another optimizer at eps 0.01).
    """
    clip = [optax.clip_by_global_norm(config.max_grad_norm)] if config.max_grad_norm else []
    if config.optimizer == "centered_rmsprop":
        return optax.chain(*clip, optax.scale_by_stddev(
            decay=config.rmsprop_decay, eps=config.rmsprop_eps, eps_in_sqrt=False))
    return optax.chain(*clip, optax.scale_by_adam())


def make_agent(config: DQNConfig, obs_shape: tuple[int, ...], num_actions: int) -> DQNAgent:
    """Build the agent for one observation shape and action count.

    Raises:
      ValueError: the network cannot take ``obs_shape``.
    """
    network = nets.q_network(obs_shape, num_actions, config.network, config.hidden)
    optimizer = update_direction(config)
    q_values = network.apply

    def init(key: jax.Array, obs_example: jax.Array) -> DQNState:
        params = network.init(key, jnp.asarray(obs_example)[None])
        target = params if config.target_net else None
        return DQNState(params, target, optimizer.init(params), jnp.int32(0))

    # The MinAtar paper's decay starts after its random frames (warm-up ends at 1.0).
    decay_start = config.warmup_steps if config.epsilon_after_warmup else 0

    def epsilon(state: DQNState, hp: DQNHParams) -> jax.Array:
        steps = state.steps - decay_start if decay_start else state.steps
        return linear_schedule(steps, hp.epsilon_start, hp.epsilon_end,
                               config.epsilon_decay_steps)

    def act(state: DQNState, hp: DQNHParams, obs: jax.Array, key: jax.Array) -> jax.Array:
        q = q_values(state.params, obs)
        noise = jax.random.uniform(key, (q.shape[0], noise_size(num_actions)))
        return jax.vmap(epsilon_greedy_from_noise, (0, None, 0))(q, epsilon(state, hp), noise)

    def bootstrap_targets(state: DQNState, hp: DQNHParams, batch: Transition) -> jax.Array:
        """``y`` per transition ``[B]``, a constant for the gradient."""
        evaluator = state.target_params if config.target_net else state.params
        q_t = q_values(evaluator, batch.obs_t)
        selector = q_values(state.params, batch.obs_t) if config.double else None
        return loss.batch_targets(hp.gamma, batch.r_t, batch.terminated_t, q_t, selector)

    def loss_fn(params: PyTree, batch: Transition, y: jax.Array):
        return loss.batch_loss(q_values(params, batch.obs_tm1), batch.a_tm1, y, config.huber)

    def update(state: DQNState, hp: DQNHParams, batch: Transition):
        y = bootstrap_targets(state, hp, batch)
        (mean_loss, q_mean), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            state.params, batch, y)
        steps, opt_state = optimizer.update(grads, state.opt_state, state.params)
        lr = hp.learning_rate
        if config.learning_rate_decay_steps:
            lr = linear_schedule(state.steps, lr, 0.0, config.learning_rate_decay_steps)
        params = jax.tree.map(lambda p, s: p - lr * s, state.params, steps)
        metrics = {"loss": mean_loss, "q_mean": q_mean, "grad_norm": optax.tree.norm(grads)}
        return state._replace(params=params, opt_state=opt_state), metrics

    def advance(state: DQNState, hp: DQNHParams, num_steps: int) -> DQNState:
        after = state.steps + num_steps
        target = state.target_params
        if config.target_net:
            target = update_target(state.params, target, state.steps, after,
                                   config.target_period, hp.tau)
        return state._replace(target_params=target, steps=after)

    return DQNAgent(init, act, update, advance, q_values, epsilon)
