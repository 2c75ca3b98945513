"""Uniform experience replay in a fixed-capacity circular buffer (Lin 1992; Mnih et al. 2015).

The buffer is a pytree of arrays, each ``[capacity, *item_shape]``, plus a write
position and a fill count, so it lives inside a jitted, vmapped training state
and a checkpoint. Items are whatever pytree the caller adds (rlfa's DQN adds
:class:`rlfa.types.Transition`, whose ``obs_t`` is the pre-reset final
observation); their dtypes are kept as given, so boolean MinAtar frames stay one
byte each.

Slots are written in order ``0, 1, ..., capacity - 1, 0, 1, ...``: the filled
part is always ``[0, size)``, and once full the oldest item is overwritten
first. Sampling draws ``k`` indices uniformly from ``[0, size)`` with
replacement.

Beside flashbax: its item buffer (``flashbax.make_item_buffer``, rlfa's
default) is a trajectory buffer with a time axis of one, whose ``sample`` splits
its key twice and draws two ``randint`` arrays per call; this buffer draws one
uniform array (or takes the caller's, drawn in bulk) and gathers.
``python -m benchmarks.dqn --replays rlfa flashbax`` measures the two end to
end; at CartPole's sizes the difference is lost in the noise. With one
environment on MinAtar (a 100,000-frame buffer sampled right after each write)
this buffer's write stays in place where flashbax's is copied whole every frame
(see :func:`add_batch`), so the MinAtar paper's agent uses this one.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

PyTree = Any


class ReplayState(NamedTuple):
    """A circular buffer.

    Attributes:
      items: the stored pytree, every leaf ``[capacity, *item_shape]``.
      position: int32 ``[]``, the slot the next item is written to.
      size: int32 ``[]``, number of filled slots (``min(items added, capacity)``).
    """

    items: PyTree
    position: jax.Array
    size: jax.Array


def _check_capacity(capacity: int) -> None:
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
        raise ValueError(f"capacity={capacity!r} is invalid: must be an integer >= 1.")


def nbytes(item_example: PyTree, capacity: int) -> int:
    """Bytes the buffer's storage takes, computed from shapes before any allocation.

    Args:
      item_example: one item (arrays or ``jax.ShapeDtypeStruct``), no leading axis.
      capacity: slots.
    """
    _check_capacity(capacity)
    leaves = jax.tree.leaves(item_example)
    per_item = sum(math.prod(np.shape(x)) * np.dtype(x.dtype).itemsize for x in leaves)
    return capacity * per_item + 2 * 4  # + position and size


def init(item_example: PyTree, capacity: int) -> ReplayState:
    """An empty buffer for items shaped and typed like ``item_example``."""
    _check_capacity(capacity)
    items = jax.tree.map(
        lambda x: jnp.zeros((capacity,) + np.shape(x), x.dtype), item_example)
    return ReplayState(items, jnp.int32(0), jnp.int32(0))


def capacity_of(state: ReplayState) -> int:
    """The buffer's (static) number of slots."""
    return jax.tree.leaves(state.items)[0].shape[0]


def add_batch(state: ReplayState, batch: PyTree) -> ReplayState:
    """Write ``n`` items (leaves ``[n, *item_shape]``) in order, wrapping around.

    Raises:
      ValueError: ``n`` exceeds the capacity (items would overwrite each other),
        or the batch's structure, shapes or dtypes differ from the buffer's.
    """
    capacity = capacity_of(state)
    n = jax.tree.leaves(batch)[0].shape[0]
    if n > capacity:
        raise ValueError(f"a batch of {n} items does not fit a buffer of capacity {capacity}.")
    if jax.tree.structure(batch) != jax.tree.structure(state.items):
        raise ValueError("the batch's structure differs from the buffer's items: "
                         f"{jax.tree.structure(batch)} vs {jax.tree.structure(state.items)}.")
    for stored, new in zip(jax.tree.leaves(state.items), jax.tree.leaves(batch)):
        if new.shape[1:] != stored.shape[1:] or new.dtype != stored.dtype:
            raise ValueError(f"an item leaf of shape {new.shape[1:]} and dtype {new.dtype} does not"
                             f" match the buffer's {stored.shape[1:]} {stored.dtype}.")
    slots = (state.position + jnp.arange(n, dtype=jnp.int32)) % capacity
    # One more write, to slot `capacity` (out of range, dropped): XLA rewrites a scatter
    # of one item as a dynamic-update-slice, which it may then fuse into the sampling
    # gather that reads the written buffer, and must then copy the whole buffer twice
    # per step (the MinAtar paper's replay: 80 MB per frame, 4x the frame's time on a
    # CPU). Kept a scatter, the write stays in place and the gather reads its result.
    slots = jnp.concatenate([slots, jnp.full((1,), capacity, jnp.int32)])
    items = jax.tree.map(
        lambda buf, x: buf.at[slots].set(jnp.concatenate([x, x[:1]]), unique_indices=True,
                                         mode="drop"),
        state.items, batch)
    return ReplayState(items, (state.position + n) % capacity,
                       jnp.minimum(state.size + n, capacity))


def add(state: ReplayState, item: PyTree) -> ReplayState:
    """Write one item (no leading axis)."""
    return add_batch(state, jax.tree.map(lambda x: jnp.asarray(x)[None], item))


def indices_from_uniforms(state: ReplayState, uniforms: jax.Array) -> jax.Array:
    """Slots ``floor(u * size)`` in ``[0, size)`` for uniforms ``u`` in ``[0, 1)``, int32.

    Lets a training loop draw its randomness in bulk and hand it in.
    """
    size = jnp.maximum(state.size, 1)
    idx = jnp.floor(uniforms * size.astype(uniforms.dtype)).astype(jnp.int32)
    return jnp.minimum(idx, size - 1)  # float rounding of u close to 1


def gather(state: ReplayState, indices: jax.Array) -> PyTree:
    """The items at ``indices`` (int ``[k]``), leaves ``[k, *item_shape]``."""
    return jax.tree.map(lambda buf: jnp.take(buf, indices, axis=0, mode="clip"), state.items)


def sample(state: ReplayState, key: jax.Array, batch_size: int) -> PyTree:
    """``batch_size`` items drawn uniformly, with replacement, from the filled slots.

    The buffer must hold at least one item (a training loop ensures it with its
    warm-up); from an empty buffer it returns slot 0's zeros.
    """
    return gather(state, indices_from_uniforms(state, jax.random.uniform(key, (batch_size,))))
