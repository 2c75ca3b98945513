"""Chapter 11's runs on Baird's counterexample (Example 11.1) as runner Programs.

* :func:`baird_program`: a sampled off-policy agent (semi-gradient TD, residual
  gradient, TDC) on transitions of the behaviour policy, from the book's initial
  weights (Figures 11.2 left and 11.5 left);
* :func:`expected_program`: one deterministic run of an expected update
  (:data:`EXPECTED_UPDATES`: semi-gradient DP, Figure 11.2 right; expected TDC,
  Figure 11.5 right; expected emphatic TD, Figure 11.6), one update a program step.

Both log the weights ``w`` ``[8]``, sqrt(VE) against the true values (all 0) and
sqrt(PBE) (eq. 11.22), under the behaviour policy's uniform state distribution.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from rlfa.envs import baird
from rlfa.features import FeatureMap, linear_value
from rlfa.prediction.emphatic_td import expected_emphatic_td_update
from rlfa.prediction.gradient_td import (
    expected_tdc_update,
    mdp_rms_value_error,
    rms_projected_bellman_error,
)
from rlfa.prediction.off_policy import OffPolicyTransition
from rlfa.prediction.semi_gradient_dp import baird_mdp, semi_gradient_dp_update
from rlfa.types import Agent, Program, Transition


class BairdCarry(NamedTuple):
    """One run on Baird's counterexample: the agent's state, the current observation, the key."""

    agent: Any
    obs: jax.Array
    key: jax.Array


def _errors(w: jax.Array, gamma: jax.Array) -> dict[str, jax.Array]:
    mdp = baird_mdp()
    return {"w": w, "rms_ve": mdp_rms_value_error(mdp, w, jnp.zeros(baird.NUM_STATES)),
            "rms_pbe": rms_projected_bellman_error(mdp, w, gamma)}


def baird_program(agent: Agent, feature_map: FeatureMap, block_steps: int) -> Program:
    """An off-policy agent on Baird's counterexample from the book's initial weights.

    The agent's state is its ``init`` with ``w`` replaced by
    :data:`rlfa.envs.baird.INITIAL_WEIGHTS` (TDC's ``v`` stays 0). One program step
    is ``block_steps`` transitions of the behaviour policy, whose actions and
    landing states are drawn in bulk per block. The log holds ``w`` ``[8]``,
    ``rms_ve`` (sqrt(VE)) and ``rms_pbe`` (sqrt(PBE)); the hyperparameters need a
    ``gamma`` (every prediction agent's have one).
    """
    env, params = baird.Baird(), baird.EnvParams()

    def init(key, hparams):
        del hparams
        key_start, key_run = jax.random.split(key)
        obs, _ = env.reset_from_noise(jax.random.uniform(key_start, (1,)), params)
        state = agent.init(key_run, obs)._replace(w=jnp.asarray(baird.INITIAL_WEIGHTS))
        return BairdCarry(state, obs, key_run)

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
        values = jax.vmap(lambda s: linear_value(c.agent.w, feature_map(s)))(jnp.arange(7.0))
        # sqrt(VE) as the mean over the 7 equally likely states, as Figure 11.2 was first run.
        return _errors(c.agent.w, hparams.gamma) | {"rms_ve": jnp.sqrt(jnp.mean(values**2))}

    return Program(init, step, log, weights=lambda c: c.agent.w)


class ExpectedUpdate(NamedTuple):
    """An expected update on Baird: ``update(mdp, w, aux, hparams) -> (w, aux)``, where
    ``aux`` (shape ``aux_shape``, starting at 0) is TDC's ``v`` or emphatic TD's
    per-state emphasis; ``figure`` is the book's."""

    figure: str
    update: Callable
    aux_shape: tuple[int, ...]


EXPECTED_UPDATES = {
    "semi_gradient_dp": ExpectedUpdate("11.2", lambda mdp, w, aux, hp: (
        semi_gradient_dp_update(mdp, w, hp), aux), ()),
    "expected_tdc": ExpectedUpdate("11.5", expected_tdc_update, (baird.NUM_FEATURES,)),
    "expected_emphatic_td": ExpectedUpdate("11.6", expected_emphatic_td_update,
                                           (baird.NUM_STATES,)),
}


def expected_program(name: str) -> Program:
    """One deterministic run (``init`` ignores the key) of :data:`EXPECTED_UPDATES`
    ``[name]`` from the book's initial weights; the carry is ``(w, aux)``, a program
    step one update (one sweep for DP). Logs as :func:`baird_program`."""
    _, update, aux_shape = EXPECTED_UPDATES[name]
    mdp = baird_mdp()
    return Program(lambda key, hp: (jnp.asarray(baird.INITIAL_WEIGHTS), jnp.zeros(aux_shape)),
                   lambda carry, hp: update(mdp, *carry, hp),
                   lambda carry, hp: _errors(carry[0], hp.gamma), weights=lambda c: c[0])


__all__ = ["EXPECTED_UPDATES", "BairdCarry", "ExpectedUpdate", "baird_program",
           "expected_program"]
