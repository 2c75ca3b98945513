"""Replay of stacked frames with each frame stored once (the Nature DQN's replay memory,
Mnih et al. 2015): one million 4x84x84 observations are 28 GB stacked, 7 GB as frames.

Each environment has a ring of ``capacity // num_envs`` slots. A slot holds one frame, the
newest of an observation, and, once the agent has acted on it, the transition leaving it:
its action, (clipped) reward, ``terminated`` and ``truncated``. ``first`` marks an episode's
first observation and ``final`` an episode's last (one extra slot per episode, so that a
truncated episode still bootstraps from its last observation; no transition leaves it). An
observation is rebuilt from its slot and the ``stack - 1`` before it, with zeros for the
frames before its episode's first, as ale-py stacks them at a reset.

A transition is sampled uniformly among the valid ones: written, not leaving a final
frame, with its next observation written and in the same episode (a resumed run starts
new episodes), and with the frames it looks back to not yet
overwritten (the ``stack - 1`` oldest slots of a full ring are not). Invalid draws are drawn
again (at most one slot per episode and ``stack`` per ring are invalid, so a batch is rarely
drawn twice).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from rlfa.config import check_positive_int


MAX_DRAWS = 64


class FrameReplayState(NamedTuple):
    """Rings ``[num_envs, slots, ...]`` and, per environment, ``head`` (the next slot to
    write) and ``count`` (slots written so far, not capped), int32 ``[num_envs]``."""

    frames: jax.Array
    action: jax.Array
    reward: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    first: jax.Array
    final: jax.Array
    head: jax.Array
    count: jax.Array


class FrameBatch(NamedTuple):
    """Sampled transitions: ``obs`` and ``next_obs`` uint8 ``[batch, stack, h, w]``,
    ``action`` int32, ``reward`` float32, ``terminated`` and ``truncated`` bool ``[batch]``."""

    obs: jax.Array
    action: jax.Array
    reward: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    next_obs: jax.Array


def slots(capacity: int, num_envs: int) -> int:
    """Slots per environment's ring.

    Raises:
      ValueError: non-positive sizes, or fewer than 2 slots per ring.
    """
    check_positive_int("buffer_capacity", capacity)
    check_positive_int("num_envs", num_envs)
    if capacity // num_envs < 2:
        raise ValueError(f"buffer_capacity={capacity} is invalid: must be >= 2 * num_envs="
                         f"{2 * num_envs} (two slots per environment).")
    return capacity // num_envs


def nbytes(capacity: int, num_envs: int, frame_shape: tuple[int, int]) -> int:
    """Bytes of storage, known before allocation: per slot a uint8 frame, an int32 action, a
    float32 reward and four flags."""
    per_slot = int(np.prod(frame_shape)) + 4 + 4 + 4
    return num_envs * slots(capacity, num_envs) * per_slot + 8 * num_envs


def init(capacity: int, num_envs: int, frame_shape: tuple[int, int]) -> FrameReplayState:
    """The empty rings."""
    m = slots(capacity, num_envs)
    flags = jnp.zeros((num_envs, m), jnp.bool_)
    return FrameReplayState(jnp.zeros((num_envs, m, *frame_shape), jnp.uint8),
                            jnp.zeros((num_envs, m), jnp.int32), jnp.zeros((num_envs, m)),
                            flags, flags, flags, flags, jnp.zeros(num_envs, jnp.int32),
                            jnp.zeros(num_envs, jnp.int32))


def _write(state: FrameReplayState, where: jax.Array, frames: jax.Array, first: jax.Array,
           final: jax.Array) -> FrameReplayState:
    """Write a frame at the head of each environment's ring where ``where`` [num_envs]
    (elsewhere the slot keeps what it holds) and move those heads on."""
    envs = jnp.arange(state.head.shape[0])
    h = state.head
    slot = state.frames[envs, h]
    keep = where[:, None, None]
    return state._replace(
        frames=state.frames.at[envs, h].set(jnp.where(keep, frames, slot)),
        first=state.first.at[envs, h].set(jnp.where(where, first, state.first[envs, h])),
        final=state.final.at[envs, h].set(jnp.where(where, final, state.final[envs, h])),
        head=jnp.where(where, (h + 1) % state.frames.shape[1], h),
        count=state.count + where)


def add_observation(state: FrameReplayState, obs: jax.Array, first: jax.Array) -> FrameReplayState:
    """Store the newest frame of each environment's observation ``obs`` [num_envs, stack, h,
    w], the one it acts on next; ``first`` [num_envs]: it starts an episode."""
    n = obs.shape[0]
    return _write(state, jnp.ones(n, bool), obs[:, -1], first, jnp.zeros(n, bool))


def add_final(state: FrameReplayState, final_obs: jax.Array, done: jax.Array) -> FrameReplayState:
    """Store the last observation of each episode that just ended (``done`` [num_envs])."""
    return _write(state, done, final_obs[:, -1], jnp.zeros_like(done), jnp.ones_like(done))


def add_transition(state: FrameReplayState, action: jax.Array, reward: jax.Array,
                   terminated: jax.Array, truncated: jax.Array) -> FrameReplayState:
    """Record the transition leaving each environment's newest stored observation (all
    ``[num_envs]``); call it before storing what the step observed."""
    envs = jnp.arange(state.head.shape[0])
    last = (state.head - 1) % state.frames.shape[1]
    return state._replace(action=state.action.at[envs, last].set(action),
                          reward=state.reward.at[envs, last].set(reward),
                          terminated=state.terminated.at[envs, last].set(terminated),
                          truncated=state.truncated.at[envs, last].set(truncated))


def _valid(state: FrameReplayState, env: jax.Array, k: jax.Array, stack: int) -> jax.Array:
    m = state.frames.shape[1]
    head, count = state.head[env], state.count[env]
    full = count >= m
    written = k < jnp.minimum(count, m)
    successor = (((k + 1) % m != head) & (full | (k + 1 < count))
                 & ~state.first[env, (k + 1) % m])
    lookback = ~full | ((k - head) % m >= stack - 1)
    return written & successor & lookback & ~state.final[env, k]


def _observation(state: FrameReplayState, env: jax.Array, k: jax.Array, stack: int) -> jax.Array:
    """The observation ``[batch, stack, h, w]`` whose newest frame is slot ``k``."""
    m = state.frames.shape[1]
    back = jnp.arange(stack - 1, -1, -1)  # oldest first
    idx = (k[:, None] - back) % m
    frames = state.frames[env[:, None], idx]
    # A frame counts if no slot after it, up to k, starts an episode.
    firsts = state.first[env[:, None], idx]
    started_after = jnp.flip(jnp.cumsum(jnp.flip(firsts, 1), 1), 1) - firsts
    return jnp.where((started_after == 0)[..., None, None], frames, 0).astype(jnp.uint8)


def sample(state: FrameReplayState, key: jax.Array, batch_size: int, stack: int) -> FrameBatch:
    """``batch_size`` valid transitions drawn uniformly with replacement (an environment,
    then a slot of its ring: uniform while every ring holds as many slots)."""
    n, m = state.frames.shape[:2]

    def draw(key):
        env_key, slot_key = jax.random.split(key)
        env = jax.random.randint(env_key, (batch_size,), 0, n)
        filled = jnp.minimum(state.count[env], m)
        k = jnp.floor(jax.random.uniform(slot_key, (batch_size,)) * filled).astype(jnp.int32)
        return env, jnp.minimum(k, filled - 1)

    def redraw(carry):
        env, k, i = carry
        new_env, new_k = draw(jax.random.fold_in(key, i))
        bad = ~_valid(state, env, k, stack)
        return jnp.where(bad, new_env, env), jnp.where(bad, new_k, k), i + 1

    env, k = draw(key)
    # Bounded, so an empty buffer cannot hang the program (the warm-up fills it first).
    env, k, _ = jax.lax.while_loop(
        lambda c: ~jnp.all(_valid(state, c[0], c[1], stack)) & (c[2] < MAX_DRAWS),
        redraw, (env, k, jnp.int32(1)))
    return FrameBatch(_observation(state, env, k, stack), state.action[env, k],
                      state.reward[env, k], state.terminated[env, k], state.truncated[env, k],
                      _observation(state, env, (k + 1) % m, stack))
