"""DQN on Atari as the Nature paper ran it (Mnih et al. 2015, "Human-level control through
deep reinforcement learning", Methods and Extended Data Table 1), checked against
DeepMind's published code (``run_gpu``, ``NeuralQLearner.lua``): the agent is
:func:`rlfa.control.dqn.make_agent`'s, with the Nature network and DeepMind's RMSProp; the
program steps ale-py's games (:mod:`rlfa.envs.atari`) and learns from a replay that stores
each frame once (:mod:`rlfa.replay.frames`).

========================  =================================================================
network                   conv 32 8x8 /4, conv 64 4x4 /2, conv 64 3x3 /1, dense 512, ReLUs,
                          linear per action (``network="nature"``: :class:`rlfa.nets.NatureCNN`)
loss, discount            error clipped to [-1, 1] (Huber), gamma 0.99, Q-learning targets
optimizer                 DeepMind's RMSProp: lr 2.5e-4, decay 0.95 for the gradient and its
                          square, 0.01 added under the root of their difference, on the
                          minibatch's summed gradient (``optimizer="deepmind_rmsprop"``)
batch, replay             32 transitions from the last 1,000,000 (agent steps); 50,000
                          agent steps of uniformly random actions first
updates                   one every 4 agent steps
target network            copied every 10,000 agent steps: the code's unit (``numSteps`` counts
                          agent steps); the paper's table says "parameter updates", which
                          would be 40,000 agent steps (``--dqn.target-period 40000``)
exploration               epsilon 1.0 -> 0.1 linearly over the 1,000,000 agent steps after
                          the random ones, then 0.1 (the code's ``ep_endt``, counted after
                          ``learn_start``)
environment               :data:`rlfa.envs.atari.NATURE`: frame skip 4, a stack of 4, up to
                          30 no-op frames, a lost life ends a training episode, rewards
                          clipped to [-1, 1] for learning (game scores reported)
evaluation                epsilon 0.05, up to 18,000 frames per episode, whole games
budget                    50 million frames (12.5 million agent steps)
========================  =================================================================

Counts (``warmup_steps``, ``train_frequency``, ``target_period``, ``epsilon_decay_steps``,
``buffer_capacity``) are in agent steps, each ``frame_skip`` frames. Where rlfa differs from
DeepMind's code: after a lost life DeepMind takes up to 30 more random no-ops and restarts
the frame stack; ale-py's stack (and so rlfa's) runs on through a lost life with no no-ops.
Its evaluation runs every 250,000 steps for 125,000 steps; rlfa's runs
``num_eval_episodes`` whole episodes at each logged point.

A train step is ``train_frequency`` steps of the ``num_envs`` games (io_callbacks to the
host), then ``gradient_steps`` updates. Checkpoints hold the agent, the replay and the
counters; a resumed run starts new episodes (the emulators' states are not saved).
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp

from rlfa.control.dqn.config import DQNConfig, DQNHParams
from rlfa.control.dqn.dqn import DQN, DQNAgent, DQNState, make_agent
from rlfa.control.policies import epsilon_greedy_from_noise, noise_size
from rlfa.envs import atari
from rlfa.envs.atari import MACHADO, NATURE, PROTOCOLS, AtariHost, AtariProtocol
from rlfa.replay import frames
from rlfa.types import Program, Transition

PAPER_FRAMES = 50_000_000

NATURE_DQN = DQNConfig(
    env="Breakout-Atari-nature", network="nature", num_envs=1, buffer_capacity=1_000_000,
    batch_size=32, warmup_steps=50_000, train_frequency=4, gradient_steps=1,
    target_period=10_000, epsilon_decay_steps=1_000_000, epsilon_after_warmup=True,
    optimizer="deepmind_rmsprop", rmsprop_decay=0.95, rmsprop_eps=0.01, max_grad_norm=0.0,
    huber=True, double=False, num_eval_episodes=8, eval_max_steps=NATURE.eval_max_steps,
    replay_impl="rlfa",
    hparams=DQNHParams(learning_rate=2.5e-4, gamma=0.99, epsilon_start=1.0, epsilon_end=0.1))

CPU_DQN = dataclasses.replace(
    NATURE_DQN, optimizer="adam", target_period=1_000, warmup_steps=12_500,
    epsilon_decay_steps=62_500, buffer_capacity=250_000,
    hparams=NATURE_DQN.hparams._replace(learning_rate=1e-4, epsilon_end=0.01))
"""The Nature agent sized for a million frames (250,000 agent steps) on a CPU: the same
network, loss, batch, update every 4 steps and games, with the optimizer and target period
of CleanRL's ``dqn_atari_jax.py`` (Adam at 1e-4, the target copied every 1,000 agent steps,
epsilon down to 0.01) and the schedules sized to the run: 12,500 random steps (5%), epsilon
decayed over the next 62,500 (25%), a replay holding the whole run (250,000). The Nature
schedules spend such a run exploring: epsilon is still 0.82 at its end."""

AGENTS = {"nature": NATURE_DQN, "cpu": CPU_DQN}
"""The agents by name: the paper's, and the one sized for a 1M-frame CPU run."""


