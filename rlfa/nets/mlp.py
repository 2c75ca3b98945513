"""A multilayer perceptron Q-network for vector observations (e.g. CartPole's 4 numbers)."""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp


class MLP(nn.Module):
    """Fully connected ReLU layers, then a linear head with one output per action.

    PureJaxRL's CartPole DQN uses ``hidden=(120, 84)``. Inputs ``[batch, obs_dim]``
    of any dtype (cast to float32); outputs ``[batch, num_outputs]``.

    Attributes:
      hidden: widths of the hidden layers.
      num_outputs: action values per input (the number of actions).
      layer_norm: normalise each hidden layer's pre-activations (Ba et al. 2016) before
        its ReLU, as PQN does (Gallici et al. 2025, Sec. 4): parameters ``LayerNorm_i``
        (``scale``, ``bias`` of the layer's width).
    """

    hidden: Sequence[int]
    num_outputs: int
    layer_norm: bool = False

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = x.astype(jnp.float32)
        for width in self.hidden:
            x = nn.Dense(width)(x)
            x = nn.relu(nn.LayerNorm()(x) if self.layer_norm else x)
        return nn.Dense(self.num_outputs)(x)
