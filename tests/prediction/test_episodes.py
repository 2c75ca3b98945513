"""rlfa.prediction.episodes: the step-scheduled episode loop, and online gradient Monte Carlo
(the agent it runs the random walk's Monte Carlo curves with)."""

import chex
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa import prediction, runner
from rlfa.envs import random_walk as rw
from rlfa.features.state_aggregation import state_aggregation
from rlfa.features.tile_coding import tile_coding_1d_widths
from rlfa.types import Agent, Transition

SMALL = rw.EnvParams(num_states=20, start_state=10, max_jump=3)


def _index(obs):
    return obs[0].astype(jnp.int32) - 1


def _transition(obs, obs_next, r, last):
    return Transition(jnp.asarray([obs], jnp.float32), jnp.int32(0), jnp.float32(r),
                      jnp.bool_(last), jnp.bool_(False), jnp.asarray([obs_next], jnp.float32))


@pytest.mark.parametrize("first_visit", [True, False])
@pytest.mark.parametrize("gamma", [1.0, 0.9])
def test_online_gradient_mc_ends_every_episode_where_the_whole_episode_update_does(
        first_visit, gamma):
    """Three episodes with revisits and arbitrary rewards, on overlapping tiles: the
    transition-by-transition agent matches the book's sequential updates at each end."""
    features = tile_coding_1d_widths(1.0, 20.0, 5.0, 4, 1.0)
    episodic = prediction.gradient_monte_carlo(features, 20, _index, first_visit)
    online = prediction.online_gradient_monte_carlo(features, 20, _index, first_visit)
    hp = prediction.PredictionHParams(jnp.float32(0.2), jnp.float32(gamma))
    w, state = episodic.init(None, jnp.zeros(1)), online.init(None, jnp.zeros(1))
    rng = np.random.default_rng(3)
    for length in (7, 11, 4):
        obs = rng.integers(1, 12, length + 1).astype(np.float32)  # 11 states: revisits
        r = rng.normal(size=length).astype(np.float32)
        pad = 16 - length
        w, _ = episodic.update(w, hp, prediction.Episode(
            jnp.asarray(np.pad(obs[:length], (0, pad)))[:, None],
            jnp.asarray(np.pad(r, (0, pad))), jnp.int32(length)))
        for t in range(length):
            state, _ = online.update(state, hp, _transition(obs[t], obs[t + 1], r[t],
                                                            t == length - 1))
        np.testing.assert_allclose(state.w, w.w, atol=2e-6)
        assert np.abs(w.w).max() > 0.01  # the episodes moved the weights
        np.testing.assert_array_equal(state.trace, 0.0)  # cleared for the next episode


@pytest.mark.parametrize("make", [
    lambda f: prediction.semi_gradient_td0(f),
    lambda f: prediction.residual_gradient_td(f),
    lambda f: prediction.online_gradient_monte_carlo(f, 20, _index, True),
])
def test_an_inactive_update_changes_nothing(make):
    agent = make(state_aggregation(20, 5))
    hp = prediction.PredictionHParams(jnp.float32(0.1), jnp.float32(0.9))
    state = agent.init(None, jnp.zeros(1))
    for t, (s, s_next, r) in enumerate([(3, 9, 0.5), (9, 14, -1.0), (14, 2, 2.0)]):
        state, _ = agent.update(state, hp, _transition(s, s_next, r, False))
        paused, _ = agent.update(state, hp, _transition(s_next, s, 3.0, t == 2), active=False)
        chex.assert_trees_all_equal(paused, state)
    assert np.abs(state.w).max() > 0


def _counting_agent() -> Agent:
    """w = (episodes ended, transitions seen): what a logged point must show exactly."""

    def update(state, hparams, tr, active=True):
        ended = (tr.terminated_t | tr.truncated_t).astype(jnp.float32)
        step = jnp.where(active, jnp.stack([ended, jnp.float32(1)]), 0.0)
        return prediction.LinearState(state.w + step), {}

    return Agent(init=lambda key, obs: prediction.LinearState(jnp.zeros(2, jnp.float32)),
                 act=lambda *a: jnp.int32(0), update=update)


@pytest.mark.parametrize("steps_per_episode, lead", [
    (2, 64),   # far below the mean episode length: every program step catches up
    (200, 3),  # far above: runs reach the lead and wait
    (30, 1),   # no lead at all: lock step
])
def test_a_logged_point_is_exactly_after_its_episode_whatever_the_schedule(
        steps_per_episode, lead):
    program = prediction.episodic_prediction(
        rw.dynamics(SMALL), _counting_agent(), max_episode_steps=12, lead=lead,
        steps_per_episode=steps_per_episode, log=lambda s: {"w": s.w},
        obs_example=jnp.zeros(1, jnp.float32))
    res = runner.run(program, runner.stack_hparams([prediction.PredictionHParams(0.1, 1.0)]),
                     seed=5, num_seeds=3, num_logs=5, steps_per_log=7, progress=False)
    episodes = np.arange(7, 36, 7)
    np.testing.assert_array_equal(res.metrics["episodes"][0], np.tile(episodes, (3, 1)))
    np.testing.assert_array_equal(res.metrics["w"][0, :, :, 0], np.tile(episodes, (3, 1)))
    np.testing.assert_array_equal(res.metrics["w"][0, :, :, 1], res.metrics["steps"][0])
    steps = res.metrics["steps"][0]
    assert (np.diff(steps, axis=1) >= 7).all() and (np.diff(steps, axis=1) <= 7 * 12).all()
    assert (res.metrics["truncated_episodes"][0, :, -1] > 0).all()  # 12 steps cut some
    np.testing.assert_array_equal(res.final.agent.w[0, :, 0], 35)


@pytest.mark.parametrize("field, kwargs", [("lead", {"lead": 0}),
                                           ("steps_per_episode", {"steps_per_episode": 0}),
                                           ("max_episode_steps", {"max_episode_steps": -1})])
def test_bad_loop_settings_are_refused_by_name(field, kwargs):
    kwargs = {"max_episode_steps": 10, **kwargs}
    with pytest.raises(ValueError, match=field):
        prediction.episodic_prediction(rw.dynamics(SMALL), _counting_agent(),
                                       log=lambda s: {}, obs_example=jnp.zeros(1), **kwargs)
