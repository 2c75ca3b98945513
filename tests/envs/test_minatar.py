"""MinAtar: rlfa's games against the original numpy package, frame by frame, and the protocols.

The reference is ``minatar`` (PyPI, GPL, a test-only dependency). Its numpy
draws are replaced by a stand-in returning the uniforms rlfa's noise-driven
environment used (the mapping is in :mod:`rlfa.envs.minatar`'s docstring), so
both run the same episodes, random spawns and sticky actions included, and every
frame's observation, reward and termination must agree, through automatic resets.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa import envs
from rlfa.envs import minatar as mm
from rlfa.envs.noise import step_with_noise, transition_noise_size

minatar = pytest.importorskip("minatar")


class Draws:
    """Stands in for the original's ``numpy.random.RandomState``: each draw takes the next
    uniform of the frame's (or reset's) noise, as rlfa's environment reads them."""

    def __init__(self):
        self.u = []

    def load(self, noise):
        self.u = [np.float32(x) for x in np.asarray(noise)]

    def rand(self, *shape):
        if not shape:
            return float(self.u.pop(0))
        return np.array([float(self.u.pop(0)) for _ in range(int(np.prod(shape)))]).reshape(shape)

    def randint(self, low, high=None, size=None):
        low, high = (0, low) if high is None else (low, high)

        def one():  # rlfa.envs.minatar.randint, in float32 as there
            k = int(np.floor(self.u.pop(0) * np.float32(high - low)))
            return low + min(k, high - low - 1)

        return one() if size is None else np.array([one() for _ in range(size)])


# Policies for the rollouts: with probability `helped` a helper that keeps an episode going
# or scoring (so episodes reach new brick walls, crossings, kills), else uniformly random.
def _toward(obs, target_channel, own_channel):
    target = jnp.argmax(obs[:, :, target_channel].any(0))
    own = jnp.argmax(obs[:, :, own_channel].any(0))
    return jnp.where(target < own, 1, jnp.where(target > own, 3, 0))


HELPERS = {  # game: (helper(obs, key) -> action, probability of using it)
    "breakout": (lambda obs, key: _toward(obs, 1, 0), 0.9),  # the paddle under the ball
    "freeway": (lambda obs, key: jnp.int32(2), 0.5),  # up
    "space_invaders": (lambda obs, key: jnp.where(jax.random.bernoulli(key), 5,
                                                  _toward(obs, 1, 0)), 0.7),  # fire, aim
    "asterix": (lambda obs, key: jnp.int32(0), 0.0),
    "seaquest": (lambda obs, key: jnp.int32(0), 0.0),
}
# (sequences, frames each): ~10k frames a game; Freeway's run past its 2,501-frame end.
SIZES = {"breakout": (16, 600), "freeway": (4, 2600), "space_invaders": (16, 600),
         "asterix": (32, 300), "seaquest": (32, 300)}


def _rollout_program(env, game, num_seqs, num_steps):
    """rlfa's episodes, compiled once: ``(key, params) ->`` per sequence the reset noise, the
    first observation, then per frame the action, its noise (the step's then the automatic
    reset's), the observation after any reset, reward, terminated, truncated and the
    observation before any reset."""
    helper, helped = HELPERS[game]

    def one(key, params):
        reset_key, run_key = jax.random.split(key)
        reset_noise = jax.random.uniform(reset_key, (env.noise_size,))
        obs, state = env.reset_from_noise(reset_noise, params)

        def frame(carry, key):
            obs, state = carry
            pick, act_key, noise_key = jax.random.split(key, 3)
            action = jnp.where(jax.random.uniform(pick) < helped, helper(obs, act_key),
                               jax.random.randint(act_key, (), 0, env.num_actions))
            noise = jax.random.uniform(noise_key, (transition_noise_size(env),))
            obs, state, r, term, trunc, info = step_with_noise(env, state, action, noise, params)
            return (obs, state), (action, noise, obs, r, term, trunc, info["final_observation"])

        _, out = jax.lax.scan(frame, (obs, state), jax.random.split(run_key, num_steps))
        return (reset_noise, obs) + out

    run = jax.jit(jax.vmap(one, (0, None)))
    return lambda key, params: jax.tree.map(np.asarray, run(jax.random.split(key, num_seqs),
                                                            params))


