"""The access-control queuing task (Example 10.2): hand-computed transitions from fixed
noise, invariants over random steps, gymnax's API, the exact average reward, bad params."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa import envs
from rlfa.envs import access_control as ac
from rlfa.features import dense

ENV = ac.AccessControl()
PARAMS = ac.EnvParams()
# Binomial(3, 0.06) CDF: 0.94^3 = 0.830584, + 3 * 0.06 * 0.94^2 = 0.989632,
# + 3 * 0.06^2 * 0.94 = 0.999784, + 0.06^3 = 1.
CDF_3 = (0.830584, 0.989632, 0.999784)
# One uniform inside each interval [CDF(j - 1), CDF(j)): frees exactly j of 3 busy servers.
FREES_3 = {0: 0.5, 1: 0.9, 2: 0.995, 3: 0.9999}
_STEP = jax.jit(ENV.step_from_noise)  # compiled once for every hand-computed step


def _state(free, priority_index):
    return ac.EnvState(free=jnp.int32(free), priority=jnp.int32(priority_index), time=0)


def _step(free, priority_index, action, noise, params=PARAMS):
    obs, state, reward, terminated, _ = _STEP(
        _state(free, priority_index), jnp.int32(action), jnp.asarray(noise, jnp.float32), params)
    assert not bool(terminated)
    return np.asarray(obs), int(state.free), int(state.priority), float(reward)


def test_accept_with_a_free_server_pays_the_priority_and_occupies_it():
    # 5 free, priority 4 (index 2); noise[0] = 0 < CDF(0): no server frees; 0.6 -> index 2.
    obs, free, priority, reward = _step(5, 2, ac.ACCEPT, [0.0, 0.6])
    assert (reward, free, priority) == (4.0, 4, 2)
    np.testing.assert_array_equal(obs, [4.0, 4.0])


def test_reject_pays_nothing_and_keeps_the_servers():
    obs, free, priority, reward = _step(5, 3, ac.REJECT, [0.0, 0.1])
    assert (reward, free, priority) == (0.0, 5, 0)
    np.testing.assert_array_equal(obs, [5.0, 1.0])


def test_accept_with_no_free_server_is_a_reject():
    obs, free, _, reward = _step(0, 3, ac.ACCEPT, [0.0, 0.9])
    assert (reward, free) == (0.0, 0)
    np.testing.assert_array_equal(obs, [0.0, 8.0])


@pytest.mark.parametrize("freed", [0, 1, 2, 3])
def test_busy_servers_free_as_the_binomial_cdf_says(freed):
    u = FREES_3[freed]
    assert (CDF_3 + (1.0,))[freed] > u >= ((0.0,) + CDF_3)[freed]
    # 7 free of 10 after a reject: 3 busy.
    assert _step(7, 0, ac.REJECT, [u, 0.0])[1] == 7 + freed
    # 8 free, accept: 7 free, 3 busy (the one just occupied included), then they free.
    _, free, _, reward = _step(8, 1, ac.ACCEPT, [u, 0.0])
    assert (free, reward) == (7 + freed, 2.0)


def test_free_prob_zero_frees_none_one_frees_all():
    for u in (0.0, 0.5, 0.999999):
        assert _step(2, 0, ac.REJECT, [u, 0.0], PARAMS.replace(free_prob=0.0))[1] == 2
        assert _step(2, 0, ac.ACCEPT, [u, 0.0], PARAMS.replace(free_prob=1.0))[1] == 10


def test_binomial_count_has_the_binomial_mean():
    u = jax.random.uniform(jax.random.key(0), (20_000,))
    freed = jax.jit(jax.vmap(lambda x: ac.servers_freed(jnp.int32(10), 0.06, 10, x)))(u)
    assert abs(float(freed.mean()) - 0.6) < 0.03  # sd of the mean: sqrt(0.564 / 20000) = 0.0053


def test_next_priority_comes_from_the_noise():
    for u, expected in [(0.0, 1.0), (0.2499, 1.0), (0.25, 2.0), (0.74, 4.0), (0.999999, 8.0)]:
        obs = _step(5, 0, ac.REJECT, [0.0, u])[0]
        assert obs[1] == expected
    obs, _ = jax.jit(ENV.reset_from_noise)(jnp.array([0.3, 0.6]), PARAMS)
    np.testing.assert_array_equal(obs, [10.0, 4.0])


def test_random_steps_keep_the_invariants_and_gymnax_api_jits_and_vmaps():
    env, params = envs.make("AccessControl")
    assert env.num_actions == 2
    np.testing.assert_array_equal(env.observation_space(params).high, [10.0, 8.0])

    def run(key):
        k_reset, k_steps = jax.random.split(key)
        obs, state = env.reset(k_reset, params)

        def step(carry, key):
            obs, state = carry
            k_act, k_step = jax.random.split(key)
            action = jax.random.randint(k_act, (), 0, 2)
            obs, state, reward, terminated, truncated, _ = env.step(k_step, state, action, params)
            return (obs, state), (obs, reward, terminated | truncated)

        return jax.lax.scan(step, (obs, state), jax.random.split(k_steps, 200))[1]

    obs, reward, done = jax.jit(jax.vmap(run))(jax.random.split(jax.random.key(3), 4))
    obs, reward = np.asarray(obs), np.asarray(reward)
    assert not np.asarray(done).any()
    assert obs[..., 0].min() >= 0 and obs[..., 0].max() <= 10
    assert set(np.unique(reward)) <= {0.0, 1.0, 2.0, 4.0, 8.0}
    assert set(np.unique(obs[..., 1])) == {1.0, 2.0, 4.0, 8.0}
    assert (reward > 0).any() and (obs[..., 0] < 10).any()


def test_simulated_average_reward_matches_the_markov_chain():
    """Always accept: the long-run reward per step is policy_average_reward's (2.18)."""
    exact = ac.policy_average_reward(np.ones((11, 4), bool))

    def run(noise):
        _, state = ENV.reset_from_noise(noise[0], PARAMS)

        def step(state, u):
            _, state, reward, _, _ = ENV.step_from_noise(state, ac.ACCEPT, u, PARAMS)
            return state, reward

        return jax.lax.scan(step, state, noise[1:])[1].mean()

    noise = jax.random.uniform(jax.random.key(5), (4, 10_001, 2))
    # Over 4 runs of 10k steps the mean has sd 0.015 (measured over 20 seeds).
    np.testing.assert_allclose(float(jax.jit(jax.vmap(run))(noise).mean()), exact, atol=0.06)


