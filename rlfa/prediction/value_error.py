"""The value error of a linear value function on a finite set of states (Sutton & Barto eq. 9.1).

``VE(w) = sum_s mu(s) (v_pi(s) - v_hat(s, w))^2`` weighs each state's squared
error by ``mu(s)``, the fraction of time spent in ``s``; the book plots its root,
sqrt(VE), which is in the values' units. Every state's features are computed
once (:func:`all_state_features`), so a logged point only gathers weights. On
the 1000-state random walk, ``v_pi`` and ``mu`` come from
:mod:`rlfa.envs.random_walk` (exact linear solves): :func:`rms_value_error_fn`.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from rlfa.envs import random_walk as rw
from rlfa.features import FeatureMap, Features, linear_value
from rlfa.prediction.base import LinearState


def all_state_features(feature_map: FeatureMap, observations: jax.Array) -> Features:
    """phi of every state: ``Features`` with leaves ``[num_states, k]`` for
    ``observations`` ``[num_states, ...]``."""
    return jax.vmap(feature_map)(observations)


def rms_value_error(w: jax.Array, phi: Features, true_values: jax.Array,
                    mu: jax.Array) -> jax.Array:
    """sqrt(VE), float ``[]``, of weights ``w`` ``[d]`` against ``true_values``
    ``[num_states]`` under the state distribution ``mu`` ``[num_states]`` (sums to 1);
    ``phi`` from :func:`all_state_features`."""
    v_hat = jax.vmap(linear_value, in_axes=(None, 0))(w, phi)
    return jnp.sqrt(jnp.sum(mu * (v_hat - true_values) ** 2))


def state_values(w: np.ndarray, phi: Features) -> np.ndarray:
    """v_hat of every state on the host, ``[..., num_states]`` for weights ``[..., d]``."""
    return (np.asarray(w)[..., np.asarray(phi.indices)] * np.asarray(phi.values)).sum(-1)


def rms_value_error_fn(feature_map: FeatureMap,
                       params: rw.EnvParams = rw.EnvParams()) -> Callable:
    """The random walk's ``log`` for :func:`rlfa.prediction.episodic_prediction`:
    ``LinearState -> {"rms_error": sqrt(VE)}`` against the exact values, under the
    on-policy distribution."""
    v_true = jnp.asarray(rw.true_values(params), jnp.float32)
    mu = jnp.asarray(rw.on_policy_distribution(params), jnp.float32)
    # A constant of the program: the logged points only gather weights, never re-featurise.
    phi = all_state_features(feature_map, rw.all_observations(params))

    def log(state: LinearState) -> dict[str, jax.Array]:
        return {"rms_error": rms_value_error(state.w, phi, v_true, mu)}

    return log
