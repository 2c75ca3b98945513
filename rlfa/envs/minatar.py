"""MinAtar (Young & Tian 2019) as the paper ran it, on gymnax's JAX ports of the five games.

Two protocols, chosen by name (``"Breakout-MinAtar-paper"``, ``"Breakout-MinAtar-gymnax"``,
likewise ``Asterix``, ``Freeway``, ``Seaquest``, ``SpaceInvaders``) or by
``MinAtar(game, protocol)``:

==================  ====================================  =================================
setting             ``paper`` (the original ``minatar``)  ``gymnax`` (gymnax 1.0 defaults)
==================  ====================================  =================================
actions             all 6: n, l, u, r, d, f               the game's minimal set
sticky actions      p = 0.1 (``sticky_action_prob``)      none (p = 0)
episode cap         none but the game's own (Freeway      1,000 steps (Freeway 2,500), a
                    terminates after 2,501 frames)        truncation
observation         bool ``[10, 10, channels]``           float32, as gymnax
==================  ====================================  =================================

Sticky actions follow ``minatar.Environment.act``: every frame draws one uniform
``u`` *before* the action is applied; if ``u < sticky_action_prob`` the action
executed is the previous one executed (``state.last_action``, an index into the
full action set), else the chosen one; the executed action becomes the previous
one. As in the original, whose ``reset`` leaves ``last_action`` alone, the last
action survives a reset (automatic or not): the first frame of an episode may
repeat the last action of the one before. A fresh environment starts with
``last_action = 0`` (no-op).

Randomness is exogenous (:mod:`rlfa.envs.noise`): a frame takes ``noise_size``
uniforms on [0, 1), ``noise[0]`` for the sticky draw and ``noise[1:]`` for the
game's own draws; a reset takes the game's draws from ``noise[0]``. The game's
draws are the original's numpy draws, one uniform each, in the order the
original makes them: ``rand() < q`` is ``u < q``, ``randint(low, high)`` is
``low + min(floor(u * (high - low)), high - low - 1)`` in float32. Breakout draws
the ball's side at a reset (1 uniform), Freeway 8 speeds then 8 directions at a
reset and after each crossing (16), Asterix side, gold and free slot at a spawn
(3), Seaquest side, kind and row of an enemy then side and row of a diver (5; a
diver takes the first two when no enemy spawns that frame), Space Invaders none.
Feeding the same uniforms to the original (its ``random`` replaced by a stand-in
that returns them) reproduces its episodes frame by frame, which is how
``tests/envs/test_minatar.py`` checks the two against each other.

Where the games come from: gymnax's ports (``gymnax.environments.minatar``) for
the dynamics, with these changes:

* All randomness as above (gymnax draws its own with other distributions'
  parameterisations, so the same key gives other episodes than the original).
* Asterix: gymnax's spawn skips the first slot of its random order, and when it
  finds no free slot it overwrites an occupied one, deleting an enemy or a
  treasure; the original picks a free slot uniformly and spawns nothing when all
  eight are full. rlfa spawns as the original.
* Freeway: the original terminates after 2,501 frames (its timer starts at 2,500
  and ends the game when it goes below 0); gymnax truncates after 2,500. The
  ``paper`` protocol terminates as the original (the paper's agent does not
  bootstrap there); the ``gymnax`` one truncates at 2,500 as gymnax.
* Seaquest: when the submarine surfaces with no divers the original ends the
  game and leaves oxygen, divers and difficulty as they were, so the last frame
  still shows the oxygen left; gymnax refills the oxygen (and ramps the
  difficulty) in that frame. rlfa keeps the original's last frame. Also, an
  enemy submarine whose shot timer is 0 fires in the original even in the frame a
  bullet destroys it (its bullet then starts where it died); gymnax's does not.
  rlfa fires as the original. And the original takes divers last in its list
  first, each where it is or where it moves to this frame, while fewer than six
  are aboard; gymnax takes first in its buffer all divers already at the
  submarine, then those moving onto it, so with little room left another diver
  is rescued (and another stays). rlfa takes them as the original.

Known, unfixed differences, none reachable with the default parameters or seen in
the tests: gymnax's Asterix would slow its enemies below one move per frame where
the original stops at one (unreachable: both ramps stop first); in Seaquest, where
two enemies share a cell with a bullet, or two entities are equal in every field
(the original's ``list.remove`` works by value), the original's list order decides
what goes, gymnax's buffer order may decide otherwise.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct
from gymnax.environments import environment, spaces
from gymnax.environments.minatar import asterix, breakout, freeway, seaquest, space_invaders
from gymnax.environments.minatar.seaquest_helpers import (
    active_mask,
    append,
    append_many,
    collide_bullets,
    compact,
    move_entities,
)

from rlfa import config as _config
from rlfa.envs.noise import NoiseEnvironment, step_with_noise, transition_noise_size
from rlfa.envs.registry import register

PROTOCOLS = ("paper", "gymnax")
# Each game's name in the original package (``minatar.Environment(game)``) and in rlfa's names.
GAMES = {"asterix": "Asterix", "breakout": "Breakout", "freeway": "Freeway",
         "seaquest": "Seaquest", "space_invaders": "SpaceInvaders"}
PAPER_STICKY_ACTION_PROB = 0.1
NO_CAP = 2**31 - 1  # max_steps_in_episode meaning "no cap": time is int32
FREEWAY_FRAMES = 2500  # the original's terminate_timer: the game ends on the frame after


@struct.dataclass
class EnvState(environment.EnvState):
    game: Any  # the gymnax port's EnvState of the game
    last_action: jax.Array  # int32 0..5: the action executed last (full action set), kept on reset
    time: int  # frames since the episode began


@struct.dataclass
class EnvParams(environment.EnvParams):
    game: Any = None  # the gymnax port's EnvParams (difficulty ramps, intervals)
    sticky_action_prob: float = PAPER_STICKY_ACTION_PROB
    max_steps_in_episode: int = NO_CAP  # a truncation; NO_CAP for none

    def __post_init__(self):
        p = self.sticky_action_prob  # a traced value (under jit/vmap) is checked where it is made
        if isinstance(p, (int, float)):
            _config.check_in_range("sticky_action_prob", p, 0.0, 1.0)


def randint(u: jax.Array, low, high) -> jax.Array:
    """numpy's ``randint(low, high)`` from a uniform ``u`` on [0, 1): int32, float32 arithmetic."""
    span = jnp.asarray(high - low)
    k = jnp.floor(u * span.astype(jnp.float32)).astype(jnp.int32)
    return (low + jnp.minimum(k, span - 1)).astype(jnp.int32)


