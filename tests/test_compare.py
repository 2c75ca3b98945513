"""``python -m rlfa compare``: comparisons of saved runs (rlfa.compare).

Fake run directories hold a ``summary.json`` whose headlines come from
``rlfa.stats.headline`` on synthetic per-seed scores, so these tests train
nothing (but the last, which compares two real quick DQN runs).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rlfa import compare, files, stats

REPS = 500  # enough for stable 95% intervals on 16 seeds, and fast


def fake_run(root: Path, experiment: str, name: str, headlines: dict, config=None) -> Path:
    """``root/runs/<experiment>/<name>/`` with a summary of ``headlines``: label ->
    ``(task, metric, higher_is_better, per-seed scores)``."""
    path = root / "runs" / experiment / name
    path.mkdir(parents=True)
    heads = {label: stats.headline(metric, scores, higher_is_better=higher, task=task, reps=100)
             for label, (task, metric, higher, scores) in headlines.items()}
    files.write_json(path / "summary.json", {"headlines": heads, "other": 1})
    files.write_json(path / "config.json", config if config is not None else {"seed": 0})
    return path


def normal(mean: float, std: float, n: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(mean, std, n)


def one_pair(result: dict) -> dict:
    (block,) = result["improvement"]
    (pair,) = block["pairs"]
    return pair


def run_cli(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m rlfa ARGS`` as a user types it, from ``cwd``."""
    return subprocess.run([sys.executable, "-m", "rlfa", *args], check=False, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "MPLBACKEND": "Agg"})


