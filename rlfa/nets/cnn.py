"""The small convolutional Q-network of MinAtar (Young & Tian 2019, "MinAtar", Sec. 4).

Its convolution is written as one matrix product over the input's patches
(:class:`PatchConv`, "im2col") rather than XLA's convolution: on CPU the product is
about 1.7x faster for one seed, and under ``vmap`` over seeds (each seed its own
kernel) XLA turns a convolution into a grouped one, which its CPU backend runs
about 3x slower than the batched product the patches give
(``python -m benchmarks.minatar`` measures the whole update).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp


class PatchConv(nn.Module):
    """A ``VALID`` 2-D convolution (cross-correlation, as ``flax.linen.Conv``) computed as
    ``patches @ kernel``.

    Its parameters are ``flax.linen.Conv``'s, named and initialized alike (``kernel``
    ``[kernel, kernel, in_channels, features]``, LeCun normal; ``bias [features]``,
    zeros), so a network swaps one for the other without changing its parameters.

    Inputs ``[..., height, width, in_channels]`` float; outputs
    ``[..., (height - kernel) // stride + 1, (width - kernel) // stride + 1, features]``.
    """

    features: int
    kernel: int
    stride: int = 1

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        k, s, channels = self.kernel, self.stride, x.shape[-1]
        kernel = self.param("kernel", nn.initializers.lecun_normal(),
                            (k, k, channels, self.features))
        bias = self.param("bias", nn.initializers.zeros_init(), (self.features,))
        h, w = (x.shape[-3] - k) // s + 1, (x.shape[-2] - k) // s + 1
        # Patch feature (i * k + j) * channels + c is input pixel (s a + i, s b + j), channel
        # c: the row order of the kernel reshaped to [k * k * channels, features].
        patches = jnp.concatenate([x[..., i:i + s * (h - 1) + 1:s, j:j + s * (w - 1) + 1:s, :]
                                   for i in range(k) for j in range(k)], axis=-1)
        return patches @ kernel.reshape(k * k * channels, self.features) + bias


class MinAtarCNN(nn.Module):
    """One 3x3 convolution (16 channels, stride 1, ReLU), one hidden layer of 128, a linear head.

    Inputs ``[batch, height, width, channels]`` (MinAtar: 10 x 10 x 4..7, binary;
    any dtype, cast to float32); outputs ``[batch, num_outputs]``.

    Attributes:
      num_outputs: action values per input.
      channels: convolution filters.
      kernel: convolution window (``kernel x kernel``).
      hidden: width of the fully connected hidden layer.
      layer_norm: normalise the convolution's and the hidden layer's pre-activations
        before their ReLUs (over the last axis: each pixel's channels, and the hidden
        units), as PQN's MinAtar network does (Gallici et al. 2025; purejaxql's
        ``pqn_minatar.py``).
    """

    num_outputs: int
    channels: int = 16
    kernel: int = 3
    hidden: int = 128
    layer_norm: bool = False

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = x.astype(jnp.float32)
        # Named as flax's Conv would be, so the parameter tree is the same as with nn.Conv.
        def norm(y):
            return nn.LayerNorm()(y) if self.layer_norm else y

        x = nn.relu(norm(PatchConv(self.channels, self.kernel, name="Conv_0")(x)))
        x = x.reshape(x.shape[0], -1)
        x = nn.relu(norm(nn.Dense(self.hidden)(x)))
        return nn.Dense(self.num_outputs)(x)


class NatureCNN(nn.Module):
    """The Nature DQN's network (Mnih et al. 2015, Methods, "Model architecture"): 32 8x8
    filters at stride 4, 64 4x4 at stride 2, 64 3x3 at stride 1, each with a ReLU, a hidden
    layer of 512 ReLUs and one linear output per action (1,686,180 parameters for 4
    actions). flax's initialisers (LeCun normal kernels, zero biases), not Torch 7's. The
    convolutions are patch products (:class:`PatchConv`, with ``nn.Conv``'s parameter names
    and shapes): inside the runner's loops XLA's CPU convolutions cost about 8x what they
    cost alone (an update 230 ms against 30 ms), the patch products the same in and out of
    loops (``python -m benchmarks.atari`` measures the update both ways).

    Inputs ``[batch, stack, height, width]`` uint8 frames (the stack first, as ale-py gives
    them), scaled to [0, 1]; outputs ``[batch, num_outputs]``.
    """

    num_outputs: int
    patches: bool = True
    """Convolutions as patch products (False: XLA's convolutions, the same function)."""

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = jnp.moveaxis(x, -3, -1).astype(jnp.float32) / 255.0  # NHWC: XLA's CPU layout
        for i, (features, kernel, stride) in enumerate(((32, 8, 4), (64, 4, 2), (64, 3, 1))):
            conv = (PatchConv(features, kernel, stride, name=f"Conv_{i}") if self.patches else
                    nn.Conv(features, (kernel, kernel), (stride, stride), padding="VALID",
                            name=f"Conv_{i}"))
            x = nn.relu(conv(x))
        x = nn.relu(nn.Dense(512)(x.reshape(x.shape[0], -1)))
        return nn.Dense(self.num_outputs)(x)
