"""benchmarks.minatar: the cases it interleaves, its ratios and estimates, the PyTorch driver.

The ``--quick`` run itself is run once, by tests/test_cli.py, which calls
:func:`check_quick_run_measures_rlfa_only` on its results.
"""

import csv
import json
import os
import sys
import textwrap
from pathlib import Path

import pytest

from benchmarks import minatar as bench


@pytest.fixture
def torch_files(tmp_path):
    python, script = tmp_path / "python", tmp_path / "dqn.py"
    python.write_text("")
    script.write_text("")
    return str(python), str(script)


def test_default_cases_interleave_rlfa_and_pytorch(torch_files):
    python, script = torch_files
    config = bench.BenchmarkConfig(torch_python=python, torch_script=script, torch_threads=(1, 2))
    rounds, profile = bench.cases(config)
    assert len(rounds) == 3
    for r, cases in enumerate(rounds):
        assert [bench.label(c) for c in cases] == [
            "pytorch 1 thread", "rlfa 1 seed capped", "pytorch 2 threads", "rlfa 8 seeds capped",
            "rlfa 1 seed fast", "rlfa 8 seeds fast", "rlfa 1 seed capped bare"]
        assert {c["round"] for c in cases} == {r}
        assert all(c["learning_frames"] == 12_000 and c["chunks"] == 3 for c in cases)
    torch = rounds[0][0]
    assert (torch["python"], torch["script"], torch["warmup_frames"]) == (python, script, 5000)
    assert [(c["mode"], c["seeds"], c["isa"]) for c in profile] == [
        ("no_update", 1, "capped"), ("act", 1, "capped"),
        ("no_update", 8, "capped"), ("act", 8, "capped")]
    rounds, profile = bench.cases(bench.BenchmarkConfig(profile=()))
    assert profile == [] and all(c["mode"] == "train" for c in rounds[0])
    # Without the PyTorch side: rlfa only, in the same order.
    rounds, _ = bench.cases(bench.BenchmarkConfig(repeats=1, profile=(8,)))
    assert [bench.label(c) for c in rounds[0]] == [
        "rlfa 1 seed capped", "rlfa 8 seeds capped", "rlfa 1 seed fast", "rlfa 8 seeds fast"]


def test_the_frame_over_its_bare_update_is_a_paired_median():
    # Round 0: 1000 / 800 us, round 1: 1500 / 1000 (a load in both), round 2: 900 / 1000.
    rows = [row("rlfa", 1e6 / us, k) for k, us in enumerate((1000, 1500, 900))]
    rows += [dict(impl="rlfa", mode="bare", seeds=1, isa="capped", round=k, us_per_frame=us)
             for k, us in enumerate((800.0, 1000.0, 1000.0))]
    out = bench.analyse(rows, [])
    assert out["frame_over_update"] == pytest.approx(1.25)
    goals = out["goals"]
    assert goals["frame_over_update_goal"] == 1.15 and goals["frame_over_update_met"] is False
    assert out["profile"] == {}  # no loop variants timed: no shares
    assert bench.analyse(rows[:3], [])["goals"]["frame_over_update_met"] is None


def test_the_agent_is_the_papers_without_greedy_evaluation():
    dqn = bench.agent_config("Breakout", quick=False)
    assert dqn.env == "Breakout-MinAtar-paper" and dqn.network == "cnn"
    assert (dqn.batch_size, dqn.buffer_capacity, dqn.warmup_steps) == (32, 100_000, 5_000)
    assert (dqn.train_frequency, dqn.gradient_steps, dqn.target_period) == (1, 1, 1_000)
    assert dqn.optimizer == "centered_rmsprop" and dqn.num_eval_episodes == 0


def test_bad_config(tmp_path, torch_files):
    python, _ = torch_files
    for kwargs, words in ((dict(game="Pong"), "game='Pong'"), (dict(isa=("avx512",)), "isa="),
                          (dict(chunks=1), "chunks=1"), (dict(seeds=(0,)), "seeds=0"),
                          (dict(learning_frames=1001, chunks=5), "learning_frames=1001"),
                          (dict(torch_python=python), "give both"),
                          (dict(torch_python=python, torch_script=str(tmp_path / "none.py")),
                           "torch_script=.*no such file")):
        with pytest.raises(ValueError, match=words):
            bench.BenchmarkConfig(**kwargs)