def test_policy_average_reward_closed_forms():
    assert ac.policy_average_reward(np.zeros((11, 4), bool)) == 0.0
    # p = 1: every server is free at every step, every customer is served: mean priority.
    np.testing.assert_allclose(
        ac.policy_average_reward(np.ones((11, 4), bool), PARAMS.replace(free_prob=1.0)), 3.75)
    # One server, p = 1/2, always accept: it is free half the time.
    one = PARAMS.replace(num_servers=1, free_prob=0.5)
    np.testing.assert_allclose(ac.policy_average_reward(np.ones((2, 4), bool), one), 1.875)
    # Accept only priority 8: P(1 -> 0) = 1/4 * 1/2, P(0 -> 1) = 1/2, so the server is free
    # with probability mu(1) = 0.5 / (0.5 + 0.125) = 0.8, and then earns 8 / 4 a step.
    only_8 = np.zeros((2, 4), bool)
    only_8[:, 3] = True
    np.testing.assert_allclose(ac.policy_average_reward(only_8, one), 0.8 * 2.0)
    with pytest.raises(ValueError, match="accept has shape"):
        ac.policy_average_reward(np.ones((10, 4), bool))


def test_features_are_one_hot_over_free_servers_and_priority():
    fm = ac.features(PARAMS)
    assert (fm.num_features, fm.num_active) == (44, 1)
    phi = jax.jit(lambda obs: dense(fm(obs), 44))(jnp.array([3.0, 4.0]))
    assert float(phi.sum()) == 1.0 and float(phi[3 * 4 + 2]) == 1.0


@pytest.mark.parametrize("field, value", [("num_servers", 0), ("num_servers", 2.5),
                                          ("free_prob", -0.1), ("free_prob", 1.5),
                                          ("priorities", ())])
def test_bad_params_are_refused_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        envs.make("AccessControl", **{field: value})
    with pytest.raises(ValueError, match=field):
        ac.EnvParams(**{field: value})


def test_a_stochastic_policy_by_hand_on_one_server():
    """One server, accepted with probability a: the free state goes busy w.p. a (1 - p)
    (accepted and not freed in the same step), comes back w.p. p, so mu(free) =
    p / (p + a (1 - p)) and r = mu(free) a 3.75 (the mean priority). Probability 1 is the
    bool policy; a probability outside [0, 1] is refused."""
    params = ac.EnvParams(num_servers=1, free_prob=0.06)
    for a in (0.25, 0.5, 1.0):
        expected = 0.06 / (0.06 + a * 0.94) * a * 3.75
        accept = np.full((2, 4), a)
        assert ac.policy_average_reward(accept, params) == pytest.approx(expected, rel=1e-12)
    ones = np.ones((11, 4))
    assert ac.policy_average_reward(ones) == ac.policy_average_reward(ones.astype(bool))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ac.policy_average_reward(np.full((11, 4), 1.5))
