"""benchmarks.atari: its cases, CleanRL's matched flags, and the quick run (checked on
tests/test_cli.py's run as a user types it)."""

import json

import pytest

from benchmarks import atari as bench


def check_quick_run_measures_rlfa_only(path):
    summary = json.loads((path / "summary.json").read_text())
    (case,) = summary["cases"]
    assert case["impl"] == "rlfa" and case["frames_per_s"] > 0
    assert summary["analysis"]["goals"]["speedup"] is None
    profile = summary["analysis"]["profile"]
    assert profile["bare_update_us"] > 0 and profile["bare_update_xla_conv_us"] > 0
    assert summary["analysis"]["emulators_steps_per_s"]["ale_py_steps_per_s"] > 0


def test_cases_interleave_rlfa_and_cleanrl_at_matched_settings(tmp_path):
    for name in ("python", "dqn_atari_jax.py"):
        (tmp_path / name).write_text("")
    config = bench.BenchmarkConfig(cleanrl_python=str(tmp_path / "python"),
                                   cleanrl_script=str(tmp_path / "dqn_atari_jax.py"))
    rounds, profile = bench.cases(config)
    assert [[bench.label(c) for c in r] for r in rounds] == [["cleanrl", "rlfa", "rlfa fast"]] * 2
    assert [c["isa"] for c in rounds[0][1:]] == ["capped", "fast"]
    assert [bench.label(c) for c in profile] == ["rlfa no_update", "rlfa bare", "rlfa env",
                                                "rlfa memory"]
    assert profile[-1]["buffer_size"] == 1_000_000
    cleanrl, rlfa, _ = rounds[0]
    for key in ("game", "learning_steps", "learning_starts", "buffer_size"):
        assert cleanrl[key] == rlfa[key]
    dqn = bench.agent_config(rlfa)
    assert (dqn.buffer_capacity, dqn.warmup_steps, dqn.batch_size, dqn.train_frequency,
            dqn.num_eval_episodes) == (100_000, 5_000, 32, 4, 0)


@pytest.mark.parametrize("kwargs, message", [
    (dict(game="Pongg"), r"game='Pongg' is invalid"),
    (dict(learning_steps=1_002), r"learning_steps=1002 is invalid: must be a multiple of 4"),
    (dict(cleanrl_python="/nonexistent/python"), r"cleanrl_python and cleanrl_script"),
])
def test_bad_settings_name_the_field(kwargs, message):
    with pytest.raises(ValueError, match=message):
        bench.BenchmarkConfig(**kwargs)
