"""Q-networks: shapes, a hand-set forward pass, and bad observation shapes."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import flax.linen as nn

from rlfa.nets import MLP, MinAtarCNN, q_network
from rlfa.nets.cnn import PatchConv


def test_mlp_shapes_and_hand_set_forward():
    net = MLP(hidden=(2,), num_outputs=1)
    params = net.init(jax.random.key(0), jnp.zeros((1, 2)))
    assert jax.tree.map(jnp.shape, params)["params"] == {
        "Dense_0": {"bias": (2,), "kernel": (2, 2)}, "Dense_1": {"bias": (1,), "kernel": (2, 1)}}
    params = {"params": {"Dense_0": {"kernel": jnp.array([[1.0, -1.0], [2.0, 0.0]]),
                                     "bias": jnp.array([0.0, 0.5])},
                         "Dense_1": {"kernel": jnp.array([[1.0], [3.0]]), "bias": jnp.array([1.0])}}}
    # x = (1, 1): hidden = relu(1+2, -1+0.5) = (3, 0); out = 3 + 0 + 1 = 4
    np.testing.assert_allclose(net.apply(params, jnp.array([[1.0, 1.0]])), [[4.0]])


def test_cnn_takes_minatar_frames_of_any_dtype():
    net = q_network((10, 10, 4), 3)
    assert isinstance(net, MinAtarCNN)
    frames = jnp.ones((5, 10, 10, 4), jnp.bool_)
    params = net.init(jax.random.key(0), frames)
    q = net.apply(params, frames)
    assert q.shape == (5, 3) and q.dtype == jnp.float32
    np.testing.assert_allclose(q, net.apply(params, frames.astype(jnp.float32)))


@pytest.mark.parametrize("kernel, shape", [(3, (2, 10, 10, 4)), (2, (3, 5, 7, 6)), (1, (1, 4, 4, 2))])
def test_patch_conv_is_flax_conv_with_the_same_parameters(kernel, shape):
    x = jax.random.normal(jax.random.key(1), shape)
    patch, conv = PatchConv(16, kernel), nn.Conv(16, (kernel, kernel), padding="VALID")
    params = patch.init(jax.random.key(2), x)
    # the same names, shapes and initial values as flax's Conv from the same key
    chex.assert_trees_all_equal(params, conv.init(jax.random.key(2), x))
    params = jax.tree.map(lambda p: p + jax.random.normal(jax.random.key(3), p.shape), params)
    out = patch.apply(params, x)
    assert out.shape == shape[:1] + (shape[1] - kernel + 1, shape[2] - kernel + 1, 16)
    np.testing.assert_allclose(out, conv.apply(params, x), rtol=1e-5, atol=1e-5)


def test_cnn_parameters_are_those_of_a_flax_conv_network():
    params = MinAtarCNN(6).init(jax.random.key(0), jnp.zeros((1, 10, 10, 4)))
    assert jax.tree.map(jnp.shape, params)["params"] == {
        "Conv_0": {"kernel": (3, 3, 4, 16), "bias": (16,)},
        "Dense_0": {"kernel": (1024, 128), "bias": (128,)},
        "Dense_1": {"kernel": (128, 6), "bias": (6,)}}


def test_auto_picks_mlp_for_vectors():
    assert isinstance(q_network((4,), 2), MLP)
    assert q_network((4,), 2, hidden=(120, 84)).hidden == (120, 84)


@pytest.mark.parametrize("shape, kind", [((4, 4), "auto"), ((10, 10, 4), "mlp"), ((4,), "cnn"),
                                         ((2, 2, 1), "cnn")])
def test_shape_the_network_cannot_take(shape, kind):
    with pytest.raises(ValueError, match="observation shape"):
        q_network(shape, 2, kind)


def test_unknown_kind():
    with pytest.raises(ValueError, match="network='transformer'"):
        q_network((4,), 2, "transformer")
