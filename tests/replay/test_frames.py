"""rlfa.replay.frames: each frame stored once, observations rebuilt as the agent saw them
(zeros before an episode's first frame), only valid transitions sampled (never across an
episode's end, never from overwritten frames, a truncation's own last observation), the
storage size known before allocation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa.replay import frames

STACK, SIZE = 4, 2


def play(num_steps: int, capacity: int, seed: int = 0):
    """Drive one environment's ring as the Atari program does, with frames that name their
    step; return the ring and every transition ``(obs, action, reward, terminated,
    truncated, next_obs, obs_slot)`` in order, ``obs_slot`` the global slot of ``obs``'s
    newest frame."""
    rng = np.random.default_rng(seed)
    state = frames.init(capacity, 1, (SIZE, SIZE))
    add = jax.jit(frames.add_observation)
    add_final = jax.jit(frames.add_final)
    record = jax.jit(frames.add_transition)
    counter = iter(range(1, 10**6))

    def new_frame():
        return np.full((SIZE, SIZE), next(counter) % 251 + 1, np.uint8)

    stack = np.zeros((STACK, SIZE, SIZE), np.uint8)
    stack[-1] = new_frame()
    state, slot = add(state, stack[None], jnp.ones(1, bool)), 0
    transitions = []
    for _ in range(num_steps):
        action, reward = int(rng.integers(4)), float(rng.integers(-1, 2))
        end = rng.random()
        terminated, truncated = end < 0.06, 0.06 <= end < 0.09
        following = np.concatenate([stack[1:], new_frame()[None]])
        state = record(state, jnp.array([action]), jnp.array([reward]),
                       jnp.array([terminated]), jnp.array([truncated]))
        transitions.append((stack, action, reward, terminated, truncated, following, slot))
        done = terminated or truncated
        state = add_final(state, following[None], jnp.array([done]))
        slot += done
        if done:  # the next episode's first observation
            following = np.zeros_like(stack)
            following[-1] = new_frame()
        state, stack, slot = add(state, following[None], jnp.array([done])), following, slot + 1
    return state, transitions, slot + 1  # slots written


def key_of(obs, action, reward, terminated, truncated, next_obs):
    return (np.asarray(obs).tobytes(), int(action), float(reward), bool(terminated),
            bool(truncated), np.asarray(next_obs).tobytes())


@pytest.mark.parametrize("num_steps, capacity", [(40, 200), (300, 64)])
def test_samples_are_exactly_the_valid_transitions_as_seen(num_steps, capacity):
    state, transitions, written = play(num_steps, capacity)
    oldest = max(0, written - capacity)
    # Valid: the next observation written, and when the ring has wrapped, the stack - 1
    # slots before the observation's not yet overwritten.
    live = {key_of(*t[:6]) for t in transitions
            if t[6] + 1 < written and (written <= capacity or t[6] - (STACK - 1) >= oldest)}
    everything = {key_of(*t[:6]) for t in transitions}
    seen = set()
    sample = jax.jit(frames.sample, static_argnums=(2, 3))
    for i in range(60):
        batch = sample(state, jax.random.key(i), 32, STACK)
        for j in range(32):
            item = key_of(batch.obs[j], batch.action[j], batch.reward[j], batch.terminated[j],
                          batch.truncated[j], batch.next_obs[j])
            assert item in everything, "a transition the environment never produced"
            assert item in live, "a transition whose frames are gone"
            seen.add(item)
    assert len(live) >= 0.9 * min(num_steps, capacity - 30) and seen == live


def test_a_truncated_episode_keeps_its_last_observation_and_no_transition_leaves_it():
    state, transitions, _ = play(300, 400, seed=3)
    truncated = [t for t in transitions if t[4]]
    assert truncated
    batch = frames.sample(state, jax.random.key(0), 2048, STACK)
    ends = np.asarray(batch.truncated)
    assert ends.any()
    for obs, next_obs in zip(np.asarray(batch.obs)[ends], np.asarray(batch.next_obs)[ends]):
        # the last observation continues the episode's frames (no reset zeros, no new frame)
        np.testing.assert_array_equal(next_obs[:-1], obs[1:])
        assert next_obs[-1].max() > 0
    # a first observation's stack is zeros but for its own frame
    first = (np.asarray(batch.obs)[:, :-1].reshape(2048, -1).max(1) == 0)
    assert first.any()


def test_storage_is_one_frame_per_slot_known_before_allocation():
    assert frames.nbytes(1_000_000, 1, (84, 84)) == 1_000_000 * (84 * 84 + 12) + 8
    state = frames.init(1_000, 2, (84, 84))
    assert state.frames.shape == (2, 500, 84, 84) and state.frames.dtype == jnp.uint8
    assert sum(x.nbytes for x in jax.tree.leaves(state)) == frames.nbytes(1_000, 2, (84, 84))


def test_too_small_a_replay_is_refused():
    with pytest.raises(ValueError, match=r"buffer_capacity=3 is invalid: must be >= 2 \* num_envs=4"):
        frames.slots(3, 2)
