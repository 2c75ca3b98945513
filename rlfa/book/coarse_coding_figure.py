"""Sutton & Barto's Figure 9.8: the coarseness of coarse coding (§9.5.3, Example 9.3).

Linear SGD (eq. 9.7) learns the square wave :func:`square_wave` on [0, 2) from uniform
samples, with intervals of one width as features (:mod:`rlfa.features.coarse_coding`):
narrow intervals generalise little, broad ones far, yet with many examples every width
learns the wave about as well. :func:`program` is one run, every width a traced
hyperparameter (:class:`HParams`), logging the learned function on :data:`X_EVAL`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from rlfa.features import interval_features, linear_value, normalized_sgd_step
from rlfa.hparams import Positive
from rlfa.types import Program

LOW, HIGH, NUM_POINTS = 0.0, 2.0, 200  # the domain; midpoints of 200 cells are the error grid
X_EVAL = LOW + (np.arange(NUM_POINTS) + 0.5) * (HIGH - LOW) / NUM_POINTS


def square_wave(x):
    """The desired function: 1 on (0.5, 1.5), 0 elsewhere on [0, 2)."""
    return ((x > 0.5) & (x < 1.5)).astype(jnp.result_type(float))


class HParams(NamedTuple):
    """Linear SGD's traced hyperparameters on the square wave (S&B Example 9.3)."""

    step_size: Positive
    """alpha times the number of active features, > 0 (the book: 0.2)."""
    width: Positive
    """Interval length > 0, at most the domain's 2 (traced: the shapes do not depend on it)."""


def program(example_counts: tuple[int, ...], num_features: int) -> Program:
    """One run: linear SGD on fresh uniform examples, one program step per logged count.

    Args:
      example_counts: the examples seen at each logged point (increasing).
      num_features: intervals, spread evenly over [0, 2].

    Returns:
      A Program over :class:`HParams` whose carry is the weights ``[num_features]``, the
      index of the next logged count and the run's key; it logs the learned ``values``
      ``[NUM_POINTS]`` at :data:`X_EVAL` and their ``rms_error`` against the wave.
    """
    bounds = jnp.asarray((0,) + tuple(example_counts), jnp.int32)
    x_eval, y_eval = jnp.asarray(X_EVAL), square_wave(jnp.asarray(X_EVAL))

    def phi(x, hp):
        return interval_features(x, hp.width, LOW, HIGH, num_features)

    def step(c, hp):  # on to the next logged count; example i's x from its own key, so
        def example(i, w):  # logging at other counts changes nothing
            x = jax.random.uniform(jax.random.fold_in(c[2], i), (), minval=LOW, maxval=HIGH)
            return normalized_sgd_step(w, phi(x, hp), square_wave(x), hp.step_size)
        return jax.lax.fori_loop(bounds[c[1]], bounds[c[1] + 1], example, c[0]), c[1] + 1, c[2]

    def log(c, hp):
        values = jax.vmap(lambda x: linear_value(c[0], phi(x, hp)))(x_eval)
        return {"values": values, "rms_error": jnp.sqrt(jnp.mean((values - y_eval) ** 2))}

    return Program(lambda key, hp: (jnp.zeros(num_features), jnp.int32(0), key),
                   step, log, weights=lambda c: c[0])
