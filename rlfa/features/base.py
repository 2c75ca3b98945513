"""The one representation every linear feature map returns, and linear algebra on it.

A feature vector ``phi(s)`` of length ``num_features`` is stored sparsely as the
``indices`` of its (possibly) non-zero entries and their ``values``: tile coding
and state aggregation have a handful of active binary features, Fourier and
polynomial bases are dense (``indices = arange(num_features)``). One code path
then serves every map: ``v(s) = sum_i w[indices_i] * values_i`` and the
semi-gradient step ``w[indices] += step * values`` (duplicate indices add up).

Calling a map and the functions here check ranks, shapes and dtypes with chex when
traced (an ``AssertionError``); the compiled code is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import chex
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
        """phi(obs): ``num_active`` int indices and float values.

        Raises:
          AssertionError: at trace time, if ``fn`` returns another number of active
            features or other dtypes (a batch of observations, say: vmap over it).
        """
        phi = self.fn(obs)
        _check_features(phi, f"feature map {self.name!r}", self.num_active)
        return phi


def _check_features(phi: Features, where: str, num_active: int | None = None) -> None:
    """Assert ``phi`` is one state's: int indices and float values, both ``[k]``.

    ``k`` must be ``num_active`` when given. Static shapes and dtypes only, so the
    check runs at trace time and never in compiled code.
    """
    message = (f"{where}: phi must be one state's Features, int indices and float values of "
               f"shape {'[k]' if num_active is None else (num_active,)} (vmap over a batch)")
    chex.assert_rank([phi.indices, phi.values], 1, custom_message=message)
    chex.assert_equal_shape([phi.indices, phi.values], custom_message=message)
    if num_active is not None:
        chex.assert_shape(phi.indices, (num_active,), custom_message=message)
    chex.assert_type([phi.indices, phi.values], [int, float], custom_message=message)


def dense(phi: Features, num_features: int) -> jax.Array:
    """phi as a dense float vector ``[num_features]``; ``phi`` holds ``[k]`` indices and values."""
    _check_features(phi, "rlfa.features.dense")
    return jnp.zeros((num_features,), phi.values.dtype).at[phi.indices].add(phi.values)


def linear_value(w: jax.Array, phi: Features) -> jax.Array:
    """w^T phi(s) for float weights ``w`` ``[d]`` (or ``[d, n]`` giving ``[n]``), phi ``[k]``."""
    _check_features(phi, "rlfa.features.linear_value")
    chex.assert_rank(w, {1, 2}, custom_message="rlfa.features.linear_value: w must be [d] or "
                     "[d, n]")
    chex.assert_type(w, float, custom_message="rlfa.features.linear_value: w must be float")
    return jnp.tensordot(phi.values, w[phi.indices], axes=1)


def add_scaled(w: jax.Array, phi: Features, scale: jax.Array) -> jax.Array:
    """w + scale * phi(s): the semi-gradient step, ``scale = alpha * delta``.

    ``w``: float ``[d]``; ``phi``: ``[k]``; ``scale``: float ``[]``.
    """
    _check_features(phi, "rlfa.features.add_scaled")
    chex.assert_rank([w, scale], [1, 0], custom_message="rlfa.features.add_scaled: w must be "
                     "[d] and scale [] (vmap over a batch)")
    chex.assert_type([w, scale], float, custom_message="rlfa.features.add_scaled: w and scale "
                     "must be float")
    return w.at[phi.indices].add(scale * phi.values)