class AtariCarry(NamedTuple):
    """One seed's whole training state.

    Attributes:
      agent: :class:`~rlfa.control.dqn.DQNState`.
      replay: :class:`~rlfa.replay.frames.FrameReplayState`.
      env_id: int32 ``[]``, the run's environments on the host.
      obs: uint8 ``[num_envs, stack, size, size]``, what the agent acts on next.
      lives: int32 ``[num_envs]``, lives left at ``obs``.
      episode_return: ``[num_envs]``, the game score of each running episode so far.
      last_return: ``[num_envs]``, the game score of each environment's last finished
        episode (NaN until one finishes).
      episodes: int32 ``[]``, training episodes finished.
      loss: float ``[]``, the last update's loss.
      key, eval_key: the training key stream, and the evaluation's.
    """

    agent: DQNState
    replay: frames.FrameReplayState
    env_id: jax.Array
    obs: jax.Array
    lives: jax.Array
    episode_return: jax.Array
    last_return: jax.Array
    episodes: jax.Array
    loss: jax.Array
    key: jax.Array
    eval_key: jax.Array


def protocol_of(config: DQNConfig) -> AtariProtocol:
    """The protocol named in ``config.env`` (``GAME-Atari-PROTOCOL``)."""
    return PROTOCOLS[atari.parse(config.env)[1]]


