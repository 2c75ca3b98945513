"""The DQN loss, written for one transition and vmapped over a mini-batch.

For one transition ``(s, a, r, s')`` with ``discount = gamma * (1 - terminated)``
(a time-limit truncation still bootstraps from the final observation):

* the target ``y = r + discount * max_b Q_target(s', b)`` (Q-learning, S&B
  eq. 6.8; Mnih et al. 2015), or with Double DQN (van Hasselt et al. 2016)
  ``y = r + discount * Q_target(s', argmax_b Q_online(s', b))``;
* the loss ``L(theta) = loss(y - Q_theta(s, a))``, squared or Huber, with ``y``
  held fixed: its gradient is the semi-gradient step of S&B §9.3 and §10.1.

The Q-values come in already computed (one batched forward pass of the
network); only the per-transition arithmetic is vmapped.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from rlfa import targets


def bootstrap_target(gamma: jax.Array, r_t: jax.Array, terminated_t: jax.Array,
                     q_t: jax.Array, q_t_selector: jax.Array | None) -> jax.Array:
    """One transition's target ``y``, float ``[]``.

    Args:
      gamma: the discount, ``[]``.
      r_t, terminated_t: the transition's reward and termination flag, ``[]``.
      q_t: ``[num_actions]``, the evaluating network's values at ``s'`` (the target
        network, or the online one without a target network).
      q_t_selector: ``[num_actions]``, the online network's values at ``s'`` choosing
        the action (Double DQN), or None to take the max of ``q_t``.
    """
    discount_t = targets.discount(gamma, terminated_t)
    if q_t_selector is None:
        return targets.q_learning_target(r_t, discount_t, q_t)
    return targets.double_q_learning_target(r_t, discount_t, q_t, q_t_selector)


def transition_loss(q_tm1: jax.Array, a_tm1: jax.Array, y: jax.Array,
                    huber: bool) -> tuple[jax.Array, jax.Array]:
    """One transition's loss ``loss(y - Q(s, a))`` and ``Q(s, a)``, floats ``[]``.

    Args:
      q_tm1: ``[num_actions]``, the online network's values at ``s``.
      a_tm1: the action taken, int ``[]``.
      y: the target (a constant for the gradient), ``[]``.
      huber: the Huber loss (gradient clipped to +-1) instead of ``0.5 * error**2``.
    """
    # Q(s, a), i.e. q_tm1[a_tm1], written as a gather like the batched form's: indexing
    # compiles to another gather, which moves the reported loss by an ulp.
    q_taken = jnp.take_along_axis(q_tm1, a_tm1[None], axis=0)[0]
    error = y - q_taken
    return (targets.huber_loss(error) if huber else targets.squared_loss(error)), q_taken


def batch_targets(gamma: jax.Array, r_t: jax.Array, terminated_t: jax.Array, q_t: jax.Array,
                  q_t_selector: jax.Array | None) -> jax.Array:
    """:func:`bootstrap_target` over a batch: ``[B]``, gradient stopped.
    ``r_t``, ``terminated_t``: ``[B]``; ``q_t``, ``q_t_selector``: ``[B, num_actions]``."""
    if q_t_selector is None:
        y = jax.vmap(bootstrap_target, (None, 0, 0, 0, None))(gamma, r_t, terminated_t, q_t, None)
    else:
        y = jax.vmap(bootstrap_target, (None, 0, 0, 0, 0))(gamma, r_t, terminated_t, q_t,
                                                           q_t_selector)
    return jax.lax.stop_gradient(y)


def batch_loss(q_tm1: jax.Array, a_tm1: jax.Array, y: jax.Array,
               huber: bool) -> tuple[jax.Array, jax.Array]:
    """:func:`transition_loss` averaged over a batch: ``(mean loss, mean Q(s, a))``.
    ``q_tm1``: ``[B, num_actions]``; ``a_tm1``, ``y``: ``[B]``."""
    loss, q_taken = jax.vmap(functools.partial(transition_loss, huber=huber))(
        q_tm1, a_tm1.astype(jnp.int32), y)
    return jnp.mean(loss), jnp.mean(q_taken)
