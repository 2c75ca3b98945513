"""Episodic n-step semi-gradient SARSA (Sutton & Barto §10.2), with n a traced hyperparameter.

The update for time ``tau`` (eq. 10.2, the box on p. 247) waits until
``R_{tau+n}``, ``S_{tau+n}`` and ``A_{tau+n}`` are known:

    G_{tau:tau+n} = R_{tau+1} + gamma R_{tau+2} + ... + gamma^{n-1} R_{tau+n}
                    + gamma^n q(S_{tau+n}, A_{tau+n}, w)                       (eq. 10.4)
    w <- w + alpha [G_{tau:tau+n} - q(S_tau, A_tau, w)] grad q(S_tau, A_tau, w)

with the return cut at the episode's end: fewer rewards, and no bootstrap after
a termination. A time-limit truncation ends the episode too, but its pending
returns bootstrap from the last observation, ``gamma^m q(S_{t+1}, A_{t+1}, w)``
after ``m`` rewards (as :mod:`rlfa.targets` treats truncation).

The agent is driven one :class:`~rlfa.control.sarsa.SarsaTransition` at a time
(``S_t, A_t, R_{t+1}, S_{t+1}, A_{t+1}``) by the episode loop
(:func:`rlfa.control.episodes.episodic_control` with
:func:`~rlfa.control.sarsa.sarsa_actions`, whose ``A_{t+1}`` is chosen at
``S_{t+1}`` and then executed there, the book's box). As
:func:`rlfa.prediction.n_step_td.n_step_semi_gradient_td` does for prediction,
its state keeps the last ``max_n`` pairs ``phi(S_t, A_t)`` and rewards
``R_{t+1}`` in a ring buffer. Each ``update`` makes at most one weight update, as
each turn of the book's loop does: mid-episode the one that became possible
(``tau = t - n + 1``); on the episode's last transition the oldest pending one, after
which the agent *owes* the rest (:func:`owes_updates`). Like the book's loop, which
runs on to ``tau = T - 1`` without stepping the environment, the episode loop then
calls ``update`` again without a new transition (the one passed is ignored) until
nothing is owed, and only then chooses the next episode's first action, from the
fully updated weights.

``n`` is a leaf of :class:`NStepSarsaHParams`, so every n up to the structural
``max_n`` (the buffer's length) and every step size of a sweep run in one
compiled program. A call makes one update of ``k`` weights whatever n is: runs
vmapped together end their episodes at different steps, and making every pending
update in one call would cost ``max_n`` updates (those not due scaled by zero) at
every step of every run.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from rlfa import hparams as hp
from rlfa import targets
from rlfa.config import check_positive_int
from rlfa.control.linear_values import check_num_actions, linear_act, linear_init
from rlfa.control.sarsa import SarsaTransition
from rlfa.features import FeatureMap, Features, add_scaled, linear_value, state_action
from rlfa.hparams import Count, Positive, ZeroToOne
from rlfa.types import Agent

Array = jax.Array


class NStepSarsaHParams(NamedTuple):
    """n-step semi-gradient SARSA's traced hyperparameters (S&B §10.2):
    :class:`~rlfa.control.linear_values.ControlHParams`' fields, then ``n``."""

    step_size: Positive
    """Step size alpha > 0 per weight (the book's "alpha = 0.5/8" with 8 tilings is 0.0625)."""
    epsilon: ZeroToOne
    """Exploration probability in [0, 1]."""
    gamma: ZeroToOne = 1.0
    """Discount factor in [0, 1]."""
    n: Count = 1.0
    """Steps before bootstrapping, an integer in [1, max_n] (max_n: the agent's buffer length),
    fixed within an episode."""