def row(impl, fps, round_, seeds=1, isa="capped", **extra):
    common = dict(impl=impl, mode="train", round=round_, frames_per_s=fps, us_per_frame=1e6 / fps)
    if impl == "pytorch":
        return dict(common, threads=1, seeds=1, **extra)
    return dict(common, seeds=seeds, isa=isa, **extra)


def test_ratios_are_paired_within_rounds_then_medians():
    rows = [row("pytorch", 100.0, 0), row("rlfa", 300.0, 0), row("rlfa", 60.0, 0, seeds=8),
            row("pytorch", 50.0, 1), row("rlfa", 250.0, 1), row("rlfa", 50.0, 1, seeds=8),
            row("pytorch", 80.0, 2), row("rlfa", 120.0, 2), row("rlfa", 30.0, 2, seeds=8)]
    out = bench.analyse(rows, [])
    fps = out["per_seed_frames_per_s"]
    assert fps["rlfa 1 seed capped"] == {"median": 250.0, "min": 120.0, "max": 300.0, "n": 3}
    # Same-round ratios 3, 5 and 1.5: their median, not the ratio of medians (250 / 80).
    assert out["speedup_over_pytorch"]["rlfa 1 seed capped / pytorch 1 thread"] == 3.0
    assert out["speedup_over_pytorch"]["rlfa 8 seeds capped / pytorch 1 thread"] == 0.6
    # 8 seeds' time for the same frames over one seed's: 300/60, 250/50, 120/30.
    assert out["seeds_time_ratio"] == {"rlfa 8 seeds capped / rlfa 1 seed capped": 5.0}
    goals = out["goals"]
    assert goals["speedup_vs_fastest_pytorch"] == {"capped": 3.0, "fast": None}
    assert goals["speedup_met"] == {"capped": True}
    assert goals["seeds_8_time_ratio"] == {"capped": 5.0} and goals["seeds_8_met"] == {
        "capped": False}


def test_without_pytorch_the_goals_are_not_judged():
    out = bench.analyse([row("rlfa", 300.0, 0)], [])
    assert out["speedup_over_pytorch"] == {} and out["goals"]["speedup_met"] is None
    assert out["goals"]["seeds_8_met"] is None


def test_profile_shares_subtract_the_loop_variants():
    # 4000 us per frame at 1 seed (median of 3 rounds), 20000 at 8 seeds.
    trains = [row("rlfa", 1e6 / us, k) for k, us in enumerate((3000, 4000, 9000))]
    trains.append(row("rlfa", 50.0, 0, seeds=8))
    profile = [dict(impl="rlfa", mode="no_update", seeds=1, us_per_frame=1000.0),
               dict(impl="rlfa", mode="act", seeds=1, us_per_frame=400.0),
               dict(impl="rlfa", mode="bare", seeds=1, us_per_frame=2800.0),
               dict(impl="rlfa", mode="no_update", seeds=8, us_per_frame=15000.0),
               dict(impl="rlfa", mode="act", seeds=8, us_per_frame=1000.0)]
    out = bench.profile_shares(trains, profile)
    share = out["rlfa 1 seed capped"]["share_of_frame"]
    assert share["gradient update (from the loop)"] == pytest.approx(0.75)
    assert share["bare update alone"] == pytest.approx(0.7)
    assert share["replay writes + sampling"] == pytest.approx(0.15)
    assert share["acting (forward pass) + env step"] == pytest.approx(0.1)
    share = out["rlfa 8 seeds capped"]["share_of_frame"]
    assert share["replay writes + sampling"] == pytest.approx(0.7)
    assert "bare update alone" not in share


