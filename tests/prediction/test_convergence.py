"""Convergence to the closed-form fixed points on a small random walk.

A 10-state walk (jumps of 1 or 2 either way, start in state 5) with 2 groups of
5 states: coarse enough that the TD fixed point, the mu-weighted projection
(every-visit Monte Carlo) and the first-visit-weighted projection differ by far
more than the tolerance, so each test tells the methods apart.
"""

import jax.numpy as jnp
import numpy as np
import pytest

from rlfa import prediction, runner
from rlfa.envs import random_walk as rw
from rlfa.features import dense
from rlfa.features.state_aggregation import state_aggregation

PARAMS = rw.EnvParams(num_states=10, start_state=5, max_jump=2)
FM = state_aggregation(10, 5)
PHI = np.stack([np.asarray(dense(FM(jnp.array([s], jnp.float32)), 2)) for s in range(1, 11)])
TOL = 0.01


def _closed_forms():
    P, r = rw.transition_matrix(PARAMS)
    v = rw.true_values(PARAMS)
    mu = rw.on_policy_distribution(PARAMS)
    D = np.diag(mu)
    w_td = np.linalg.solve(PHI.T @ D @ (np.eye(10) - P) @ PHI, PHI.T @ D @ r)
    w_mu = np.linalg.solve(PHI.T @ D @ PHI, PHI.T @ D @ v)
    # Probability that an episode visits s at least once: first-visit MC's weighting.
    hit = np.zeros(10)
    for s in range(10):
        Ps = P.copy()
        Ps[:, s] = 0.0
        h = np.linalg.solve(np.eye(10) - Ps, P[:, s])  # hit s in >= 1 step
        hit[s] = 1.0 if s == PARAMS.start_state - 1 else h[PARAMS.start_state - 1]
    Dh = np.diag(hit)
    w_fv = np.linalg.solve(PHI.T @ Dh @ PHI, PHI.T @ Dh @ v)
    return w_td, w_mu, w_fv


W_TD, W_MU, W_FV = _closed_forms()


STEPS = round(1.06 * rw.mean_episode_steps(PARAMS))  # steps per program step


def _learn(method, step_size, *, max_episode_steps=200, episodes=20_000, seeds=16):
    """``method``'s weights; "mc_*_episodes" is the whole-episode agent, run in lock step."""
    dyn = rw.dynamics(PARAMS)
    agent = {
        "td": prediction.semi_gradient_td0(FM),
        "mc_every": prediction.online_gradient_monte_carlo(FM, 10, dyn.state_index, False),
        "mc_first": prediction.online_gradient_monte_carlo(FM, 10, dyn.state_index, True),
        "mc_first_episodes": prediction.gradient_monte_carlo(FM, 10, dyn.state_index, True),
    }[method]
    program = prediction.episodic_prediction(
        dyn, agent, monte_carlo=method.endswith("_episodes"), steps_per_episode=STEPS,
        max_episode_steps=max_episode_steps, log=lambda s: {"w": s.w},
        obs_example=jnp.zeros((1,), jnp.float32))
    hp = runner.stack_hparams([prediction.PredictionHParams(step_size, 1.0)])
    res = runner.run(program, hp, seed=1, num_seeds=seeds, num_logs=200,
                     steps_per_log=episodes // 200, progress=False)
    # Polyak-average the second half of the run and the seeds: constant-step-size
    # iterates fluctuate around the fixed point.
    return res.metrics["w"][0, :, 100:].mean(axis=(0, 1))


def test_fixed_points_are_far_apart():
    assert min(np.abs(W_TD - W_MU).max(), np.abs(W_MU - W_FV).max(),
               np.abs(W_TD - W_FV).max()) > 4 * TOL


def test_semi_gradient_td0_converges_to_the_td_fixed_point():
    np.testing.assert_allclose(_learn("td", 0.004), W_TD, atol=TOL)


def test_every_visit_gradient_mc_converges_to_the_mu_weighted_projection():
    np.testing.assert_allclose(_learn("mc_every", 0.004), W_MU, atol=TOL)


def test_first_visit_gradient_mc_converges_to_the_first_visit_projection():
    np.testing.assert_allclose(_learn("mc_first", 0.004), W_FV, atol=TOL)


@pytest.mark.slow
def test_whole_episode_first_visit_gradient_mc_in_lock_step_converges_there_too():
    np.testing.assert_allclose(_learn("mc_first_episodes", 0.004), W_FV, atol=TOL)


def test_truncation_bootstraps_to_the_infinite_horizon_values():
    """A 4-step time limit: tabular TD(0) still learns the untruncated values."""
    one_hot = state_aggregation(10, 1)
    dyn = rw.dynamics(PARAMS)

    def learn(stop_at_truncation):
        agent = prediction.semi_gradient_td0(one_hot)
        if stop_at_truncation:  # the classic bug: one `done` for both
            update = agent.update
            agent = agent._replace(update=lambda s, hp, tr, active=True: update(
                s, hp, tr._replace(terminated_t=tr.terminated_t | tr.truncated_t), active))
        program = prediction.episodic_prediction(
            dyn, agent, monte_carlo=False, max_episode_steps=4,
            log=lambda s: {"w": s.w}, obs_example=jnp.zeros((1,), jnp.float32))
        hp = runner.stack_hparams([prediction.PredictionHParams(0.01, 1.0)])
        res = runner.run(program, hp, seed=2, num_seeds=16, num_logs=200, steps_per_log=200,
                         progress=False)
        return res.metrics["w"][0, :, 100:].mean(axis=(0, 1))

    v = rw.true_values(PARAMS)
    # Every state is reachable from state 5 within 4 steps, but the outer ones
    # are rarely visited; check the well-visited states 3..8.
    np.testing.assert_allclose(learn(False)[2:8], v[2:8], atol=0.03)
    assert np.abs(learn(True)[2:8] - v[2:8]).max() > 0.15