class NStepSarsaState(NamedTuple):
    """Weights and the pending part of the current episode.

    Attributes:
      w: weights float32 ``[d * A]`` of ``q(s, a) = w . phi(s, a)``.
      indices: ring buffer of ``phi(S_t, A_t)``'s active indices, int32 ``[max_n, k]``.
      values: their values, float32 ``[max_n, k]``.
      rewards: ring buffer of rewards, float32 ``[max_n]``; ``rewards[i]`` is the
        ``R_{t+1}`` that followed the pair in slot i.
      head: int32 ``[]``, the slot the next transition is written to.
      pending: int32 ``[]`` in ``[0, n]``, transitions whose update has not been made
        yet (the newest ones in the buffer).
      owed: int32 ``[]``: updates still due from an episode that has ended (then equal to
        ``pending``; 0 mid-episode), made one per ``update`` call.
      end_indices, end_values: ``phi(S_T, A_T)``, the ended episode's last pair, the
        pending returns' bootstrap after a truncation, ``[k]``.
      end_discount: float32 ``[]``, ``gamma`` after a truncation, 0 after a termination.
    """

    w: Array
    indices: Array
    values: Array
    rewards: Array
    head: Array
    pending: Array
    owed: Array
    end_indices: Array
    end_values: Array
    end_discount: Array


def owes_updates(state: NStepSarsaState) -> Array:
    """Whether the agent still owes updates from an episode that has ended, bool ``[]``
    (the episode loop's ``owes``: it steps no environment until they are made)."""
    return state.owed > 0


def oldest_return(rewards: Array, powers: Array, oldest: Array, pending: Array) -> Array:
    """``sum_{i < pending} gamma^i R``, the rewards of the oldest pending return, float ``[]``.

    The pending taus sit in ring-buffer slots ``oldest, oldest + 1, ...`` (mod
    ``max_n``); the oldest one's rewards run from its own slot to the newest.

    Args:
      rewards: the ring buffer, float ``[max_n]``.
      powers: ``gamma^i`` for ``i < max_n``, float ``[max_n]``.
      oldest: slot of the oldest pending tau, int ``[]``.
      pending: how many taus are pending (the newest transition included), int ``[]``.
    """
    max_n = rewards.shape[0]
    i = jnp.arange(max_n)
    terms = powers * rewards[(oldest + i) % max_n]
    return jnp.sum(jnp.where(i < pending, terms, 0.0))


