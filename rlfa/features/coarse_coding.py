"""Coarse coding in one dimension: overlapping intervals (receptive fields) of one width.

Sutton & Barto §9.5.3, Example 9.3 (Figure 9.8). ``num_features`` intervals, each
``width`` long, are spread evenly over ``[low, high]``: interval ``i`` is
``[left_i, left_i + width)`` with ``left_i = low + i * (high - low - width) / (num_features - 1)``,
so the first starts at ``low`` and the last ends at ``high`` (and, being last, also
holds ``high`` itself). phi(x) is 1 for every interval holding ``x`` and 0 elsewhere;
observations outside the bounds are clipped to them.

phi is stored densely (``indices = arange(num_features)``, values 0 or 1): how many
intervals hold a point depends on the width, the array shapes must not, so the
width can be a traced hyperparameter and several widths run in one program.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp

from rlfa.config import check_positive_int
from rlfa.features._common import as_bounds, as_vector, float_dtype, obs_vector
from rlfa.features.base import FeatureMap, Features, add_scaled, linear_value


def interval_features(x: jax.Array, width: jax.Array, low: float, high: float,
                      num_features: int) -> Features:
    """phi(x) for ``num_features`` intervals of length ``width`` spread over ``[low, high]``.

    Computed arithmetically, so ``width`` may be traced (unchecked here: build a
    :func:`coarse_coding_1d` map with each value first to validate it).

    Args:
      x: the point, float ``()``; clipped to ``[low, high]``.
      width: interval length, ``()``, with ``0 < width <= high - low`` and
        ``num_features * width >= high - low`` (so every point has an interval).
      low, high: the bounds (static floats).
      num_features: d, the number of intervals (static).

    Returns:
      ``Features(arange(d), values)`` with ``values[i]`` 1.0 if interval ``i`` holds ``x``.

    Raises:
      AssertionError: at trace time, for an ``x`` or ``width`` that is not a float
        ``()`` (vmap over several).
    """
    chex.assert_rank([x, width], 0, custom_message="rlfa.features.interval_features: x and "
                     "width must be scalars (vmap over several)")
    # An integer x would also make width an integer below (it takes x's dtype).
    chex.assert_type([x, width], float, custom_message="rlfa.features.interval_features: x "
                     "and width must be float")
    x = jnp.clip(x, low, high)
    width = jnp.asarray(width, x.dtype)
    index = jnp.arange(num_features)
    spacing = (high - low - width) / max(num_features - 1, 1)
    left = low + index.astype(x.dtype) * spacing
    inside = (left <= x) & ((x < left + width) | (index == num_features - 1))
    return Features(index.astype(jnp.int32), inside.astype(float_dtype()))


def coarse_coding_1d(low: float, high: float, width: float, num_features: int,
                     name: str | None = None) -> FeatureMap:
    """A map of ``num_features`` overlapping intervals of length ``width`` over ``[low, high]``.

    The book's Figure 9.8 uses ``coarse_coding_1d(0, 2, w, 50)`` for widths
    ``w = 0.2, 0.4, 1.0`` (narrow, medium, broad): about 5, 10 and 25 intervals
    hold each point.

    Args:
      low: lower bound.
      high: upper bound, > ``low``.
      width: interval length, ``0 < width <= high - low``.
      num_features: d >= 1 intervals, with ``d * width >= high - low`` so that
        every point lies in at least one.
      name: for figures and logs; defaults to a description of the intervals.

    Returns:
      A ``FeatureMap`` with ``num_features = num_active = d`` (dense 0/1 values)
      whose ``fn`` takes a point, shape ``()`` or ``[1]``.

    Raises:
      ValueError: naming the field, for ``high <= low``, a non-finite bound, a
        ``width`` outside ``(0, high - low]``, ``num_features < 1``, or intervals
        too few and narrow to cover the bounds; at trace time, for an
        observation of another shape.

    Example:
      >>> fm = coarse_coding_1d(0.0, 2.0, width=1.0, num_features=5)  # lefts 0, .25, ..., 1
      >>> fm(0.3).values.tolist()
      [1.0, 1.0, 0.0, 0.0, 0.0]
    """
    lows, highs = as_bounds(low, high, 1)
    span = float(highs[0] - lows[0])
    size = float(as_vector("width", width, 1)[0])
    if not 0 < size <= span:
        raise ValueError(f"width={width!r} is invalid: must be > 0 and <= high - low = {span:g}.")
    check_positive_int("num_features", num_features)
    if num_features * size < span:
        raise ValueError(
            f"num_features={num_features} intervals of width={width!r} cover "
            f"{num_features * size:g} < high - low = {span:g}: some points would have no "
            "active feature; use more or wider intervals.")
    if name is None:
        name = f"coarse_coding({num_features} intervals of width {size:g})"
    bounds = float(lows[0]), float(highs[0])

    def fn(obs: jax.Array) -> Features:
        return interval_features(obs_vector(obs, 1, name)[0], size, *bounds, num_features)

    return FeatureMap(num_features, num_features, fn, name)


def normalized_sgd_step(w: jax.Array, phi: Features, target: jax.Array,
                        step_size: jax.Array) -> jax.Array:
    """One SGD step (S&B eq. 9.7) toward ``target`` with alpha = ``step_size`` / active features.

    ``w + step_size / n * (target - w^T phi) * phi`` with ``n`` the number of
    non-zero entries of phi (Example 9.3's ``alpha = 0.2 / n``), so a step moves
    the estimate at the sample point by the fraction ``step_size`` of its error
    whatever the width. ``w``: float ``[d]``; ``target``, ``step_size``: float ``()``.
    """
    chex.assert_rank([target, step_size], 0, custom_message="rlfa.features.normalized_sgd_step: "
                     "target and step_size must be scalars (vmap over several)")
    active = jnp.maximum(jnp.sum(phi.values != 0), 1).astype(w.dtype)
    return add_scaled(w, phi, step_size / active * (target - linear_value(w, phi)))