def _replay(game, sticky, seq, noise_size):
    """Run the original on one sequence's actions and uniforms; assert every frame agrees.

    Returns (frames, episodes ended, total reward)."""
    reset_noise, obs0, actions, noise, obs, rewards, terms, truncs, final_obs = seq
    env = minatar.Environment(game, sticky_action_prob=sticky)
    draws = Draws()
    env.random = env.env.random = draws
    draws.load(reset_noise)
    env.reset()
    np.testing.assert_array_equal(env.state(), obs0)
    episodes = 0
    for t, a in enumerate(actions):
        draws.load(noise[t][:noise_size])
        r, terminal = env.act(int(a))
        where = f"{game}: frame {t} (episode {episodes}), action {a}"
        diff = np.argwhere(env.state() != final_obs[t])
        assert diff.size == 0, f"{where}: observations differ at (y, x, channel) {diff.tolist()}"
        assert (r, terminal) == (rewards[t], terms[t]), f"{where}: original {(r, terminal)}"
        assert not truncs[t], where  # the paper protocol has no cap
        if terminal:
            episodes += 1
            draws.load(noise[t][noise_size:])
            env.reset()
            np.testing.assert_array_equal(env.state(), obs[t], err_msg=where + " (reset)")
    return len(actions), episodes, float(rewards.sum())


@pytest.mark.slow
@pytest.mark.parametrize("game", sorted(mm.GAMES))
def test_frames_match_the_original_package(game):
    """Every frame of ~10k per game, under both sticky probabilities, equals the original's."""
    env, params = envs.make(f"{mm.GAMES[game]}-MinAtar-paper")
    assert env.noise_size == 1 + max(env._game.step_draws, env._game.reset_draws)
    num_seqs, num_steps = SIZES[game]
    run = _rollout_program(env, game, num_seqs, num_steps)
    ends = 0
    for seed, sticky in enumerate((0.0, 0.1)):
        out = run(jax.random.key(seed), params.replace(sticky_action_prob=sticky))
        for i in range(num_seqs):
            ends += _replay(game, sticky, [x[i] for x in out], env.noise_size)[1]
    assert ends >= (2 if game == "freeway" else 20)  # the resets were exercised


def test_sticky_action_repeats_the_executed_action_across_a_reset():
    env, params = envs.make("Breakout-MinAtar-paper", sticky_action_prob=1.0)
    _, state = env.reset(jax.random.key(0), params)
    # The ball one row above the floor, going down-right, far from the paddle: it ends now.
    game = state.game.replace(ball_x=jnp.int32(0), ball_y=jnp.int32(8), last_x=jnp.int32(0),
                              last_y=jnp.int32(7), ball_dir=jnp.int32(2), pos=jnp.int32(9))
    state = state.replace(game=game, last_action=jnp.int32(1))
    _obs, after, _, terminated, truncated, info = env.step(jax.random.key(1), state, 3, params)
    assert bool(terminated) and not bool(truncated)
    assert int(after.last_action) == 1 and int(after.time) == 0  # reset, last action kept
    # The sticky left (1) was executed, not the chosen right (3): the paddle went to 8.
    assert bool(info["final_observation"][9, 8, 0])
    # Never sticky: the chosen action is executed and becomes the last action.
    out = env.step(jax.random.key(1), state, 3, params.replace(sticky_action_prob=0.0))
    assert int(out[1].last_action) == 3 and bool(out[5]["final_observation"][9, 9, 0])