def test_estimates_of_the_full_protocol():
    analysis = {"per_seed_frames_per_s": {
        "rlfa 1 seed capped": {"median": 999.0}, "rlfa 8 seeds capped": {"median": 333.0},
        "pytorch 1 thread": {"median": 111.0}}}
    hours = bench.estimates(analysis, warmup=5_000)["hours"]
    frames = 4_995_000  # 5M less the random warm-up frames
    assert hours["rlfa capped"]["1"] == pytest.approx(frames / 999 / 3600)
    assert hours["rlfa capped"]["8"] == pytest.approx(frames / 333 / 3600)
    assert hours["rlfa capped"]["64"] == pytest.approx(8 * frames / 333 / 3600)
    cores = os.cpu_count()
    assert hours["pytorch 1 thread"]["8"] == pytest.approx(frames / 111 / 3600 * -(-8 // cores))
    assert "rlfa fast" not in hours


FAKE_SCRIPT = """
import time
REPLAY_START_SIZE, NUM_FRAMES = 5000, 5000000
def train(*args):
    time.sleep(0.001)
def dqn(env, replay_off, target_off, output_file_name):
    assert env.game == "space_invaders" and not replay_off and not target_off
    for t in range(NUM_FRAMES):  # as the original: learning once t > REPLAY_START_SIZE
        if t > REPLAY_START_SIZE + {extra}:
            train()
"""


def fake_torch(tmp_path: Path, extra: int) -> tuple[Path, dict]:
    """A script with the original's frame loop, and stand-ins for torch and minatar."""
    (tmp_path / "torch.py").write_text(
        "__version__ = 'fake'\n_n = [0]\ndef set_num_threads(n): _n[0] = n\n"
        "def get_num_threads(): return _n[0]\ndef manual_seed(s): pass\n")
    (tmp_path / "minatar.py").write_text(
        "class Environment:\n    def __init__(self, game): self.game = game\n")
    script = tmp_path / "dqn.py"
    script.write_text(textwrap.dedent(FAKE_SCRIPT).replace("{extra}", str(extra)))
    env = {"PYTHONPATH": str(tmp_path)}
    return script, env


def torch_case(script) -> dict:
    return dict(impl="pytorch", mode="train", game="SpaceInvaders", python=sys.executable,
                script=str(script), threads=3, seed=0, warmup_frames=40, learning_frames=50,
                chunks=5, round=0)


def test_torch_driver_times_exactly_the_learning_frames(tmp_path, monkeypatch):
    script, env = fake_torch(tmp_path, extra=0)
    monkeypatch.setenv("PYTHONPATH", env["PYTHONPATH"])
    got = bench.run_torch(torch_case(script))
    # 50 updates (one per learning frame), the first of 5 chunks dropped from the rate.
    assert got["updates"] == 50 and got["timed_frames"] == 40 and got["torch_threads"] == 3
    assert got["frames_per_s"] == pytest.approx(40 / got["learning_s"])
    assert got["frames_per_s"] < 1000  # each update sleeps 1 ms


def test_torch_driver_refuses_a_changed_frame_loop(tmp_path, monkeypatch):
    script, env = fake_torch(tmp_path, extra=3)  # learning starts 3 frames later
    monkeypatch.setenv("PYTHONPATH", env["PYTHONPATH"])
    with pytest.raises(RuntimeError, match="made 47 updates, expected 50"):
        bench.run_torch(torch_case(script))
    script.write_text("raise SystemExit(3)\n")
    with pytest.raises(RuntimeError, match="exit 3"):
        bench.run_torch(torch_case(script))


def check_quick_run_measures_rlfa_only(path: Path) -> None:
    """tests/test_cli.py's ``--quick`` run: one rlfa case, PyTorch said not to be measured."""
    summary = json.loads((path / "summary.json").read_text())
    (case,) = summary["cases"]
    assert (case["impl"], case["seeds"], case["mode"]) == ("rlfa", 1, "train")
    assert case["timed_frames"] == 10 and case["frames_per_s"] > 0 and case["compile_and_warmup_s"] > 0
    assert summary["pytorch"].startswith("not measured")
    assert summary["analysis"]["goals"]["speedup_met"] is None
    assert summary["agent"]["batch_size"] == 32 and summary["agent"]["num_eval_episodes"] == 0
    assert "1" in summary["estimates"]["hours"][f"rlfa {case['isa']}"]
    with open(path / "metrics.csv") as f:
        (csv_row,) = csv.DictReader(f)
    assert csv_row["case"] == f"rlfa 1 seed {case['isa']}" and float(csv_row["learning_s"]) > 0
