"""The 1000-state random walk: dynamics, gymnax API, exact values and distribution."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa import envs
from rlfa.envs import random_walk as rw


def test_make_by_name_and_unknown_names_list_valid_ones():
    env, params = envs.make("RandomWalk1000")
    assert params.num_states == 1000 and params.start_state == 500
    with pytest.raises(ValueError, match="RandomWalk1000.*CartPole-v1|CartPole-v1.*RandomWalk1000"):
        envs.make("RandomWalk")
    with pytest.raises(ValueError, match="no parameter.*num_statez"):
        envs.make("RandomWalk1000", num_statez=3)


def test_jumps_are_uniform_on_both_sides():
    jumps = np.asarray(rw.sample_jumps(jax.random.key(3), (200_000,)))
    assert jumps.min() == -100 and jumps.max() == 100 and not (jumps == 0).any()
    counts = np.bincount(jumps + 100, minlength=201)
    counts = np.delete(counts, 100)
    # 200 equally likely outcomes, 1000 expected each: a 5-sigma band.
    assert np.all(np.abs(counts - 1000) < 5 * np.sqrt(1000))


@pytest.mark.parametrize(
    "position, jump, expected",
    [(500, 37, (537, 0.0, False)), (30, -29, (1, 0.0, False)), (30, -30, (1, -1.0, True)),
     (950, 50, (1000, 0.0, False)), (950, 51, (1000, 1.0, True))],
)
def test_transition_terminates_past_either_end(position, jump, expected):
    nxt, reward, terminated = rw.transition(jnp.int32(position), jnp.int32(jump))
    assert (int(nxt), float(reward), bool(terminated)) == expected


def test_gymnax_step_api_and_final_observation():
    env, params = envs.make("RandomWalk1000", start_state=3)
    obs, state = env.reset(jax.random.key(0), params)
    assert obs.shape == (1,) and float(obs[0]) == 3.0
    # Find a key whose jump goes left past the end, and check the auto-reset.
    for i in range(100):
        key = jax.random.key(i)
        out = env.step(key, state, 0, params)
        if bool(out[3]):
            break
    obs_t, state_t, reward, terminated, truncated, info = out
    assert bool(terminated) and not bool(truncated) and float(reward) == -1.0
    assert float(obs_t[0]) == 3.0  # reset to the start
    assert float(info["final_observation"][0]) == 1.0  # clipped pre-reset observation


def test_exact_values_solve_the_bellman_equation_and_are_antisymmetric():
    params = rw.EnvParams()
    P, r = rw.transition_matrix(params)
    v = rw.true_values(params)
    np.testing.assert_allclose(v, r + P @ v, atol=1e-10)
    np.testing.assert_allclose(v, -v[::-1], atol=1e-10)
    # From the middle, each step terminates with probability 0: the walk is fair.
    assert abs(v[499] + v[500]) < 1e-10 and -1 < v[0] < -0.9
    # Rows: probability of staying among non-terminal states plus of terminating is 1.
    terminate = np.abs(r) * 2 * params.max_jump / (2 * params.max_jump)
    np.testing.assert_allclose(P.sum(1) + terminate, 1.0, atol=1e-12)


def test_on_policy_distribution_is_normalised_expected_visits():
    params = rw.EnvParams(num_states=10, start_state=5, max_jump=2)
    mu = rw.on_policy_distribution(params)
    assert mu.shape == (10,) and abs(mu.sum() - 1) < 1e-12 and mu.argmax() in (4, 5)
    # Monte Carlo estimate of visit frequencies with the same dynamics.
    rng = np.random.default_rng(0)
    counts = np.zeros(10)
    for _ in range(4000):
        s = 5
        while 1 <= s <= 10:
            counts[s - 1] += 1
            s += rng.choice([-2, -1, 1, 2])
    np.testing.assert_allclose(counts / counts.sum(), mu, atol=0.01)


def test_mean_episode_steps_by_hand():
    # 3 states, jumps of 1: E2 = 1 + (E1 + E3) / 2 and E1 = E3 = 1 + E2 / 2, so E2 = 4.
    small = rw.EnvParams(num_states=3, start_state=2, max_jump=1)
    assert rw.mean_episode_steps(small) == pytest.approx(4.0)
    assert rw.mean_episode_steps() == pytest.approx(83.15, abs=0.01)