def _strong(tree):
    """Every leaf an array of its own dtype (no Python scalars), so scan carries keep their types."""
    return jax.tree.map(lambda x: jnp.asarray(x, jnp.asarray(x).dtype), tree)


class _Game:
    """One game: its gymnax port (full action set) and rlfa's noise-driven step and reset."""

    port_cls: Any
    minimal_actions: tuple[int, ...]
    step_draws = 0  # uniforms a frame may take
    reset_draws = 0  # uniforms a reset takes
    cap = 1000  # gymnax's default max_steps_in_episode

    def __init__(self):
        self.port = self.port_cls(use_minimal_action_set=False)

    def step(self, state, action, draws, params):
        """``(state, reward float32, terminated bool)`` after one frame of full action ``action``."""
        _, state, reward, terminated, _ = self.port.step_env(None, state, action, params)
        return state, reward, terminated

    def reset(self, draws, params):
        return self.port.reset_env(None, params)[1]


class _Breakout(_Game):
    port_cls, minimal_actions, reset_draws = breakout.MinBreakout, (0, 1, 3), 1

    def reset(self, draws, params):
        start = randint(draws[0], 0, 2)  # the original's randint(2): left or right
        x, direction = jnp.array([0, 9])[start], jnp.array([2, 3])[start]
        return breakout.EnvState(
            ball_y=jnp.int32(3), ball_x=x, ball_dir=direction, pos=jnp.int32(4),
            brick_map=jnp.zeros((10, 10)).at[1:4, :].set(1), strike=jnp.bool_(False),
            last_y=jnp.int32(3), last_x=x, time=jnp.int32(0), terminal=jnp.bool_(False))


