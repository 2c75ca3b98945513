"""Fixed Q-targets: when and how a target network follows the online one.

Every count here is in environment steps (all of one seed's environments
together), the one global counter a DQN run keeps (cleanrl#322 shows what a
second counter in other units costs).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

PyTree = Any


def crossed_multiple(steps_before: jax.Array, steps_after: jax.Array, period: int) -> jax.Array:
    """True if a multiple of ``period`` lies in ``(steps_before, steps_after]``.

    A loop that advances the counter by ``n`` at a time then acts exactly when a
    counter stepped one at a time would have hit ``step % period == 0``.
    """
    return count_multiples(steps_before, steps_after, period) > 0


def count_multiples(steps_before: jax.Array, steps_after: jax.Array, period: int) -> jax.Array:
    """How many multiples of ``period`` lie in ``(steps_before, steps_after]``, int32 ``[]``."""
    return (jnp.asarray(steps_after, jnp.int32) // period
            - jnp.asarray(steps_before, jnp.int32) // period)


def update_target(online: PyTree, target: PyTree, steps_before: jax.Array,
                  steps_after: jax.Array, period: int, tau: jax.Array) -> PyTree:
    """The target network after the counter moved from ``steps_before`` to ``steps_after``.

    One update, ``target <- tau * online + (1 - tau) * target``, is due each time
    the counter reaches a multiple of ``period``: ``tau = 1`` is the hard copy
    every ``period`` steps of Mnih et al. (2015) ("fixed Q-targets"), ``period =
    1`` with a small ``tau`` is the Polyak averaging of Lillicrap et al. (2016),
    ``tau = 0`` never moves. The ``k`` updates due in one call are all applied,
    from the same ``online``, in closed form: ``k`` mixes keep ``(1 - tau)**k``
    of the target. A counter advanced ``n`` steps at a time with ``online``
    fixed in between (a train step's environment steps) thus updates as one
    advanced a step at a time would, whatever ``period`` is, up to rounding;
    ``k = 0`` leaves the target bit-identical and ``tau = 1`` copies exactly.

    Args:
      online, target: parameter pytrees of the same structure.
      steps_before, steps_after: the global counter, int ``[]``, in environment steps.
      period: environment steps between target updates (static, >= 1).
      tau: float ``[]`` in [0, 1], the mix of one update.
    """
    due = count_multiples(steps_before, steps_after, period)
    keep = jax.lax.pow(1.0 - jnp.asarray(tau, jnp.float32), due)  # integer power: k = 1 is exact
    return jax.tree.map(
        lambda o, t: jnp.where(due > 0, (1.0 - keep) * o + keep * t, t).astype(t.dtype),
        online, target)
