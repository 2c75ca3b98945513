"""Per-transition TD errors, targets and losses (rlax-style, one transition each).

Batch them with ``jax.vmap``. Suffixes give the time index: ``v_tm1`` is the
estimate at the state the action was taken in, ``r_t`` and ``discount_t`` come
with the next state, ``v_t``/``q_t`` are estimates there. ``discount_t`` is
``gamma * (1 - terminated_t)``: zero only at termination, so a time-limit
truncation still bootstraps from the final observation (Pardo et al. 2018,
"Time Limits in Reinforcement Learning").

Each function checks the rank and dtype of its arguments with chex when it is
traced (an ``AssertionError`` naming the argument), so a batch passed where one
transition is expected fails instead of broadcasting; the compiled code is unchanged.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp

Array = jax.Array


def _check(fn: str, **args: tuple[jax.typing.ArrayLike, int, type]) -> None:
    """Assert each ``name=(value, rank, kind)`` of one transition, naming ``fn`` and the argument.

    Static checks of shapes and dtypes only: they run at trace time, never in compiled code.
    """
    for name, (value, rank, kind) in args.items():
        where = f"rlfa.targets.{fn}: argument {name}"
        chex.assert_rank(value, rank, custom_message=f"{where} must have rank {rank}, one "
                         "transition's (vmap over a batch)")
        chex.assert_type(value, kind, custom_message=f"{where} must be {kind.__name__}")


def discount(gamma: Array, terminated_t: Array) -> Array:
    """``gamma * (1 - terminated_t)``: the one place termination enters a target.

    Args:
      gamma: the discount rate, float ``[]``.
      terminated_t: True if the next state is terminal, bool ``[]``.
    """
    _check("discount", gamma=(gamma, 0, float), terminated_t=(terminated_t, 0, bool))
    return gamma * (1.0 - jnp.asarray(terminated_t, jnp.float32))


def td_target(r_t: Array, discount_t: Array, v_t: Array) -> Array:
    """One-step TD target ``r_t + discount_t * v_t`` (Sutton & Barto eq. 6.2), all float ``[]``."""
    _check("td_target", r_t=(r_t, 0, float), discount_t=(discount_t, 0, float),
           v_t=(v_t, 0, float))
    return r_t + discount_t * v_t


def td_error(v_tm1: Array, r_t: Array, discount_t: Array, v_t: Array) -> Array:
    """TD(0) error ``delta = r_t + discount_t * v_t - v_tm1`` (S&B §9.3), all float ``[]``."""
    _check("td_error", v_tm1=(v_tm1, 0, float), r_t=(r_t, 0, float),
           discount_t=(discount_t, 0, float), v_t=(v_t, 0, float))
    return td_target(r_t, discount_t, v_t) - v_tm1


def q_learning_target(r_t: Array, discount_t: Array, q_t: Array) -> Array:
    """Q-learning target ``y = r_t + discount_t * max_b q_t[b]`` (S&B eq. 6.8; Mnih et al. 2015).

    ``r_t``, ``discount_t``: float ``[]``; ``q_t``: float ``[num_actions]``.
    """
    _check("q_learning_target", r_t=(r_t, 0, float), discount_t=(discount_t, 0, float),
           q_t=(q_t, 1, float))
    return td_target(r_t, discount_t, jnp.max(q_t))


def q_learning_error(q_tm1: Array, a_tm1: Array, r_t: Array, discount_t: Array,
                     q_t: Array) -> Array:
    """Q-learning error ``y - q_tm1[a_tm1]``; ``q_t`` may come from a target network.

    ``q_tm1``, ``q_t``: float ``[num_actions]``; ``a_tm1``: int ``[]``; ``r_t``,
    ``discount_t``: float ``[]``.
    """
    _check("q_learning_error", q_tm1=(q_tm1, 1, float), a_tm1=(a_tm1, 0, int),
           r_t=(r_t, 0, float), discount_t=(discount_t, 0, float), q_t=(q_t, 1, float))
    return q_learning_target(r_t, discount_t, q_t) - q_tm1[a_tm1]


def double_q_learning_target(r_t: Array, discount_t: Array, q_t_value: Array,
                             q_t_selector: Array) -> Array:
    """Double Q-learning target: select with one network, evaluate with the other.

    ``y = r_t + discount_t * q_t_value[argmax_b q_t_selector[b]]`` (van Hasselt et
    al. 2016): in Double DQN the online network selects, the target evaluates.
    ``r_t``, ``discount_t``: float ``[]``; ``q_t_value``, ``q_t_selector``: float
    ``[num_actions]``, of one shape.
    """
    _check("double_q_learning_target", r_t=(r_t, 0, float), discount_t=(discount_t, 0, float),
           q_t_value=(q_t_value, 1, float), q_t_selector=(q_t_selector, 1, float))
    chex.assert_equal_shape([q_t_value, q_t_selector], custom_message=(
        "rlfa.targets.double_q_learning_target: q_t_value and q_t_selector must value the "
        "same actions"))
    return td_target(r_t, discount_t, q_t_value[jnp.argmax(q_t_selector)])


def squared_loss(error: Array) -> Array:
    """``0.5 * error**2``: its gradient w.r.t. the prediction is ``-error``.

    Elementwise on a float ``error`` of any shape.
    """
    chex.assert_type(error, float, custom_message="rlfa.targets.squared_loss: error must be float")
    return 0.5 * jnp.square(error)


def huber_loss(error: Array, delta: float = 1.0) -> Array:
    """Huber loss: quadratic within ``delta``, linear beyond (gradient clipped to +-delta).

    Elementwise on a float ``error`` of any shape. Mnih et al. (2015) clip the TD
    error to [-1, 1], which is this loss's gradient.
    """
    chex.assert_type(error, float, custom_message="rlfa.targets.huber_loss: error must be float")
    abs_error = jnp.abs(error)
    quadratic = jnp.minimum(abs_error, delta)
    return 0.5 * jnp.square(quadratic) + delta * (abs_error - quadratic)