def n_step_semi_gradient_sarsa(feature_map: FeatureMap, num_actions: int, max_n: int,
                               initial_value: float = 0.0) -> Agent:
    """n-step semi-gradient SARSA (S&B §10.2) over ``state_action(feature_map, num_actions)``
    features, for every ``n <= max_n``.

    ``update(state, hparams, tr, active=True)`` takes one
    :class:`~rlfa.control.sarsa.SarsaTransition` and returns ``(state, metrics)``;
    metrics hold ``updates`` (int32, the weight updates it made: 0 or 1) and
    ``td_error`` (``G - q(S_tau, A_tau)`` of that update, 0 when none). While
    :func:`owes_updates` holds (an episode has ended with updates pending), a call ignores
    ``tr`` and makes the next owed update. For ``active`` False (a finished run in the
    episode loop) it writes nothing. With ``n = 1`` it never owes and is
    :func:`~rlfa.control.sarsa.semi_gradient_sarsa`.

    Args:
      feature_map: the state features phi(s) (e.g. Mountain Car's tile coding).
      num_actions: A.
      max_n: the largest n the agent will be run with (the buffer's length), an
        int >= 1; structural, so one value per compiled program.
      initial_value: every weight's start (0 in the book).

    Raises:
      ValueError: naming the field, for a bad ``max_n`` or ``num_actions``, or (in
        ``update``, when the values are concrete) a hyperparameter outside its declared
        bounds or an ``n > max_n`` (:func:`rlfa.hparams.check`).
    """
    check_positive_int("max_n", max_n)
    check_num_actions(feature_map, num_actions)
    phi_sa = state_action(feature_map, num_actions)
    init_w = linear_init(feature_map, num_actions, initial_value)
    k = feature_map.num_active

    def init(key: Array, obs_example: Array) -> NStepSarsaState:
        zero = jnp.int32(0)
        return NStepSarsaState(init_w(key, obs_example).w, jnp.zeros((max_n, k), jnp.int32),
                               jnp.zeros((max_n, k), jnp.float32),
                               jnp.zeros((max_n,), jnp.float32), zero, zero, zero,
                               jnp.zeros((k,), jnp.int32), jnp.zeros((k,), jnp.float32),
                               jnp.float32(0.0))

    def update(state: NStepSarsaState, hparams: NStepSarsaHParams, tr: SarsaTransition,
               active: Array = True):
        hp.check(hparams, at_most={"n": ("max_n", max_n)})
        n = jnp.round(jnp.asarray(hparams.n)).astype(jnp.int32)
        owing = state.owed > 0
        write = jnp.logical_and(active, ~owing)  # tr enters the buffer (ignored when owing)
        # The slot at head is free until head moves: written whether or not tr enters.
        phi = phi_sa((tr.obs_tm1, tr.a_tm1))
        indices = state.indices.at[state.head].set(phi.indices)
        values = state.values.at[state.head].set(phi.values.astype(jnp.float32))
        rewards = state.rewards.at[state.head].set(tr.r_t)
        head = jnp.where(write, (state.head + 1) % max_n, state.head)
        pending = state.pending + write.astype(jnp.int32)
        ended = write & jnp.logical_or(tr.terminated_t, tr.truncated_t)
        # What the pending returns bootstrap from: the new S_{t+1}, A_{t+1}, or once the
        # episode has ended, its last pair (a truncation's; a termination's weighs 0).
        phi_new = phi_sa((tr.obs_t, tr.a_t))
        new_values = phi_new.values.astype(jnp.float32)
        new_discount = targets.discount(hparams.gamma, tr.terminated_t)
        end_indices = jnp.where(ended, phi_new.indices, state.end_indices)
        end_values = jnp.where(ended, new_values, state.end_values)
        end_discount = jnp.where(ended, new_discount, state.end_discount)
        over = owing | ended
        phi_next = Features(jnp.where(over, end_indices, phi_new.indices),
                            jnp.where(over, end_values, new_values))
        discount_t = jnp.where(over, end_discount, new_discount)
        # Mid-episode the oldest pending tau (= t - n + 1) is updated once it has n rewards;
        # once the episode is over, every pending tau is, oldest first, one per call, each
        # with the rewards up to R_T and the weights the update before left.
        due = active & jnp.where(over, pending >= 1, pending >= n)
        oldest = (head - pending + max_n) % max_n
        # gamma^i by repeated products, so gamma^0 = 1 and gamma^1 = gamma exactly (n = 1 is
        # one-step SARSA).
        gamma = jnp.asarray(hparams.gamma, jnp.float32)
        powers = jnp.concatenate([jnp.ones((1,), jnp.float32),
                                  jnp.cumprod(jnp.full((max_n - 1,), gamma))])
        g = oldest_return(rewards, powers, oldest, pending)
        bootstrap = powers[jnp.maximum(pending, 1) - 1] * discount_t
        phi_tau = Features(indices[oldest], values[oldest])
        delta = targets.td_target(g, bootstrap, linear_value(state.w, phi_next)) \
            - linear_value(state.w, phi_tau)
        # A select, not a product: 0 * inf would be NaN.
        w = add_scaled(state.w, phi_tau, jnp.where(due, hparams.step_size * delta, 0.0))
        pending = pending - due.astype(jnp.int32)
        owed = jnp.where(active, jnp.where(over, pending, 0), state.owed)
        new = NStepSarsaState(w, indices, values, rewards, head, pending, owed, end_indices,
                              end_values, end_discount)
        return new, {"td_error": jnp.where(due, delta, 0.0), "updates": due.astype(jnp.int32)}

    return Agent(init=init, act=linear_act(feature_map, num_actions), update=update)
