"""Atari 2600 games (the Arcade Learning Environment, Bellemare et al. 2013) under the Nature
DQN protocol (Mnih et al. 2015) or Machado et al.'s (2018), stepped on the host by
``ale-py``'s vector environment and called from a jitted program.

``ale-py``'s :class:`~ale_py.vector_env.AtariVectorEnv` runs the games in C++ threads and
does the standard preprocessing itself: an action repeated for ``frame_skip`` frames, the
max over the last two frames' pixels, grayscale, an 84x84 resize, a stack of the last
``stack`` frames (zeros before an episode's first), no-op frames at a reset (a uniform
count in [0, noop_max - 1], ale-py's draw from its own generator; gymnasium's
``AtariPreprocessing`` and SB3 draw from [1, noop_max]), sticky actions.
``tests/envs/test_atari.py`` checks it frame by frame against gymnasium's
``AtariPreprocessing`` and ``FrameStackObservation`` on the same ALE. It is chosen over
envpool, which does the same: one environment takes 2,220 agent steps/s in ale-py against
1,810 in envpool and 2,120 in gymnasium's Python wrappers on a 2-core CPU (the profile of
``python -m benchmarks.atari``), and ale-py is the ALE's own package, its ROMs in its wheel.

==========================  ==========================  ==================================
setting                     ``nature`` (Mnih 2015)      ``machado`` (Machado et al. 2018)
==========================  ==========================  ==================================
actions                     the game's minimal set      all 18
sticky actions              none                        p = 0.25
no-op starts                up to 30 frames             none
a lost life                 ends a training episode     does not end anything
                            (the bootstrap stops),
                            not an evaluation episode
==========================  ==========================  ==================================

Both: frame skip 4, a stack of 4, rewards clipped to [-1, 1] for learning while the game's
scores are reported, training episodes cut (a truncation) after 108,000 frames (30
minutes), evaluation episodes after 18,000 (5 minutes) at epsilon 0.05.

A life lost is read from the emulator's lives counter (``lives`` going down), so the game
goes on: the environment's own ``terminated`` is the game's end. A game's environments are
stepped by :class:`AtariHost` through ``jax.experimental.io_callback``: the jitted program
holds an environment id (drawn from the run's key), the host holds the emulators. An
emulator is made at the program's ``init`` and again, with ``restarted`` set, by the first
step of a run resumed in a new process (its emulator state is not in the checkpoint).
"""

from __future__ import annotations

import dataclasses
import re
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import io_callback

from rlfa.config import check_choice, check_in_range, check_nonnegative_int, check_positive_int

# Random and human scores (game score per episode) of the Atari-57 benchmark, as DQN Zoo
# publishes them (dqn_zoo/atari_data.py; episodes capped at 108,000 frames, 1-30 no-ops):
# a human-normalised score is (score - random) / (human - random).
REFERENCE_SCORES = {
    "alien": (227.8, 7127.7), "amidar": (5.8, 1719.5), "assault": (222.4, 742.0),
    "asterix": (210.0, 8503.3), "asteroids": (719.1, 47388.7), "atlantis": (12850.0, 29028.1),
    "bank_heist": (14.2, 753.1), "battle_zone": (2360.0, 37187.5),
    "beam_rider": (363.9, 16926.5), "berzerk": (123.7, 2630.4), "bowling": (23.1, 160.7),
    "boxing": (0.1, 12.1), "breakout": (1.7, 30.5), "centipede": (2090.9, 12017.0),
    "chopper_command": (811.0, 7387.8), "crazy_climber": (10780.5, 35829.4),
    "defender": (2874.5, 18688.9), "demon_attack": (152.1, 1971.0),
    "double_dunk": (-18.6, -16.4), "enduro": (0.0, 860.5), "fishing_derby": (-91.7, -38.7),
    "freeway": (0.0, 29.6), "frostbite": (65.2, 4334.7), "gopher": (257.6, 2412.5),
    "gravitar": (173.0, 3351.4), "hero": (1027.0, 30826.4), "ice_hockey": (-11.2, 0.9),
    "jamesbond": (29.0, 302.8), "kangaroo": (52.0, 3035.0), "krull": (1598.0, 2665.5),
    "kung_fu_master": (258.5, 22736.3), "montezuma_revenge": (0.0, 4753.3),
    "ms_pacman": (307.3, 6951.6), "name_this_game": (2292.3, 8049.0),
    "phoenix": (761.4, 7242.6), "pitfall": (-229.4, 6463.7), "pong": (-20.7, 14.6),
    "private_eye": (24.9, 69571.3), "qbert": (163.9, 13455.0), "riverraid": (1338.5, 17118.0),
    "road_runner": (11.5, 7845.0), "robotank": (2.2, 11.9), "seaquest": (68.4, 42054.7),
    "skiing": (-17098.1, -4336.9), "solaris": (1236.3, 12326.7),
    "space_invaders": (148.0, 1668.7), "star_gunner": (664.0, 10250.0),
    "surround": (-10.0, 6.5), "tennis": (-23.8, -8.3), "time_pilot": (3568.0, 5229.2),
    "tutankham": (11.4, 167.6), "up_n_down": (533.4, 11693.2), "venture": (0.0, 1187.5),
    "video_pinball": (16256.9, 17667.9), "wizard_of_wor": (563.5, 4756.5),
    "yars_revenge": (3092.9, 54576.9), "zaxxon": (32.5, 9173.3),
}


