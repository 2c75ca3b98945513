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

The semi-gradient step (Sutton & Barto §9.3, §10.1) follows the gradient of
``loss(y - Q_theta(s, a))`` with the target ``y = r + discount * max_b Q(s', b)``
held fixed; ``discount = gamma * (1 - terminated)``, so a time-limit truncation
still bootstraps from the final observation. Double DQN (van Hasselt et al.
2016) picks ``argmax_b`` with the online network and evaluates it with the
target network.

Continuous hyperparameters (:class:`DQNHparams`) are traced array leaves, so a
sweep over them compiles once; everything that changes shapes or code paths is
a static field of the frozen :class:`DQNConfig`. Every count is in environment
steps summed over a seed's environments, on the one counter ``DQNState.steps``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from rlfa import nets, targets
from rlfa.config import (
    check_choice,
    check_in_range,
    check_nonnegative_int,
    check_positive,
    check_positive_int,
)
from rlfa.control.policies import epsilon_greedy_from_noise, noise_size
from rlfa.control.schedules import linear_schedule, update_target
from rlfa.types import Transition

PyTree = Any


class DQNHparams(NamedTuple):
    """Hyperparameters that may be swept (float leaves, traced; leading grid axis when stacked).

    Attributes:
      learning_rate: Adam step size.
      gamma: discount in [0, 1].
      epsilon_start: exploration probability at step 0.
      epsilon_end: exploration probability from ``epsilon_decay_steps`` on.
      tau: target-update mix, ``target <- tau * online + (1 - tau) * target`` per update
        (``DQNConfig.target_period``).
    """

    learning_rate: jax.Array
    gamma: jax.Array
    epsilon_start: jax.Array
    epsilon_end: jax.Array
    tau: jax.Array


@dataclasses.dataclass(frozen=True)
class DQNConfig:
    """A DQN run: the environment, the agent's structure, its training loop and hyperparameters."""

    env: str = "CartPole-v1"
    """Environment name: any gymnax environment (CartPole-v1, Acrobot-v1, MountainCar-v0,
    Breakout-MinAtar, ...) or one of rlfa's."""
    network: str = "auto"
    """Q-network: mlp, cnn (MinAtar frames) or auto (picked from the observation shape)."""
    hidden: tuple[int, ...] = (120, 84)
    """Hidden widths of the MLP."""
    replay: bool = True
    """Learn from mini-batches sampled from a replay buffer (False: from the newest transitions)."""
    target_net: bool = True
    """Bootstrap from a separate target network (False: from the online network itself)."""
    double: bool = False
    """Double DQN: select the next action with the online network, evaluate with the target
    (needs target_net)."""
    huber: bool = False
    """Huber loss (gradient clipped to +-1) instead of the squared loss."""
    num_envs: int = 10
    """Environments stepped side by side per seed."""
    buffer_capacity: int = 10_000
    """Replay capacity in transitions."""
    batch_size: int = 128
    """Transitions per gradient update (from the replay buffer)."""
    warmup_steps: int = 10_000
    """Environment steps of uniformly random actions that fill the buffer before learning."""
    train_frequency: int = 10
    """Environment steps between train steps; a multiple of num_envs."""
    gradient_steps: int = 1
    """Gradient updates per train step, each on a freshly sampled batch."""
    target_period: int = 500
    """Environment steps (summed over the num_envs environments) between target-network
    updates. Every update due within a train step is applied at its end, in closed form
    (:func:`rlfa.control.schedules.update_target`), so a period below train_frequency is
    honoured too: target_period=1 with tau=0.005 keeps 0.995**train_frequency of the target."""
    epsilon_decay_steps: int = 250_000
    """Environment steps over which epsilon goes linearly from start to end."""
    learning_rate_decay_steps: int = 0
    """Environment steps over which the learning rate decays linearly to zero (0: constant)."""
    max_grad_norm: float = 10.0
    """Clip each update's gradient to this global norm."""
    learning_rate: float = 2.5e-4
    """Adam step size."""
    gamma: float = 0.99
    """Discount factor in [0, 1]."""
    epsilon_start: float = 1.0
    """Exploration probability at step 0."""
    epsilon_end: float = 0.05
    """Exploration probability after epsilon_decay_steps."""
    tau: float = 1.0
    """Target update mix, per update: 1 is a hard copy every target_period steps, < 1 Polyak
    averaging."""
    num_eval_episodes: int = 10
    """Greedy episodes run at every logged point (0: no evaluation)."""
    eval_max_steps: int = 0
    """Step budget of a greedy evaluation; an episode unfinished by then does not count
    (0: the environment's own episode limit)."""
    replay_impl: str = "flashbax"
    """Replay implementation: flashbax (its item buffer) or rlfa (rlfa.replay.uniform)."""

    def __post_init__(self):
        check_choice("network", self.network, nets.KINDS)
        for i, width in enumerate(self.hidden):
            check_positive_int(f"hidden[{i}]", width)
        self._check_env()
        for name in ("num_envs", "buffer_capacity", "batch_size", "train_frequency",
                     "gradient_steps", "target_period", "epsilon_decay_steps"):
            check_positive_int(name, getattr(self, name))
        for name in ("warmup_steps", "num_eval_episodes", "eval_max_steps",
                     "learning_rate_decay_steps"):
            check_nonnegative_int(name, getattr(self, name))
        check_positive("learning_rate", self.learning_rate)
        check_positive("max_grad_norm", self.max_grad_norm)
        for name in ("gamma", "epsilon_start", "epsilon_end", "tau"):
            check_in_range(name, getattr(self, name), 0.0, 1.0)
        check_choice("replay_impl", self.replay_impl, ("rlfa", "flashbax"))
        for name in ("train_frequency", "warmup_steps"):
            if getattr(self, name) % self.num_envs:
                raise ValueError(f"{name}={getattr(self, name)} is invalid: must be a multiple of"
                                 f" num_envs={self.num_envs} (all environments step together).")
        if self.replay:
            if self.batch_size > self.buffer_capacity:
                raise ValueError(f"batch_size={self.batch_size} is invalid: must be <="
                                 f" buffer_capacity={self.buffer_capacity}.")
            if self.warmup_steps < self.batch_size:
                raise ValueError(f"warmup_steps={self.warmup_steps} is invalid: must be >="
                                 f" batch_size={self.batch_size}, so the first batch is drawn"
                                 " from at least as many transitions.")
            if self.train_frequency > self.buffer_capacity:
                raise ValueError(f"train_frequency={self.train_frequency} is invalid: a train"
                                 f" step's transitions must fit buffer_capacity="
                                 f"{self.buffer_capacity}.")
        if self.double and not self.target_net:
            raise ValueError("double=True is invalid with target_net=False: Double DQN evaluates"
                             " the online network's choice with the target network; set"
                             " target_net=True, or double=False.")

    def _check_env(self) -> None:
        """Refuse, before anything compiles, an environment this agent cannot act in or see."""
        from gymnax.environments import spaces  # gymnax is imported only once a config is built

        from rlfa import envs

        check_choice("env", self.env, envs.names())
        env, env_params = envs.make(self.env)
        space = env.action_space(env_params)
        if not isinstance(space, spaces.Discrete) or space.n < 2:
            raise ValueError(f"env={self.env!r} is invalid for DQN: its action space is {space!r};"
                             " DQN needs a Discrete action space with at least two actions.")
        obs_shape = tuple(env.observation_space(env_params).shape)
        try:
            nets.q_network(obs_shape, space.n, self.network, self.hidden)
        except ValueError as error:
            raise ValueError(f"network={self.network!r} is invalid for env={self.env!r}:"
                             f" {error}") from error

    def hparams(self) -> DQNHparams:
        """This config's continuous hyperparameters as one grid point."""
        return DQNHparams(*(jnp.float32(getattr(self, f)) for f in DQNHparams._fields))


class DQNState(NamedTuple):
    """The agent's whole state.

    Attributes:
      params: online Q-network parameters.
      target_params: target-network parameters (``None`` without a target network).
      opt_state: optax state (gradient clipping, Adam moments).
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


def make_agent(config: DQNConfig, obs_shape: tuple[int, ...], num_actions: int) -> DQNAgent:
    """Build the agent for one observation shape and action count.

    Raises:
      ValueError: the network cannot take ``obs_shape``.
    """
    network = nets.q_network(obs_shape, num_actions, config.network, config.hidden)
    optimizer = optax.chain(optax.clip_by_global_norm(config.max_grad_norm), optax.scale_by_adam())
    q_values = network.apply

    def init(key: jax.Array, obs_example: jax.Array) -> DQNState:
        params = network.init(key, jnp.asarray(obs_example)[None])
        target = params if config.target_net else None
        return DQNState(params, target, optimizer.init(params), jnp.int32(0))

    def epsilon(state: DQNState, hp: DQNHparams) -> jax.Array:
        return linear_schedule(state.steps, hp.epsilon_start, hp.epsilon_end,
                               config.epsilon_decay_steps)

    def act(state: DQNState, hp: DQNHparams, obs: jax.Array, key: jax.Array) -> jax.Array:
        q = q_values(state.params, obs)
        noise = jax.random.uniform(key, (q.shape[0], noise_size(num_actions)))
        return jax.vmap(epsilon_greedy_from_noise, (0, None, 0))(q, epsilon(state, hp), noise)

    def bootstrap_targets(state: DQNState, hp: DQNHparams, batch: Transition) -> jax.Array:
        """``y`` per transition ``[B]``, a constant for the gradient."""
        evaluator = state.target_params if config.target_net else state.params
        q_t = q_values(evaluator, batch.obs_t)
        discount_t = jax.vmap(targets.discount, (None, 0))(hp.gamma, batch.terminated_t)
        if config.double:
            q_t_selector = q_values(state.params, batch.obs_t)
            y = jax.vmap(targets.double_q_learning_target)(batch.r_t, discount_t, q_t, q_t_selector)
        else:
            y = jax.vmap(targets.q_learning_target)(batch.r_t, discount_t, q_t)
        return jax.lax.stop_gradient(y)

    def loss_fn(params: PyTree, batch: Transition, y: jax.Array):
        q_tm1 = q_values(params, batch.obs_tm1)
        q_taken = jnp.take_along_axis(q_tm1, batch.a_tm1[:, None].astype(jnp.int32), axis=1)[:, 0]
        error = y - q_taken
        loss = targets.huber_loss(error) if config.huber else targets.squared_loss(error)
        return jnp.mean(loss), jnp.mean(q_taken)

    def update(state: DQNState, hp: DQNHparams, batch: Transition):
        y = bootstrap_targets(state, hp, batch)
        (loss, q_mean), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params, batch, y)
        steps, opt_state = optimizer.update(grads, state.opt_state, state.params)
        lr = hp.learning_rate
        if config.learning_rate_decay_steps:
            lr = linear_schedule(state.steps, lr, 0.0, config.learning_rate_decay_steps)
        params = jax.tree.map(lambda p, s: p - lr * s, state.params, steps)
        metrics = {"loss": loss, "q_mean": q_mean, "grad_norm": optax.tree.norm(grads)}
        return state._replace(params=params, opt_state=opt_state), metrics

    def advance(state: DQNState, hp: DQNHparams, num_steps: int) -> DQNState:
        after = state.steps + num_steps
        target = state.target_params
        if config.target_net:
            target = update_target(state.params, target, state.steps, after,
                                   config.target_period, hp.tau)
        return state._replace(target_params=target, steps=after)

    return DQNAgent(init, act, update, advance, q_values, epsilon)
