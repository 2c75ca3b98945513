"""What a DQN run is: its static configuration and its continuous hyperparameters.

Continuous hyperparameters (:class:`DQNHParams`, declared once with their bounds:
:mod:`rlfa.hparams`) are traced array leaves, so a sweep over them (``--sweep.*``)
compiles once; everything that changes shapes or code paths is a static field of
the frozen :class:`DQNConfig`, validated when it is built, before anything compiles.
:data:`CARTPOLE` is the main job's setting.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

from rlfa import hparams as hp
from rlfa import nets
from rlfa.config import (
    check_choice,
    check_in_range,
    check_nonnegative_int,
    check_positive,
    check_positive_int,
)
from rlfa.hparams import Flat, Positive, ZeroToOne

OPTIMIZERS = ("adam", "centered_rmsprop", "deepmind_rmsprop")
# The longest greedy evaluation an environment's own episode cap may set (eval_max_steps=0):
# the evaluation scans this many steps at every logged point.
MAX_EVAL_STEPS = 1_000_000


class DQNHParams(NamedTuple):
    """DQN's traced hyperparameters: float leaves, so a sweep over them compiles once
    (a leading grid axis when stacked)."""

    learning_rate: Positive = 2.5e-4
    """Step size of the optimizer (Adam's or RMSProp's)."""
    gamma: ZeroToOne = 0.99
    """Discount factor in [0, 1]."""
    epsilon_start: ZeroToOne = 1.0
    """Exploration probability at step 0, in [0, 1]."""
    epsilon_end: ZeroToOne = 0.05
    """Exploration probability after epsilon_decay_steps, in [0, 1]."""
    tau: ZeroToOne = 1.0
    """Target update mix per update, in [0, 1]: 1 is a hard copy every target_period steps,
    < 1 Polyak averaging."""


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
    (:func:`rlfa.control.target_network.update_target`), so a period below train_frequency is
    honoured too: target_period=1 with tau=0.005 keeps 0.995**train_frequency of the target."""
    epsilon_decay_steps: int = 250_000
    """Environment steps over which epsilon goes linearly from start to end."""
    epsilon_after_warmup: bool = False
    """Start epsilon's decay when the warm-up ends, not at step 0 (the MinAtar paper: 1.0 ->
    0.1 over the 100,000 frames after its 5,000 random ones)."""
    learning_rate_decay_steps: int = 0
    """Environment steps over which the learning rate decays linearly to zero (0: constant)."""
    max_grad_norm: float = 10.0
    """Clip each update's gradient to this global norm (0: no clipping, as MinAtar's DQN)."""
    optimizer: str = "adam"
    """adam; centered_rmsprop: PyTorch's centered RMSProp, the MinAtar paper's optimizer
    (eps added OUTSIDE the square root: g / (sqrt(E[g^2] - E[g]^2) + eps)); or
    deepmind_rmsprop: the Nature DQN's (g / sqrt(E[g^2] - E[g]^2 + eps), eps INSIDE, on the
    gradient summed over the minibatch, as DeepMind's published NeuralQLearner.lua)."""
    rmsprop_decay: float = 0.95
    """The RMSProps' decay of their gradient and squared-gradient averages."""
    rmsprop_eps: float = 0.01
    """The RMSProps' epsilon (0.01 in both papers): added to the root (centered_rmsprop) or
    under it (deepmind_rmsprop)."""
    hparams: Flat[DQNHParams] = DQNHParams()
    """The traced hyperparameters (their flags: --learning-rate, --gamma, ...)."""
    num_eval_episodes: int = 10
    """Greedy episodes run at every logged point (0: no evaluation)."""
    eval_max_steps: int = 0
    """Step budget of a greedy evaluation; an episode unfinished by then does not count
    (0: the environment's own episode limit, which must then be at most 1,000,000 steps)."""
    train_return_window: int = 0
    """Also log the mean return of the last this many finished training (epsilon-greedy)
    episodes, warm-up included, as recent_train_return (the MinAtar paper's metric: 100);
    0: not tracked."""
    replay_impl: str = "flashbax"
    """Replay implementation: flashbax (its item buffer) or rlfa (rlfa.replay.uniform)."""

    def __post_init__(self):
        check_choice("network", self.network, nets.KINDS)
        for i, width in enumerate(self.hidden):
            check_positive_int(f"hidden[{i}]", width)
        check_env(self)
        for name in ("num_envs", "buffer_capacity", "batch_size", "train_frequency",
                     "gradient_steps", "target_period", "epsilon_decay_steps"):
            check_positive_int(name, getattr(self, name))
        for name in ("warmup_steps", "num_eval_episodes", "eval_max_steps",
                     "learning_rate_decay_steps", "train_return_window"):
            check_nonnegative_int(name, getattr(self, name))
        hp.check(self.hparams)
        check_in_range("max_grad_norm", self.max_grad_norm, 0.0, float("inf"))
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_in_range("rmsprop_decay", self.rmsprop_decay, 0.0, 1.0)
        check_positive("rmsprop_eps", self.rmsprop_eps)
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


