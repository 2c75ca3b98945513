"""LSTD: the Sherman-Morrison step, the TD fixed point A^-1 b on a chain, refused epsilon."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa import hparams, prediction
from rlfa.features import dense, fourier_basis, polynomial_basis, state_aggregation
from rlfa.prediction import LSTDHParams
from rlfa.types import Transition


def _tr(s, r, s_next, terminated=False):
    return Transition(jnp.array([s], jnp.float32), jnp.int32(0), jnp.float32(r),
                      jnp.bool_(terminated), jnp.bool_(False), jnp.array([s_next], jnp.float32))


@pytest.mark.parametrize("terminated", [False, True])
def test_first_update_is_the_explicit_inverse_of_epsilon_i_plus_x_u(terminated):
    fm = fourier_basis(3, 1, 0.0, 10.0)  # dense x, d = 4
    agent = prediction.lstd(fm)
    gamma, r, epsilons = 0.9, 0.7, jnp.array([0.5, 2.0])
    tr = _tr(2.5, r, 6.0, terminated)
    # epsilon is traced: both values in one vmapped program.
    step = jax.jit(jax.vmap(lambda eps: agent.update(agent.init(jax.random.key(0), tr.obs_tm1),
                                             LSTDHParams(jnp.float32(gamma), eps), tr)[0]))
    states = step(epsilons)
    x = np.asarray(dense(fm(tr.obs_tm1), 4), np.float64)
    x_next = np.asarray(dense(fm(tr.obs_t), 4), np.float64) * (0.0 if terminated else 1.0)
    for i, eps in enumerate(np.asarray(epsilons, np.float64)):
        expected = np.linalg.inv(eps * np.eye(4) + np.outer(x, x - gamma * x_next))
        np.testing.assert_allclose(states.A_inv[i], expected, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(states.b[i], r * x, rtol=1e-6)
        np.testing.assert_allclose(states.w[i], expected @ (r * x), rtol=1e-5, atol=1e-6)


# The book's 5-state random walk (Example 6.2): states 1..5, start at 3, left or right with
# probability 1/2, +1 for leaving on the right. Expected visits per episode eta = (1, 2, 3, 2, 1)
# (eq. 9.2), so one "exact episode" is eta(s) transitions from s to each side: 18 transitions
# whose sums are 18 A and 18 b, with D = eta / 9 the on-policy distribution (eq. 9.3).
ETA = np.array([1, 2, 3, 2, 1])


def _exact_block():
    steps = [_tr(s, float(s == 5 and side == 1), s + side, terminated=s + side in (0, 6))
             for s in range(1, 6) for side in (-1, 1) for _ in range(ETA[s - 1])]
    return jax.tree.map(lambda *xs: jnp.stack(xs), *steps)


def _td_fixed_point(fm, gamma):
    """``A^-1 b`` with A = Phi^T D (Phi - gamma P Phi), b = Phi^T D r (eqs. 9.11-9.12), float64."""
    phi = np.stack([np.asarray(dense(fm(jnp.array([s], jnp.float32)), fm.num_features))
                    for s in range(1, 6)]).astype(np.float64)
    P = 0.5 * (np.eye(5, k=1) + np.eye(5, k=-1))  # among non-terminal states; x(terminal) = 0
    D = np.diag(ETA / ETA.sum())
    r = np.array([0, 0, 0, 0, 0.5])  # expected reward leaving each state
    A = phi.T @ D @ (phi - gamma * P @ phi)
    b = phi.T @ D @ r
    return A, b


@pytest.mark.parametrize(("fm", "gamma"), [
    (state_aggregation(5, 1), 1.0),                         # tabular: w_TD = v_pi = s / 6
    (polynomial_basis(1, 1, lows=0.0, highs=6.0), 0.9),     # x(s) = (1, s/6): w_TD != v_pi
])
def test_lstd_reaches_the_td_fixed_point(fm, gamma):
    agent, epsilon, blocks = prediction.lstd(fm), 1e-3, 50
    block = _exact_block()
    # LSTD's statistics are sums, so the order of the transitions does not matter.
    stream = jax.tree.map(lambda x: jnp.concatenate([x] * blocks), block)

    @jax.jit
    def run(hp):
        state = agent.init(jax.random.key(0), stream.obs_tm1[0])
        return jax.lax.scan(lambda s, tr: (agent.update(s, hp, tr)[0], None), state, stream)[0]

    state = run(LSTDHParams(jnp.float32(gamma), jnp.float32(epsilon)))
    A, b = _td_fixed_point(fm, gamma)
    n = 18 * blocks
    # Exactly what LSTD computes: (n A + epsilon I)^-1 (n b), to float32 round-off.
    np.testing.assert_allclose(state.w, np.linalg.solve(n * A + epsilon * np.eye(len(b)), n * b),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(state.A_inv, np.linalg.inv(n * A + epsilon * np.eye(len(b))),
                               rtol=1e-3, atol=1e-6)
    # The TD fixed point itself, within the epsilon / n ~ 1e-6 regularisation (and round-off).
    np.testing.assert_allclose(state.w, np.linalg.solve(A, b), rtol=1e-3, atol=1e-4)
    if fm.num_features == 5:
        np.testing.assert_allclose(state.w, np.arange(1, 6) / 6, rtol=1e-3)
    assert int(state.steps) == n


@pytest.mark.parametrize(("hp", "field"), [
    (LSTDHParams(0.9, 0.0), "epsilon=0.0"),
    (LSTDHParams(0.9, -1.0), "epsilon=-1.0"),
    (LSTDHParams(0.9, float("nan")), "epsilon=nan"),
    (LSTDHParams(0.9, np.array([0.1, 0.0])), "epsilon=0.0"),  # the bad entry of a grid
    (LSTDHParams(1.5, 0.1), "gamma=1.5"),
])
def test_bad_epsilon_or_gamma_is_refused_naming_the_field(hp, field):
    with pytest.raises(ValueError, match=field):
        hparams.check(hp)
    agent = prediction.lstd(state_aggregation(5, 1))
    with pytest.raises(ValueError, match=field):
        agent.update(agent.init(jax.random.key(0), jnp.zeros((1,))), hp, _tr(1, 0.0, 2))


@pytest.mark.parametrize(("fm", "gamma"), [
    (state_aggregation(5, 1), 1.0), (polynomial_basis(1, 1, lows=0.0, highs=6.0), 0.9),
    (state_aggregation(6, 2), 1.0)])
def test_td_fixed_point_in_closed_form(fm, gamma):
    phi = np.stack([np.asarray(dense(fm(jnp.array([s], jnp.float32)), fm.num_features))
                    for s in range(1, 6)])
    P = 0.5 * (np.eye(5, k=1) + np.eye(5, k=-1))
    mdp = prediction.FiniteMDP(phi, ETA / ETA.sum(), P, np.array([0, 0, 0, 0, 0.5]))
    w = prediction.td_fixed_point(mdp, gamma)
    A, b = _td_fixed_point(fm, gamma)
    np.testing.assert_allclose(w, np.linalg.solve(A, b), rtol=1e-12)
    if fm.num_features == 5:  # tabular: v_pi of the 5-state walk
        np.testing.assert_allclose(w, np.arange(1, 6) / 6, rtol=1e-12)
    if fm.num_features == 3:  # groups {1,2}, {3,4}, {5}, w = (a, b, c): the mu-weighted expected
        # TD error of each group vanishes: b - 1.5a = 0, 1.5a - 2.5b + c = 0, c = 0.5 + 0.5b,
        # so w = (1/3, 1/2, 3/4), not the groups' mu-weighted v_pi (5/18, 17/30, 5/6).
        np.testing.assert_allclose(w, [1 / 3, 0.5, 0.75], rtol=1e-12)


def test_fixed_point_errors_by_hand():
    # Groups {1,2}, {3,4}, {5} of the 5-state walk (w_TD = (1/3, 1/2, 3/4) above) against
    # v_pi = s/6 under mu = (1,2,3,2,1)/9; the best w are the groups' mu-weighted means of v_pi.
    fm = state_aggregation(6, 2)
    phi = np.stack([np.asarray(dense(fm(jnp.array([s], jnp.float32)), 3)) for s in range(1, 6)])
    mu, v = ETA / ETA.sum(), np.arange(1, 6) / 6
    mdp = prediction.FiniteMDP(phi, mu, 0.5 * (np.eye(5, k=1) + np.eye(5, k=-1)),
                               np.array([0, 0, 0, 0, 0.5]))
    errors = prediction.fixed_point_errors(mdp, v, 1.0)
    w_td, w_best = np.array([1 / 3, 1 / 3, 0.5, 0.5, 0.75]), np.array([5, 5, 17 * 0.6, 17 * 0.6,
                                                                       15]) / 18
    assert errors["td_fixed_point"] == pytest.approx(np.sqrt(mu @ (w_td - v) ** 2), rel=1e-12)
    assert errors["best"] == pytest.approx(np.sqrt(mu @ (w_best - v) ** 2), rel=1e-12)
    assert errors["best"] < errors["td_fixed_point"]