def test_gymnax_protocol_is_gymnax_defaults_and_steps_as_gymnax():
    import gymnax

    env, params = envs.make("Breakout-MinAtar-gymnax")
    assert env.num_actions == 3 and params.sticky_action_prob == 0.0
    assert params.max_steps_in_episode == 1000
    assert envs.make("Freeway-MinAtar-gymnax")[1].max_steps_in_episode == 2500
    ref, ref_params = gymnax.make("Breakout-MinAtar")
    obs, state = env.reset(jax.random.key(3), params)
    assert obs.dtype == jnp.float32
    for t, action in enumerate([2, 2, 1, 0, 1]):  # minimal set: n, l, r
        key = jax.random.key(t)
        ref_out = ref.step_env(key, state.game, action, ref_params)
        obs, state, r, term, _trunc, _ = env.step(key, state, action, params)
        np.testing.assert_array_equal(obs, ref_out[0])
        assert (float(r), bool(term)) == (float(ref_out[2]), bool(ref_out[3]))
    # The cap is a truncation, never a termination.
    _, state = env.reset(jax.random.key(3), params)
    out = env.step(jax.random.key(9), state, 0, params.replace(max_steps_in_episode=1))
    assert bool(out[4]) and not bool(out[3]) and int(out[1].time) == 0


def test_paper_protocol_defaults():
    env, params = envs.make("Seaquest-MinAtar-paper")
    assert env.num_actions == 6 and params.sticky_action_prob == 0.1
    assert params.max_steps_in_episode == mm.NO_CAP
    obs, _ = env.reset(jax.random.key(0), params)
    assert obs.dtype == jnp.bool_ and obs.shape == (10, 10, 10)
    assert env.observation_space(params).dtype == jnp.bool_


def test_bad_game_protocol_or_sticky_probability_name_the_field():
    with pytest.raises(ValueError, match=r"game='pong'.*asterix.*space_invaders"):
        mm.MinAtar("pong")
    with pytest.raises(ValueError, match=r"protocol='atari'.*paper.*gymnax"):
        mm.MinAtar("breakout", "atari")
    for p in (1.5, -0.1, float("nan")):
        with pytest.raises(ValueError, match=r"sticky_action_prob=.*\[0.0, 1.0\]"):
            envs.make("Breakout-MinAtar-paper", sticky_action_prob=p)
    envs.make("Breakout-MinAtar")  # gymnax's own name still works; a typo lists rlfa's
    with pytest.raises(ValueError, match="Breakout-MinAtar-paper"):
        envs.make("Breakout-MinAtar-papr")


def test_randint_matches_numpy_ranges():
    u = jnp.array([0.0, 0.2, 0.4999, 0.5, 0.99999994])
    np.testing.assert_array_equal(mm.randint(u, 1, 9), [1, 2, 4, 5, 8])
    np.testing.assert_array_equal(mm.randint(u, 0, 2), [0, 0, 0, 1, 1])


def test_asterix_spawns_in_a_free_slot_and_never_over_an_entity():
    """gymnax's spawn overwrites an occupied slot when it finds no free one; the original
    (and rlfa) spawn nothing when all eight are full, else in a free slot chosen uniformly."""
    full = jnp.ones((8, 5), jnp.int32).at[:, 1].set(jnp.arange(1, 9))
    draws = jnp.array([0.2, 0.9, 0.7])  # moving right, an enemy, the 3rd free slot of 3
    np.testing.assert_array_equal(mm._asterix_spawn(full, draws), full)
    some_free = full.at[jnp.array([1, 4, 6]), 4].set(0)
    spawned = mm._asterix_spawn(some_free, draws)
    np.testing.assert_array_equal(spawned[6], [0, 7, 1, 0, 1])  # x 0, row 7, right, enemy
    np.testing.assert_array_equal(np.delete(spawned, 6, 0), np.delete(some_free, 6, 0))
    assert int(mm._asterix_spawn(some_free, draws.at[2].set(0.0))[1, 4]) == 1  # 1st free


SEAQUEST_LISTS = {"f_bullets": "f_bullet_count", "e_bullets": "e_bullet_count",
                  "e_fish": "e_fish_count", "e_subs": "e_subs_count", "divers": "divers_count"}


