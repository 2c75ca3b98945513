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
``R_{t+1}`` in a ring buffer, and ``update`` makes the one update that became
possible (``tau = t - n + 1``) or, on the episode's last transition, every
update still pending, oldest first, each seeing the weights the one before left
(the book's loop running on to ``tau = T - 1``). So the next episode's first
action is chosen from the fully updated weights, as in the box.

``n`` is a leaf of :class:`NStepSarsaHParams`, so every n up to the structural
``max_n`` (the buffer's length) and every step size of a sweep run in one
compiled program. Runs vmapped together end their episodes at different steps,
so a step makes ``max_n`` updates, those not due scaled by zero: a loop with a
traced trip count would, under ``vmap``, select over every weight of every run
at each of its turns, which costs more than the k-weight updates themselves.
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
      pending: int32 ``[]`` in ``[0, n - 1]``, transitions of the current episode
        whose update has not been made yet (the newest ones in the buffer).
    """

    w: Array
    indices: Array
    values: Array
    rewards: Array
    head: Array
    pending: Array


def reward_sums(rewards: Array, powers: Array, oldest: Array, pending: Array) -> Array:
    """``g_j = sum_{i < pending - j} gamma^i R``, the rewards of the j-th pending return,
    float ``[max_n]`` (0 for ``j >= pending``).

    The pending taus sit in ring-buffer slots ``oldest, oldest + 1, ...`` (mod
    ``max_n``); the j-th one's rewards run from its own slot to the newest.

    Args:
      rewards: the ring buffer, float ``[max_n]``.
      powers: ``gamma^i`` for ``i < max_n``, float ``[max_n]``.
      oldest: slot of the oldest pending tau, int ``[]``.
      pending: how many taus are pending (the newest transition included), int ``[]``.
    """
    max_n = rewards.shape[0]
    j, i = jnp.arange(max_n)[:, None], jnp.arange(max_n)[None, :]
    terms = powers[i] * rewards[(oldest + j + i) % max_n]
    return jnp.sum(jnp.where(i < pending - j, terms, 0.0), axis=1)


def sequential_updates(w: Array, step_size: Array, indices: Array, values: Array, g: Array,
                       bootstrap: Array, phi_next: Features, num_updates: Array):
    """The first ``num_updates`` of ``max_n`` semi-gradient updates, in order, each seeing the
    weights the one before left; returns ``(w, delta of the last one made, or 0)``.

    Update j moves ``q(phi_j) = w . phi_j`` towards ``g[j] + bootstrap[j] q(S', A')``,
    ``q(S', A') = w . phi_next`` read with the current weights. Those past ``num_updates``
    add zero (a fixed trip count: under ``vmap`` a traced one would select over every weight).

    Args:
      w: weights float32 ``[d * A]``.
      step_size: alpha, float ``[]``.
      indices, values: ``phi_j``'s active entries, ``[max_n, k]``, oldest first.
      g: each return's discounted rewards, float ``[max_n]``.
      bootstrap: each return's weight on ``q(S', A')`` (``gamma^m`` or 0), float ``[max_n]``.
      phi_next: ``phi(S', A')``.
      num_updates: int ``[]`` in ``[0, max_n]``.
    """
    def body(j, carry):
        w, last_delta = carry
        phi_j = Features(indices[j], values[j])
        delta = targets.td_target(g[j], bootstrap[j], linear_value(w, phi_next)) \
            - linear_value(w, phi_j)
        due = j < num_updates  # a select, not a product: 0 * inf would be NaN
        w = add_scaled(w, phi_j, jnp.where(due, step_size * delta, 0.0))
        return w, jnp.where(due, delta, last_delta)

    return jax.lax.fori_loop(0, indices.shape[0], body, (w, jnp.float32(0.0)))


def n_step_semi_gradient_sarsa(feature_map: FeatureMap, num_actions: int, max_n: int,
                               initial_value: float = 0.0) -> Agent:
    """n-step semi-gradient SARSA (S&B §10.2) over ``state_action(feature_map, num_actions)``
    features, for every ``n <= max_n``.

    ``update(state, hparams, tr, active=True)`` takes one
    :class:`~rlfa.control.sarsa.SarsaTransition` and returns ``(state, metrics)``;
    metrics hold ``updates`` (int32, how many weight updates it made: 0 or 1
    mid-episode, all pending ones on the episode's last transition) and
    ``td_error`` (``G - q(S_tau, A_tau)`` of the last of them, 0 when none). For
    ``active`` False (a finished run in the episode loop) it writes nothing. With
    ``n = 1`` it is :func:`~rlfa.control.sarsa.semi_gradient_sarsa`.

    Args:
      feature_map: the state features phi(s) (e.g. Mountain Car's tile coding).
      num_actions: A.
      max_n: the largest n the agent will be run with (the buffer's length), an
        int >= 1; structural, so one value per compiled program. Each step costs
        ``max_n`` updates of k weights.
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
                               jnp.zeros((max_n,), jnp.float32), zero, zero)

    def update(state: NStepSarsaState, hparams: NStepSarsaHParams, tr: SarsaTransition,
               active: Array = True):
        hp.check(hparams, at_most={"n": ("max_n", max_n)})
        n = jnp.round(jnp.asarray(hparams.n)).astype(jnp.int32)
        phi = phi_sa((tr.obs_tm1, tr.a_tm1))
        indices = state.indices.at[state.head].set(phi.indices)
        values = state.values.at[state.head].set(phi.values.astype(jnp.float32))
        rewards = state.rewards.at[state.head].set(tr.r_t)
        pending = state.pending + 1
        episode_over = jnp.logical_or(tr.terminated_t, tr.truncated_t)
        # Mid-episode the oldest pending tau (= t - n + 1) is updated once it has n rewards;
        # at the end every pending tau is, oldest first, each with the rewards up to R_T.
        num_updates = jnp.where(episode_over, pending, (pending >= n).astype(jnp.int32))
        num_updates = jnp.where(active, num_updates, 0)
        oldest = (state.head - pending + 1 + max_n) % max_n
        # gamma^i by repeated products, so gamma^0 = 1 and gamma^1 = gamma exactly (n = 1 is
        # one-step SARSA).
        gamma = jnp.asarray(hparams.gamma, jnp.float32)
        powers = jnp.concatenate([jnp.ones((1,), jnp.float32),
                                  jnp.cumprod(jnp.full((max_n - 1,), gamma))])
        g = reward_sums(rewards, powers, oldest, pending)
        discount_t = targets.discount(hparams.gamma, tr.terminated_t)
        phi_next = phi_sa((tr.obs_t, tr.a_t))

        # The pending pairs oldest first, and the weight each return's bootstrap gets.
        order = (oldest + jnp.arange(max_n)) % max_n
        due_indices, due_values = indices[order], values[order]
        bootstrap = powers[jnp.maximum(pending - jnp.arange(max_n), 1) - 1] * discount_t

        w, delta = sequential_updates(state.w, hparams.step_size, due_indices, due_values, g,
                                      bootstrap, phi_next, num_updates)
        head = jnp.where(active, (state.head + 1) % max_n, state.head)
        new = NStepSarsaState(w, indices, values, rewards, head,
                              jnp.where(active, pending - num_updates, state.pending))
        return new, {"td_error": delta, "updates": num_updates}

    return Agent(init=init, act=linear_act(feature_map, num_actions), update=update)
