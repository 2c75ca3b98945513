"""n-step semi-gradient TD: hand-computed returns, the book's box, TD(0), Monte Carlo, one program."""

import functools
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa import hparams, prediction
from rlfa.envs.noise import NoiseDynamics
from rlfa.features import dense, state_aggregation
from rlfa.prediction import LinearState, NStepHParams, PredictionHParams
from rlfa.prediction.gradient_mc import Episode
from rlfa.types import Transition

MAX_N = 6
AGGREGATED = state_aggregation(6, 2)  # states 1..6 in groups {1,2}, {3,4}, {5,6}: updates interact
TABULAR = state_aggregation(3, 1)     # states 1..3, one feature each


def _tr(s, r, s_next, terminated=False, truncated=False):
    return Transition(jnp.array([s], jnp.float32), jnp.int32(0), jnp.float32(r),
                      jnp.bool_(terminated), jnp.bool_(truncated), jnp.array([s_next], jnp.float32))


def _stack(episodes):
    """Episodes ``(states S_0..S_T, rewards R_1..R_T)``, each ending in a termination,
    as one stream of transitions ``[steps, ...]``."""
    steps = [_tr(states[t], rewards[t], states[t + 1], terminated=t == len(rewards) - 1)
             for states, rewards in episodes for t in range(len(rewards))]
    return jax.tree.map(lambda *xs: jnp.stack(xs), *steps)


def _run(agent, hparams, w0, transitions):
    """``agent.update`` over a stream of transitions from weights ``w0``: (final state, w per step)."""
    state = agent.init(jax.random.key(0), transitions.obs_tm1[0])._replace(w=w0)

    def step(state, tr):
        state, metrics = agent.update(state, hparams, tr)
        return state, (state.w, metrics.get("updates", 0))

    return jax.lax.scan(step, state, transitions)


AGENT = prediction.n_step_semi_gradient_td(AGGREGATED, MAX_N)
run_aggregated = jax.jit(functools.partial(_run, AGENT))


def _book_box(episodes, n, alpha, gamma, w):
    """The book's algorithm box (S&B §9.4), literally, in float64 with dense features."""
    phi = lambda s: np.asarray(dense(AGGREGATED(jnp.array([s], jnp.float32)), 3), np.float64)
    w = np.array(w, np.float64)
    for states, rewards in episodes:
        T = len(rewards)
        for t in itertools.count():
            tau = t - n + 1
            if tau >= 0:
                G = sum(gamma ** (i - tau - 1) * rewards[i - 1]
                        for i in range(tau + 1, min(tau + n, T) + 1))
                if tau + n < T:
                    G += gamma ** n * w @ phi(states[tau + n])
                w = w + alpha * (G - w @ phi(states[tau])) * phi(states[tau])
            if tau == T - 1:
                break
    return w


# Two episodes on states 1..6 (0 is the terminal state), rewards R_1..R_T.
EPISODES = [([3, 4, 5, 4, 6, 0], [0.5, -1.0, 2.0, 0.25, 1.0]),
            ([2, 1, 2, 3, 0], [1.0, 0.0, -0.5, 3.0])]
W0 = jnp.array([0.3, -0.2, 0.7])


@pytest.mark.parametrize(("n", "expected_w", "expected_updates"), [
    # gamma = alpha = 0.5, w0 = (0, 0, 2), episode 1 -> 2 -> 3 -> end, rewards 1, 2, 3.
    # n = 2: G_0 = 1 + .5*2 + .25*v(3) = 2.5 -> w1 = 1.25; at the end (flush)
    #        G_1 = 2 + .5*3 = 3.5 -> w2 = 1.75, G_2 = 3 -> w3 = 2 + .5*(3 - 2) = 2.5.
    (2, [1.25, 1.75, 2.5], [0, 1, 2]),
    # n = 3: nothing until the end; G_0 = 1 + .5*2 + .25*3 = 2.75 -> w1 = 1.375, then as n = 2.
    (3, [1.375, 1.75, 2.5], [0, 0, 3]),
    # n = 5 > T = 3: Monte Carlo returns, the same as n = 3 here.
    (5, [1.375, 1.75, 2.5], [0, 0, 3]),
])
def test_n_step_returns_by_hand_with_the_end_of_episode_flush(n, expected_w, expected_updates):
    agent = prediction.n_step_semi_gradient_td(TABULAR, 5)
    state = agent.init(jax.random.key(0), jnp.zeros((1,)))._replace(w=jnp.array([0.0, 0.0, 2.0]))
    hp = NStepHParams(jnp.float32(0.5), jnp.float32(0.5), jnp.int32(n))
    update, updates = jax.jit(agent.update), []
    for tr in [_tr(1, 1.0, 2), _tr(2, 2.0, 3), _tr(3, 3.0, 0, terminated=True)]:
        state, metrics = update(state, hp, tr)
        updates.append(int(metrics["updates"]))
    np.testing.assert_allclose(state.w, expected_w, rtol=1e-6)
    assert updates == expected_updates
    assert int(state.pending) == 0


