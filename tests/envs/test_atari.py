"""rlfa.envs.atari: ale-py's preprocessing frame by frame against gymnasium's
AtariPreprocessing + FrameStackObservation on the same ALE, both protocols' flags, sticky
actions, the no-op start distribution, life loss and reward clipping in the training
program, and one-line errors."""

import gymnasium as gym
import jax
import numpy as np
import pytest

from rlfa.control.dqn import atari as nature
from rlfa.envs import atari


def reference_env(game: str, noop_max: int = 0):
    """gymnasium's Atari preprocessing on a frame-skip-1, non-sticky ALE game, stacked with
    zeros before the first frame (as ale-py stacks)."""
    import ale_py

    gym.register_envs(ale_py)
    env = gym.make(f"ALE/{game}-v5", frameskip=1, repeat_action_probability=0.0)
    env = gym.wrappers.AtariPreprocessing(env, noop_max=noop_max, frame_skip=4, screen_size=84,
                                          terminal_on_life_loss=False, grayscale_obs=True)
    return gym.wrappers.FrameStackObservation(env, 4, padding_type="zero")


@pytest.mark.parametrize("game, steps", [("Breakout", 400), ("Pong", 400),
                                         ("SpaceInvaders", 600)])
def test_frames_rewards_ends_and_lives_match_gymnasium_frame_by_frame(game, steps):
    protocol = atari.AtariProtocol(noop_max=0)  # no-op counts come from different generators
    ours, theirs = atari.make_vector_env(game, protocol, 1, evaluation=False), reference_env(game)
    obs, info = ours.reset(seed=7)
    ref_obs, ref_info = theirs.reset(seed=7)
    np.testing.assert_array_equal(obs[0], ref_obs)
    assert info["lives"][0] == ref_info["lives"]
    rng = np.random.default_rng(0)
    for t in range(steps):
        action = int(rng.integers(ours.single_action_space.n))
        obs, reward, terminated, truncated, info = ours.step(np.array([action], np.int32))
        ref_obs, ref_reward, ref_terminated, ref_truncated, ref_info = theirs.step(action)
        done = terminated[0] or truncated[0]
        np.testing.assert_array_equal(info["final_obs"][0] if done else obs[0], ref_obs,
                                      err_msg=f"{game}, step {t}")
        assert (reward[0], terminated[0], truncated[0]) == (ref_reward, ref_terminated,
                                                            ref_truncated), (game, t)
        if done:  # ale-py then reports the new game's lives
            break
        assert info["lives"][0] == ref_info["lives"], (game, t)
    assert t >= 100


def test_the_protocols_actions_and_flags():
    assert atari.num_actions("Breakout", atari.NATURE) == 4
    assert atari.num_actions("Pong", atari.NATURE) == 6
    assert atari.num_actions("Breakout", atari.MACHADO) == 18
    assert (atari.NATURE.sticky_action_prob, atari.NATURE.noop_max) == (0.0, 30)
    assert atari.NATURE.life_loss_ends_episode and not atari.MACHADO.life_loss_ends_episode
    assert (atari.MACHADO.sticky_action_prob, atari.MACHADO.noop_max) == (0.25, 0)
    assert atari.NATURE.eval_max_steps == 4_500 and atari.NATURE.eval_epsilon == 0.05
    assert atari.env_name("SpaceInvaders", "machado") == "SpaceInvaders-Atari-machado"
    assert atari.parse("Pong-Atari-nature") == ("Pong", "nature")


