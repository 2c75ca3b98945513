"""n-step semi-gradient SARSA: hand-computed returns with the end-of-episode flush (one owed
update per call), truncation, the book's box, n = 1 as one-step SARSA, bad n."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa import hparams
from rlfa.book.mountain_car_figures import tile_features
from rlfa.control import (
    ControlHParams,
    LinearQState,
    NStepSarsaHParams,
    n_step_semi_gradient_sarsa,
    semi_gradient_sarsa,
)
from rlfa.control.n_step_sarsa import owes_updates
from rlfa.control.sarsa import SarsaTransition
from rlfa.features import dense, state_action, state_aggregation

TABULAR = state_aggregation(3, 1)     # states 1..3, one feature each
AGGREGATED = state_aggregation(6, 2)  # states 1..6 in groups {1,2}, {3,4}, {5,6}: updates interact
A = 2  # actions; w[a * d + feature] is q(s, a)


def _tr(s, a, r, s_next, a_next, terminated=False, truncated=False):
    return SarsaTransition(jnp.array([s], jnp.float32), jnp.int32(a), jnp.float32(r),
                           jnp.bool_(terminated), jnp.bool_(truncated),
                           jnp.array([s_next], jnp.float32), jnp.int32(a_next))


def _q(s, a, value):
    """Tabular weights with q(s, a) = value, every other 0."""
    return jnp.zeros(3 * A).at[a * 3 + s - 1].set(value)


def _hp(n, alpha=0.5, gamma=0.5):
    return NStepSarsaHParams(jnp.float32(alpha), jnp.float32(0.0), jnp.float32(gamma),
                             jnp.float32(n))


def _settled(update, state, hp, tr):
    """``update`` on ``tr``, then again (``tr`` ignored) while the agent owes updates, as the
    episode loop calls it; returns the state and the updates made in all."""
    state, metrics = update(state, hp, tr)
    made = metrics["updates"]
    def owed(c):
        return owes_updates(c[0])

    def one(c):
        state, metrics = update(c[0], hp, tr)
        return state, c[1] + metrics["updates"]

    return jax.lax.while_loop(owed, one, (state, made))


def _drive(transitions, n, w0, max_n=5):
    agent = n_step_semi_gradient_sarsa(TABULAR, A, max_n)
    state = agent.init(jax.random.key(0), jnp.zeros((1,)))._replace(w=w0)
    settle, updates = jax.jit(lambda s, hp, tr: _settled(agent.update, s, hp, tr)), []
    for tr in transitions:
        state, made = settle(state, _hp(n), tr)
        updates.append(int(made))
    return state, updates


def test_an_ended_episode_owes_its_updates_one_per_call_and_ignores_the_transition():
    agent = n_step_semi_gradient_sarsa(TABULAR, A, 5)
    state = agent.init(jax.random.key(0), jnp.zeros((1,)))._replace(w=_q(3, 1, 2.0))
    update = jax.jit(agent.update)
    for tr in [_tr(1, 0, 1.0, 2, 1), _tr(2, 1, 2.0, 3, 1), _tr(3, 1, 3.0, 1, 0, terminated=True)]:
        state, metrics = update(state, _hp(3), tr)
    # n = 3 (as above): the terminal transition makes tau 0's update and owes taus 1 and 2.
    assert (int(metrics["updates"]), int(state.owed), int(state.pending)) == (1, 2, 2)
    np.testing.assert_allclose(np.asarray(state.w)[[0, 4, 5]], [1.375, 0.0, 2.0])
    stray = _tr(2, 0, 100.0, 1, 1)  # ignored while owing: no write, no reward
    for owed, w in [(1, [1.375, 1.75, 2.0]), (0, [1.375, 1.75, 2.5])]:
        state, metrics = update(state, _hp(3), stray)
        assert int(metrics["updates"]) == 1 and int(state.owed) == owed
        np.testing.assert_allclose(np.asarray(state.w)[[0, 4, 5]], w)
    assert not owes_updates(state) and int(state.pending) == 0
    assert np.count_nonzero(state.w) == 3


# gamma = alpha = 0.5, q(3, 1) = 2 at first; (S, A) = (1, 0) -> (2, 1) -> (3, 1) -> end,
# rewards 1, 2, 3. q(1,0), q(2,1), q(3,1) sit at w[0], w[4], w[5].
@pytest.mark.parametrize(("n", "expected", "expected_updates"), [
    # n = 2: G_0 = 1 + .5*2 + .25*q(3,1) = 2.5 -> q(1,0) = 1.25; at the end (flush)
    #        G_1 = 2 + .5*3 = 3.5 -> q(2,1) = 1.75, G_2 = 3 -> q(3,1) = 2 + .5*(3 - 2) = 2.5.
    (2, [1.25, 1.75, 2.5], [0, 1, 2]),
    # n = 3: nothing until the end; G_0 = 1 + .5*2 + .25*3 = 2.75 -> 1.375, then as n = 2.
    (3, [1.375, 1.75, 2.5], [0, 0, 3]),
    # n = 5 > T = 3: Monte Carlo returns, the same as n = 3 here.
    (5, [1.375, 1.75, 2.5], [0, 0, 3]),
])
def test_n_step_returns_by_hand_with_the_end_of_episode_flush(n, expected, expected_updates):
    episode = [_tr(1, 0, 1.0, 2, 1), _tr(2, 1, 2.0, 3, 1), _tr(3, 1, 3.0, 1, 0, terminated=True)]
    state, updates = _drive(episode, n, _q(3, 1, 2.0))
    np.testing.assert_allclose(np.asarray(state.w)[[0, 4, 5]], expected, rtol=1e-6)
    assert np.count_nonzero(state.w) == 3
    assert updates == expected_updates and int(state.pending) == 0


@pytest.mark.parametrize("terminated", [True, False])
def test_truncation_bootstraps_the_pending_returns_and_termination_does_not(terminated):
    # n = 3, q(3, 1) = 4; (1, 0) -> (2, 1) -> S' = 3 with A' = 1 after rewards 1, 2.
    # Truncated: G_0 = 1 + .5*2 + .25*q(3,1) = 3, G_1 = 2 + .5*q(3,1) = 4 -> q = 1.5, 2.
    # Terminated: G_0 = 2, G_1 = 2 -> q = 1, 1.
    episode = [_tr(1, 0, 1.0, 2, 1), _tr(2, 1, 2.0, 3, 1, terminated, not terminated)]
    state, updates = _drive(episode, 3, _q(3, 1, 4.0))
    np.testing.assert_allclose(np.asarray(state.w)[[0, 4, 5]],
                               [1.0, 1.0, 4.0] if terminated else [1.5, 2.0, 4.0])
    assert updates == [0, 2] and int(state.pending) == 0


def test_the_flush_bootstraps_from_the_weights_the_updates_before_left():
    # n = 3, truncated after (3, 1) -> (2, 0) -> S' = 3, A' = 1, rewards 1, 2; q(3, 1) = 4.
    # tau 0, pair (3,1): G = 1 + .5*2 + .25*4 = 3, delta = -1 -> q(3,1) = 3.5;
    # tau 1, pair (2,0): G = 2 + .5*q(3,1) = 2 + 1.75 (not 2 + 2) -> q(2,0) = 1.875.
    episode = [_tr(3, 1, 1.0, 2, 0), _tr(2, 0, 2.0, 3, 1, truncated=True)]
    state, _ = _drive(episode, 3, _q(3, 1, 4.0))
    np.testing.assert_allclose(np.asarray(state.w)[[5, 1]], [3.5, 1.875])


def _book_box(episodes, n, alpha, gamma, w):
    """The book's n-step SARSA box (S&B §10.2, p. 247) literally, float64, dense features;
    each episode ``(states S_0..S_T, actions A_0..A_{T-1}, rewards R_1..R_T)`` terminates."""
    phi_sa = state_action(AGGREGATED, A)

    def phi(s, a):
        return np.asarray(dense(phi_sa((jnp.array([s], jnp.float32), jnp.int32(a))),
                                phi_sa.num_features), np.float64)

    w = np.array(w, np.float64)
    for states, actions, rewards in episodes:
        T = len(rewards)
        for t in itertools.count():
            tau = t - n + 1
            if tau >= 0:
                G = sum(gamma ** (i - tau - 1) * rewards[i - 1]
                        for i in range(tau + 1, min(tau + n, T) + 1))
                if tau + n < T:
                    G += gamma ** n * w @ phi(states[tau + n], actions[tau + n])
                x = phi(states[tau], actions[tau])
                w = w + alpha * (G - w @ x) * x
            if tau == T - 1:
                break
    return w


EPISODES = [([3, 4, 5, 4, 6, 0], [0, 1, 1, 0, 1], [0.5, -1.0, 2.0, 0.25, 1.0]),
            ([2, 1, 2, 3, 0], [1, 1, 0, 0], [1.0, 0.0, -0.5, 3.0])]


def _stream(episodes):
    steps = []
    for states, actions, rewards in episodes:
        T = len(rewards)
        for t in range(T):
            a_next = actions[t + 1] if t + 1 < T else 0
            steps.append(_tr(states[t], actions[t], rewards[t], states[t + 1], a_next,
                             terminated=t == T - 1))
    return jax.tree.map(lambda *xs: jnp.stack(xs), *steps)


def test_every_n_in_one_program_equals_the_books_box():
    agent = n_step_semi_gradient_sarsa(AGGREGATED, A, 6)
    w0 = jnp.array([0.3, -0.2, 0.7, 0.1, -0.4, 0.5])
    ns = [1, 2, 3, 4, 6]

    def run(hp):
        state = agent.init(jax.random.key(0), jnp.zeros((1,)))._replace(w=w0)
        def step(s, tr):
            return _settled(agent.update, s, hp, tr)

        final, updates = jax.lax.scan(step, state, _stream(EPISODES))
        return final.w, updates.sum()

    hps = NStepSarsaHParams(jnp.full(5, 0.1), jnp.zeros(5), jnp.full(5, 0.9),
                            jnp.asarray(ns, jnp.float32))
    w, updates = jax.jit(jax.vmap(run))(hps)  # n traced: one compiled program
    for i, n in enumerate(ns):
        np.testing.assert_allclose(w[i], _book_box(EPISODES, n, 0.1, 0.9, w0), rtol=1e-5,
                                   atol=1e-6)
    assert (np.asarray(updates) == 9).all()  # one update per time step of each episode


def test_n_1_is_one_step_sarsa_exactly():
    features = tile_features()
    key = jax.random.key(3)
    k1, k2, k3, k4, k5 = jax.random.split(key, 5)
    steps = 200
    obs = jax.random.uniform(k1, (steps + 1, 2), minval=jnp.array([-1.2, -0.07]),
                             maxval=jnp.array([0.6, 0.07]))
    actions = jax.random.randint(k2, (steps + 1,), 0, 3)
    ends = jax.random.uniform(k3, (steps,))
    stream = SarsaTransition(obs[:-1], actions[:-1], jax.random.normal(k4, (steps,)),
                             ends < 0.05, (ends >= 0.05) & (ends < 0.1), obs[1:], actions[1:])
    w0 = jax.random.normal(k5, (features.num_features * 3,))
    one_step = semi_gradient_sarsa(features, 3)
    n_step = n_step_semi_gradient_sarsa(features, 3, max_n=4)
    hp = ControlHParams(jnp.float32(0.5 / 8), jnp.float32(0.0), jnp.float32(0.9))

    @jax.jit
    def both():
        def step(carry, tr):
            a, b = carry
            a, _ = one_step.update(a, hp, tr)
            b, _ = n_step.update(b, NStepSarsaHParams(*hp, jnp.float32(1)), tr)
            return (a, b), None
        start = (LinearQState(w0), n_step.init(key, obs[0])._replace(w=w0))
        return jax.lax.scan(step, start, stream)[0]

    a, b = both()
    np.testing.assert_array_equal(a.w, b.w)
    assert not np.array_equal(a.w, w0)


def test_an_inactive_run_is_left_unchanged():
    agent = n_step_semi_gradient_sarsa(TABULAR, A, 3)
    state = agent.init(jax.random.key(0), jnp.zeros((1,)))._replace(w=_q(3, 1, 2.0))
    state, _ = agent.update(state, _hp(2), _tr(1, 0, 1.0, 2, 1))
    frozen, metrics = agent.update(state, _hp(2), _tr(2, 1, 2.0, 3, 1, terminated=True),
                                   active=False)
    np.testing.assert_array_equal(frozen.w, state.w)
    assert (int(frozen.pending), int(frozen.head)) == (1, 1) and int(metrics["updates"]) == 0


@pytest.mark.parametrize("n", [0, 5, 2.5, -1])
def test_bad_n_names_the_field(n):
    with pytest.raises(ValueError, match=r"n=.*integer in \[1, max_n=4\]"):
        hparams.check(NStepSarsaHParams(0.1, 0.0, 1.0, n), at_most={"n": ("max_n", 4)})
    agent = n_step_semi_gradient_sarsa(TABULAR, A, 4)
    state = agent.init(jax.random.key(0), jnp.zeros((1,)))
    with pytest.raises(ValueError, match="max_n=4"):
        agent.update(state, _hp(n), _tr(1, 0, 1.0, 2, 1))


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"step_size": 0.0}, "step_size"), ({"epsilon": 1.5}, "epsilon"), ({"gamma": -0.1}, "gamma")])
def test_bad_hparams_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        hparams.check(NStepSarsaHParams(**({"step_size": 0.1, "epsilon": 0.0, "gamma": 1.0,
                                            "n": 2} | kwargs)), at_most={"n": ("max_n", 4)})


def test_bad_max_n_names_the_field():
    with pytest.raises(ValueError, match="max_n"):
        n_step_semi_gradient_sarsa(TABULAR, A, 0)
