"""Tests for rlfa/features/state_action.py: the block layout of phi(s, a) and q-values."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa.features import (
    all_actions,
    dense,
    linear_value,
    one_hot,
    q_values,
    state_action,
    tile_coding,
)

TILES = tile_coding(lows=[0.0, 0.0], highs=[1.0, 1.0], tiles_per_dim=1, num_tilings=4)  # d = 16
OBS = jnp.array([0.6, 0.3])  # active tiles [0, 5, 10, 14] (see test_tile_coding)


def test_block_layout_by_hand():
    sa = state_action(one_hot(3), num_actions=2)
    assert (sa.num_features, sa.num_active) == (6, 1)
    np.testing.assert_array_equal(dense(sa((2, 1)), 6), [0, 0, 0, 0, 0, 1])
    np.testing.assert_array_equal(dense(sa((0, 0)), 6), [1, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(dense(sa((1, 1)), 6), [0, 0, 0, 0, 1, 0])


def test_tile_coding_block_of_each_action():
    sa = state_action(TILES, num_actions=3)
    assert (sa.num_features, sa.num_active) == (48, 4)
    for a, shift in enumerate([0, 16, 32]):
        np.testing.assert_array_equal(sa((OBS, a)).indices, np.array([0, 5, 10, 14]) + shift)


def test_all_actions_and_q_values_agree_with_dense_features():
    num_actions = 3
    sa = state_action(TILES, num_actions)
    w = jax.random.normal(jax.random.key(0), (sa.num_features,))
    phis = all_actions(TILES, num_actions, OBS)
    assert phis.indices.shape == (3, 4) and phis.values.shape == (4,)
    expected = [float(w @ dense(sa((OBS, a)), sa.num_features)) for a in range(num_actions)]
    q = q_values(w, TILES, num_actions, OBS)
    assert q.shape == (3,)
    np.testing.assert_allclose(q, expected, rtol=1e-6)
    np.testing.assert_allclose(q, [linear_value(w, sa((OBS, a))) for a in range(3)], rtol=1e-6)
    # the block of action a is w.reshape(A, d)[a]
    np.testing.assert_allclose(q, w.reshape(3, 16)[:, [0, 5, 10, 14]].sum(1), rtol=1e-6)


def test_jit_and_vmap_over_observation_action_pairs():
    sa = state_action(TILES, num_actions=2)
    batch = (jnp.array([[0.6, 0.3], [0.6, 0.3], [0.1, 0.9]]), jnp.array([0, 1, 1]))
    phis = jax.jit(jax.vmap(sa.fn))(batch)
    np.testing.assert_array_equal(phis.indices[1] - phis.indices[0], np.full(4, 16))
    np.testing.assert_array_equal(phis.indices[2], sa((batch[0][2], 1)).indices)
    w = jnp.arange(32.0)
    q = jax.jit(jax.vmap(lambda o: q_values(w, TILES, 2, o)))(batch[0])
    assert q.shape == (3, 2)
    np.testing.assert_allclose(
        q[:, 1], jax.vmap(lambda p: linear_value(w, p))(phis)[np.array([1, 1, 2])]
    )


def test_bad_arguments():
    with pytest.raises(ValueError, match="num_actions"):
        state_action(TILES, num_actions=0)
    with pytest.raises(ValueError, match="feature_map"):
        state_action(lambda obs: obs, num_actions=2)
    with pytest.raises(ValueError, match=r"weights have shape \(16,\).*\(32,\)"):
        q_values(jnp.zeros(16), TILES, 2, OBS)


@pytest.mark.parametrize("wrap", [lambda f: f, jax.jit], ids=["eager", "jit"])
@pytest.mark.parametrize(("action", "match"), [
    # a batch of actions with one state: with one active feature it would broadcast silently
    (jnp.array([0, 1]), r"the action must be one int \[\].*vmap"),
    (jnp.float32(1.0), r"the action must be an int"),
])
def test_an_action_that_is_not_one_int_fails_at_trace_time(wrap, action, match):
    sa = state_action(one_hot(3), num_actions=2)
    with pytest.raises(AssertionError, match=r"feature map 'one_hot\(3\) x 2 actions'.*" + match):
        wrap(lambda o, a: sa((o, a)))(jnp.int32(2), action)
