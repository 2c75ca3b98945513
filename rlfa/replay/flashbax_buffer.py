"""The replay interface over flashbax's item buffer (the default of :func:`rlfa.replay.make`).

``flashbax.make_item_buffer`` stores items on a time axis of length
``capacity`` (with an add-batch axis of one) and samples uniformly from the
filled part; its state keeps items as ``experience`` leaves ``[1, capacity, ...]``.
rlfa's own :mod:`rlfa.replay.uniform` has the same contract;
``python -m benchmarks.dqn --replays rlfa flashbax`` measures both end to end.
"""

from __future__ import annotations

from typing import Any

import flashbax as fbx
import jax

from rlfa.replay import uniform

PyTree = Any


def make_item_buffer(capacity: int, batch_size: int):
    """flashbax's uniform item buffer taking batches of items; ``min_length = batch_size``."""
    uniform._check_capacity(capacity)
    return fbx.make_item_buffer(max_length=capacity, min_length=batch_size,
                                sample_batch_size=batch_size, add_batches=True)


def init(buffer, item_example: PyTree):
    """An empty flashbax buffer state."""
    return buffer.init(item_example)


def add_batch(buffer, state, batch: PyTree):
    """Add items with leaves ``[n, *item_shape]``."""
    return buffer.add(state, batch)


def sample(buffer, state, key: jax.Array) -> PyTree:
    """``batch_size`` items, leaves ``[batch_size, *item_shape]``."""
    return buffer.sample(state, key).experience