class _SpaceInvaders(_Game):
    port_cls, minimal_actions = space_invaders.MinSpaceInvaders, (0, 1, 3, 5)


def _freeway_cars(draws):
    """The original's ``randint(1, 6, 8)`` speeds, then ``sign(rand(8) - 0.5)`` directions."""
    return randint(draws[:8], 1, 6), jnp.where(draws[8:16] < 0.5, -1, 1)


class _Freeway(_Game):
    port_cls, minimal_actions, step_draws, reset_draws, cap = (
        freeway.MinFreeway, (0, 2, 4), 16, 16, 2500)

    def step(self, state, action, draws, params):
        state, reward, crossed = freeway.step_agent(action, state, params)
        cars = freeway.randomize_cars(*_freeway_cars(draws), state.cars, False)
        state = freeway.step_cars(state.replace(cars=jnp.where(crossed, cars, state.cars)))
        time = state.time + 1
        terminated = time > FREEWAY_FRAMES
        return state.replace(time=time, terminal=terminated), reward.astype(jnp.float32), terminated

    def reset(self, draws, params):
        cars = freeway.randomize_cars(*_freeway_cars(draws), jnp.zeros((8, 4), jnp.int32), True)
        return freeway.EnvState(pos=jnp.int32(9), cars=cars,
                                move_timer=jnp.int32(params.player_speed), time=jnp.int32(0),
                                terminal=jnp.bool_(False))


def _asterix_spawn(entities: jax.Array, draws: jax.Array) -> jax.Array:
    """The original's spawn: side, gold, then a free slot uniformly; none if all are full.

    ``entities``: int ``[8, 5]`` rows ``(x, y = slot + 1, moving right, gold, present)``.
    """
    right, gold = draws[0] < 0.5, draws[1] < 1 / 3
    free = entities[:, 4] == 0
    k = randint(draws[2], 0, jnp.maximum(free.sum(), 1))
    slot = jnp.argmax(free & (jnp.cumsum(free) == k + 1))
    row = jnp.stack([jnp.where(right, 0, 9), slot + 1, right, gold, 1]).astype(entities.dtype)
    return jnp.where(free.any(), entities.at[slot].set(row), entities)


class _Asterix(_Game):
    port_cls, minimal_actions, step_draws = asterix.MinAsterix, (0, 1, 2, 3, 4), 3

    def step(self, state, action, draws, params):
        spawn = state.spawn_timer == 0
        state = state.replace(
            entities=jnp.where(spawn, _asterix_spawn(state.entities, draws), state.entities),
            spawn_timer=jnp.where(spawn, state.spawn_speed, state.spawn_timer))
        state = asterix.step_agent(state, action)
        state, reward, terminated = asterix.step_entities(state)
        state = asterix.step_timers(state, params)
        state = state.replace(time=state.time + 1, terminal=terminated)
        return state, reward.astype(jnp.float32), terminated


def _seaquest_spawn(state, draws, params):
    """The original's spawns: an enemy (side, sub or fish, row; none where it would meet
    one going the other way in its row), then a diver (side, row)."""
    right, is_sub, y = draws[0] < 0.5, draws[1] < 1 / 3, randint(draws[2], 1, 9)
    opposing = jnp.any(active_mask(state.e_subs_count) & (state.e_subs[:, 1] == y)
                       & (state.e_subs[:, 2] != right)) | jnp.any(
        active_mask(state.e_fish_count) & (state.e_fish[:, 1] == y)
        & (state.e_fish[:, 2] != right))
    enemy_due, diver_due = state.e_spawn_timer == 0, state.d_spawn_timer == 0
    spawn = enemy_due & ~opposing
    enemy = jnp.stack([jnp.where(right, 0, 9), y, right, state.move_speed,
                       params.enemy_shot_interval]).astype(jnp.int32)
    subs, subs_count = append(state.e_subs, state.e_subs_count, enemy, spawn & is_sub)
    fish, fish_count = append(state.e_fish, state.e_fish_count, enemy[:4], spawn & ~is_sub)
    # The original draws the diver after the enemy's three draws, if it drew those.
    d = jnp.where(enemy_due, draws[3:5], draws[0:2])
    diver_right = d[0] < 0.5
    diver = jnp.stack([jnp.where(diver_right, 0, 9), randint(d[1], 1, 9), diver_right,
                       params.diver_move_interval]).astype(jnp.int32)
    divers, divers_count = append(state.divers, state.divers_count, diver, diver_due)
    return state.replace(
        e_subs=subs, e_subs_count=subs_count, e_fish=fish, e_fish_count=fish_count,
        divers=divers, divers_count=divers_count,
        e_spawn_timer=jnp.where(enemy_due, state.e_spawn_speed, state.e_spawn_timer),
        d_spawn_timer=jnp.where(diver_due, params.diver_spawn_speed, state.d_spawn_timer))


