"""Fixed Q-targets: the target update's exact timing, hard copies and Polyak averaging."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa.control.target_network import count_multiples, crossed_multiple, update_target


def _trace_target(period, tau, block, num_blocks):
    """Drive the update with online params equal to the block index; return target per block."""
    target = {"w": jnp.zeros(())}
    history = []
    for i in range(num_blocks):
        before, after = i * block, (i + 1) * block
        target = update_target({"w": jnp.float32(i + 1)}, target, before, after, period, tau)
        history.append(float(target["w"]))
    return history


def test_hard_copy_changes_at_exact_steps():
    # counter advances 1 at a time; copy every 3 steps: at steps 3, 6, 9
    assert _trace_target(period=3, tau=1.0, block=1, num_blocks=10) == [
        0, 0, 3, 3, 3, 6, 6, 6, 9, 9]
    # advancing 10 at a time with a period of 25: copies once the counter passes 25, 50
    assert _trace_target(period=25, tau=1.0, block=10, num_blocks=6) == [0, 0, 3, 3, 5, 5]
    np.testing.assert_array_equal(crossed_multiple(jnp.arange(6), jnp.arange(1, 7), 3),
                                  [False, False, True, False, False, True])


def test_tau_one_equals_hard_copy_and_tau_zero_never_moves():
    key = jax.random.key(0)
    online = {"a": jax.random.normal(key, (3, 4)), "b": jnp.arange(4.0)}
    target = jax.tree.map(lambda x: x * 0 - 7.0, online)
    copied = update_target(online, target, 99, 100, 100, jnp.float32(1.0))
    chex.assert_trees_all_equal(copied, online)
    kept = update_target(online, target, 99, 100, 100, jnp.float32(0.0))
    chex.assert_trees_all_equal(kept, target)
    assert _trace_target(period=1, tau=0.0, block=1, num_blocks=5) == [0] * 5


def test_polyak_average():
    out = update_target({"w": jnp.float32(10.0)}, {"w": jnp.float32(0.0)}, 0, 1, 1, 0.25)
    assert float(out["w"]) == pytest.approx(2.5)


def _trace_one_step_at_a_time(period, tau, block, num_blocks):
    """The reference: the counter moves one environment step at a time; online params are
    the block index, constant within a block (a train step's environment steps)."""
    target, history = 0.0, []
    for step in range(1, block * num_blocks + 1):
        online = (step - 1) // block + 1
        if step % period == 0:
            target = tau * online + (1 - tau) * target
        if step % block == 0:
            history.append(target)
    return history


def test_count_multiples():
    np.testing.assert_array_equal(
        [int(count_multiples(b, b + 4, 3)) for b in range(0, 24, 4)], [1, 1, 2, 1, 1, 2])
    assert int(count_multiples(7, 7, 3)) == 0
    assert int(count_multiples(0, 10, 1)) == 10


def test_period_below_the_block_applies_every_update_due():
    # the counter advances 4 at a time (e.g. train_frequency=4) and the target is due every
    # 3 steps: 1, 1, 2, 1, 1, 2 updates per block, not at most one
    history = _trace_target(period=3, tau=0.5, block=4, num_blocks=6)
    reference = _trace_one_step_at_a_time(period=3, tau=0.5, block=4, num_blocks=6)
    np.testing.assert_allclose(history, reference, rtol=1e-6)
    # the closed form, block by block: target <- online + 0.5**k (target - online)
    expected, target = [], 0.0
    for online, k in zip(range(1, 7), [1, 1, 2, 1, 1, 2], strict=True):
        target = online + 0.5**k * (target - online)
        expected.append(target)
    np.testing.assert_allclose(history, expected, rtol=1e-6)
    assert history[2] != pytest.approx(3 + 0.5 * (history[1] - 3))  # not a single update


def test_polyak_every_step_equals_stepping_one_at_a_time():
    history = _trace_target(period=1, tau=0.1, block=10, num_blocks=5)
    np.testing.assert_allclose(
        history, _trace_one_step_at_a_time(period=1, tau=0.1, block=10, num_blocks=5), rtol=1e-5)
    assert history[0] == pytest.approx(1 - 0.9**10)


def test_several_hard_copies_due_at_once_copy_exactly_and_none_due_keeps_bits():
    online = {"w": jnp.float32(0.1), "b": jnp.arange(3.0) / 7}
    target = {"w": jnp.float32(-2.0), "b": jnp.full(3, 1 / 3, jnp.float32)}
    copied = update_target(online, target, 0, 10, 3, jnp.float32(1.0))  # 3 copies due
    chex.assert_trees_all_equal(copied, online)
    kept = update_target(online, target, 4, 5, 3, jnp.float32(0.3))  # none due
    chex.assert_trees_all_equal(kept, target)
