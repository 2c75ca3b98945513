"""Baird's counterexample: the book's features, dynamics, ratios; divergence vs residual gradient."""

import jax
import jax.numpy as jnp
import numpy as np

from rlfa import envs
from rlfa.envs import baird
from rlfa.features import dense


def test_features_are_the_books():
    fm = baird.features()
    phi = np.stack([dense(fm(jnp.float32(s)), 8) for s in range(7)])
    np.testing.assert_array_equal(phi, baird.feature_matrix())
    np.testing.assert_array_equal(phi[0], [2, 0, 0, 0, 0, 0, 0, 1])
    np.testing.assert_array_equal(phi[6], [0, 0, 0, 0, 0, 0, 1, 2])


def test_actions_lead_where_the_book_says():
    noise = jnp.linspace(0.0, 0.999, 600)
    solid = jax.vmap(lambda u: baird.next_state(jnp.int32(baird.SOLID), u))(noise)
    dashed = jax.vmap(lambda u: baird.next_state(jnp.int32(baird.DASHED), u))(noise)
    assert (np.asarray(solid) == 6).all()
    np.testing.assert_array_equal(np.bincount(np.asarray(dashed), minlength=7), [100] * 6 + [0])


def test_behaviour_policy_and_importance_ratio():
    u = jax.random.uniform(jax.random.key(0), (70_000,))
    actions = np.asarray(jax.vmap(baird.behaviour_action)(u))
    assert abs(actions.mean() - 1 / 7) < 0.005
    np.testing.assert_allclose(baird.importance_ratio(jnp.int32(baird.SOLID)), 7.0)
    np.testing.assert_allclose(baird.importance_ratio(jnp.int32(baird.DASHED)), 0.0)


def test_registered_gymnax_env_steps_with_zero_reward():
    env, params = envs.make("Baird")
    obs, state = env.reset(jax.random.key(1), params)
    obs, state, reward, terminated, truncated, _ = env.step(
        jax.random.key(2), state, baird.SOLID, params)
    np.testing.assert_array_equal(obs, [6.0])
    assert float(reward) == 0.0 and not bool(terminated) and not bool(truncated)


def test_automatic_reset_has_its_own_randomness():
    """With a one-step time limit every step ends an episode: where the dashed action lands
    and where the next episode starts must be independent (they once shared one uniform,
    correlating at 0.98)."""
    from rlfa.envs.noise import step_with_noise, transition_noise_size

    env = baird.Baird()
    params = env.default_params.replace(max_steps_in_episode=1)
    _, state = env.reset_from_noise(jnp.array([0.5]), params)
    noise = jax.random.uniform(jax.random.key(4), (5000, transition_noise_size(env)))

    def one(u):
        obs, _, _, _, truncated, info = step_with_noise(env, state, baird.DASHED, u, params)
        return info["final_observation"][0], obs[0], truncated

    landed, restarted, truncated = map(np.asarray, jax.vmap(one)(noise))
    assert truncated.all()
    assert abs(np.corrcoef(landed, restarted)[0, 1]) < 0.05
    np.testing.assert_allclose(np.bincount(restarted.astype(int), minlength=7) / 5000,
                               [1 / 7] * 7, atol=0.02)