def _seaquest_subs(state, params):
    """gymnax's enemy-submarine frame, except that a submarine fires as in the original: after
    moving and *before* friendly bullets may destroy it (the original's loop fires from a
    submarine it has just removed)."""
    hit = seaquest._hits_sub(state.e_subs, state.e_subs_count, state)
    subs, count = move_entities(state.e_subs, state.e_subs_count, state.move_speed)
    hit = hit | seaquest._hits_sub(subs, count, state)
    shoots = active_mask(count) & (subs[:, 4] == 0)
    subs = subs.at[:, 4].set(jnp.where(shoots, params.enemy_shot_interval,
                                       jnp.maximum(subs[:, 4] - 1, 0)))
    e_bullets, e_count = append_many(state.e_bullets, state.e_bullet_count, subs[:, :3], shoots)
    bullets, b_count, subs, count, reward = collide_bullets(
        state.f_bullets, state.f_bullet_count, subs, count)
    return state.replace(f_bullets=bullets, f_bullet_count=b_count, e_subs=subs,
                         e_subs_count=count, e_bullets=e_bullets, e_bullet_count=e_count), reward, hit


def _seaquest_divers(state, params):
    """Divers as the original: last in the list first, each picked up where it is or, if it
    moves this frame, where it moves to, while fewer than six are aboard."""
    divers, active = state.divers, active_mask(state.divers_count)
    moved_x = divers[:, 0] + jnp.where(divers[:, 2] != 0, 1, -1)
    at_sub = lambda x: (x == state.sub_x) & (divers[:, 1] == state.sub_y)
    candidate = active & (at_sub(divers[:, 0]) | ((divers[:, 3] == 0) & at_sub(moved_x)))
    rank = jnp.cumsum(candidate[::-1])[::-1] - 1  # candidates from the list's end, 0-based
    picked = candidate & (rank < 6 - state.diver_count)
    divers, count = compact(divers, active & ~picked)
    divers, count = move_entities(divers, count, params.diver_move_interval)
    return state.replace(divers=divers, divers_count=count,
                         diver_count=state.diver_count + picked.sum(dtype=jnp.int32))


class _Seaquest(_Game):
    port_cls, minimal_actions, step_draws = seaquest.MinSeaquest, (0, 1, 2, 3, 4, 5), 5

    def step(self, state, action, draws, params):
        port = self.port
        state = port._step_agent(_seaquest_spawn(state, draws, params), action, params)
        state, reward = port._step_friendly_bullets(state)
        state = _seaquest_divers(state, params)
        state, sub_reward, sub_hit = _seaquest_subs(state, params)
        state, bullet_hit = port._step_enemy_bullets(state)
        state, fish_reward, fish_hit = port._step_enemy_fish(state)
        before = state
        state, surface_reward, timer_end = port._step_timers(state, params)
        # Surfacing with no divers ends the game before the original's _surface() runs.
        no_divers = (before.sub_y == 0) & ~before.surface & (before.diver_count == 0)
        state = jax.tree.map(lambda a, b: jnp.where(no_divers, a, b),
                             before.replace(e_spawn_timer=state.e_spawn_timer,
                                            d_spawn_timer=state.d_spawn_timer,
                                            shot_timer=state.shot_timer), state)
        terminated = sub_hit | bullet_hit | fish_hit | timer_end
        reward = reward + sub_reward + fish_reward + surface_reward
        return (state.replace(time=state.time + 1, terminal=terminated),
                reward.astype(jnp.float32), terminated)


