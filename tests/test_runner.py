"""The runner: seeds, sweeps, sharding, divergence flags, chunking."""

import os
import subprocess
import sys
import textwrap

import jax.numpy as jnp
import numpy as np
import pytest

from rlfa import prediction, runner
from rlfa.envs import random_walk as rw
from rlfa.features.state_aggregation import state_aggregation
from rlfa.types import Program

PARAMS = rw.EnvParams(num_states=20, start_state=10, max_jump=3)


def _program(trace_counter=None):
    fm = state_aggregation(20, 5)
    agent = prediction.semi_gradient_td0(fm)
    program = prediction.episodic_prediction(
        rw.dynamics(PARAMS), agent, monte_carlo=False, max_episode_steps=100,
        log=lambda s: {"w": s.w}, obs_example=jnp.zeros((1,), jnp.float32))
    if trace_counter is not None:
        step = program.step

        def counted(carry, hp):
            trace_counter.append(1)  # runs once per trace, not per step
            return step(carry, hp)

        program = program._replace(step=counted)
    return program


def _hp(*step_sizes):
    return runner.stack_hparams([prediction.PredictionHParams(a, 1.0) for a in step_sizes])


def _run(hp, num_seeds, **kw):
    kw = {"seed": 7, "num_logs": 4, "steps_per_log": 25, "progress": False, **kw}
    return runner.run(_program(), hp, num_seeds=num_seeds, **kw)


def test_results_layout_and_counts():
    res = _run(_hp(0.1, 0.2), num_seeds=3)
    assert res.metrics["w"].shape == (2, 3, 4, 4)
    np.testing.assert_array_equal(res.metrics["episodes"][0, 0], [25, 50, 75, 100])
    assert res.diverged_at.shape == (2, 3) and (res.diverged_at == -1).all()
    assert res.final.agent.w.shape == (2, 3, 4)


def test_same_seed_twice_is_identical_and_seeds_differ():
    a, b = _run(_hp(0.1), 4), _run(_hp(0.1), 4)
    np.testing.assert_array_equal(a.metrics["w"], b.metrics["w"])
    w = a.metrics["w"][0, :, -1]
    assert all(not np.array_equal(w[i], w[j]) for i in range(4) for j in range(i + 1, 4))
    assert not np.array_equal(_run(_hp(0.1), 4, seed=8).metrics["w"], a.metrics["w"])


def test_seed_k_is_identical_alone_and_among_64():
    among = _run(_hp(0.1), 64).metrics["w"][0]
    for k in (0, 5, 63):
        alone = _run(_hp(0.1), k + 1).metrics["w"][0, k]  # seed k is the last of k + 1
        np.testing.assert_array_equal(alone, among[k])


def test_a_sweep_of_8_step_sizes_compiles_once_and_matches_solo_runs():
    traces = []
    alphas = [0.01 * 2**i for i in range(8)]
    sweep = runner.run(_program(traces), _hp(*alphas), seed=7, num_seeds=2, num_logs=4,
                       steps_per_log=25, progress=False)
    assert len(traces) == 1
    for g in (0, 3, 7):
        solo = _run(_hp(alphas[g]), 2)
        np.testing.assert_array_equal(sweep.metrics["w"][g], solo.metrics["w"][0])


def test_chunking_does_not_change_results():
    a = _run(_hp(0.1), 2, logs_per_chunk=1)
    b = _run(_hp(0.1), 2, logs_per_chunk=4)
    np.testing.assert_array_equal(a.metrics["w"], b.metrics["w"])


def test_divergence_is_flagged_per_run_and_leaves_other_runs_alone():
    res = _run(_hp(0.1, 50.0), 2, divergence_bound=5.0)
    assert (res.diverged_at[0] == -1).all() and (res.diverged_at[1] >= 0).all()
    clean = _run(_hp(0.1), 2)
    np.testing.assert_array_equal(res.metrics["w"][0], clean.metrics["w"][0])


@pytest.mark.parametrize("kwargs, field", [
    ({"num_seeds": 0}, "num_seeds"), ({"num_logs": -1}, "num_logs"),
    ({"steps_per_log": 0}, "steps_per_log"), ({"num_devices": 99}, "num_devices"),
])
def test_bad_arguments_name_the_field(kwargs, field):
    args = {"seed": 0, "num_seeds": 1, "num_logs": 1, "steps_per_log": 1, **kwargs}
    with pytest.raises(ValueError, match=field):
        runner.run(_program(), _hp(0.1), **args)


def test_empty_grid_is_refused():
    with pytest.raises(ValueError, match="empty"):
        runner.stack_hparams([])


SHARDED = textwrap.dedent("""
    import numpy as np, jax
    from rlfa import runner
    import tests.test_runner as t
    assert jax.local_device_count() == 4
    hp = t._hp(0.05, 0.1, 0.2)
    sharded = t._run(hp, 5)              # 15 runs padded to 16 over 4 devices
    single = t._run(hp, 5, num_devices=1)
    assert sharded.num_devices == 4 and single.num_devices == 1
    np.testing.assert_array_equal(sharded.metrics["w"], single.metrics["w"])
    np.testing.assert_array_equal(sharded.final.agent.w, single.final.agent.w)
    print("OK")
""")


@pytest.mark.slow
def test_sharded_over_4_devices_equals_unsharded():
    env = dict(os.environ)
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") +
                        " --xla_force_host_platform_device_count=4")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", SHARDED], env=env, cwd=root,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "OK" in out.stdout, out.stderr[-3000:]


