"""benchmarks.harness: options, peers in their own Python, rounds and paired ratios, tables,
the bare update's loop and the run directory (no timing asserts)."""

import csv
import dataclasses
import json
import os
import sys
from pathlib import Path

import jax.numpy as jnp
import pytest

from benchmarks import harness
from benchmarks.harness import Column
from rlfa.types import Agent


@dataclasses.dataclass(frozen=True)
class Options(harness.IsolatedOptions):
    """A benchmark's config, for these tests."""

    seeds: tuple[int, ...] = (1, 8)
    """Seed counts."""
    frames: int = 12
    """Frames."""
    chunks: int = 3
    """Chunks."""
    kinds: tuple[str, ...] = ("a",)
    """Kinds."""
    peer_python: str | None = None
    """The peer's Python."""
    peer_script: str | None = None
    """The peer's script."""

    def __post_init__(self):
        super().__post_init__()
        self.check_counts("seeds", "frames")
        self.check_chunks("frames", "chunks")
        self.check_choices("kinds", ("a", "b"))
        self.check_peer("peer_python", "peer_script", "the peer")


def test_options_make_out_absolute_and_isolate_only_outside_quick():
    options = Options(out="runs")
    assert Path(options.out) == Path.cwd() / "runs" and options.isolated
    assert not Options(quick=True).isolated and not Options(isolate=False).isolated
    assert harness.DevicesOptions(num_devices=2).num_devices == 2
    assert options.effective() is options


@pytest.mark.parametrize("kwargs, match", [
    ({"seeds": (1, 0)}, "seeds=0"), ({"frames": 0}, "frames=0"), ({"chunks": 1}, "chunks=1"),
    ({"frames": 10}, "frames=10 is invalid: must be a multiple of chunks=3"),
    ({"kinds": ()}, "kinds"), ({"kinds": ("c",)}, "kinds='c'"),
])
def test_options_refuse_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Options(**kwargs)
    with pytest.raises(ValueError, match="num_devices=0"):
        harness.DevicesOptions(num_devices=0)


def test_a_peer_needs_both_paths_and_both_must_exist(tmp_path):
    python, script = tmp_path / "python", tmp_path / "script.py"
    python.write_text("")
    with pytest.raises(ValueError, match="give both"):
        Options(peer_python=str(python))
    with pytest.raises(ValueError, match="peer_script=.*no such file"):
        Options(peer_python=str(python), peer_script=str(script))
    script.write_text("")
    assert Options(peer_python=str(python), peer_script=str(script)).peer_script == str(script)


def test_run_peer_returns_the_last_json_line_and_reports_failures():
    driver = ("import json, os, sys; spec = json.loads(sys.argv[1]); print('noise'); "
              "print(json.dumps({'twice': 2 * spec['x'], 'env': os.environ['PEER_VAR']}))")
    got = harness.run_peer(sys.executable, driver, {"x": 21}, "the peer", {"PEER_VAR": "set"})
    assert got == {"twice": 42, "env": "set"}
    with pytest.raises(RuntimeError, match=r"the peer failed \(exit 3\)"):
        harness.run_peer(sys.executable, "raise SystemExit(3)", {}, "the peer")
    with pytest.raises(RuntimeError, match="the peer printed no result"):
        harness.run_peer(sys.executable, "pass", {}, "the peer")


def test_rounds_alternate_peer_and_ours_then_the_rest():
    ours, peers = [{"n": 1}, {"n": 2}, {"n": 3}], [{"p": 1}]
    rounds = harness.interleaved_rounds(ours, peers, repeats=2)
    assert rounds[1] == [{"p": 1, "round": 1}, {"n": 1, "round": 1}, {"n": 2, "round": 1},
                         {"n": 3, "round": 1}]
    assert [c["round"] for c in rounds[0]] == [0] * 4 and ours[0] == {"n": 1}  # copies
    assert [list(map(len, r)) for r in harness.interleaved_rounds(ours[:1], peers * 2, 1)] == [
        [2, 2, 2]]


def rows():
    """Two rounds of rlfa (1 and 8 seeds) and a peer; rates per seed."""
    out = []
    for k, (one, eight, peer) in enumerate(((300.0, 60.0, 100.0), (120.0, 30.0, 80.0),
                                             (250.0, 50.0, 50.0))):
        out += [{"impl": "rlfa", "seeds": 1, "round": k, "rate": one},
                {"impl": "rlfa", "seeds": 8, "round": k, "rate": eight},
                {"impl": "peer", "seeds": 1, "round": k, "rate": peer}]
    return out


def label(r):
    return f"{r['impl']} {r['seeds']}"


def rate(r):
    return r["rate"]


