"""PQN: parallelised Q-learning with LayerNorm and Q(lambda) targets (Gallici et al. 2025,
"Simplifying Deep Temporal Difference Learning", ICLR; their code: purejaxql), top to
bottom: the settings, the targets, and the training step a runner
:class:`~rlfa.types.Program` repeats for one seed.

Online Q-learning with a neural network bootstraps from the network it is changing and
learns from correlated consecutive transitions (S&B §11.3's deadly triad, the ladder's
first rung). DQN breaks both with a replay buffer and a target network. PQN keeps the
learning online and removes both again:

* **LayerNorm** after each hidden layer keeps the semi-gradient update stable without a
  target network (their Sec. 4 bounds the off-policy TD's instability by it);
* **N environments stepped side by side** decorrelate a batch as a replay buffer would;
* **Q(lambda) targets** over a rollout of T steps propagate rewards faster than one-step
  targets do (Peng & Williams' Q(lambda), :func:`q_lambda_targets`).

A train step (:func:`make_program`'s ``step``) is one rollout of ``rollout_steps`` steps of
all ``num_envs`` environments with epsilon-greedy actions, the targets computed backwards
over it from the same parameters that chose its actions, then ``num_epochs`` passes over
the rollout in ``num_minibatches`` shuffled minibatches of the squared loss, each one
RAdam step (global-norm clipped). Epsilon and the learning rate decay linearly; no replay,
no target network. Every count is in environment steps summed over the environments,
the one counter ``PQNCarry.steps``.

Keys: each scan folds its iteration index into one key (as :mod:`rlfa.control.dqn.dqn`'s);
the greedy evaluation in ``log`` has its own key stream.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Annotated, Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
import tyro

from rlfa import envs, nets
from rlfa import hparams as hp
from rlfa.config import check_choice, check_nonnegative_int, check_positive, check_positive_int
from rlfa.control.dqn.config import check_env
from rlfa.control.dqn.dqn import storage_dtype, transition_loss
from rlfa.control.evaluation import greedy_returns
from rlfa.control.policies import epsilon_greedy_from_noise, noise_size
from rlfa.control.schedules import linear_schedule
from rlfa.hparams import Flat, Positive, ZeroToOne
from rlfa.types import Program

PyTree = Any


class PQNHParams(NamedTuple):
    """PQN's traced hyperparameters: float leaves, so ``--sweep.lambda 0 0.65 0.95`` is one
    compiled program."""

    learning_rate: Positive = 1e-4
    """RAdam's step size at step 0 (it decays linearly to 0 over learning_rate_decay_steps)."""
    gamma: ZeroToOne = 0.99
    """Discount factor in [0, 1]."""
    lambda_: Annotated[ZeroToOne, tyro.conf.arg(name="lambda")] = 0.95
    """lambda of the Q(lambda) targets, in [0, 1]: 0 is one-step Q-learning, 1 the
    discounted return to the rollout's end."""
    epsilon_start: ZeroToOne = 1.0
    """Exploration probability at step 0, in [0, 1]."""
    epsilon_end: ZeroToOne = 0.2
    """Exploration probability after epsilon_decay_steps, in [0, 1]."""