def check_env(config, algorithm: str = "DQN") -> None:
    """Refuse, before anything compiles, an environment a Q-learning agent cannot act in or
    see: ``config``'s ``env``, ``network``, ``hidden``, ``num_eval_episodes`` and
    ``eval_max_steps`` (a :class:`DQNConfig`, or PQN's config), named in the message
    with ``algorithm``.

    Raises:
      ValueError: an unknown environment (listing the known ones), an action space that is
        not Discrete with at least two actions, an uncapped episode without an evaluation
        budget, or a network that cannot take the observations.
    """
    from gymnax.environments import spaces  # gymnax is imported only once a config is built

    from rlfa import envs
    from rlfa.envs import atari

    if atari.is_atari(config.env):
        atari.parse(config.env)  # names an unknown game or protocol
        if config.network != "nature":
            raise ValueError(f"network={config.network!r} is invalid for env={config.env!r}:"
                             " Atari frames take network='nature'.")
        return
    check_choice("env", config.env, envs.names())
    env, env_params = envs.make(config.env)
    space = env.action_space(env_params)
    if not isinstance(space, spaces.Discrete) or space.n < 2:
        raise ValueError(f"env={config.env!r} is invalid for {algorithm}: its action space is"
                         f" {space!r}; {algorithm} needs a Discrete action space with at least"
                         " two actions.")
    cap = int(env_params.max_steps_in_episode)
    if config.num_eval_episodes and not config.eval_max_steps and cap > MAX_EVAL_STEPS:
        raise ValueError(f"eval_max_steps=0 is invalid for env={config.env!r}: its episodes"
                         f" have no cap (max_steps_in_episode={cap}), so a greedy"
                         " evaluation needs its own step budget; set eval_max_steps (e.g."
                         " 5000), or num_eval_episodes=0.")
    obs_shape = tuple(env.observation_space(env_params).shape)
    try:
        nets.q_network(obs_shape, space.n, config.network, config.hidden)
    except ValueError as error:
        raise ValueError(f"network={config.network!r} is invalid for env={config.env!r}:"
                         f" {error}") from error


# CartPole-v1 in 100k environment steps: the main job (``python -m experiments.dqn``). The
# step size decays linearly to 0 over the run, so the final policy stops moving.
CARTPOLE = DQNConfig(
    env="CartPole-v1", num_envs=4, buffer_capacity=50_000, batch_size=256, warmup_steps=1000,
    train_frequency=4, gradient_steps=1, target_period=500, epsilon_decay_steps=20_000,
    learning_rate_decay_steps=100_000, double=False, huber=False, num_eval_episodes=10,
    hparams=DQNHParams(learning_rate=5e-3, epsilon_end=0.05))