def _seaquest_state(env, params, **fields):
    """A Seaquest state: the reset one with ``fields`` replaced; entity lists as row lists."""
    _, state = env.reset_from_noise(jnp.zeros(env.noise_size), params)
    game = state.game
    for name, count in SEAQUEST_LISTS.items():
        rows = fields.pop(name, [])
        buffer = getattr(game, name)
        if rows:
            buffer = buffer.at[:len(rows)].set(jnp.array(rows, jnp.int32))
        game = game.replace(**{name: buffer, count: jnp.int32(len(rows))})
    game = game.replace(**{k: jnp.asarray(v, getattr(game, k).dtype) for k, v in fields.items()})
    return state.replace(game=game)


def _to_original_seaquest(state, env):
    """Copy a Seaquest state into the original's attributes."""
    g, e = state.game, env.env

    def rows(buffer, count):
        return [[int(v) if j != 2 else bool(v) for j, v in enumerate(r)]
                for r in np.asarray(buffer)[:int(count)]]
    for name, count in SEAQUEST_LISTS.items():
        setattr(e, name, rows(getattr(g, name), getattr(g, count)))
    for name in ("oxygen", "diver_count", "sub_x", "sub_y", "e_spawn_speed", "e_spawn_timer",
                 "d_spawn_timer", "move_speed", "ramp_index", "shot_timer"):
        setattr(e, name, int(getattr(g, name)))
    e.sub_or, e.surface, e.terminal = bool(g.sub_or), bool(g.surface), False


SEAQUEST_FRAMES = {  # what a frame from a hand-made state exercises: (action, fields)
    # A submarine due to fire moves onto a friendly bullet: destroyed, it still fires.
    "destroyed_sub_fires": (0, {"sub_x": 1, "sub_y": 8, "e_subs": [[4, 5, 1, 0, 0]],
                                    "f_bullets": [[6, 5, 0]]}),
    # Surfacing with six divers: oxygen bonus, counter to -1, difficulty ramps.
    "rescue": (2, {"sub_y": 1, "surface": False, "diver_count": 6, "oxygen": 150, "ramp_index": 1}),
    "surface_with_divers": (2, {"sub_y": 1, "surface": False, "diver_count": 3, "oxygen": 37}),
    # Surfacing without divers: the game ends, the oxygen gauge as it was.
    "surface_without_divers": (2, {"sub_y": 1, "surface": False, "diver_count": 0, "oxygen": 90}),
    "oxygen_out": (0, {"sub_y": 4, "oxygen": 0, "diver_count": 2}),
    "diver_picked_up_after_moving": (0, {"sub_x": 3, "sub_y": 6, "diver_count": 5,
                                             "divers": [[4, 6, 0, 0], [2, 6, 1, 0]]}),
}


def test_seaquest_rare_frames_match_the_original():
    """Frames random play rarely reaches, from states copied into the original: one frame
    each, all in one compiled call."""
    env, params = envs.make("Seaquest-MinAtar-paper", sticky_action_prob=0.0)
    cases = sorted(SEAQUEST_FRAMES)
    actions = jnp.array([SEAQUEST_FRAMES[c][0] for c in cases])
    states = [_seaquest_state(env, params, **SEAQUEST_FRAMES[c][1]) for c in cases]
    noise = jnp.full(env.noise_size, 0.5)
    step = jax.jit(jax.vmap(lambda s, a: env.step_from_noise(s, a, noise, params)))
    obs, after, reward, terminated, _ = jax.tree.map(
        np.asarray, step(jax.tree.map(lambda *x: jnp.stack(x), *states), actions))
    for i, case in enumerate(cases):
        original = minatar.Environment("seaquest", sticky_action_prob=0.0)
        original.random = original.env.random = Draws()
        _to_original_seaquest(states[i], original)
        np.testing.assert_array_equal(original.state(), env.get_obs(states[i], params))
        original.random.load(noise)
        assert original.act(int(actions[i])) == (reward[i], terminated[i]), case
        np.testing.assert_array_equal(original.state(), obs[i], err_msg=case)
        assert after.game.diver_count[i] == original.env.diver_count, case
        assert after.game.oxygen[i] == original.env.oxygen, case