def test_paired_medians_take_each_ratio_within_a_round():
    # Within rounds 3, 1.5 and 5: their median, not the ratio of the medians (250 / 80).
    assert harness.speedups(rows(), label, rate) == {"rlfa 1 / peer 1": 3.0,
                                                     "rlfa 8 / peer 1": 0.6}
    assert harness.seeds_time_ratios(rows(), label, rate) == {"rlfa 8 / rlfa 1": 5.0}
    assert harness.spread(rows(), label, rate)["rlfa 1"] == {
        "median": 250.0, "min": 120.0, "max": 300.0, "n": 3}
    no_pair = [r for r in rows() if not (r["seeds"] == 1 and r["impl"] == "rlfa")]
    assert harness.seeds_time_ratios(no_pair, label, rate) == {}
    assert harness.paired_median(no_pair, label, "rlfa 1", "peer 1", lambda x, y: 1.0) is None


def test_table_cells_are_fixed_width_and_blank_when_missing():
    columns = (Column("name", 6, "name", align="<"), Column("x", 7, "x", ".2f"),
               Column("twice", 6, lambda r: 2 * r["x"] if "x" in r else None, ".1f"))
    text = harness.table([{"name": "a", "x": 1.0}, {"name": "bb"}], columns, " ")
    assert text.splitlines() == ["name         x  twice", "-" * 21, "a         1.00    2.0",
                                 "bb" + " " * 19]


def test_time_cases_prints_the_header_then_each_row(capsys):
    columns = (Column("n", 3, "n"), Column("sq", 4, "sq"))
    got = harness.time_cases([{"n": 2}, {"n": 3}], lambda c: {**c, "sq": c["n"] ** 2}, columns)
    assert got == [{"n": 2, "sq": 4}, {"n": 3, "sq": 9}]
    assert capsys.readouterr().out.splitlines() == ["  n  sq", "-------", "  2   4", "  3   9"]


def test_metric_rows_share_columns_lead_first():
    rows = [{"quick": True, "mode": "train", "run_s": 1.0}, {"mode": "bare", "us": 2.0}]
    out = harness.metric_rows(rows, lead=("mode",))
    assert [list(r) for r in out] == [["mode", "quick", "run_s", "us"]] * 2
    assert out[0]["us"] is None and out[1] == {"mode": "bare", "quick": None, "run_s": None,
                                               "us": 2.0}


def test_write_results_writes_the_run_directory_and_prints_it_last(tmp_path, capsys):
    import matplotlib.pyplot as plt

    options = harness.BenchmarkOptions(out=str(tmp_path))
    path = harness.write_results("probe", options, {"answer": 42},
                                 [{"a": 1}, {"b": 2}], plt.figure(), lead=("b",))
    assert path.parent == tmp_path / "benchmark_probe"
    assert json.loads((path / "summary.json").read_text()) == {"answer": 42}
    assert json.loads((path / "config.json").read_text())["out"] == str(tmp_path)
    with open(path / "metrics.csv") as f:
        assert list(csv.DictReader(f)) == [{"b": "", "a": "1"}, {"b": "2", "a": ""}]
    assert (path / "figure.png").stat().st_size > 0
    assert capsys.readouterr().out.splitlines()[-1] == f"results: {path}"


def test_bare_update_traces_the_update_once_on_one_batch():
    seen = []

    def update(state, hparams, batch):
        seen.append(batch.shape)  # traced once: one batch, the leading axis taken off
        return state + hparams * jnp.sum(batch), {}

    agent = Agent(init=None, act=None, update=update)
    batches = jnp.arange(12.0).reshape(4, 3)
    us = harness.bare_update_us(agent, jnp.float32(1.0), jnp.float32(0.0), batches, repeats=8)
    assert us > 0 and seen == [(3,)]


def test_isa_environment_sets_and_restores(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_max_isa=AVX --xla_other=1")
    monkeypatch.delenv("RLFA_CPU_FAST", raising=False)
    with harness.isa_environment("fast"):
        assert os.environ["XLA_FLAGS"] == "--xla_other=1" and os.environ["RLFA_CPU_FAST"] == "1"
        assert harness.isa_in_effect() == "fast"
        with pytest.raises(RuntimeError, match="isa='capped'"):
            harness.check_isa({"isa": "capped"})
    assert os.environ["XLA_FLAGS"] == "--xla_cpu_max_isa=AVX --xla_other=1"
    assert "RLFA_CPU_FAST" not in os.environ
    monkeypatch.setenv("RLFA_CPU_FAST", "1")
    with harness.isa_environment("capped"):
        assert "RLFA_CPU_FAST" not in os.environ and harness.isa_in_effect() == "capped"
    assert os.environ["RLFA_CPU_FAST"] == "1"