@pytest.mark.parametrize("terminated", [True, False])
def test_truncation_bootstraps_the_pending_returns_and_termination_does_not(terminated):
    # n = 3, gamma = alpha = 0.5, w0 = (0, 0, 4); episode 1 -> 2 -> 3 ends after rewards 1, 2.
    # Truncated: G_0 = 1 + .5*2 + .25*v(3) = 3, G_1 = 2 + .5*v(3) = 4 -> w = (1.5, 2, 4).
    # Terminated: G_0 = 2, G_1 = 2 -> w = (1, 1, 4).
    agent = prediction.n_step_semi_gradient_td(TABULAR, 3)
    state = agent.init(jax.random.key(0), jnp.zeros((1,)))._replace(w=jnp.array([0.0, 0.0, 4.0]))
    hp = NStepHParams(jnp.float32(0.5), jnp.float32(0.5), jnp.float32(3.0))
    update = jax.jit(agent.update)
    state, _ = update(state, hp, _tr(1, 1.0, 2))
    state, metrics = update(state, hp, _tr(2, 2.0, 3, terminated, not terminated))
    np.testing.assert_allclose(state.w, [1.0, 1.0, 4.0] if terminated else [1.5, 2.0, 4.0])
    assert int(metrics["updates"]) == 2 and int(state.pending) == 0


@pytest.mark.parametrize("n", [1, 2, 3, 4, 6])
def test_two_episodes_equal_the_books_algorithm_box(n):
    hp = NStepHParams(jnp.float32(0.1), jnp.float32(0.9), jnp.float32(n))
    final, (_, updates) = run_aggregated(hp, W0, _stack(EPISODES))
    np.testing.assert_allclose(final.w, _book_box(EPISODES, n, 0.1, 0.9, W0), rtol=1e-5, atol=1e-6)
    assert int(updates.sum()) == 9  # one update per time step of each episode


def test_n_equal_to_one_is_semi_gradient_td0():
    hp = NStepHParams(jnp.float32(0.1), jnp.float32(0.9), jnp.float32(1.0))
    td0 = jax.jit(functools.partial(_run, prediction.semi_gradient_td0(AGGREGATED)))
    _, (w_n_step, _) = run_aggregated(hp, W0, _stack(EPISODES))
    _, (w_td0, _) = td0(PredictionHParams(hp.step_size, hp.gamma), W0, _stack(EPISODES))
    np.testing.assert_allclose(w_n_step, w_td0, rtol=0, atol=1e-7)  # after every step


def test_n_beyond_the_episode_is_every_visit_gradient_monte_carlo():
    states, rewards = EPISODES[0]
    hp = NStepHParams(jnp.float32(0.1), jnp.float32(0.9), jnp.float32(MAX_N))
    final, _ = run_aggregated(hp, W0, _stack([EPISODES[0]]))
    mc = prediction.gradient_monte_carlo(AGGREGATED, 6, lambda o: o[0].astype(jnp.int32) - 1,
                                         first_visit=False)
    episode = Episode(jnp.array(states[:-1], jnp.float32)[:, None], jnp.array(rewards),
                      jnp.int32(len(rewards)))
    mc_state, _ = mc.update(LinearState(W0), PredictionHParams(hp.step_size, hp.gamma), episode)
    np.testing.assert_allclose(final.w, mc_state.w, rtol=1e-6)


