"""State aggregation: one active feature, the group of consecutive states holding the state.

Sutton & Barto §9.3, Example 9.1 (the 1000-state random walk, states 1..1000 in
10 groups of 100) and §9.5.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from rlfa.config import check_positive_int
from rlfa.features._common import float_dtype, obs_vector
from rlfa.features.base import FeatureMap, Features


def _check_int(field: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{field}={value!r} is invalid: must be an integer.")


def state_aggregation(
    num_states: int, group_size: int, first_state: int = 1, name: str | None = None
) -> FeatureMap:
    """Groups of ``group_size`` consecutive states, each sharing one feature.

    States ``first_state .. first_state + num_states - 1`` fall into
    ``ceil(num_states / group_size)`` groups; when ``group_size`` does not divide
    ``num_states`` the last group is smaller. phi(s) is the indicator of the group
    of ``s``: ``Features(indices=[(s - first_state) // group_size], values=[1.0])``.
    States outside the range are clipped into the first or last group.

    Args:
      num_states: how many states, >= 1.
      group_size: states per group, >= 1 (1 gives a tabular, one-hot map).
      first_state: the number of the first state (1 for the random walk).
      name: for figures and logs; defaults to a description of the grouping.

    Returns:
      A ``FeatureMap`` with ``num_features = ceil(num_states / group_size)`` and
      ``num_active = 1`` whose ``fn`` takes a state number, shape ``()`` or ``[1]``.

    Raises:
      ValueError: naming the field, for non-positive ``num_states`` or ``group_size``
        or a non-integer ``first_state``; at trace time, for an observation of
        another shape.

    Example:
      >>> fm = state_aggregation(num_states=1000, group_size=100)
      >>> int(fm(150).indices[0])  # states 101..200 form group 1
      1
    """
    check_positive_int("num_states", num_states)
    check_positive_int("group_size", group_size)
    _check_int("first_state", first_state)
    num_groups = math.ceil(num_states / group_size)
    if name is None:
        name = f"state_aggregation({num_groups} groups of {group_size})"

    def fn(obs: jax.Array) -> Features:
        state = obs_vector(obs, 1, name)
        group = jnp.floor((state - first_state) / group_size).astype(jnp.int32)
        group = jnp.clip(group, 0, num_groups - 1)
        return Features(group, jnp.ones((1,), float_dtype()))

    return FeatureMap(num_groups, 1, fn, name)
