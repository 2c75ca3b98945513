"""Off-policy TD with importance sampling (Sutton & Barto §11.1-11.2), and Baird's loop.

The behaviour policy b picks the actions; the values learned are the target
policy pi's. Each transition's update is weighted by the importance-sampling
ratio ``rho = pi(A|S) / b(A|S)``, given with the transition
(:class:`OffPolicyTransition`):

* semi-gradient off-policy TD(0) (eq. 11.2): ``w += alpha * rho * delta * phi(S)``,
  which diverges on Baird's counterexample (Figure 11.2);
* residual-gradient TD: ``w += alpha * rho * delta * (phi(S) - gamma * phi(S'))``,
  SGD on the squared TD error (§11.5), which does not.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from rlfa.envs import baird
from rlfa.features import FeatureMap, add_scaled, linear_value
from rlfa.prediction.base import LinearState, PredictionHParams, evaluate_only, zero_weights
from rlfa.prediction.td import td_quantities
from rlfa.types import Agent, Program, Transition


class OffPolicyTransition(NamedTuple):
    """A transition taken by the behaviour policy, with its importance-sampling ratio.

    Attributes:
      transition: the transition ``(S, A, R, S')``.
      rho: ``pi(A|S) / b(A|S)``, float ``[]`` (0 where pi never takes A).
    """

    transition: Transition
    rho: jax.Array


def off_policy_semi_gradient_td0(feature_map: FeatureMap) -> Agent:
    """Semi-gradient off-policy TD(0), eq. 11.2: ``w += alpha * rho * delta * phi(S)``."""

    def update(state: LinearState, hparams: PredictionHParams, batch: OffPolicyTransition):
        phi_tm1, _, _, delta = td_quantities(feature_map, state, hparams, batch.transition)
        w = add_scaled(state.w, phi_tm1, hparams.step_size * batch.rho * delta)
        return LinearState(w), {"td_error": delta}

    return Agent(init=zero_weights(feature_map), act=evaluate_only, update=update)


def off_policy_residual_gradient_td(feature_map: FeatureMap) -> Agent:
    """Residual-gradient TD weighted by rho:
    ``w += alpha * rho * delta * (phi(S) - discount * phi(S'))``."""

    def update(state: LinearState, hparams: PredictionHParams, batch: OffPolicyTransition):
        phi_tm1, phi_t, discount_t, delta = td_quantities(feature_map, state, hparams,
                                                          batch.transition)
        step = hparams.step_size * batch.rho * delta
        w = add_scaled(add_scaled(state.w, phi_tm1, step), phi_t, -step * discount_t)
        return LinearState(w), {"td_error": delta}

    return Agent(init=zero_weights(feature_map), act=evaluate_only, update=update)


class BairdCarry(NamedTuple):
    """One run on Baird's counterexample: the weights, the current observation, the key."""

    agent: LinearState
    obs: jax.Array
    key: jax.Array


def baird_program(agent: Agent, feature_map: FeatureMap, block_steps: int) -> Program:
    """An off-policy agent on Baird's counterexample from the book's initial weights.

    One program step is ``block_steps`` transitions of the behaviour policy, whose
    actions and landing states are drawn in bulk per block. The log holds the
    weights ``w`` ``[8]`` and ``rms_ve``, sqrt(VE) under the behaviour policy's
    (uniform) state distribution against the true values, all 0.
    """
    env, params = baird.Baird(), baird.EnvParams()

    def init(key, hparams):
        del hparams
        key_start, key_run = jax.random.split(key)
        obs, _ = env.reset_from_noise(jax.random.uniform(key_start, (1,)), params)
        return BairdCarry(LinearState(jnp.asarray(baird.INITIAL_WEIGHTS)), obs, key_run)

    def transition(c: BairdCarry, hparams, noise):
        action = baird.behaviour_action(noise[0])
        obs_t = env.get_obs(baird.EnvState(position=baird.next_state(action, noise[1]), time=0))
        tr = Transition(c.obs, action, jnp.float32(0.0), jnp.bool_(False), jnp.bool_(False), obs_t)
        agent_state, _ = agent.update(c.agent, hparams,
                                      OffPolicyTransition(tr, baird.importance_ratio(action)))
        return BairdCarry(agent_state, obs_t, c.key)

    def step(c: BairdCarry, hparams):
        key, key_noise = jax.random.split(c.key)
        noise = jax.random.uniform(key_noise, (block_steps, 2))
        c = jax.lax.fori_loop(0, block_steps, lambda j, c: transition(c, hparams, noise[j]), c)
        return c._replace(key=key)

    def log(c: BairdCarry, hparams):
        del hparams
        values = jax.vmap(lambda s: linear_value(c.agent.w, feature_map(s)))(jnp.arange(7.0))
        return {"w": c.agent.w, "rms_ve": jnp.sqrt(jnp.mean(values**2))}

    return Program(init, step, log, weights=lambda c: c.agent.w)