def test_one_compiled_program_sweeps_n_and_step_size():
    traces = []

    def sweep(hp, w0, transitions):
        traces.append(1)
        return jax.vmap(lambda h: _run(AGENT, h, w0, transitions)[0].w)(hp)

    hp = NStepHParams(step_size=jnp.array([0.1, 0.2, 0.05, 0.3]), gamma=jnp.full((4,), 0.9),
                      n=jnp.array([1.0, 2.0, 3.0, 6.0]))
    together = jax.jit(sweep)(hp, W0, _stack(EPISODES))
    for i in range(4):
        alone, _ = run_aggregated(jax.tree.map(lambda x, i=i: x[i], hp), W0, _stack(EPISODES))
        np.testing.assert_allclose(together[i], alone.w, rtol=1e-6, atol=1e-7)
    assert len(traces) == 1


@pytest.mark.parametrize(("hp", "field"), [
    (NStepHParams(0.1, 0.9, 0), "n=0"),
    (NStepHParams(0.1, 0.9, MAX_N + 1), "n=7"),
    (NStepHParams(0.1, 0.9, 2.5), "n=2.5"),
    (NStepHParams(0.1, 0.9, np.array([1.0, 8.0])), "n=8.0"),  # the bad entry of a grid
    (NStepHParams(0.0, 0.9, 2), "step_size=0.0"),
    (NStepHParams(0.1, 1.5, 2), "gamma=1.5"),
])
def test_bad_hyperparameters_are_refused_naming_the_field(hp, field):
    with pytest.raises(ValueError, match=field):
        hparams.check(hp, at_most={"n": ("max_n", MAX_N)})
    state = AGENT.init(jax.random.key(0), jnp.zeros((1,)))
    with pytest.raises(ValueError, match=field):
        AGENT.update(state, hp, _tr(1, 0.0, 2))


def test_bad_max_n_is_refused():
    with pytest.raises(ValueError, match="max_n=0"):
        prediction.n_step_semi_gradient_td(AGGREGATED, 0)


# --- the same updates from whole episodes (n_step_td_by_episode) -------------------------

BY_EPISODE = prediction.n_step_td_by_episode(AGGREGATED)


def _episode(states, rewards, horizon=8):
    """An Episode padded to ``horizon`` (the padding must not matter: filled with junk)."""
    obs = np.full((horizon, 1), 6.0, np.float32)
    r = np.full((horizon,), 9.0, np.float32)
    obs[:len(rewards), 0], r[:len(rewards)] = states[:-1], rewards
    return Episode(jnp.asarray(obs), jnp.asarray(r), jnp.int32(len(rewards)))


@jax.jit
def _by_episode(hp, w0):
    state = LinearState(w0)
    for states, rewards in EPISODES:
        state, _ = BY_EPISODE.update(state, hp, _episode(states, rewards))
    return state.w


@pytest.mark.parametrize(("n", "gamma"), [(1, 0.9), (2, 0.9), (3, 1.0), (4, 0.5), (6, 0.9),
                                          (40, 0.9)])
def test_by_episode_equals_the_per_transition_agent_and_the_books_box(n, gamma):
    hp = NStepHParams(jnp.float32(0.1), jnp.float32(gamma), jnp.float32(n))
    w = _by_episode(hp, W0)
    np.testing.assert_allclose(w, _book_box(EPISODES, n, 0.1, gamma, W0), rtol=1e-5, atol=1e-6)
    if n <= MAX_N:
        final, _ = run_aggregated(hp, W0, _stack(EPISODES))
        np.testing.assert_allclose(w, final.w, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("n", "expected_w"), [
    (2, [1.25, 1.75, 2.5]), (3, [1.375, 1.75, 2.5]), (5, [1.375, 1.75, 2.5])])
def test_by_episode_by_hand(n, expected_w):
    # As the per-transition test above: alpha = gamma = 0.5, w0 = (0, 0, 2), 1 -> 2 -> 3 -> end.
    agent = prediction.n_step_td_by_episode(TABULAR)
    episode = Episode(jnp.array([[1.0], [2.0], [3.0], [0.0]]), jnp.array([1.0, 2.0, 3.0, 0.0]),
                      jnp.int32(3))
    hp = NStepHParams(jnp.float32(0.5), jnp.float32(0.5), jnp.int32(n))
    state, metrics = agent.update(LinearState(jnp.array([0.0, 0.0, 2.0])), hp, episode)
    np.testing.assert_allclose(state.w, expected_w, rtol=1e-6)
    assert float(metrics["return"]) == 1 + 0.5 * 2 + 0.25 * 3


