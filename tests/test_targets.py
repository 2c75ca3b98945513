"""Per-transition targets and losses against hand-computed values, with and without jit."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa import targets

jit_or_not = pytest.mark.parametrize("wrap", [lambda f: f, jax.jit], ids=["eager", "jit"])


@jit_or_not
def test_discount_terminated_vs_truncated(wrap):
    f = wrap(targets.discount)
    assert float(f(jnp.float32(0.9), jnp.bool_(True))) == 0.0
    # a truncated (not terminated) transition keeps the full discount
    assert float(f(jnp.float32(0.9), jnp.bool_(False))) == pytest.approx(0.9)


@jit_or_not
def test_q_learning_target_and_error(wrap):
    q_t = jnp.array([1.0, 3.0, -2.0])
    q_tm1 = jnp.array([0.5, 2.0])
    # y = 1 + 0.9 * 3 = 3.7; error = 3.7 - q_tm1[1] = 1.7
    y = wrap(targets.q_learning_target)(1.0, 0.9, q_t)
    assert float(y) == pytest.approx(3.7)
    err = wrap(targets.q_learning_error)(q_tm1, 1, 1.0, 0.9, q_t)
    assert float(err) == pytest.approx(1.7)


@jit_or_not
def test_targets_at_termination_and_truncation(wrap):
    q_t = jnp.array([10.0, 20.0])
    terminated = targets.discount(jnp.float32(0.5), jnp.bool_(True))
    truncated = targets.discount(jnp.float32(0.5), jnp.bool_(False))
    assert float(wrap(targets.q_learning_target)(2.0, terminated, q_t)) == 2.0
    assert float(wrap(targets.q_learning_target)(2.0, truncated, q_t)) == 12.0  # 2 + 0.5 * 20


@jit_or_not
def test_double_q_selects_with_one_evaluates_with_other(wrap):
    q_value = jnp.array([5.0, 1.0, 7.0])    # target network: max would be 7
    q_selector = jnp.array([0.0, 9.0, 2.0])  # online network picks action 1
    y = wrap(targets.double_q_learning_target)(1.0, 0.5, q_value, q_selector)
    assert float(y) == pytest.approx(1.0 + 0.5 * 1.0)
    # with one network for both it is the Q-learning target
    y_same = targets.double_q_learning_target(1.0, 0.5, q_value, q_value)
    assert float(y_same) == float(targets.q_learning_target(1.0, 0.5, q_value))


def test_batched_with_vmap():
    r = jnp.array([1.0, 0.0])
    d = jax.vmap(targets.discount, (None, 0))(jnp.float32(0.9), jnp.array([True, False]))
    q_t = jnp.array([[4.0, 2.0], [1.0, 3.0]])
    y = jax.vmap(targets.q_learning_target)(r, d, q_t)
    np.testing.assert_allclose(y, [1.0, 2.7], rtol=1e-6)


@jit_or_not
def test_losses(wrap):
    e = jnp.array([-3.0, -0.5, 0.0, 0.4, 2.0])
    np.testing.assert_allclose(wrap(targets.squared_loss)(e), [4.5, 0.125, 0.0, 0.08, 2.0],
                               rtol=1e-6)
    # quadratic inside |e| <= 1, linear (|e| - 0.5) outside
    np.testing.assert_allclose(wrap(targets.huber_loss)(e), [2.5, 0.125, 0.0, 0.08, 1.5],
                               rtol=1e-6)
    grad = jax.vmap(jax.grad(targets.huber_loss))(e)
    np.testing.assert_allclose(grad, [-1.0, -0.5, 0.0, 0.4, 1.0], rtol=1e-6)
    np.testing.assert_allclose(targets.huber_loss(jnp.float32(3.0), delta=2.0), 4.0)


Q = jnp.array([1.0, 2.0, 3.0])
BATCH = jnp.array([1.0, 0.0])


@jit_or_not
@pytest.mark.parametrize(("fn", "args", "match"), [
    # a batch where one transition is expected
    (targets.discount, (jnp.float32(0.9), jnp.array([True, False])),
     r"discount: argument terminated_t must have rank 0.*vmap"),
    (targets.td_target, (BATCH, 0.9, 1.0), r"td_target: argument r_t must have rank 0"),
    (targets.td_error, (0.0, 1.0, 0.9, BATCH), r"td_error: argument v_t must have rank 0"),
    (targets.q_learning_target, (1.0, 0.9, jnp.ones((2, 3))),
     r"q_learning_target: argument q_t must have rank 1"),
    (targets.q_learning_error, (Q, jnp.array([0, 1]), 1.0, 0.9, Q),
     r"q_learning_error: argument a_tm1 must have rank 0"),
    (targets.double_q_learning_target, (1.0, BATCH, Q, Q),
     r"double_q_learning_target: argument discount_t must have rank 0"),
    # the wrong dtype
    (targets.discount, (jnp.float32(0.9), jnp.float32(0.0)),
     r"discount: argument terminated_t must be bool"),
    (targets.discount, (1, jnp.bool_(False)), r"discount: argument gamma must be float"),
    (targets.q_learning_error, (Q, 0, jnp.int32(1), 0.9, Q),
     r"q_learning_error: argument r_t must be float"),
    (targets.squared_loss, (jnp.array([1, 2]),), r"squared_loss: error must be float"),
    (targets.huber_loss, (jnp.int32(3),), r"huber_loss: error must be float"),
    # action values of different actions
    (targets.double_q_learning_target, (1.0, 0.9, Q, Q[:2]),
     r"q_t_value and q_t_selector must value the same actions"),
])
def test_wrong_rank_or_dtype_fails_naming_the_argument(wrap, fn, args, match):
    with pytest.raises(AssertionError, match=match):
        wrap(fn)(*args)


def test_the_checks_leave_the_compiled_program_unchanged():
    def errors(q_tm1, a_tm1, r_t, terminated_t, q_t):
        discount_t = targets.discount(jnp.float32(0.9), terminated_t)
        return targets.huber_loss(targets.q_learning_error(q_tm1, a_tm1, r_t, discount_t, q_t))

    args = (jnp.ones((4, 3)), jnp.zeros(4, jnp.int32), jnp.ones(4), jnp.zeros(4, bool),
            jnp.ones((4, 3)))
    checked = jax.make_jaxpr(jax.vmap(errors))(*args)
    chex.disable_asserts()
    try:
        unchecked = jax.make_jaxpr(jax.vmap(errors))(*args)
    finally:
        chex.enable_asserts()
    assert str(checked) == str(unchecked)
