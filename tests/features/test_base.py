"""Tests for rlfa/features/base.py: the shape and dtype checks at a map's call and on phi."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa.features import FeatureMap, Features, add_scaled, dense, linear_value, tile_coding

jit_or_not = pytest.mark.parametrize("wrap", [lambda f: f, jax.jit], ids=["eager", "jit"])

PHI = Features(jnp.array([0, 3], jnp.int32), jnp.array([1.0, 2.0]))
W = jnp.array([0.5, -1.0, 2.0, 4.0])


def _index_map(num_active: int = 1) -> FeatureMap:
    """A map whose fn trusts its input: state s is feature s (so a batch comes out a batch)."""
    return FeatureMap(4, num_active, lambda obs: Features(jnp.asarray(obs, jnp.int32).reshape(-1),
                                                          jnp.ones(jnp.size(obs))), "index")


@jit_or_not
def test_phi_by_hand(wrap):
    assert float(wrap(linear_value)(W, PHI)) == 0.5 + 2.0 * 4.0
    np.testing.assert_array_equal(wrap(add_scaled)(W, PHI, 0.5), [1.0, -1.0, 2.0, 5.0])
    np.testing.assert_array_equal(wrap(lambda p: dense(p, 4))(PHI), [1.0, 0.0, 0.0, 2.0])
    np.testing.assert_array_equal(wrap(linear_value)(jnp.stack([W, -W], 1), PHI), [8.5, -8.5])
    assert wrap(lambda obs: _index_map()(obs))(2).indices.tolist() == [2]


@jit_or_not
@pytest.mark.parametrize(("fn", "match"), [
    # a map given a batch where it expects one observation returns a batch
    (lambda: _index_map()(jnp.array([1, 2])), r"feature map 'index'.*shape \(1,\)"),
    # a map that returns another number of active features than it declares
    (lambda: _index_map(num_active=2)(1), r"feature map 'index'.*shape \(2,\)"),
    (lambda: FeatureMap(4, 1, lambda obs: Features(jnp.ones(1), jnp.ones(1)), "floats")(0),
     r"feature map 'floats'.*int indices"),
    (lambda: dense(Features(jnp.zeros((2, 2), jnp.int32), jnp.ones((2, 2))), 4),
     r"dense: phi must be one state's.*vmap"),
    (lambda: linear_value(W, Features(PHI.indices, jnp.ones(3))), r"linear_value: phi"),
    (lambda: linear_value(W, Features(PHI.indices, jnp.array([1, 2]))),
     r"linear_value: phi.*float values"),
    (lambda: linear_value(jnp.arange(4), PHI), r"linear_value: w must be float"),
    (lambda: linear_value(jnp.ones((4, 1, 1)), PHI), r"linear_value: w must be \[d\] or \[d, n\]"),
    (lambda: add_scaled(W, PHI, jnp.array([0.1, 0.2])), r"add_scaled: w must be \[d\] and scale"),
    (lambda: add_scaled(W.astype(jnp.int32), PHI, 1.0), r"add_scaled: w and scale must be float"),
])
def test_wrong_rank_shape_or_dtype_fails_with_a_clear_message(wrap, fn, match):
    with pytest.raises(AssertionError, match=match):
        wrap(fn)()


def test_the_checks_leave_the_compiled_program_unchanged():
    fm = tile_coding(lows=[0.0, 0.0], highs=[1.0, 1.0], tiles_per_dim=4, num_tilings=8)
    w = jnp.zeros(fm.num_features)

    def step(w, obs):
        phi = fm(obs)
        return add_scaled(w, phi, 0.1 * (1.0 - linear_value(w, phi)))

    checked = jax.make_jaxpr(step)(w, jnp.array([0.3, 0.6]))
    chex.disable_asserts()
    try:
        unchecked = jax.make_jaxpr(step)(w, jnp.array([0.3, 0.6]))
    finally:
        chex.enable_asserts()
    assert str(checked) == str(unchecked)
