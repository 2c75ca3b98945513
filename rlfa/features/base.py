"""The one representation every linear feature map returns, and linear algebra on it.

A feature vector ``phi(s)`` of length ``num_features`` is stored sparsely as the
``indices`` of its (possibly) non-zero entries and their ``values``: tile coding
and state aggregation have a handful of active binary features, Fourier and
polynomial bases are dense (``indices = arange(num_features)``). One code path
then serves every map: ``v(s) = sum_i w[indices_i] * values_i`` and the
semi-gradient step ``w[indices] += step * values`` (duplicate indices add up).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp


class Features(NamedTuple):
    """phi(s) in sparse form.

    Attributes:
      indices: int32 ``[k]``, positions in ``[0, num_features)``.
      values: float ``[k]``, the entries of phi at those positions.
    """

    indices: jax.Array
    values: jax.Array


class FeatureMap(NamedTuple):
    """A feature map with its size known statically.

    Attributes:
      num_features: length d of phi(s); the weight vector has this shape.
      num_active: k, the number of (indices, values) pairs ``fn`` returns.
      fn: pure ``obs -> Features``.
      name: for figures and logs.
    """

    num_features: int
    num_active: int
    fn: Callable[[jax.Array], Features]
    name: str = "features"

    def __call__(self, obs: jax.Array) -> Features:
        return self.fn(obs)


def dense(phi: Features, num_features: int) -> jax.Array:
    """phi as a dense float vector ``[num_features]``."""
    return jnp.zeros((num_features,), phi.values.dtype).at[phi.indices].add(phi.values)


def linear_value(w: jax.Array, phi: Features) -> jax.Array:
    """w^T phi(s) for weights ``w`` ``[d]`` (or ``[d, n]`` giving ``[n]``)."""
    return jnp.tensordot(phi.values, w[phi.indices], axes=1)


def add_scaled(w: jax.Array, phi: Features, scale: jax.Array) -> jax.Array:
    """w + scale * phi(s): the semi-gradient step, ``scale = alpha * delta``."""
    return w.at[phi.indices].add(scale * phi.values)


def check_weights_match(feature_map: FeatureMap, w: jax.Array) -> None:
    """Raise ``ValueError`` if weights ``w`` cannot hold this feature map's phi."""
    if w.shape[0] != feature_map.num_features:
        raise ValueError(
            f"weights have {w.shape[0]} entries but feature map {feature_map.name!r} "
            f"produces {feature_map.num_features} features: they must match."
        )