@dataclasses.dataclass(frozen=True)
class PQNConfig:
    """A PQN run: the environment, the network, the rollout and its epochs, the schedules.

    The defaults are purejaxql's CartPole settings (``purejaxql/config/alg/pqn_cartpole.yaml``:
    32 environments x 64 steps, 4 epochs of 16 minibatches, two LayerNorm layers of 256,
    RAdam at 1e-4 decaying to 0 over the run, rewards scaled by 0.1, epsilon 1 -> 0.2 over
    the first 20% of the run, lambda 0.95); :data:`MINATAR` is its MinAtar setting.

    Where rlfa differs from purejaxql's ``pqn_gymnax.py`` and ``pqn_minatar.py``:

    * a time-limit truncation bootstraps from the final observation; purejaxql cuts the
      return at gymnax's merged ``done`` (target = reward), as at a termination;
    * the schedules count environment steps; purejaxql counts rollouts, rounded down
      (``TOTAL_TIMESTEPS // (NUM_ENVS * NUM_STEPS)``: on CartPole epsilon reaches its end
      after 48.8 rollouts = 99,942 steps, not 100,000) and decays the learning rate to
      1e-20 rather than 0;
    * epsilon-greedy breaks ties among greedy actions at random
      (:func:`rlfa.control.policies.epsilon_greedy_from_noise`); purejaxql's argmax takes
      the first;
    * on MinAtar, the network takes the binary frames as they are with flax's default
      (LeCun-normal) initialisation; purejaxql's divides them by 255 and initialises with
      He-normal. purejaxql's networks also compute an unused BatchNorm of their input;
    * the greedy evaluation runs ``num_eval_episodes`` episodes (each environment's first)
      at every logged point; purejaxql's runs 128 environments for an episode's length
      at every 5% of the updates and averages the episodes that end;
    * ``--game`` runs MinAtar under the paper's protocol by default (6 actions, sticky
      actions, no episode cap: greedy episodes get 10,000 steps), ``--protocol gymnax``
      under gymnax's, which is what purejaxql's ``Breakout-MinAtar`` is.
    """

    env: str = "CartPole-v1"
    """Environment name: any gymnax environment with discrete actions, or one of rlfa's
    (Breakout-MinAtar-paper, ...)."""
    network: str = "auto"
    """Q-network: mlp, cnn (MinAtar frames) or auto (picked from the observation shape)."""
    hidden: tuple[int, ...] = (256, 256)
    """Hidden widths of the MLP."""
    layer_norm: bool = True
    """LayerNorm before each hidden ReLU (False: the ablation without it)."""
    num_envs: int = 32
    """Environments stepped side by side per seed."""
    rollout_steps: int = 64
    """Steps of every environment per rollout: a train step learns from num_envs x
    rollout_steps transitions."""
    num_epochs: int = 4
    """Passes over each rollout."""
    num_minibatches: int = 16
    """Minibatches per pass; must divide num_envs x rollout_steps."""
    epsilon_decay_steps: int = 100_000
    """Environment steps over which epsilon goes linearly from start to end (decided once
    per rollout, at its first step)."""
    learning_rate_decay_steps: int = 500_000
    """Environment steps over which the learning rate decays linearly to 0, one decrement
    per gradient step (0: constant)."""
    max_grad_norm: float = 10.0
    """Clip each update's gradient to this global norm."""
    reward_scale: float = 0.1
    """Rewards are multiplied by this for learning (returns are reported unscaled)."""
    hparams: Flat[PQNHParams] = PQNHParams()
    """The traced hyperparameters (their flags: --learning-rate, --lambda, ...)."""
    num_eval_episodes: int = 10
    """Greedy episodes run at every logged point (0: no evaluation)."""
    eval_max_steps: int = 0
    """Step budget of a greedy evaluation; an episode unfinished by then does not count
    (0: the environment's own episode limit, which must then be at most 1,000,000 steps)."""

    def __post_init__(self):
        check_choice("network", self.network, nets.KINDS)
        for i, width in enumerate(self.hidden):
            check_positive_int(f"hidden[{i}]", width)
        for name in ("num_envs", "rollout_steps", "num_epochs", "num_minibatches",
                     "epsilon_decay_steps"):
            check_positive_int(name, getattr(self, name))
        for name in ("learning_rate_decay_steps", "num_eval_episodes", "eval_max_steps"):
            check_nonnegative_int(name, getattr(self, name))
        for name in ("max_grad_norm", "reward_scale"):
            check_positive(name, getattr(self, name))
        if self.batch_size % self.num_minibatches:
            raise ValueError(f"num_minibatches={self.num_minibatches} is invalid: must divide"
                             f" num_envs x rollout_steps = {self.batch_size}.")
        hp.check(self.hparams)
        check_env(self, "PQN")

    @property
    def batch_size(self) -> int:
        """Transitions per rollout, ``num_envs * rollout_steps``."""
        return self.num_envs * self.rollout_steps


# purejaxql's MinAtar setting (``purejaxql/config/alg/pqn_minatar.yaml``, "adapted from
# Atari"): 128 environments x 32 steps, 2 epochs of 32 minibatches, lambda 0.65, RAdam at
# 5e-4, epsilon 1 -> 0.05 over the first 10% of its 10M steps, rewards unscaled.
MINATAR = PQNConfig(
    env="Breakout-MinAtar-paper", num_envs=128, rollout_steps=32, num_epochs=2,
    num_minibatches=32, epsilon_decay_steps=1_000_000, learning_rate_decay_steps=10_000_000,
    reward_scale=1.0, eval_max_steps=10_000,
    hparams=PQNHParams(learning_rate=5e-4, lambda_=0.65, epsilon_end=0.05))


