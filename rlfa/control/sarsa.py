"""Episodic semi-gradient SARSA with linear action values (Sutton & Barto §10.1).

``w += alpha * (R + gamma * q(S', A') - q(S, A)) * phi(S, A)``, with ``A'``
epsilon-greedy w.r.t. ``q_w`` at ``S'`` and the target held constant (a
semi-gradient). Two parts:

* :func:`semi_gradient_sarsa`, the agent: its update takes ``A'`` as part of
  its input (a :class:`SarsaTransition`);
* :func:`sarsa_actions`, its actions in the episode loop
  (:func:`rlfa.control.episodes.episodic_control`): ``A'`` is chosen at ``S'``
  from the weights before the update, and then executed at ``S'`` (``"reuse"``,
  the book's box) or only used in the target, the action at ``S'`` being drawn
  again from the updated weights (``"fresh"``, the course notes' other variant).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from rlfa import targets
from rlfa.config import check_choice
from rlfa.control.episodes import ActionRule
from rlfa.control.linear_values import (
    ControlHParams,
    LinearQState,
    check_num_actions,
    linear_act,
    linear_init,
)
from rlfa.features import FeatureMap, add_scaled, linear_value, q_values, state_action
from rlfa.types import Agent, Transition

Array = jax.Array
NEXT_ACTION_CHOICES = ("reuse", "fresh")


class SarsaTransition(NamedTuple):
    """A :class:`~rlfa.types.Transition` plus ``a_t``, the action chosen at ``obs_t``.

    ``obs_t`` is the observation before any automatic reset (the episode's last
    one at a boundary), so a truncated transition bootstraps from ``q(obs_t, a_t)``.
    """

    obs_tm1: Array
    a_tm1: Array
    r_t: Array
    terminated_t: Array
    truncated_t: Array
    obs_t: Array
    a_t: Array


def sarsa_transition(transition: Transition, a_t: Array) -> SarsaTransition:
    """The SARSA update's input: ``transition`` and the next action ``a_t``."""
    return SarsaTransition(*transition, a_t)


def semi_gradient_sarsa(feature_map: FeatureMap, num_actions: int,
                        initial_value: float = 0.0) -> Agent:
    """Semi-gradient SARSA over ``state_action(feature_map, num_actions)`` features.

    Args:
      feature_map: the state features phi(s) (e.g. Mountain Car's tile coding).
      num_actions: A.
      initial_value: every weight's start (0 in the book).

    Returns:
      An :class:`~rlfa.types.Agent` over :class:`~rlfa.control.linear_values.LinearQState`
      with hyperparameters :class:`~rlfa.control.linear_values.ControlHParams`;
      ``update(state, hparams, transition, active=True)`` takes a
      :class:`SarsaTransition`, reports the TD error and, for ``active`` False
      (a finished run in the episode loop), writes nothing.

    Raises:
      ValueError: for ``num_actions < 1``; at trace time, for weights whose size
        is not ``d * A``.
    """
    check_num_actions(feature_map, num_actions)
    phi_sa = state_action(feature_map, num_actions)

    def update(state: LinearQState, hparams: ControlHParams, tr: SarsaTransition,
               active: Array = True):
        q_t = q_values(state.w, feature_map, num_actions, tr.obs_t)
        # Only q(S, A) is needed at S: read its k weights, the ones the step then writes.
        phi_tm1 = phi_sa((tr.obs_tm1, tr.a_tm1))
        discount_t = targets.discount(hparams.gamma, tr.terminated_t)
        delta = targets.td_error(linear_value(state.w, phi_tm1), tr.r_t, discount_t, q_t[tr.a_t])
        w = add_scaled(state.w, phi_tm1, jnp.where(active, hparams.step_size * delta, 0.0))
        return LinearQState(w), {"td_error": delta}

    return Agent(init=linear_init(feature_map, num_actions, initial_value),
                 act=linear_act(feature_map, num_actions), update=update)


def sarsa_actions(next_action: str = "reuse") -> ActionRule:
    """SARSA's actions in :func:`~rlfa.control.episodes.episodic_control`.

    At every step ``A'`` is drawn epsilon-greedily at ``S'`` from the weights
    before the update and enters the target (:func:`sarsa_transition`). Then:

    * ``"reuse"`` (S&B's box, "S <- S'; A <- A'"): that ``A'`` is the action
      executed at ``S'``; after an episode's end ``S'`` is the next episode's
      first state, whose action is drawn afresh from the updated weights;
    * ``"fresh"``: the action executed at ``S'`` is drawn again at the next step,
      from the updated weights.

    Raises:
      ValueError: naming ``next_action`` for another choice.
    """
    check_choice("next_action", next_action, NEXT_ACTION_CHOICES)
    reuse = next_action == "reuse"

    def at_s(policy, agent_state, hparams, obs, carried, u):
        return carried if reuse else policy(agent_state, hparams, obs, u["fresh"])

    def learn_from(policy, agent_state, hparams, transition, u):
        a_next = policy(agent_state, hparams, transition.obs_t, u["next"])
        return sarsa_transition(transition, a_next), a_next

    def carry(policy, agent_state, hparams, obs, done, a_next, carried, u):
        if not reuse:
            return carried
        return jnp.where(done, policy(agent_state, hparams, obs, u["reset"]), a_next)

    # The uniforms each variant uses, in the order drawn: the action executed at S when
    # drawn afresh, A' at S', the first action after a reset when A' is reused.
    return ActionRule(("next", "reset") if reuse else ("fresh", "next"), at_s, learn_from, carry)