def failure(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"


def results_dir(stdout: str) -> Path:
    found = re.findall(r"^results: (.+)$", stdout, flags=re.MULTILINE)
    assert len(found) == 1, stdout[-3000:]
    return Path(found[0])


@pytest.mark.parametrize("higher", [True, False])
def test_a_clearly_better_config_improves_with_probability_near_one(tmp_path, higher):
    sign = 1.0 if higher else -1.0  # lower is better: the better run has the lower scores
    good = fake_run(tmp_path, "dqn", "good", {"CartPole-v1: DQN": (
        "CartPole-v1", "score", higher, sign * normal(100, 5, seed=1))})
    bad = fake_run(tmp_path, "dqn", "bad", {"CartPole-v1: DQN": (
        "CartPole-v1", "score", higher, sign * normal(50, 5, seed=2))})
    result = compare.compare([good, bad], reps=REPS, seed=0)
    pair = one_pair(result)
    assert (pair["first"], pair["second"]) == ("good/CartPole-v1: DQN", "bad/CartPole-v1: DQN")
    assert pair["value"] > 0.95 and pair["ci95"][0] > 0.8, pair
    reverse = result["improvement"][0]["matrix"][1][0]  # P(bad improves on good)
    assert reverse["value"] < 0.05 and reverse["ci95"][1] < 0.2, reverse
    worse_first = one_pair(compare.compare([bad, good], reps=REPS, seed=0))
    assert worse_first["value"] < 0.05 and worse_first["ci95"][1] < 0.2, worse_first
    assert [e["entry"] for e in result["entries"]] == [pair["first"], pair["second"]]
    assert result["aggregate"] is None  # one task
    assert result["config_differences"] == {}


def test_identical_distributions_improve_with_probability_one_half(tmp_path):
    scores = normal(100, 5)
    runs = [fake_run(tmp_path, "dqn", name, {"CartPole-v1: DQN": (
        "CartPole-v1", "final greedy return", True, scores)}, {"seed": i})
        for i, name in enumerate(("a", "b"))]
    result = compare.compare(runs, reps=REPS, seed=0)
    pair = one_pair(result)
    assert abs(pair["value"] - 0.5) < 0.05, pair
    assert pair["ci95"][0] < 0.5 < pair["ci95"][1], pair
    assert result["config_differences"] == {"seed": [0, 1]}
    table = {row["entry"]: row for row in result["entries"]}
    stored = stats.headline("final greedy return", scores, higher_is_better=True,
                            task="CartPole-v1", reps=100)
    assert table["a/CartPole-v1: DQN"]["iqm"] == pytest.approx(stored["iqm"]["value"])
    assert table["a/CartPole-v1: DQN"]["n"] == 16


def ladder_like(tmp_path: Path, name: str = "ladder") -> Path:
    """Two tasks (one lower-is-better) x two methods, "good" clearly better than "weak"."""
    heads = {}
    for t, (task, metric, higher, sign) in enumerate((("CartPole-v1", "return", True, 1.0),
                                                      ("Chain", "error", False, -1.0))):
        heads[f"{task}: good"] = (task, metric, higher, sign * normal(100, 5, seed=2 * t))
        heads[f"{task}: weak"] = (task, metric, higher, sign * normal(60, 5, seed=2 * t + 1))
    return fake_run(tmp_path, "dqn_ladder", name, heads)


def test_several_tasks_aggregate_iqm_and_profiles(tmp_path):
    run = ladder_like(tmp_path)
    out = tmp_path / "cmp"
    assert compare.main([str(run), "--out", str(out), "--reps", "200"]) == 0
    assert {p.name for p in out.iterdir()} == {"compare.json", "compare.csv", "compare.png"}
    assert (out / "compare.png").stat().st_size > 0
    result = json.loads((out / "compare.json").read_text())
    assert [len(b["pairs"]) for b in result["improvement"]] == [1, 1]
    for block in result["improvement"]:  # the good method wins on both, whatever the direction
        assert block["pairs"][0]["first"].endswith("good") and block["pairs"][0]["value"] > 0.95
    agg = result["aggregate"]
    assert [t["task"] for t in agg["tasks"]] == ["CartPole-v1", "Chain"]
    assert set(agg["methods"]) == {"good", "weak"}
    good, weak = agg["methods"]["good"], agg["methods"]["weak"]
    assert good["entries"] == ["CartPole-v1: good", "Chain: good"] and good["runs"] == 16
    assert 0 <= weak["iqm"]["ci95"][0] <= weak["iqm"]["ci95"][1] < good["iqm"]["ci95"][0] <= 1
    (pair,) = agg["improvement"]
    assert pair["first"] == "good" and pair["value"] > 0.95
    assert len(good["profile"]["values"]) == len(agg["taus"]) == len(good["profile"]["ci95"][0])
    assert np.all(np.diff(good["profile"]["values"]) <= 0)  # a fraction above a rising tau
    lines = (out / "compare.csv").read_text().splitlines()
    assert len(lines) == 5 and lines[0].startswith("entry,run,experiment,headline,task,metric")


def test_profiles_match_rliable_and_output_is_reproducible(tmp_path):
    from rliable import library

    run = ladder_like(tmp_path)
    first = compare.compare([run], reps=100, seed=3)
    again = compare.compare([run], reps=100, seed=3)
    assert json.dumps(files.jsonable(first)) == json.dumps(files.jsonable(again))
    entries = compare.make_entries([compare.load_run(run)], reps=100, seed=0)
    bounds = compare.normalisation(entries)
    groups, notes = compare.method_groups(entries)
    assert notes == []
    matrix = np.stack([compare.normalised(e, bounds[e.stratum]) for e in groups["good"]], axis=1)
    assert matrix.shape == (16, 2) and matrix.min() >= 0 and matrix.max() == 1.0
    profiles, _ = library.create_performance_profile({"good": matrix}, compare.TAUS, reps=10)
    np.testing.assert_allclose(first["aggregate"]["methods"]["good"]["profile"]["values"],
                               profiles["good"])


def test_methods_split_by_run_when_a_study_is_run_twice(tmp_path):
    runs = [ladder_like(tmp_path, "r1"), ladder_like(tmp_path, "r2")]
    entries = compare.make_entries([compare.load_run(r) for r in runs], reps=100, seed=0)
    assert entries[0].label == "r1/CartPole-v1: good"
    groups, notes = compare.method_groups(entries)
    assert list(groups) == ["r1/good", "r1/weak", "r2/good", "r2/weak"] and notes == []
    # a run on one task only: its method is named as left out of the aggregate
    single = fake_run(tmp_path, "dqn_ladder", "r3", {"CartPole-v1: other": (
        "CartPole-v1", "return", True, normal(80, 5))})
    entries = compare.make_entries([compare.load_run(r) for r in (runs[0], single)],
                                   reps=100, seed=0)
    groups, notes = compare.method_groups(entries)
    assert list(groups) == ["good", "weak"] and "'other'" in notes[0]


def test_nothing_to_compare_and_unrelated_experiments_are_refused(tmp_path):
    cartpole = fake_run(tmp_path, "dqn", "cp", {"CartPole-v1: DQN": (
        "CartPole-v1", "return", True, normal(100, 5))})
    acrobot = fake_run(tmp_path, "dqn", "ac", {"Acrobot-v1: DQN": (
        "Acrobot-v1", "return", True, normal(-100, 5))})
    with pytest.raises(ValueError, match="nothing to compare") as err:
        compare.compare([cartpole, acrobot], reps=100)
    assert str(cartpole) in str(err.value) and "Acrobot-v1" in str(err.value)
    walk = fake_run(tmp_path, "random_walk", "w", {"walk: TD": (
        "random walk", "RMS error", False, normal(0.1, 0.01))})
    with pytest.raises(ValueError, match="shares no task and metric") as err:
        compare.compare([cartpole, fake_run(tmp_path, "dqn", "cp2", {"CartPole-v1: DQN": (
            "CartPole-v1", "return", True, normal(90, 5))}), walk], reps=100)
    assert str(walk) in str(err.value)
    with pytest.raises(ValueError, match="given 2 times"):
        compare.compare([cartpole, cartpole], reps=100)
    no_headlines = tmp_path / "runs" / "old" / "x"
    no_headlines.mkdir(parents=True)
    (no_headlines / "summary.json").write_text('{"final_return": 1.0}')
    with pytest.raises(ValueError, match="no 'headlines'"):
        compare.compare([cartpole, no_headlines], reps=100)


def test_cli_as_a_user_types_it(tmp_path):
    runs = [fake_run(tmp_path, "dqn", name, {"CartPole-v1: DQN": (
        "CartPole-v1", "final greedy return", True, normal(mean, 5, seed=i))})
        for i, (name, mean) in enumerate((("a", 100), ("b", 90)))]
    cwd = tmp_path / "work"
    cwd.mkdir()
    proc = run_cli("compare", str(runs[0]), str(runs[1]), "--reps", "300", cwd=cwd)
    assert proc.returncode == 0, failure(proc)
    out = results_dir(proc.stdout)
    assert out.is_absolute() and out.parent == cwd / "runs" / "compare"
    for name in ("compare.json", "compare.csv", "compare.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert "P(a/CartPole-v1: DQN > b/CartPole-v1: DQN)" in proc.stdout


@pytest.mark.parametrize("case", ["missing", "no summary", "invalid JSON", "not a subcommand"])
def test_cli_bad_input_is_one_error_line(tmp_path, case):
    good = fake_run(tmp_path, "dqn", "good", {"CartPole-v1: DQN": (
        "CartPole-v1", "return", True, normal(100, 5))})
    bad = tmp_path / "runs" / "dqn" / "bad"
    if case != "missing":
        bad.mkdir(parents=True)
    if case == "invalid JSON":
        (bad / "summary.json").write_text('{"headlines": {')
    args = ("compare", str(good), str(bad)) if case != "not a subcommand" else ("summarise",)
    proc = run_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, failure(proc)
    assert "Traceback" not in proc.stderr and proc.stdout == "", failure(proc)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, failure(proc)
    if case != "not a subcommand":
        assert proc.stderr.strip() == errors[0] and str(bad) in errors[0], failure(proc)
    assert not (tmp_path / "runs" / "compare").exists()  # nothing written on an error


@pytest.mark.slow
def test_two_real_quick_runs_compare(tmp_path):
    """Two seeds of a real study (Baird's Figure 11.2, the quickest: three headlines each)."""
    dirs = []
    for seed in ("0", "1"):
        proc = subprocess.run([sys.executable, "-m", "experiments.baird", "--quick", "--seed", seed,
                               "--figure", "11.2", "--no-progress"], check=False, cwd=tmp_path, capture_output=True,
                              text=True, timeout=600, env={**os.environ, "MPLBACKEND": "Agg"})
        assert proc.returncode == 0, failure(proc)
        dirs.append(str(results_dir(proc.stdout)))
    proc = run_cli("compare", *dirs, "--reps", "200", cwd=tmp_path)
    assert proc.returncode == 0, failure(proc)
    result = json.loads((results_dir(proc.stdout) / "compare.json").read_text())
    # Sampled TD's 2 methods x 2 runs share a metric; semi-gradient DP's max |w| is another.
    assert [e["task"] for e in result["entries"]] == ["Baird"] * 6
    assert [len(g["entries"]) for g in result["improvement"]] == [4, 2]
    assert result["config_differences"]["seed"] == [0, 1]


def test_curves_from_each_runs_metrics_csv(tmp_path):
    a = fake_run(tmp_path, "pqn", "a", {"env: A": ("env", "final return", True, normal(10, 1))})
    b = fake_run(tmp_path, "minatar", "b", {"env: B": ("env", "final return", True,
                                                       normal(20, 1))})
    # a: two seeds at two points; b: one configuration column (rung) and one seed's gap
    files.write_csv(a / "metrics.csv", [
        {"env": "E", "seed": s, "env_steps": x, "greedy_return": v}
        for s, row in enumerate([[1.0, 3.0], [3.0, 5.0]]) for x, v in zip((100, 200), row)])
    files.write_csv(b / "metrics.csv", [
        {"game": "E", "rung": "DQN", "seed": 0, "env_steps": 100, "greedy_return": 2.0},
        {"game": "E", "rung": "DQN", "seed": 1, "env_steps": 100, "greedy_return": ""}])
    found = compare.curves([a, b], "greedy_return")
    assert list(found) == ["a/E", "b/E/DQN"]
    assert found["a/E"]["x"] == [100.0, 200.0] and found["a/E"]["mean"] == [2.0, 4.0]
    assert found["a/E"]["n"] == 2 and found["b/E/DQN"]["per_seed"][0] == [2.0]
    assert np.isnan(found["b/E/DQN"]["per_seed"][1][0])
    with pytest.raises(ValueError, match="no column loss"):
        compare.curves([a], "loss")
    out = tmp_path / "out"
    assert compare.main([str(a), str(b), "--curve", "greedy_return", "--out", str(out)]) == 0
    assert (out / "compare_curves.png").stat().st_size > 0
    assert list(json.loads((out / "compare.json").read_text())["curves"]) == list(found)