def make_program(config: DQNConfig, protocol: AtariProtocol | None = None,
                 agent: DQNAgent | None = None) -> DQN:
    """The training program of ``config`` (an Atari environment) for one seed, its games
    played under ``protocol`` (default: the one ``config.env`` names). Nothing compiles or
    starts here; the emulators start in ``init``.

    Raises:
      ValueError: ``config.env`` is not an Atari game, or the replay is too small.
    """
    game, _ = atari.parse(config.env)
    protocol = protocol or protocol_of(config)
    n, stack = config.num_envs, protocol.stack
    frame_shape = (protocol.screen_size, protocol.screen_size)
    obs_shape = (stack, *frame_shape)
    num_actions = atari.num_actions(game, protocol)
    agent = agent or make_agent(config, obs_shape, num_actions)
    host = AtariHost(game, protocol, n, config.num_eval_episodes)
    capacity = config.buffer_capacity
    frames.slots(capacity, n)  # refuses a replay smaller than two slots per environment
    clip = protocol.reward_clip

    def env_step(carry: AtariCarry, actions: jax.Array) -> AtariCarry:
        """Step every game once, store what it showed, track the game scores."""
        out = host.step(carry.env_id, actions)
        done = out.terminated | out.truncated
        life_lost = (~done & (out.lives < carry.lives) if protocol.life_loss_ends_episode
                     else jnp.zeros_like(done))
        reward = jnp.clip(out.reward, -clip, clip) if clip else out.reward
        replay = frames.add_transition(carry.replay, actions, reward, out.terminated | life_lost,
                                       out.truncated & ~out.terminated)
        replay = frames.add_final(replay, out.final_obs, done)
        replay = frames.add_observation(replay, out.obs, done | out.restarted)
        ret = carry.episode_return + out.reward
        counted = done & ~out.restarted
        return carry._replace(
            replay=replay, obs=out.obs, lives=out.lives,
            episode_return=jnp.where(done | out.restarted, 0.0, ret),
            last_return=jnp.where(counted, ret, carry.last_return),
            episodes=carry.episodes + counted.sum(dtype=jnp.int32))

    def init(key: jax.Array, hp: DQNHParams) -> AtariCarry:
        net_key, env_key, warm_key, train_key, eval_key = jax.random.split(key, 5)
        env_id = (jax.random.bits(env_key, (), jnp.uint32) >> 1).astype(jnp.int32)
        start = host.start(env_id)
        replay = frames.add_observation(frames.init(capacity, n, frame_shape), start.obs,
                                        jnp.ones(n, bool))
        carry = AtariCarry(agent.init(net_key, start.obs[0]), replay, env_id, start.obs,
                           start.lives, jnp.zeros(n), jnp.full(n, jnp.nan), jnp.int32(0),
                           jnp.float32(jnp.nan), train_key, eval_key)
        warm = config.warmup_steps // n
        if warm:  # uniformly random actions fill the replay
            carry = jax.lax.fori_loop(0, warm, lambda i, c: env_step(c, jax.random.randint(
                jax.random.fold_in(warm_key, i), (n,), 0, num_actions, jnp.int32)), carry)
            carry = carry._replace(agent=agent.advance(carry.agent, hp, config.warmup_steps))
        return carry

    def step(carry: AtariCarry, hp: DQNHParams) -> AtariCarry:
        key, act_key, sample_key = jax.random.split(carry.key, 3)
        carry = jax.lax.fori_loop(0, config.train_frequency // n, lambda i, c: env_step(
            c, agent.act(c.agent, hp, c.obs, jax.random.fold_in(act_key, i))),
            carry._replace(key=key))

        def update(i, state_and_loss):
            batch = frames.sample(carry.replay, jax.random.fold_in(sample_key, i),
                                  config.batch_size, stack)
            state, metrics = agent.update(state_and_loss[0], hp, Transition(
                batch.obs, batch.action, batch.reward, batch.terminated, batch.truncated,
                batch.next_obs))
            return state, metrics["loss"]

        state, loss = jax.lax.fori_loop(0, config.gradient_steps, update,
                                        (carry.agent, carry.loss))
        return carry._replace(agent=agent.advance(state, hp, config.train_frequency), loss=loss)

    def evaluate(carry: AtariCarry) -> tuple[jax.Array, jax.Array]:
        """``num_eval_episodes`` whole games at ``protocol.eval_epsilon``, side by side, each
        at most ``eval_max_frames``: their scores, and all valid (a game cut at the limit
        counts, as the paper's 5-minute episodes)."""
        m = config.num_eval_episodes
        key = jax.random.fold_in(carry.eval_key, carry.agent.steps)
        seed = (jax.random.bits(key, (), jnp.uint32) >> 1).astype(jnp.int32)
        start = host.eval_reset(carry.env_id, seed)

        def policy(obs, t):
            q = agent.q_values(carry.agent.params, obs)
            noise = jax.random.uniform(jax.random.fold_in(key, t), (m, noise_size(num_actions)))
            return jax.vmap(epsilon_greedy_from_noise, (0, None, 0))(q, protocol.eval_epsilon,
                                                                     noise)

        def one_step(c):
            obs, returns, ended, t = c
            out = host.eval_step(carry.env_id, policy(obs, t))
            returns = returns + jnp.where(ended, 0.0, out.reward)
            return out.obs, returns, ended | out.terminated | out.truncated, t + 1

        _, returns, ended, _ = jax.lax.while_loop(
            lambda c: ~jnp.all(c[2]) & (c[3] <= protocol.eval_max_steps), one_step,
            (start.obs, jnp.zeros(m), jnp.zeros(m, bool), jnp.int32(0)))
        return returns, ended

    def log(carry: AtariCarry, hp: DQNHParams) -> dict[str, jax.Array]:
        metrics = {"env_steps": carry.agent.steps, "frames": carry.agent.steps
                   * protocol.frame_skip, "epsilon": agent.epsilon(carry.agent, hp),
                   "loss": carry.loss, "train_return": jnp.nanmean(carry.last_return),
                   "train_episodes": carry.episodes}
        if config.num_eval_episodes:
            returns, valid = evaluate(carry)
            metrics.update(eval_return=returns, eval_valid=valid)
        return metrics

    program = Program(init, step, log, weights=lambda carry: carry.agent.params)
    return DQN(program, agent, frames.nbytes(capacity, n, frame_shape))


def nature_config(game: str, protocol: str = "nature", **overrides) -> DQNConfig:
    """The Nature agent on ``game`` under ``protocol``, with any field replaced by
    ``overrides``.

    Raises:
      ValueError: an unknown game or protocol, or a bad override, naming the field.
    """
    return dataclasses.replace(NATURE_DQN, env=atari.env_name(game, protocol), **overrides)


__all__ = ["AGENTS", "CPU_DQN", "MACHADO", "NATURE", "NATURE_DQN", "PAPER_FRAMES", "AtariCarry",
           "make_program", "nature_config", "protocol_of"]