@pytest.mark.parametrize("job_choice, option, expected", [
    (True, None, True), (False, None, False), (False, True, True), (True, False, False)])
def test_a_study_job_runs_vectorized_as_it_chose_unless_the_option_says(
        job_choice, option, expected, monkeypatch):
    from typing import NamedTuple

    from rlfa import study

    class HParams(NamedTuple):
        step_size: float

    seen = {}
    monkeypatch.setattr(runner, "run", lambda *args, **kwargs: seen.update(kwargs))
    job = study.Job("job", None, [HParams(0.1)], num_seeds=1, num_logs=1, steps_per_log=1,
                    vectorize=job_choice)
    study.run_job(job, study.StudyOptions(vectorize=option))
    assert seen["vectorize"] is expected


def test_x64_runs_one_call_in_float64_with_the_hyperparameters_exact():
    """A Program whose floats are the mode's: x64=True makes them float64 for that call."""
    program = Program(lambda key, hp: jnp.zeros(()), lambda c, hp: c + hp.step_size,
                      lambda c, hp: {"c": c, "alpha": hp.step_size})
    hp = prediction.PredictionHParams(0.1, 1.0)
    float32 = runner.run(program, runner.stack_hparams([hp]), seed=0, num_seeds=1, num_logs=1,
                         steps_per_log=3, progress=False)
    float64 = runner.run(program, runner.stack_hparams([hp], np.float64), seed=0, num_seeds=1,
                         num_logs=1, steps_per_log=3, progress=False, x64=True)
    assert float32.metrics["c"].dtype == np.float32 and float64.metrics["c"].dtype == np.float64
    assert float64.metrics["alpha"][0, 0, 0] == 0.1  # not float32's 0.10000000149
    assert float64.metrics["c"][0, 0, 0] == 0.1 + 0.1 + 0.1
    assert float32.metrics["c"][0, 0, 0] == np.float32(0.1) + np.float32(0.1) + np.float32(0.1)
    assert jnp.zeros(()).dtype == jnp.float32  # the mode is back as it was


def test_each_run_compiles_jax_random_s_hash_as_its_threefry_option_says(monkeypatch):
    """One program run with each lowering in one process: each compiled chunk has the
    hash's loops or not, whatever was compiled before it, and the numbers are the same."""
    chunks, lower = {}, runner._lower

    def spy(jitted, lowering, *args):  # compiles init, the chunk, then `finished` if any
        lowered = lower(jitted, lowering, *args)
        chunks.setdefault(threefry, []).append(lowered.compile().as_text().count(" while("))
        return lowered

    monkeypatch.setattr(runner, "_lower", spy)
    results = {}
    for threefry in ("rolled", "unrolled", "rolled"):
        results[threefry] = _run(_hp(0.1), 3, threefry=threefry).metrics["w"]
        np.testing.assert_array_equal(results[threefry], results["rolled"])
    rolled, unrolled = chunks["rolled"], chunks["unrolled"]  # loops per compiled function
    assert rolled == rolled[:len(unrolled)] * 2  # the second rolled run compiled as the first
    assert all(r >= u for r, u in zip(rolled, unrolled))
    assert rolled[1] > unrolled[1]  # the chunk: the hash's loop in the episode's draws
    with pytest.raises(ValueError, match="threefry"):
        _run(_hp(0.1), 1, threefry="fast")


def test_a_study_job_s_threefry_reaches_the_runner_and_the_random_walk_figures_choose(
        monkeypatch):
    from experiments import random_walk as rw_exp
    from rlfa import study

    seen = []
    monkeypatch.setattr(runner, "run", lambda *args, **kwargs: seen.append(kwargs["threefry"]))
    config = rw_exp.RandomWalkConfig(quick=True)
    jobs = {job.name: job for job in rw_exp.jobs(config)}
    for job in jobs.values():
        study.run_job(job, config)
    assert seen == [job.threefry for job in jobs.values()]
    assert {name.split()[1]: job.threefry for name, job in jobs.items()} == \
        {"9.1": "unrolled", "9.2": "unrolled", "9.5": "rolled", "9.10": "unrolled"}


PEAK_SCRIPT = r"""
import resource
import jax.numpy as jnp
from rlfa import runner
from rlfa.types import Program
N = 64 * 2**20  # 256 MB of float32 per run
program = Program(init=lambda key, hp: {"big": jnp.zeros(N), "t": jnp.int32(0)},
                  step=lambda c, hp: {"big": c["big"].at[c["t"] % N].add(hp), "t": c["t"] + 1},
                  log=lambda c, hp: {"x": c["big"][:4].sum()})
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
res = runner.run(program, runner.stack_hparams([1.0]), seed=0, num_seeds=3, num_logs=4,
                 steps_per_log=5, logs_per_chunk=1, num_devices=1, vectorize=False,
                 progress=False)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((peak - base) / 1024 / 768, float(res.metrics["x"][..., -1].sum()))
"""


def test_runs_one_after_another_update_their_carries_in_place():
    """Three runs of a 256 MB carry, one after another on one device: the chunk writes each
    run's carry back where it was read, so the peak is the carries and one run in flight
    (1.5x; lax.map, holding its inputs and outputs, peaked at 2.5x)."""
    out = subprocess.run([sys.executable, "-c", PEAK_SCRIPT], capture_output=True, text=True,
                         timeout=300, check=True).stdout.split()
    assert float(out[1]) == 3 * 4.0  # each run's first 4 entries reached 1 each
    assert float(out[0]) < 1.8