def test_sticky_actions_repeat_the_previous_action():
    """With probability 1 every chosen action is replaced by the previous one, from the
    no-op a game starts with: random actions play exactly as no-ops do."""
    always = atari.make_vector_env("Breakout", atari.AtariProtocol(
        noop_max=0, sticky_action_prob=1.0), 1, evaluation=False)
    never = atari.make_vector_env("Breakout", atari.AtariProtocol(noop_max=0), 1,
                                  evaluation=False)
    always.reset(seed=0), never.reset(seed=0)
    rng = np.random.default_rng(1)
    for _ in range(60):
        sticky = always.step(np.array([rng.integers(1, 4)], np.int32))[0]
        noop = never.step(np.array([0], np.int32))[0]
        np.testing.assert_array_equal(sticky, noop)
    moved = never.step(np.array([3], np.int32))[0]  # LEFT moves the paddle
    assert not np.array_equal(moved, always.step(np.array([3], np.int32))[0])


@pytest.mark.slow  # 60 resets of 8 games
def test_no_op_starts_are_uniform_over_ale_pys_range():
    env = atari.make_vector_env("Pong", atari.NATURE, 8, evaluation=False)
    counts = np.concatenate([env.reset(seed=1_000 * s)[1]["episode_frame_number"]
                             for s in range(60)])
    assert counts.min() == 0 and counts.max() == atari.NATURE.noop_max - 1
    histogram = np.bincount(counts, minlength=30)
    assert np.all(histogram > 0)
    # 480 draws over 30 values: chi-square with 29 degrees of freedom, p > 0.001
    expected = len(counts) / 30
    assert ((histogram - expected) ** 2 / expected).sum() < 58.3
    assert atari.make_vector_env("Pong", atari.MACHADO, 2, evaluation=False).reset(
        seed=3)[1]["episode_frame_number"].tolist() == [0, 0]


def warmed_up(game: str, protocol: str, steps: int):
    """The training program's carry after ``steps`` random warm-up steps."""
    config = nature.nature_config(game, protocol, buffer_capacity=steps + 200,
                                  warmup_steps=steps, num_eval_episodes=1)
    program = nature.make_program(config).program
    return jax.jit(program.init)(jax.random.key(0), config.hparams)


@pytest.mark.slow  # 2 x 1,500 emulator steps in a compiled warm-up
def test_a_lost_life_ends_a_training_episode_only_under_the_nature_protocol():
    for protocol in ("nature", "machado"):
        carry = warmed_up("Breakout", protocol, 1_500)
        replay = carry.replay
        n = int(replay.count[0])
        terminated = np.asarray(replay.terminated[0, :n])
        final = np.asarray(replay.final[0, :n])
        games_over = final.sum()
        assert games_over >= 2 and int(carry.episodes) == games_over
        if protocol == "nature":  # five lives a game: a termination at each lost life
            assert terminated.sum() >= 5 * games_over
        else:
            assert terminated.sum() == games_over


@pytest.mark.slow  # a compiled warm-up of 800 emulator steps
def test_rewards_are_clipped_for_learning_and_scores_are_the_games():
    carry = warmed_up("SpaceInvaders", "nature", 800)
    n = int(carry.replay.count[0])
    rewards = np.asarray(carry.replay.reward[0, :n])
    assert rewards.max() == 1.0 and set(np.unique(rewards)) <= {0.0, 1.0}
    scores = np.concatenate([np.asarray(carry.last_return), np.asarray(carry.episode_return)])
    assert np.nanmax(scores) >= 5.0  # an alien is worth 5 to 30 points


@pytest.mark.parametrize("call, message", [
    (lambda: atari.check_game("Breakouts"), r"game='Breakouts' is invalid"),
    (lambda: atari.AtariProtocol(frame_skip=0), r"frame_skip=0 is invalid"),
    (lambda: atari.AtariProtocol(stack=0), r"stack=0 is invalid"),
    (lambda: atari.env_name("Pong", "dopamine"), r"protocol='dopamine' is invalid"),
    (lambda: nature.nature_config("Pong", network="mlp"), r"network='mlp' is invalid"),
    (lambda: nature.nature_config("Pong", network="cnn"), r"network='cnn' is invalid"),
])
def test_bad_input_is_one_line_naming_the_field(call, message):
    with pytest.raises(ValueError, match=message) as error:
        call()
    assert "\n" not in str(error.value)