@dataclasses.dataclass(frozen=True)
class AtariProtocol:
    """How the games are played and scored (static: each field changes the program)."""

    frame_skip: int = 4
    """Frames each action is repeated for; the observation maxes the last two."""
    stack: int = 4
    """Frames in an observation (the newest last)."""
    screen_size: int = 84
    """Height and width of a frame after the resize."""
    noop_max: int = 30
    """Most no-op frames at an episode's start (0: none)."""
    sticky_action_prob: float = 0.0
    """Probability that the emulator repeats the previous action at a frame."""
    full_action_space: bool = False
    """All 18 actions, instead of the game's minimal set."""
    life_loss_ends_episode: bool = True
    """A lost life is a termination for learning (the game goes on); evaluation ignores it."""
    max_episode_frames: int = 108_000
    """Frames after which a training episode is cut (a truncation: targets bootstrap)."""
    eval_max_frames: int = 18_000
    """Frames after which an evaluation episode ends (5 minutes); it still counts."""
    eval_epsilon: float = 0.05
    """Exploration probability of the evaluation policy."""
    reward_clip: float = 1.0
    """Rewards are clipped to [-reward_clip, reward_clip] for learning (0: not clipped)."""

    def __post_init__(self):
        for name in ("frame_skip", "stack", "screen_size", "max_episode_frames",
                     "eval_max_frames"):
            check_positive_int(name, getattr(self, name))
        check_nonnegative_int("noop_max", self.noop_max)
        check_in_range("sticky_action_prob", self.sticky_action_prob, 0.0, 1.0)
        check_in_range("eval_epsilon", self.eval_epsilon, 0.0, 1.0)
        check_in_range("reward_clip", self.reward_clip, 0.0, float("inf"))
        if self.screen_size < 36:  # the Nature network's three convolutions need 36 pixels
            raise ValueError(f"screen_size={self.screen_size} is invalid: must be >= 36, the"
                             " smallest frame the Nature network's convolutions take.")

    @property
    def eval_max_steps(self) -> int:
        """Agent steps of an evaluation episode at most."""
        return -(-self.eval_max_frames // self.frame_skip)


NATURE = AtariProtocol()
MACHADO = AtariProtocol(noop_max=0, sticky_action_prob=0.25, full_action_space=True,
                        life_loss_ends_episode=False)
PROTOCOLS = {"nature": NATURE, "machado": MACHADO}


def rom_id(game: str) -> str:
    """ale-py's ROM id of ``game``: ``"SpaceInvaders"`` -> ``"space_invaders"``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", game).lower()


def games() -> list[str]:
    """Every game ale-py ships, by ROM id."""
    from ale_py import roms

    return sorted(roms.get_all_rom_ids())


def check_game(game: str) -> str:
    """``game``'s ROM id.

    Raises:
      ValueError: a game ale-py does not ship, naming the field and some choices.
    """
    rom = rom_id(game)
    if rom not in games():
        raise ValueError(f"game={game!r} is invalid: not an Atari game ale-py ships; e.g."
                         " Breakout, Pong, SpaceInvaders, Seaquest, Qbert, BeamRider, Enduro"
                         " (`python -c \"import ale_py.roms as r; print(r.get_all_rom_ids())\"`"
                         " lists all).")
    return rom


def env_name(game: str, protocol: str = "nature") -> str:
    """The environment name of ``game`` under ``protocol``: ``"Breakout-Atari-nature"``.

    Raises:
      ValueError: an unknown game or protocol, naming it.
    """
    check_game(game)
    check_choice("protocol", protocol, tuple(PROTOCOLS))
    return f"{game}-Atari-{protocol}"


def is_atari(name: str) -> bool:
    """Whether ``name`` is an Atari environment name (``GAME-Atari-PROTOCOL``)."""
    return "-Atari-" in name


def parse(name: str) -> tuple[str, str]:
    """``(game, protocol)`` of an Atari environment name, both checked.

    Raises:
      ValueError: not ``GAME-Atari-PROTOCOL``, or an unknown game or protocol.
    """
    game, _, protocol = name.partition("-Atari-")
    env_name(game, protocol)
    return game, protocol


def num_actions(game: str, protocol: AtariProtocol) -> int:
    """Actions of ``game`` under ``protocol``: 18, or the game's minimal set."""
    if protocol.full_action_space:
        return 18
    env = make_vector_env(game, protocol, 1, evaluation=False)
    try:
        return int(env.single_action_space.n)
    finally:
        env.close()


def human_normalised(game: str, score: np.ndarray | float) -> np.ndarray | float:
    """``(score - random) / (human - random)`` with :data:`REFERENCE_SCORES`; NaN for a game
    not in the table."""
    random, human = REFERENCE_SCORES.get(rom_id(game), (np.nan, np.nan))
    return (np.asarray(score, dtype=float) - random) / (human - random)


def make_vector_env(game: str, protocol: AtariProtocol, num_envs: int, *, evaluation: bool):
    """ale-py's vector environment of ``num_envs`` copies of ``game`` under ``protocol``,
    resetting in the same step (``info["final_obs"]`` holds an ended episode's last
    observation); no reward clipping and no FIRE at a reset (the Nature paper has none)."""
    from ale_py.vector_env import AtariVectorEnv

    return AtariVectorEnv(
        check_game(game), num_envs, num_threads=min(num_envs, 2),
        max_num_frames_per_episode=(protocol.eval_max_frames if evaluation
                                    else protocol.max_episode_frames),
        repeat_action_probability=protocol.sticky_action_prob,
        full_action_space=protocol.full_action_space, autoreset_mode="SameStep",
        img_height=protocol.screen_size, img_width=protocol.screen_size,
        stack_num=protocol.stack, frameskip=protocol.frame_skip, noop_max=protocol.noop_max,
        reward_clipping=False, use_fire_reset=False)


class AtariStep(NamedTuple):
    """What one step of ``num_envs`` games returns to the program.

    Attributes:
      obs: uint8 ``[num_envs, stack, size, size]``, the observation to act on next (a new
        episode's first where one ended).
      final_obs: like ``obs``: where an episode ended, its last observation (else ``obs``).
      reward: float32 ``[num_envs]``, the game's score change (not clipped).
      terminated: bool ``[num_envs]``, the game is over.
      truncated: bool ``[num_envs]``, the episode was cut at its frame limit.
      lives: int32 ``[num_envs]``, lives left at ``obs`` (0 in games without lives).
      restarted: bool ``[]``, the emulators were (re)made by this call: every ``obs`` starts
        an episode and the other fields are zeros.
    """

    obs: jax.Array
    final_obs: jax.Array
    reward: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    lives: jax.Array
    restarted: jax.Array


class AtariHost:
    """The emulators of one game under one protocol, held on the host, one vector
    environment per run (its ``env_id``) for training and one for evaluation, and the
    jittable functions that step them (``io_callback``; under ``vmap`` a callback runs once
    per run, one after another).

    Seeds: a run's training environments are seeded with ``env_id`` (environment ``i``
    with ``env_id + i``) when made; an evaluation resets its ``num_eval_envs`` environments
    with the seed it is given. Everything else comes from the emulators' own generators.
    """

    def __init__(self, game: str, protocol: AtariProtocol, num_envs: int, num_eval_envs: int):
        self.game, self.protocol = game, protocol
        self.num_envs, self.num_eval_envs = num_envs, num_eval_envs
        size, stack = protocol.screen_size, protocol.stack
        self.obs_shape = (stack, size, size)
        self._train: dict[int, object] = {}
        self._eval: dict[int, object] = {}

    def _shapes(self, n: int) -> AtariStep:
        obs = jax.ShapeDtypeStruct((n, *self.obs_shape), jnp.uint8)
        f32, i32, b = ((jax.ShapeDtypeStruct((n,), t) for t in
                        (jnp.float32, jnp.int32, jnp.bool_)))
        return AtariStep(obs, obs, f32, b, jax.ShapeDtypeStruct((n,), jnp.bool_), i32,
                         jax.ShapeDtypeStruct((), jnp.bool_))

    def _reset(self, envs: dict, env_id: int, seed: int, n: int, evaluation: bool) -> AtariStep:
        env = envs.get(env_id)
        if env is None:
            env = envs[env_id] = make_vector_env(self.game, self.protocol, n,
                                                 evaluation=evaluation)
        obs, info = env.reset(seed=int(seed) % 2**31)
        lives = info["lives"].astype(np.int32)
        zeros = np.zeros(n, np.float32)
        return AtariStep(obs, obs, zeros, zeros.astype(bool), zeros.astype(bool), lives,
                         np.bool_(True))

    def _step(self, envs: dict, env_id: int, actions: np.ndarray, n: int,
              evaluation: bool) -> AtariStep:
        env = envs.get(env_id)
        if env is None:  # a run resumed in a new process: its emulators start again
            return self._reset(envs, env_id, env_id, n, evaluation)
        obs, reward, terminated, truncated, info = env.step(np.asarray(actions, np.int32))
        done = terminated | truncated
        final = np.where(done[:, None, None, None], info["final_obs"], obs) if done.any() else obs
        return AtariStep(obs, final, reward.astype(np.float32), terminated, truncated,
                         info["lives"].astype(np.int32), np.bool_(False))

    def start(self, env_id: jax.Array) -> AtariStep:
        """(Re)make and reset run ``env_id``'s training environments; jittable."""
        return io_callback(lambda i: self._reset(self._train, int(i), int(i), self.num_envs,
                                                 False),
                           self._shapes(self.num_envs), env_id)

    def step(self, env_id: jax.Array, actions: jax.Array) -> AtariStep:
        """Step run ``env_id``'s training environments with ``actions`` int32
        ``[num_envs]``; jittable."""
        return io_callback(lambda i, a: self._step(self._train, int(i), a, self.num_envs, False),
                           self._shapes(self.num_envs), env_id, actions)

    def eval_reset(self, env_id: jax.Array, seed: jax.Array) -> AtariStep:
        """Reset run ``env_id``'s evaluation environments, seeded with ``seed``; jittable."""
        return io_callback(lambda i, s: self._reset(self._eval, int(i), int(s),
                                                    self.num_eval_envs, True),
                           self._shapes(self.num_eval_envs), env_id, seed)

    def eval_step(self, env_id: jax.Array, actions: jax.Array) -> AtariStep:
        """Step run ``env_id``'s evaluation environments; jittable."""
        return io_callback(lambda i, a: self._step(self._eval, int(i), a, self.num_eval_envs,
                                                   True),
                           self._shapes(self.num_eval_envs), env_id, actions)