_GAME_CLASSES = {"asterix": _Asterix, "breakout": _Breakout, "freeway": _Freeway,
                 "seaquest": _Seaquest, "space_invaders": _SpaceInvaders}


class MinAtar(NoiseEnvironment):
    """A MinAtar game under one protocol (see the module docstring), gymnax's API.

    Args:
      game: one of :data:`GAMES` (``"breakout"``, ``"space_invaders"``, ...).
      protocol: ``"paper"`` (the original's defaults) or ``"gymnax"`` (gymnax's).

    Raises:
      ValueError: an unknown game or protocol (names the allowed ones).
    """

    def __init__(self, game: str, protocol: str = "paper"):
        super().__init__()
        if game not in GAMES:
            raise ValueError(f"game={game!r} is invalid: must be one of {sorted(GAMES)}.")
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol={protocol!r} is invalid: must be one of {list(PROTOCOLS)}.")
        self.game, self.protocol = game, protocol
        self._game = _GAME_CLASSES[game]()
        paper = protocol == "paper"
        self.action_set = jnp.arange(6) if paper else jnp.array(self._game.minimal_actions)
        self.obs_dtype = jnp.bool_ if paper else jnp.float32
        self.obs_shape = self._game.port.obs_shape
        self.noise_size = 1 + max(self._game.step_draws, self._game.reset_draws)

    @property
    def default_params(self) -> EnvParams:
        paper = self.protocol == "paper"
        return EnvParams(game=self._game.port.default_params,
                         sticky_action_prob=PAPER_STICKY_ACTION_PROB if paper else 0.0,
                         max_steps_in_episode=NO_CAP if paper else self._game.cap)

    def step_from_noise(self, state: EnvState, action, noise: jax.Array, params: EnvParams):
        sticky = noise[0] < params.sticky_action_prob  # drawn every frame, as the original
        executed = jnp.where(sticky, state.last_action, self.action_set[action]).astype(jnp.int32)
        game, reward, terminated = self._game.step(state.game, executed, noise[1:], params.game)
        state = EnvState(game=game, last_action=executed, time=state.time + 1)
        info = {"discount": 1.0 - terminated.astype(jnp.float32)}
        return self.get_obs(state, params), state, reward, terminated, info

    def reset_from_noise(self, noise: jax.Array, params: EnvParams):
        state = EnvState(game=_strong(self._game.reset(noise, params.game)),
                         last_action=jnp.int32(0), time=jnp.int32(0))
        return self.get_obs(state, params), state

    def persist_across_reset(self, stepped: EnvState, reset: EnvState) -> EnvState:
        """The state an automatic reset starts from keeps the last action (sticky actions)."""
        return reset.replace(last_action=stepped.last_action)

    @partial(jax.jit, static_argnames=("self",))
    def step(self, key, state, action, params=None):
        """gymnax's ``step`` (automatic reset, ``info["final_observation"]``), last action kept."""
        params = self.default_params if params is None else params
        noise = jax.random.uniform(key, (transition_noise_size(self),))
        return step_with_noise(self, state, action, noise, params)

    def get_obs(self, state: EnvState, params=None, key=None) -> jax.Array:
        game_params = None if params is None else params.game
        return self._game.port.get_obs(state.game, game_params).astype(self.obs_dtype)

    def is_terminated(self, state: EnvState, params) -> jax.Array:
        return jnp.asarray(state.game.terminal)

    @property
    def name(self) -> str:
        return f"{GAMES[self.game]}-MinAtar-{self.protocol}"

    @property
    def num_actions(self) -> int:
        return int(self.action_set.shape[0])

    def action_space(self, params=None):
        return spaces.Discrete(self.num_actions)

    def observation_space(self, params=None):
        return spaces.Box(0, 1, self.obs_shape, self.obs_dtype)


for _game, _title in GAMES.items():
    for _protocol in PROTOCOLS:
        register(f"{_title}-MinAtar-{_protocol}", partial(MinAtar, _game, _protocol))
