"""What every linear prediction agent shares: its hyperparameters, weights and value.

Each agent (:mod:`rlfa.prediction.gradient_mc`, :mod:`rlfa.prediction.td`,
:mod:`rlfa.prediction.off_policy`) closes over a :class:`~rlfa.features.FeatureMap`
and returns an :class:`~rlfa.types.Agent` whose state is :class:`LinearState`.
Step size and gamma are traced hyperparameters (:class:`PredictionHParams`, each
declared once with its bounds: :mod:`rlfa.hparams`), so the runner sweeps them in one
compiled program. Weights start at zero, as in the book.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from rlfa.features import FeatureMap, linear_value
from rlfa.hparams import Positive, ZeroToOne


class PredictionHParams(NamedTuple):
    """The linear prediction agents' traced hyperparameters (S&B §9.3, §11.1)."""

    step_size: Positive
    """Step size alpha > 0."""
    gamma: ZeroToOne = 1.0
    """Discount factor in [0, 1]."""


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