def q_lambda_targets(rewards: jax.Array, terminated: jax.Array, truncated: jax.Array,
                     next_values: jax.Array, gamma: jax.Array, lambda_: jax.Array) -> jax.Array:
    """Q(lambda) targets of a rollout, computed backwards (Peng & Williams 1996; S&B §12.10),
    float ``[T, ...]``.

    ``G_t = r_t + gamma (1 - terminated_t) * ((1 - lambda) v_t + lambda G_{t+1})``, where
    ``v_t = max_a Q(s'_t, a)`` is ``next_values[t]``; an episode's last step does not look
    past it: there the mix is ``v_t`` (a truncation bootstraps from the final observation,
    a termination from nothing), and so it is at the rollout's last step.

    Args:
      rewards, terminated, truncated, next_values: ``[T, ...]`` per step of the rollout
        (any trailing axes, e.g. environments); ``next_values`` from the observation
        BEFORE any automatic reset.
      gamma, lambda_: float ``[]``.
    """
    def backward(g_next, step):
        r, term, trunc, v = step
        mix = jnp.where(term | trunc, v, (1.0 - lambda_) * v + lambda_ * g_next)
        g = r + gamma * (1.0 - term.astype(r.dtype)) * mix  # targets.discount, per row
        return g, g

    _, returns = jax.lax.scan(backward, next_values[-1],
                              (rewards, terminated, truncated, next_values), reverse=True)
    return returns


class PQNCarry(NamedTuple):
    """One seed's whole training state.

    Attributes:
      params, opt_state: the Q-network's parameters and the optimizer's state.
      steps: int32 ``[]``, environment steps taken (all environments together).
      updates: int32 ``[]``, gradient steps taken.
      env_state, obs: ``num_envs`` environment states and the observations to act on next.
      episode_return: ``[num_envs]``, the return so far of each running episode (unscaled).
      last_return: ``[num_envs]``, each environment's last finished episode's (NaN before).
      loss: float ``[]``, the last rollout's mean loss.
      key, eval_key: the training key stream, and the evaluation's.
    """

    params: PyTree
    opt_state: PyTree
    steps: jax.Array
    updates: jax.Array
    env_state: Any
    obs: jax.Array
    episode_return: jax.Array
    last_return: jax.Array
    loss: jax.Array
    key: jax.Array
    eval_key: jax.Array


class PQN(NamedTuple):
    """What :func:`make_program` builds: the runner ``program``, ``q_values`` ``(params, obs
    [n, *obs_shape]) -> [n, num_actions]``, and ``replay_nbytes`` (0: PQN keeps no replay)."""

    program: Program
    q_values: Any
    replay_nbytes: int = 0


