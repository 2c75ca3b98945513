"""Determinism, seed independence, divergence isolation and key hygiene, across the runner.

Every test in this module runs under ``jax.debug_key_reuse(True)``: a key used
twice anywhere in the traced programs (runner, prediction, DQN, replay,
evaluation) raises ``KeyReuseError`` while tracing.
"""

import functools
import importlib.util
import re
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rlfa import prediction, runner
from rlfa.control import dqn

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("_resume_worker", ROOT / "tests/_resume_worker.py")
worker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(worker)


@pytest.fixture(autouse=True)
def key_reuse_checked():
    with jax.debug_key_reuse(True):
        yield


def test_key_reuse_checker_is_live():
    def reuse(key):
        return jax.random.normal(key) + jax.random.normal(key)

    with pytest.raises(jax.errors.KeyReuseError):
        jax.jit(reuse)(jax.random.key(1))


def test_no_literal_keys_in_library_code():
    literal = re.compile(r"(PRNGKey|random\.key|\bkey)\(\s*\d+\s*\)")
    offenders = [f"{p.relative_to(ROOT)}:{i}: {line.strip()}"
                 for p in sorted((ROOT / "rlfa").rglob("*.py"))
                 for i, line in enumerate(p.read_text().splitlines(), 1) if literal.search(line)]
    assert offenders == []


# --- the linear agent: semi-gradient TD(0) on the 1000-state random walk -------------------


def run_linear(step_sizes=(0.1,), num_seeds=3, seed=0):
    hparams = runner.stack_hparams([prediction.PredictionHParams(a, 1.0) for a in step_sizes])
    return runner.run(worker.linear_program(), hparams, seed=seed, num_seeds=num_seeds,
                      num_logs=4, steps_per_log=3, logs_per_chunk=2, progress=False)


def assert_runs_equal(a: dict, b: dict):
    assert a.keys() == b.keys()
    for name, value in a.items():
        np.testing.assert_array_equal(value, b[name], err_msg=name)


def test_linear_same_seed_twice_is_identical_and_other_seeds_differ():
    first, second = (worker.flat_results(run_linear()) for _ in range(2))
    assert_runs_equal(first, second)
    other = worker.flat_results(run_linear(seed=1))
    assert not np.array_equal(first["metric/w"], other["metric/w"])
    values = first["metric/w"][0]  # [seed, log, 10]: seeds are not copies of each other
    assert len({v.tobytes() for v in values}) == values.shape[0]


@pytest.mark.slow
def test_linear_seed_k_alone_equals_seed_k_among_64():
    many = run_linear(num_seeds=64)
    for num_seeds in (1, 3):
        few = run_linear(num_seeds=num_seeds)
        for name, value in few.metrics.items():
            np.testing.assert_array_equal(value, many.metrics[name][:, :num_seeds], err_msg=name)
        np.testing.assert_array_equal(few.final.agent.w, many.final.agent.w[:, :num_seeds])


def test_tile_coded_seed_k_among_12_equals_seed_k_among_16():
    """n-step SARSA on tile coding sums 8 active features per value: XLA's CPU code for a
    vmapped batch computes the runs left over from its vector lanes another way, so the
    runner pads a device's batch to whole lanes; without it seeds 8-11 here differed."""
    from rlfa.book import mountain_car_figures as mc
    from rlfa.control.n_step_sarsa import NStepSarsaHParams

    program = mc.sarsa_program(mc.tile_features(), 3, max_episode_steps=2000, block_steps=64,
                               max_n=2)
    hparams = runner.stack_hparams([NStepSarsaHParams(1.7 / 8, 0.0, 1.0, 2.0)])
    few, many = (runner.run(program, hparams, seed=0, num_seeds=n, num_logs=10,
                            steps_per_log=10, num_devices=1, progress=False) for n in (12, 16))
    np.testing.assert_array_equal(few.final.lengths, many.final.lengths[:, :12])
    np.testing.assert_array_equal(few.final.agent.w, many.final.agent.w[:, :12])


def test_a_diverging_step_size_leaves_the_other_runs_untouched():
    clean = run_linear(step_sizes=(0.1,))
    poisoned = run_linear(step_sizes=(0.1, 1e4))
    assert (clean.diverged_at == -1).all()
    assert (poisoned.diverged_at[1] >= 0).all() and (poisoned.diverged_at[0] == -1).all()
    for name, value in clean.metrics.items():
        np.testing.assert_array_equal(poisoned.metrics[name][:1], value, err_msg=name)
    np.testing.assert_array_equal(poisoned.final.agent.w[:1], clean.final.agent.w)


# --- DQN with its replay buffer ------------------------------------------------------------

DQN_CONFIG = {"env": "CartPole-v1", "hidden": (8,), "num_envs": 2, "buffer_capacity": 32,
              "batch_size": 4, "warmup_steps": 8, "train_frequency": 2, "target_period": 4,
              "epsilon_decay_steps": 40, "num_eval_episodes": 0}


@functools.cache  # each call compiles; the clean two-seed run is shared by two tests
def run_dqn(num_seeds: int, learning_rates=(1e-3,)):
    config = dqn.DQNConfig(**DQN_CONFIG)
    built = dqn.make_program(config)
    hparams = runner.stack_hparams([config.hparams._replace(learning_rate=jnp.float32(lr))
                                    for lr in learning_rates])
    return runner.run(built.program, hparams, seed=5, num_seeds=num_seeds, num_logs=2,
                      steps_per_log=6, logs_per_chunk=1, progress=False)


def dqn_arrays(results, num_seeds: int) -> dict:
    flat = worker.flat_results(results)
    return {k: v[:, :num_seeds] for k, v in flat.items()}  # every array is [grid, seed, ...]


@pytest.mark.slow
def test_dqn_same_seed_twice_and_seed_k_alone_among_64():
    many = run_dqn(64)
    assert_runs_equal(dqn_arrays(run_dqn(2), 2), dqn_arrays(run_dqn.__wrapped__(2), 2))
    assert_runs_equal(dqn_arrays(run_dqn(2), 2), dqn_arrays(many, 2))
    params = jax.tree.leaves(many.final.agent)[0][0]  # first weight leaf, [seed, ...]
    assert not np.array_equal(params[0], params[1])


@pytest.mark.slow
def test_dqn_diverging_learning_rate_leaves_the_other_grid_point_untouched():
    clean = run_dqn(2)
    poisoned = run_dqn(2, learning_rates=(1e-3, 1e30))
    clean_arrays = dqn_arrays(clean, 2)
    poisoned_first = {k: v[:1] for k, v in dqn_arrays(poisoned, 2).items()}
    assert_runs_equal(poisoned_first, clean_arrays)
