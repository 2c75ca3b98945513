"""The Nature DQN's network: the paper's layer shapes and parameter count, and its patch
convolutions equal to XLA's strided convolutions on the same parameters."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa import nets


def test_layer_shapes_and_parameter_count_are_the_papers():
    network = nets.q_network((4, 84, 84), 4, "nature")
    params = network.init(jax.random.key(0), jnp.zeros((1, 4, 84, 84), jnp.uint8))["params"]
    shapes = {name: layer["kernel"].shape for name, layer in params.items()}
    assert shapes == {"Conv_0": (8, 8, 4, 32), "Conv_1": (4, 4, 32, 64),
                      "Conv_2": (3, 3, 64, 64), "Dense_0": (7 * 7 * 64, 512),
                      "Dense_1": (512, 4)}
    assert sum(x.size for x in jax.tree.leaves(params)) == 1_686_180
    assert network.apply({"params": params},
                         jnp.zeros((3, 4, 84, 84), jnp.uint8)).shape == (3, 4)


def test_patch_convolutions_equal_xlas_strided_convolutions():
    frames = jax.random.randint(jax.random.key(1), (5, 4, 84, 84), 0, 256).astype(jnp.uint8)
    patches, xla = nets.NatureCNN(6), nets.NatureCNN(6, patches=False)
    params = patches.init(jax.random.key(2), frames[:1])
    assert jax.tree.structure(params) == jax.tree.structure(xla.init(jax.random.key(2),
                                                                     frames[:1]))
    np.testing.assert_allclose(patches.apply(params, frames), xla.apply(params, frames),
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape", [(4,), (4, 30, 30), (84, 84)])
def test_shapes_the_network_cannot_take_are_refused(shape):
    with pytest.raises(ValueError, match="invalid for network='nature'"):
        nets.q_network(shape, 4, "nature")
