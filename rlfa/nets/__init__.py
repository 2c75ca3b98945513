"""Flax Q-networks: an MLP for vector observations, a small CNN for MinAtar frames, the
Nature DQN's CNN for stacked Atari frames.

:func:`q_network` picks and checks one for an observation shape, so a shape the
network cannot take fails with a ``ValueError`` before anything compiles.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn

from rlfa.config import check_choice, check_positive_int
from rlfa.nets.cnn import MinAtarCNN, NatureCNN
from rlfa.nets.mlp import MLP

KINDS = ("auto", "mlp", "cnn", "nature")
# The Nature network's three convolutions need frames of at least 36 x 36 pixels.
NATURE_MIN_SIZE = 36


def q_network(obs_shape: Sequence[int], num_actions: int, kind: str = "auto",
              hidden: Sequence[int] = (120, 84), layer_norm: bool = False) -> nn.Module:
    """A Q-network mapping ``[batch, *obs_shape]`` to ``[batch, num_actions]``.

    Args:
      obs_shape: one observation's shape: ``(d,)`` for the MLP, ``(h, w, c)`` for the CNN,
        ``(stack, h, w)`` for the Nature CNN.
      num_actions: outputs.
      kind: ``"mlp"``, ``"cnn"``, ``"nature"``, or ``"auto"`` (MLP for 1-D, CNN for 3-D
        observations).
      hidden: the MLP's hidden widths.
      layer_norm: LayerNorm before each hidden ReLU (PQN's networks).

    Raises:
      ValueError: unknown kind, bad sizes, or an observation shape the network cannot take.
    """
    check_choice("network", kind, KINDS)
    check_positive_int("num_actions", num_actions)
    for width in hidden:
        check_positive_int("hidden width", width)
    obs_shape = tuple(obs_shape)
    if kind == "auto":
        kind = {1: "mlp", 3: "cnn"}.get(len(obs_shape))
        if kind is None:
            raise ValueError(f"observation shape {obs_shape} is invalid for a Q-network: must be"
                             " 1-D (MLP) or 3-D height x width x channels (CNN).")
    if kind == "mlp":
        if len(obs_shape) != 1:
            raise ValueError(f"observation shape {obs_shape} is invalid for network='mlp': it"
                             " takes 1-D observations.")
        return MLP(tuple(hidden), num_actions, layer_norm)
    if kind == "nature":
        if len(obs_shape) != 3 or min(obs_shape[1:]) < NATURE_MIN_SIZE:
            raise ValueError(f"observation shape {obs_shape} is invalid for network='nature': it"
                             " takes stack x height x width frames with height, width >="
                             f" {NATURE_MIN_SIZE}.")
        return NatureCNN(num_actions)
    cnn = MinAtarCNN(num_actions, layer_norm=layer_norm)
    if len(obs_shape) != 3 or min(obs_shape[:2]) < cnn.kernel:
        raise ValueError(f"observation shape {obs_shape} is invalid for network='cnn': it takes"
                         f" height x width x channels with height, width >= {cnn.kernel}.")
    return cnn


__all__ = ["KINDS", "MLP", "MinAtarCNN", "NatureCNN", "q_network"]