def make_program(config: PQNConfig) -> PQN:
    """The training program of ``config`` for one seed (nothing compiles here)."""
    n, t = config.num_envs, config.rollout_steps
    env, env_params = envs.make(config.env)
    space = env.observation_space(env_params)
    obs_shape, obs_dtype = tuple(space.shape), storage_dtype(config, space.dtype)
    num_actions = env.action_space(env_params).n
    network = nets.q_network(obs_shape, num_actions, config.network, config.hidden,
                             config.layer_norm)
    q_values = network.apply
    optimizer = optax.chain(optax.clip_by_global_norm(config.max_grad_norm),
                            optax.scale_by_radam())
    step_envs = jax.vmap(env.step, (0, 0, 0, None))
    eval_max_steps = config.eval_max_steps or int(env_params.max_steps_in_episode)
    # The learning rate falls once per gradient step: a gradient step is worth this many
    # environment steps on the decay's clock.
    steps_per_update = config.batch_size / (config.num_epochs * config.num_minibatches)

    def epsilon(carry: PQNCarry, hp: PQNHParams) -> jax.Array:
        return linear_schedule(carry.steps, hp.epsilon_start, hp.epsilon_end,
                               config.epsilon_decay_steps)

    def learning_rate(updates: jax.Array, hp: PQNHParams) -> jax.Array:
        if not config.learning_rate_decay_steps:
            return hp.learning_rate
        return linear_schedule(updates * steps_per_update, hp.learning_rate, 0.0,
                               config.learning_rate_decay_steps)

    def init(key: jax.Array, hp: PQNHParams) -> PQNCarry:
        net_key, reset_key, train_key, eval_key = jax.random.split(key, 4)
        obs, env_state = jax.vmap(env.reset, (0, None))(jax.random.split(reset_key, n),
                                                        env_params)
        params = network.init(net_key, obs[:1])
        return PQNCarry(params, optimizer.init(params), jnp.int32(0), jnp.int32(0), env_state,
                        obs, jnp.zeros(n), jnp.full(n, jnp.nan), jnp.float32(jnp.nan),
                        train_key, eval_key)

    def rollout(carry: PQNCarry, hp: PQNHParams, key: jax.Array):
        """``rollout_steps`` epsilon-greedy steps of every environment: the carry after them
        and the rollout ``(obs, actions, rewards, terminated, truncated, final_obs)``, each
        ``[rollout_steps, num_envs, ...]``."""
        eps = epsilon(carry, hp)

        def one(c: PQNCarry, i):
            act_key, env_key = jax.random.split(jax.random.fold_in(key, i))
            noise = jax.random.uniform(act_key, (n, noise_size(num_actions)))
            actions = jax.vmap(epsilon_greedy_from_noise, (0, None, 0))(
                q_values(c.params, c.obs), eps, noise)
            obs, env_state, r, term, trunc, info = step_envs(
                jax.random.split(env_key, n), c.env_state, actions, env_params)
            done, ret = term | trunc, c.episode_return + r
            stored = (c.obs.astype(obs_dtype), actions, r, term, trunc,
                      info["final_observation"].astype(obs_dtype))
            return c._replace(env_state=env_state, obs=obs,
                              episode_return=jnp.where(done, 0.0, ret),
                              last_return=jnp.where(done, ret, c.last_return)), stored

        return jax.lax.scan(one, carry, jnp.arange(t))

    def loss(params: PyTree, obs: jax.Array, actions: jax.Array, y: jax.Array) -> jax.Array:
        """The mean over a minibatch of ``0.5 (y - Q(s, a))**2``, ``y`` held fixed."""
        losses, _ = jax.vmap(functools.partial(transition_loss, huber=False))(
            q_values(params, obs), actions, y)
        return jnp.mean(losses)

    def learn(carry: PQNCarry, hp: PQNHParams, data, y: jax.Array, key: jax.Array):
        """``num_epochs`` passes over the rollout ``data`` (flattened to ``[batch, ...]``)
        with targets ``y [batch]``, each in ``num_minibatches`` shuffled minibatches."""
        def minibatch(state, idx):
            params, opt_state, updates = state
            value, grads = jax.value_and_grad(loss)(params, data[0][idx], data[1][idx], y[idx])
            direction, opt_state = optimizer.update(grads, opt_state, params)
            lr = learning_rate(updates, hp)
            params = jax.tree.map(lambda p, d: p - lr * d, params, direction)
            return (params, opt_state, updates + 1), value

        def epoch(state, e):
            order = jax.random.permutation(jax.random.fold_in(key, e), config.batch_size)
            return jax.lax.scan(minibatch, state, order.reshape(config.num_minibatches, -1))

        state = (carry.params, carry.opt_state, carry.updates)
        (params, opt_state, updates), losses = jax.lax.scan(epoch, state,
                                                            jnp.arange(config.num_epochs))
        return carry._replace(params=params, opt_state=opt_state, updates=updates,
                              loss=jnp.mean(losses))

    def step(carry: PQNCarry, hp: PQNHParams) -> PQNCarry:
        key, rollout_key, learn_key = jax.random.split(carry.key, 3)
        carry, (obs, actions, r, term, trunc, final_obs) = rollout(carry._replace(key=key), hp,
                                                                   rollout_key)
        # max_a Q(s', a) of every step with the parameters that acted, in one batch.
        next_values = jnp.max(q_values(carry.params, final_obs.reshape((n * t,) + obs_shape)),
                              axis=-1).reshape(t, n)
        y = q_lambda_targets(config.reward_scale * r, term, trunc, next_values, hp.gamma,
                             hp.lambda_)
        flat = (obs.reshape((n * t,) + obs_shape), actions.reshape(-1))
        carry = learn(carry, hp, flat, y.reshape(-1), learn_key)  # y: outside the loss's grad
        return carry._replace(steps=carry.steps + config.batch_size)

    def log(carry: PQNCarry, hp: PQNHParams) -> dict[str, jax.Array]:
        metrics = {"env_steps": carry.steps, "epsilon": epsilon(carry, hp),
                   "learning_rate": learning_rate(carry.updates, hp), "loss": carry.loss,
                   "train_return": jnp.nanmean(carry.last_return)}
        if config.num_eval_episodes:
            def greedy(obs):
                return jnp.argmax(q_values(carry.params, obs), axis=-1)

            returns, valid = greedy_returns(
                env, env_params, greedy, jax.random.fold_in(carry.eval_key, carry.steps),
                config.num_eval_episodes, eval_max_steps)
            metrics.update(eval_return=returns, eval_valid=valid)
        return metrics

    return PQN(Program(init, step, log, weights=lambda carry: carry.params), q_values)


# The DQN ladder's two PQN rungs (``experiments.dqn_ladder``): PQN, and its ablation without
# LayerNorm, which Gallici et al. (Sec. 4) show is what keeps the online update stable.
RUNGS = {"PQN (LayerNorm, parallel envs, Q(lambda))": {"layer_norm": True},
         "PQN without LayerNorm": {"layer_norm": False}}


def rung(base: PQNConfig, env: str, name: str, total_steps: int) -> PQNConfig:
    """The rung called ``name`` (a key of :data:`RUNGS`) of ``base`` on ``env``, its schedules
    scaled to a budget of ``total_steps`` environment steps as purejaxql scales them to its
    own (epsilon decays over the first 20%, the learning rate over all of it)."""
    return dataclasses.replace(base, env=env, epsilon_decay_steps=max(1, total_steps // 5),
                               learning_rate_decay_steps=total_steps, **RUNGS[name])
