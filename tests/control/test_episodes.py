"""The episodic control loop: per-episode records, cached features, an agent's owed updates,
the policy from uniforms."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa import runner
from rlfa.control import (
    ControlHParams,
    episodic_control,
    epsilon_greedy_from_noise,
    linear_q,
    sarsa_actions,
    semi_gradient_sarsa,
)
from rlfa.control.linear_values import precomputed
from rlfa.control.n_step_sarsa import NStepSarsaHParams, n_step_semi_gradient_sarsa, owes_updates
from rlfa.envs.mountain_car import MountainCar
from rlfa.features import tile_coding

FEATURES = tile_coding([-1.2, -0.07], [0.6, 0.07], 8, 8)
HPARAMS = runner.stack_hparams([ControlHParams(0.5 / 8, 0.0, 1.0)])


def _mountain_car(cap: int, num_episodes: int, cached: bool, next_action: str = "reuse"):
    env = MountainCar()
    params = env.default_params.replace(max_steps_in_episode=cap)
    agent_map, observe = (precomputed(FEATURES), FEATURES) if cached else (FEATURES, None)
    program = episodic_control(env, params, semi_gradient_sarsa(agent_map, 3),
                               linear_q(agent_map, 3), 3, num_episodes=num_episodes,
                               actions=sarsa_actions(next_action), block_steps=16,
                               observe=observe)
    return runner.run(program, HPARAMS, seed=5, num_seeds=2, num_logs=4, steps_per_log=20,
                      num_devices=1, progress=False).final


@pytest.mark.parametrize("next_action", ["reuse", "fresh"])
def test_records_of_many_episodes_per_block_add_up(next_action):
    # A 5-step cap: every episode is truncated, three or four end in each 16-step block.
    final = _mountain_car(cap=5, num_episodes=40, cached=True, next_action=next_action)
    assert (final.episodes == 40).all()
    np.testing.assert_array_equal(final.lengths, 5)
    np.testing.assert_array_equal(final.returns, -5.0)  # reward -1 per step
    assert final.truncated.all()
    np.testing.assert_array_equal(final.steps, 200)  # frozen once the episodes are done


def test_cached_features_give_the_plain_loop():
    plain = _mountain_car(cap=300, num_episodes=4, cached=False)
    cached = _mountain_car(cap=300, num_episodes=4, cached=True)
    assert (plain.episodes == 4).all()
    np.testing.assert_array_equal(cached.lengths, plain.lengths)
    np.testing.assert_array_equal(cached.steps, plain.steps)
    np.testing.assert_array_equal(plain.steps, plain.lengths.sum(-1))  # every step recorded
    # Same maths; XLA may sum the 8 active weights in another order.
    np.testing.assert_allclose(cached.agent.w, plain.agent.w, rtol=1e-5, atol=1e-5)


def test_owed_updates_take_loop_steps_without_environment_steps():
    # n = 4 with a 5-step cap: each episode ends with 4 updates pending; the last transition
    # makes one and the agent owes 3, made in 3 loop steps that step no environment.
    env = MountainCar()
    params = env.default_params.replace(max_steps_in_episode=5)
    tiles = precomputed(FEATURES)
    agent = n_step_semi_gradient_sarsa(tiles, 3, max_n=4)
    program = episodic_control(env, params, agent, linear_q(tiles, 3), 3, num_episodes=6,
                               actions=sarsa_actions(), block_steps=8, observe=FEATURES,
                               owes=owes_updates)
    hparams = runner.stack_hparams([NStepSarsaHParams(0.5 / 8, 0.0, 1.0, 4.0)])
    results = runner.run(program, hparams, seed=5, num_seeds=2, num_logs=12, steps_per_log=1,
                         num_devices=1, progress=False)
    final = results.final
    np.testing.assert_array_equal(final.lengths, 5)  # environment steps only
    np.testing.assert_array_equal(final.steps, 30)
    assert final.truncated.all() and (final.episodes == 6).all()
    # The last episode's owed updates made before the run counts as finished.
    assert not np.asarray(final.agent.owed).any() and not np.asarray(final.agent.pending).any()
    # 8 loop steps per episode: 6 episodes end within 6 blocks of 8 steps, not before.
    episodes = results.metrics["episodes"][0]
    np.testing.assert_array_equal(episodes[:, 5], 6)
    assert (episodes[:, 4] == 5).all()


@pytest.mark.parametrize("epsilon, u, expected", [
    (0.0, 0.4, 2),   # greedy: maximisers {2, 3}, floor(0.4 * 2) = 0 -> the first
    (0.0, 0.6, 3),   # floor(0.6 * 2) = 1 -> the second
    (1.0, 0.5, 2),   # explore: all four actions, floor(0.5 * 4) = 2
    (1.0, 0.99, 3),
])
def test_policy_picks_the_kth_candidate(epsilon, u, expected):
    q = jnp.array([1.0, 0.0, 5.0, 5.0])
    assert int(epsilon_greedy_from_noise(q, epsilon, jnp.array([0.3, u]))) == expected


def test_policy_never_leaves_the_candidates_at_the_top_of_the_interval():
    just_below_one = np.nextafter(np.float32(1), np.float32(0))
    q = jnp.array([5.0, 5.0, 5.0])
    assert int(epsilon_greedy_from_noise(q, 0.0, jnp.array([0.3, just_below_one]))) == 2
    greedy = jax.vmap(lambda u: epsilon_greedy_from_noise(jnp.array([0.0, 2.0, 1.0]), 0.0,
                                                          jnp.array([0.5, u])))
    np.testing.assert_array_equal(greedy(jnp.linspace(0.0, just_below_one, 7)), 1)
