"""What every linear prediction agent shares: its hyperparameters, weights and value.

Each agent (:mod:`rlfa.prediction.gradient_mc`, :mod:`rlfa.prediction.td`,
:mod:`rlfa.prediction.off_policy`) closes over a :class:`~rlfa.features.FeatureMap`
and returns an :class:`~rlfa.types.Agent` whose state is :class:`LinearState`.
Step size and gamma are traced hyperparameters (:class:`PredictionHParams`), so
the runner sweeps them in one compiled program. Weights start at zero, as in the book.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp

from rlfa.features import FeatureMap, linear_value


class PredictionHParams(NamedTuple):
    """Continuous hyperparameters of the prediction agents (float arrays).

    Attributes:
      step_size: alpha > 0.
      gamma: discount in [0, 1].
    """

    step_size: jax.Array
    gamma: jax.Array


class LinearState(NamedTuple):
    """Weights ``w`` float32 ``[num_features]`` of ``v(s) = w . phi(s)``."""

    w: jax.Array


def zero_weights(feature_map: FeatureMap):
    """The agents' ``init``: zero weights ``[num_features]``, as in the book."""
    def init(key: jax.Array, obs_example: jax.Array) -> LinearState:
        del key, obs_example  # zero weights, as in the book
        return LinearState(w=jnp.zeros((feature_map.num_features,), jnp.float32))

    return init


def evaluate_only(state, hparams, obs, key):
    """The agents' ``act``: prediction follows the environment's policy (action 0)."""
    del state, hparams, obs, key  # the policy being evaluated lives in the environment
    return jnp.int32(0)


def value(feature_map: FeatureMap, state: LinearState, obs: jax.Array) -> jax.Array:
    """v(obs) = w . phi(obs), float ``[]``."""
    return linear_value(state.w, feature_map(obs))




@dataclasses.dataclass(frozen=True)
class PredictionSweep:
    """Prediction hyperparameters to sweep, each point in the same compiled program."""

    step_size: tuple[str, ...] = ()
    """Step sizes alpha replacing the configuration's own, e.g. 1e-4 2e-4 0.1/8."""
    gamma: tuple[str, ...] = ()
    """Discounts in [0, 1]."""
