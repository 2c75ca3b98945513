"""Exploration (and learning-rate) schedules, as pure functions of a step counter.

Every count here is in environment steps (all of one seed's environments
together), the one global counter a DQN run keeps (cleanrl#322 shows what a
second counter in other units costs).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def linear_schedule(step: jax.Array, start: jax.Array, end: jax.Array,
                    duration: jax.Array) -> jax.Array:
    """Linear interpolation from ``start`` at step 0 to ``end`` at ``duration``, then flat.

    ``epsilon(0) = start``, ``epsilon(duration) = end``, clamped after; monotone.
    The exploration schedule of Mnih et al. (2015), 1.0 to 0.1 over the first
    million frames.

    Args:
      step: environment steps taken, int or float ``[]``.
      start, end: values at step 0 and at ``duration`` and after.
      duration: steps the change takes (> 0).
    """
    fraction = jnp.clip(jnp.asarray(step, jnp.float32) / duration, 0.0, 1.0)
    # this form is exact at both ends (start + f * (end - start) misses end by an ulp)
    return (1.0 - fraction) * start + fraction * end
