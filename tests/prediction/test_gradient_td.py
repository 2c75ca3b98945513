"""TDC / GTD(0) (S&B §11.7): one sampled step by hand, the expected update as the mu-weighted
mean of sampled ones (on a random MDP and on Baird's), sqrt(PBE) by its definition, hparam
validation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa import hparams
from rlfa.book.baird_figures import baird_mdp
from rlfa.envs import baird
from rlfa.features import FeatureMap, Features
from rlfa.prediction import OffPolicyTransition
from rlfa.prediction.gradient_td import (
    TDCHParams,
    TDCState,
    expected_tdc_update,
    rms_projected_bellman_error,
    tdc,
)
from rlfa.prediction.semi_gradient_dp import FiniteMDP
from rlfa.types import Transition

HP = hparams.traced(TDCHParams(0.1, 0.2, 0.9))


def _table_features(x: np.ndarray) -> FeatureMap:
    """Dense features: state s (observation [s]) has the row x[s]."""
    x = jnp.asarray(x, jnp.float32)
    d = x.shape[1]
    return FeatureMap(d, d, lambda obs: Features(jnp.arange(d), x[obs.reshape(()).astype(int)]))


def _batch(s, r, s_next, rho, terminated=False):
    tr = Transition(jnp.array([s], jnp.float32), jnp.int32(0), jnp.float32(r),
                    jnp.bool_(terminated), jnp.bool_(False), jnp.array([s_next], jnp.float32))
    return OffPolicyTransition(tr, jnp.float32(rho))


@pytest.mark.parametrize("terminated", [False, True])
def test_tdc_one_step_matches_eq_11_29_and_11_30_by_hand(terminated):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 4)).astype(np.float32)
    w, v = rng.normal(size=4).astype(np.float32), rng.normal(size=4).astype(np.float32)
    update = jax.jit(tdc(_table_features(x)).update)
    new, metrics = update(TDCState(jnp.asarray(w), jnp.asarray(v)), HP,
                          _batch(1, 0.7, 2, 1.3, terminated))
    alpha, beta, rho = 0.1, 0.2, 1.3
    gamma = 0.0 if terminated else 0.9
    delta = 0.7 + gamma * x[2] @ w - x[1] @ w
    w_hand = w + alpha * rho * (delta * x[1] - gamma * x[2] * (x[1] @ v))
    v_hand = v + beta * rho * (delta - v @ x[1]) * x[1]
    assert float(metrics["td_error"]) == pytest.approx(delta, abs=1e-6)
    np.testing.assert_allclose(new.w, w_hand, atol=1e-6)
    np.testing.assert_allclose(new.v, v_hand, atol=1e-6)


def test_tdc_starts_from_zero_weights():
    state = tdc(baird.features()).init(jax.random.key(3), jnp.zeros((1,)))
    np.testing.assert_array_equal(state.w, np.zeros(8))
    np.testing.assert_array_equal(state.v, np.zeros(8))


def _random_problem():
    """3 states, 2 actions, termination possible (outcome 3): the sampled transitions
    (s, a, s', r, rho, terminated) with their probabilities, and the FiniteMDP."""
    rng = np.random.default_rng(7)
    n, k = 3, 2
    p = rng.dirichlet(np.ones(n + 1), size=(n, k))  # p[s, a, s'], s' = n is terminal
    reward = rng.normal(size=(n, k, n + 1))
    pi, b = rng.dirichlet(np.ones(k), size=n), rng.dirichlet(np.ones(k), size=n)
    mu = rng.dirichlet(np.ones(n))
    x = rng.normal(size=(n, 4))
    rows = [(s, a, s2, reward[s, a, s2], pi[s, a] / b[s, a], mu[s] * b[s, a] * p[s, a, s2])
            for s in range(n) for a in range(k) for s2 in range(n + 1)]
    mdp = FiniteMDP(features=x, mu=mu, transitions=np.einsum("sa,sat->st", pi, p[:, :, :n]),
                    rewards=np.einsum("sa,sat,sat->s", pi, p, reward))
    return x, rows, mdp


def _baird_problem():
    """Baird: every (state, action, next state) the behaviour policy can take."""
    n = baird.NUM_STATES
    rows = [(s, baird.DASHED, s2, 0.0, 0.0, (1 / n) * (6 / 7) * (1 / 6))
            for s in range(n) for s2 in range(n - 1)]
    rows += [(s, baird.SOLID, n - 1, 0.0, 7.0, (1 / n) * (1 / 7)) for s in range(n)]
    return baird.feature_matrix(), rows, baird_mdp()


@pytest.mark.parametrize("problem", [_random_problem, _baird_problem])
def test_expected_update_is_the_mu_weighted_mean_of_sampled_updates(problem):
    x, rows, mdp = problem()
    n = x.shape[0]
    s, _, s2, r, rho, prob = (np.array(c) for c in zip(*rows))
    terminated = s2 == n
    batch = OffPolicyTransition(
        Transition(jnp.asarray(s, jnp.float32)[:, None], jnp.zeros(len(s), jnp.int32),
                   jnp.asarray(r, jnp.float32), jnp.asarray(terminated),
                   jnp.zeros(len(s), bool), jnp.asarray(np.where(terminated, 0, s2),
                                                        jnp.float32)[:, None]),
        jnp.asarray(rho, jnp.float32))
    rng = np.random.default_rng(2)
    state = TDCState(jnp.asarray(rng.normal(size=x.shape[1]), jnp.float32),
                     jnp.asarray(rng.normal(size=x.shape[1]), jnp.float32))
    agent = tdc(_table_features(x))
    sampled, _ = jax.jit(jax.vmap(agent.update, in_axes=(None, None, 0)))(state, HP, batch)
    assert prob.sum() == pytest.approx(1.0)
    mdp = FiniteMDP(*(jnp.asarray(a, jnp.float32) for a in mdp))
    w, v = expected_tdc_update(mdp, state.w, state.v, HP)
    np.testing.assert_allclose(w, prob @ np.asarray(sampled.w, np.float64), atol=1e-5)
    np.testing.assert_allclose(v, prob @ np.asarray(sampled.v, np.float64), atol=1e-5)


def _walk():
    """The 5-state random walk (S&B Example 6.2) on-policy, gamma 1, 2 features [1, s]."""
    n = 5
    p = np.zeros((n, n))
    for s in range(n):
        for s2 in (s - 1, s + 1):
            if 0 <= s2 < n:
                p[s, s2] = 0.5  # the rest ends the episode
    r = np.zeros(n)
    r[-1] = 0.5  # +1 for stepping off the right end
    start = np.zeros(n)
    start[n // 2] = 1.0
    eta = np.linalg.solve(np.eye(n) - p.T, start)  # expected visits per episode
    x = np.stack([np.ones(n), np.arange(n) / (n - 1)], axis=1)
    return FiniteMDP(x, eta / eta.sum(), p, r)


def test_pbe_is_zero_at_the_td_fixed_point_and_not_elsewhere():
    mdp = _walk()
    x, d = mdp.features, np.diag(mdp.mu)
    a = x.T @ d @ (np.eye(5) - mdp.transitions) @ x
    w_td = np.linalg.solve(a, x.T @ d @ mdp.rewards)  # eq. 9.12 with D = on-policy mu
    mdp32 = FiniteMDP(*(jnp.asarray(v, jnp.float32) for v in mdp))
    jitted = jax.jit(rms_projected_bellman_error)
    pbe = lambda w: float(jitted(mdp32, jnp.asarray(w, jnp.float32), 1.0))
    assert pbe(w_td) < 1e-6
    assert pbe(np.zeros(2)) > 0.05


def test_pbe_matches_eq_11_25_where_the_gram_matrix_is_invertible():
    x, _, mdp = _random_problem()
    w = np.array([0.3, -1.0, 0.5, 2.0])
    delta = mdp.rewards + 0.9 * mdp.transitions @ x @ w - x @ w
    g = x.T @ (mdp.mu * delta)
    pbe_hand = g @ np.linalg.solve(x.T @ np.diag(mdp.mu) @ x, g)
    mdp32 = FiniteMDP(*(jnp.asarray(v, jnp.float32) for v in mdp))
    got = rms_projected_bellman_error(mdp32, jnp.asarray(w, jnp.float32), 0.9)
    assert float(got) == pytest.approx(np.sqrt(pbe_hand), rel=1e-4)


@pytest.mark.parametrize("kwargs, field", [
    ({"beta": -0.1}, "beta=-0.1"), ({"beta": 0.0}, "beta=0.0"),
    ({"step_size": -1.0}, "step_size=-1.0"), ({"gamma": 1.5}, "gamma=1.5"),
    ({"beta": "fast"}, "beta='fast'"), ({"beta": [0.1, -0.2]}, "beta=-0.2"),
])
def test_bad_hparams_are_refused_naming_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        hparams.check(TDCHParams(**{"step_size": 0.1, "beta": 0.2, "gamma": 0.9, **kwargs}))


def test_hparams_take_a_sweep_grid():
    grid = TDCHParams(np.array([0.1, 0.2]), np.array([0.5, 1.0]), np.array([0.9, 0.9]))
    hparams.check(grid)
    hp = hparams.traced(grid)
    assert hp.beta.shape == (2,) and hp.beta.dtype == jnp.float32