def test_by_episode_sweeps_n_and_step_size_in_one_program():
    hp = NStepHParams(step_size=jnp.array([0.1, 0.3, 0.05]), gamma=jnp.full((3,), 0.9),
                      n=jnp.array([1.0, 3.0, 512.0]))
    together = jax.jit(jax.vmap(_by_episode, in_axes=(0, None)))(hp, W0)
    for i in range(3):
        alone = _by_episode(jax.tree.map(lambda x, i=i: x[i], hp), W0)
        np.testing.assert_allclose(together[i], alone, rtol=1e-6, atol=1e-7)
    # n = 512 is beyond both episodes: every-visit Monte Carlo returns.
    np.testing.assert_allclose(together[2], _book_box(EPISODES, 99, 0.05, 0.9, W0), rtol=1e-5)


@pytest.mark.parametrize(("hp", "field"), [
    (NStepHParams(0.1, 0.9, 0), "n=0"), (NStepHParams(0.1, 0.9, 2.5), "n=2.5"),
    (NStepHParams(0.0, 0.9, 2), "step_size=0.0"), (NStepHParams(0.1, 1.5, 2), "gamma=1.5")])
def test_by_episode_refuses_bad_hyperparameters_but_has_no_max_n(hp, field):
    episode = _episode(*EPISODES[1])
    with pytest.raises(ValueError, match=field):
        BY_EPISODE.update(LinearState(W0), hp, episode)
    BY_EPISODE.update(LinearState(W0), NStepHParams(0.1, 0.9, 10_000), episode)  # no upper bound


def test_n_step_sweep_reads_n_from_the_command_line():
    import tyro

    from rlfa.sweep import Sweep, requested, sweep_points

    sweep = tyro.cli(Sweep[NStepHParams], args=["--n", "1", "2**9", "--step-size", "0.1/2"])
    points = sweep_points(NStepHParams(0.1, 1.0, 1.0), requested(sweep))
    assert [(float(p.n), float(p.step_size)) for p in points] == [(1.0, 0.05), (512.0, 0.05)]


def _chain(steps):
    """States 0..4, start 2, the t-th step moving by ``steps[t]`` (the state carries t; the
    noise is unused); 0 and 4 end the episode, +1 for reaching 4."""
    steps = jnp.array(steps, jnp.int32)

    def transition(state, noise):
        s, t = state
        s = s + steps[t]
        return (s, t + 1), jnp.array([s], jnp.float32), jnp.where(s == 4, 1.0, 0.0), \
            (s == 0) | (s == 4)

    return NoiseDynamics(
        reset=lambda key: (jnp.int32(2), jnp.int32(0)),
        observe=lambda state: jnp.array([state[0]], jnp.float32),
        sample_noise=lambda key, n: jnp.zeros((n,)), transition=transition,
        state_index=lambda obs: obs[0].astype(jnp.int32), num_states=5)


@pytest.mark.parametrize("block", [1, 2, 128])
@pytest.mark.parametrize(("max_steps", "obs", "rewards", "truncated"), [
    (6, [2, 1, 2, 3], [0, 0, 0, 1], False),   # 2 -> 1 -> 2 -> 3 -> 4: terminated after 4 steps
    (4, [2, 1, 2, 3], [0, 0, 0, 1], False),   # ... exactly at the limit: still a termination
    (3, [2, 1, 2], [0, 0, 0], True),          # cut by the limit
])
def test_record_episode_records_until_the_end(max_steps, obs, rewards, truncated, block):
    dynamics = _chain([-1, 1, 1, 1, -1, -1] + [1] * 300)
    episode, cut = prediction.n_step_td.record_episode(dynamics, jax.random.key(1), max_steps,
                                                       block)
    length = int(episode.length)
    assert length == len(obs) and bool(cut) == truncated
    assert episode.obs.shape == (-(-max_steps // block) * block, 1)  # whole blocks
    np.testing.assert_array_equal(episode.obs[:length, 0], obs)
    np.testing.assert_array_equal(episode.r[:length], rewards)


@pytest.mark.parametrize(("length", "block"), [(0, 2), (1, 2), (5, 2), (7, 3), (7, 128)])
def test_discounted_returns_backwards_block_by_block(length, block):
    r = np.array([1.0, -2.0, 0.5, 3.0, 0.0, 1.5, -1.0], np.float32)
    expected = np.zeros(8)
    for t in reversed(range(length)):
        expected[t] = r[t] + 0.9 * expected[t + 1]
    got = prediction.n_step_td.discounted_returns(jnp.asarray(r), jnp.int32(length),
                                                  jnp.float32(0.9), block)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
