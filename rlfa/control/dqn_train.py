"""The DQN training loop as a runner :class:`~rlfa.types.Program`, for one seed.

One program step is one *train step*: ``train_frequency`` environment steps
(``train_frequency / num_envs`` steps of all ``num_envs`` environments at once,
each transition written to the replay buffer with its pre-reset next
observation), then ``gradient_steps`` updates on mini-batches, then the step
counter moves on and the target network follows (:func:`rlfa.control.schedules.update_target`).
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
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from rlfa import envs, replay
from rlfa.control.dqn import DQNAgent, DQNConfig, DQNHparams, DQNState, make_agent
from rlfa.control.evaluation import greedy_returns
from rlfa.types import Program, Transition

PyTree = Any


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


class DQNSetup(NamedTuple):
    """What :func:`make_program` built, for reports and tests.

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
    """MinAtar frames are binary: stored as bool (a quarter of float32's memory)."""
    return np.dtype(bool) if config.env.endswith("MinAtar") else np.dtype(obs_dtype)


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


MODES = ("train", "no_update", "act")


def make_program(config: DQNConfig, mode: str = "train") -> DQNSetup:
    """Build the training program for ``config`` (no compilation happens here).

    Args:
      config: the run.
      mode: ``"train"``; or, to profile the loop by subtraction, ``"no_update"``
        (everything but the gradient updates: acting, environments, replay writes
        and mini-batch sampling) or ``"act"`` (the ceiling: environments stepped
        with actions chosen by the network's forward pass, nothing else).

    Raises:
      ValueError: an unknown mode. (An environment or network DQN cannot use is refused
        earlier, by :class:`DQNConfig`.)
    """
    if mode not in MODES:
        raise ValueError(f"mode={mode!r} is invalid: must be one of {list(MODES)}.")
    env, env_params = envs.make(config.env)
    obs_space = env.observation_space(env_params)
    obs_shape, obs_dtype = tuple(obs_space.shape), storage_dtype(config, obs_space.dtype)
    num_actions = env.num_actions
    agent = make_agent(config, obs_shape, num_actions)
    buffer = (replay.make(config.buffer_capacity, config.batch_size, config.replay_impl)
              if config.replay else None)
    item = Transition(jax.ShapeDtypeStruct(obs_shape, obs_dtype),
                      jax.ShapeDtypeStruct((), jnp.int32), jax.ShapeDtypeStruct((), jnp.float32),
                      jax.ShapeDtypeStruct((), jnp.bool_), jax.ShapeDtypeStruct((), jnp.bool_),
                      jax.ShapeDtypeStruct(obs_shape, obs_dtype))
    eval_max_steps = config.eval_max_steps or int(env_params.max_steps_in_episode)
    n = config.num_envs
    store = buffer is not None and mode != "act"
    step_envs = jax.vmap(env.step, (0, 0, 0, None))

    def env_step(carry: DQNCarry, actions: jax.Array, key: jax.Array):
        """Step every environment once; return the carry and the ``n`` transitions."""
        obs, env_state, r, term, trunc, info = step_envs(
            jax.random.split(key, n), carry.env_state, actions, env_params)
        transitions = Transition(carry.obs.astype(obs_dtype), actions, r, term, trunc,
                                 info["final_observation"].astype(obs_dtype))
        done = term | trunc
        ret = carry.episode_return + r
        carry = carry._replace(
            env_state=env_state, obs=obs,
            buffer=buffer.add_batch(carry.buffer, transitions) if store else carry.buffer,
            episode_return=jnp.where(done, 0.0, ret),
            last_return=jnp.where(done, ret, carry.last_return))
        return carry, transitions

    def init(key: jax.Array, hp: DQNHparams) -> DQNCarry:
        net_key, reset_key, warm_key, train_key, eval_key = jax.random.split(key, 5)
        obs, env_state = jax.vmap(env.reset, (0, None))(jax.random.split(reset_key, n), env_params)
        carry = DQNCarry(agent.init(net_key, obs[0]), buffer.init(item) if store else None,
                         env_state, obs, jnp.zeros(n), jnp.full(n, jnp.nan), jnp.float32(jnp.nan),
                         train_key, eval_key)
        warm = config.warmup_steps // n
        if warm:
            action_key, step_key = jax.random.split(warm_key)
            actions = jax.random.randint(action_key, (warm, n), 0, num_actions, jnp.int32)

            def warm_step(c, xs):
                a, i = xs
                return env_step(c, a, jax.random.fold_in(step_key, i))

            carry, _ = jax.lax.scan(warm_step, carry, (actions, jnp.arange(warm)))
            carry = carry._replace(agent=agent.advance(carry.agent, hp, config.warmup_steps))
        return carry

    def step(carry: DQNCarry, hp: DQNHparams) -> DQNCarry:
        key, act_key, env_key, sample_key = jax.random.split(carry.key, 4)
        carry = carry._replace(key=key)
        vec_steps = config.train_frequency // n

        def act_and_step(c, act_k, env_k):
            return env_step(c, agent.act(c.agent, hp, c.obs, act_k), env_k)

        # Each fold_in is a threefry call in the hot loop: none where one key suffices.
        if vec_steps == 1:
            carry, fresh = act_and_step(carry, act_key, env_key)
        else:
            carry, fresh = jax.lax.scan(
                lambda c, i: act_and_step(c, jax.random.fold_in(act_key, i),
                                          jax.random.fold_in(env_key, i)),
                carry, jnp.arange(vec_steps))
            fresh = jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), fresh)

        def gradient_step(state_and_loss, k):
            agent_state, _ = state_and_loss
            batch = buffer.sample(carry.buffer, k) if buffer else fresh
            if mode == "no_update":  # use the batch, so the sampling is not optimised away
                return (agent_state, sum(jnp.sum(x.astype(jnp.float32))
                                         for x in jax.tree.leaves(batch))), None
            agent_state, metrics = agent.update(agent_state, hp, batch)
            return (agent_state, metrics["loss"]), None

        if mode == "act":
            agent_state, loss = carry.agent, carry.loss
        elif config.gradient_steps == 1:
            (agent_state, loss), _ = gradient_step((carry.agent, carry.loss), sample_key)
        else:
            (agent_state, loss), _ = jax.lax.scan(
                lambda c, i: gradient_step(c, jax.random.fold_in(sample_key, i)),
                (carry.agent, carry.loss), jnp.arange(config.gradient_steps))
        agent_state = agent.advance(agent_state, hp, config.train_frequency)
        return carry._replace(agent=agent_state, loss=loss)

    def log(carry: DQNCarry, hp: DQNHparams) -> dict[str, jax.Array]:
        metrics = {"env_steps": carry.agent.steps, "epsilon": agent.epsilon(carry.agent, hp),
                   "loss": carry.loss, "train_return": jnp.nanmean(carry.last_return)}
        if config.num_eval_episodes:
            def policy(obs):
                return jnp.argmax(agent.q_values(carry.agent.params, obs), axis=-1)

            returns, valid = greedy_returns(
                env, env_params, policy, jax.random.fold_in(carry.eval_key, carry.agent.steps),
                config.num_eval_episodes, eval_max_steps)
            metrics.update(eval_return=returns, eval_valid=valid)
        return metrics

    program = Program(init, step, log, weights=lambda carry: carry.agent.params)
    nbytes = buffer.nbytes(item) if store else 0
    return DQNSetup(program, agent, buffer, nbytes, env, env_params, eval_max_steps)
