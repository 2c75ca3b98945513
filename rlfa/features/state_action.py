"""State-action features for linear action values. Sutton & Barto §10.1.

phi(s, a) stacks one copy of a state feature map per action: phi(s) sits in the
block of action a (indices shifted by ``a * d``) and every other block is zero,
so ``q(s, a) = w[a*d : (a+1)*d] . phi(s)``. With weights ``w`` ``[d * A]`` the
block of action a is ``w.reshape(A, d)[a]``.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp

from rlfa.config import check_positive_int
from rlfa.features.base import FeatureMap, Features


def _check_map(feature_map) -> None:
    if not isinstance(feature_map, FeatureMap):  # ValueError, like every bad argument in rlfa
        raise ValueError(
            f"feature_map={feature_map!r} is invalid: must be a FeatureMap of the state."
        )


def state_action(feature_map: FeatureMap, num_actions: int) -> FeatureMap:
    """phi(s, a): ``feature_map``'s phi(s) placed in the block of action a.

    Args:
      feature_map: the state features, d = ``feature_map.num_features``.
      num_actions: A >= 1.

    Returns:
      A ``FeatureMap`` with ``num_features = d * A`` and the state map's
      ``num_active``, whose ``fn`` takes the pair ``(obs, action)`` (``action`` an
      integer scalar in ``[0, A)``) and returns indices ``phi(s).indices + a * d``.

    Raises:
      ValueError: for ``num_actions < 1`` or a ``feature_map`` that is not a ``FeatureMap``.
      AssertionError: at trace time, for an action that is not an int ``[]``.

    Example:
      >>> from rlfa.features import one_hot
      >>> sa = state_action(one_hot(3), num_actions=2)
      >>> sa((2, 1)).indices.tolist()  # state 2 in action 1's block of 3
      [5]
    """
    _check_map(feature_map)
    check_positive_int("num_actions", num_actions)
    d = feature_map.num_features
    name = f"{feature_map.name} x {num_actions} actions"

    def fn(obs_action: tuple[jax.Array, jax.Array]) -> Features:
        obs, action = obs_action
        # A batch of actions with one observation would broadcast into a batch of indices.
        chex.assert_rank(action, 0, custom_message=f"feature map {name!r}: the action must be "
                         "one int [] (vmap over a batch)")
        chex.assert_type(action, int, custom_message=f"feature map {name!r}: the action must "
                         "be an int")
        phi = feature_map(obs)
        return Features(phi.indices + jnp.asarray(action, jnp.int32) * d, phi.values)

    return FeatureMap(d * num_actions, feature_map.num_active, fn, name)


def all_actions(feature_map: FeatureMap, num_actions: int, obs: jax.Array) -> Features:
    """phi(s, a) for every action at once: indices int32 ``[A, k]``, values ``[k]``.

    The values are shared by all actions (only the block changes), so they are
    returned once; ``dense`` of row a, ``Features(indices[a], values)``, is phi(s, a).
    Costs one evaluation of phi(s).
    """
    _check_map(feature_map)
    check_positive_int("num_actions", num_actions)
    phi = feature_map(obs)
    offsets = jnp.arange(num_actions, dtype=jnp.int32)[:, None] * feature_map.num_features
    return Features(phi.indices[None, :] + offsets, phi.values)


def q_values(w: jax.Array, feature_map: FeatureMap, num_actions: int, obs: jax.Array) -> jax.Array:
    """q(s, a) = w . phi(s, a) for every action, ``[A]``.

    Gathers only the ``A * k`` weights of the active features, so it costs
    O(num_active * A), not O(d * A).

    Args:
      w: weights ``[d * A]`` of the map ``state_action(feature_map, num_actions)``.
      feature_map: the STATE feature map (d features, k active).
      num_actions: A.
      obs: one observation.

    Raises:
      ValueError: at trace time, if ``w`` does not have ``d * A`` entries.
    """
    if w.shape != (feature_map.num_features * num_actions,):
        raise ValueError(
            f"weights have shape {w.shape} but {num_actions} actions of feature map "
            f"{feature_map.name!r} need ({feature_map.num_features * num_actions},)."
        )
    phi = all_actions(feature_map, num_actions, obs)
    # A product and a sum, not a matmul: on CPU a dot is a kernel of its own, this fuses
    # with the gather (~6% of a vmapped Mountain Car step).
    return jnp.sum(w[phi.indices] * phi.values, axis=-1)
