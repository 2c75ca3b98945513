"""The per-frame cost of the MinAtar paper's DQN agent, rlfa beside the original PyTorch code.

    python -m benchmarks.minatar                  # rlfa only (minutes)
    python -m benchmarks.minatar --torch-python /tmp/torchvenv/bin/python \\
        --torch-script /path/to/MinAtar/examples/dqn.py   # both, interleaved
    python -m benchmarks.minatar --quick          # seconds, for tests

The agent is :func:`rlfa.control.dqn.minatar_paper.paper_config` on one game (Breakout by
default), the paper's protocol: one update per frame on a batch of 32 from a 100k-transition
replay, 5,000 uniformly random frames first, centered RMSProp, the target network copied
every 1,000 frames; rlfa's greedy evaluation is off, as the paper has none.

rlfa: one seed, and several laid over the CPU devices (one after another on each, as the
MinAtar study runs them on a CPU), with XLA's CPU instruction set capped at AVX (rlfa's
default) and not, each case in a fresh process. The warm-up runs in the program's ``init``,
timed with the compile; the learning frames run in equal chunks, the first dropped
(first-touch of the replay's pages, caches), so frames/s is learning's steady state.

PyTorch: the MinAtar repository's own ``examples/dqn.py``, never copied here, run as a peer
in its own Python by :data:`TORCH_DRIVER`: the same frame budget and first chunk dropped,
seeded, torch's thread count set, every update timed. Without ``--torch-python`` and
``--torch-script`` only rlfa is measured, and the summary says so. The cases run in rounds,
rlfa and PyTorch interleaved; a ratio is the median over rounds of the ratio within each.

The profile (capped, at 1 and 8 seeds) times the same loop without the gradient updates
(``no_update``: acting, env, replay writes and sampling) and acting alone (``act``), once
after the rounds: the differences say where a frame's time goes. At 1 seed (capped) a bare
jitted update of the same network and batch runs in every round beside the training loop,
so the frame's cost over its update's (goal: at most :data:`GOAL_FRAME_OVER_UPDATE`) is a
paired median like the other ratios.

Writes ``runs/benchmark_minatar/<timestamp>/``: ``config.json``, ``metrics.csv`` (one row per
timed case and round), ``summary.json`` (medians, paired ratios, goals, the profile and the
full 5M-frame protocol's estimated hours) and ``figure.png`` (learning frames/s per seed).
"""

from __future__ import annotations

import dataclasses
import json
import operator
import os
import statistics
import sys
import time
from pathlib import Path

import jax
import numpy as np

from benchmarks import harness
from benchmarks.dqn import loop_variant, time_bare_update
from benchmarks.harness import ISAS, Column
from rlfa import config as cfg
from rlfa import dqn_study, report
from rlfa.control.dqn import DQNConfig
from rlfa.control.dqn.minatar_paper import GAMES, PAPER_FRAMES, paper_config

MODULE = "benchmarks.minatar"  # what a fresh process per case runs (python -m)
GOAL_SPEEDUP = 2.0  # rlfa's per-seed frames/s over the PyTorch original's, at least
GOAL_SCALING = 4.5  # 8 seeds' run time over one seed's, at most
GOAL_FRAME_OVER_UPDATE = 1.15  # a learning frame's time over a bare update's, at most
ESTIMATE_SEEDS = (1, 8, 64)
per_seed_fps = operator.itemgetter("frames_per_s")  # a case's learning frames/s, per seed
# The minatar package's names of the games (rlfa's GAMES).
MINATAR_NAMES = {"Asterix": "asterix", "Breakout": "breakout", "Freeway": "freeway",
                 "Seaquest": "seaquest", "SpaceInvaders": "space_invaders"}

# Run by --torch-python as ``python -c DRIVER JSON`` (harness.run_peer); imports only the
# standard library, the original script (from its path) and what it imports itself.
TORCH_DRIVER = r"""
import importlib.util, json, os, random, sys, tempfile, time
case = json.loads(sys.argv[1])
spec = importlib.util.spec_from_file_location("minatar_dqn_original", case["script"])
dqn = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dqn)
import numpy, torch
from minatar import Environment
torch.set_num_threads(case["threads"])
random.seed(case["seed"]); numpy.random.seed(case["seed"]); torch.manual_seed(case["seed"])
warmup, learning = case["warmup_frames"], case["learning_frames"]
# the script trains from frame REPLAY_START_SIZE + 1 on: one more frame gives `learning` updates
dqn.REPLAY_START_SIZE, dqn.NUM_FRAMES = warmup, warmup + learning + 1
stamps, train = [], dqn.train
def timed_train(*args):
    stamps.append(time.perf_counter())
    return train(*args)
dqn.train = timed_train
with tempfile.TemporaryDirectory() as tmp:
    t0 = time.perf_counter()
    dqn.dqn(Environment(case["game"]), False, False, os.path.join(tmp, "run"))
    end = time.perf_counter()
first = learning // case["chunks"]  # the first chunk dropped, as rlfa's
print(json.dumps({"updates": len(stamps), "learning_s": end - stamps[first],
                  "timed_frames": len(stamps) - first, "warmup_s": stamps[0] - t0,
                  "torch": torch.__version__, "torch_threads": torch.get_num_threads()}))
"""


@dataclasses.dataclass(frozen=True)
class BenchmarkConfig(harness.IsolatedOptions):
    """Time the MinAtar paper's DQN per frame: rlfa (seeds, XLA CPU ISA) and the original.

    --quick: a tiny workload, in this process: 1 seed, a small replay, no PyTorch.
    """

    game: str = "Breakout"
    """MinAtar game (Asterix, Breakout, Freeway, Seaquest, SpaceInvaders), paper protocol."""
    seeds: tuple[int, ...] = (1, 8)
    """rlfa seed counts to time (laid over the CPU devices; see --vectorize for each device's)."""
    isa: tuple[str, ...] = ISAS
    """XLA's CPU instruction set: capped (at AVX, rlfa's default) and/or fast (RLFA_CPU_FAST=1),
    set in each rlfa case's fresh process (--isolate)."""
    learning_frames: int = 12_000
    """Learning frames per seed after the 5,000-frame warm-up (one update each)."""
    chunks: int = 3
    """Equal chunks the learning frames run in; the first is dropped from frames/s (>= 2).
    Each chunk boundary moves every seed's state (its 40 MB replay) once; chunks of
    thousands of frames keep that out of the per-frame cost, as a study's far longer
    chunks do (8 seeds: 4.16 ms per frame in chunks of 500 frames, 3.70 ms in 2,000)."""
    repeats: int = 3
    """Rounds: each times every case once, rlfa and PyTorch interleaved; medians over them."""
    torch_python: str | None = None
    """A Python with torch and minatar installed, to time the original PyTorch code."""
    torch_script: str | None = None
    """The MinAtar repository's examples/dqn.py (needs torch_python)."""
    torch_threads: tuple[int, ...] = (1,)
    """torch.set_num_threads values to time the original with."""
    vectorize: bool | None = None
    """vmap a device's seeds (True) or run them one after another (False); default: what the
    MinAtar study does (one after another on CPU, see rlfa.dqn_study.vectorize_runs)."""
    profile: tuple[int, ...] = (1, 8)
    """Seed counts at which to also time the loop without updates and acting alone (capped;
    with 1, a bare update in every round too); empty: no profile."""

    def __post_init__(self):
        super().__post_init__()
        self.check_peer("torch_python", "torch_script", "the PyTorch original")
        cfg.check_choice("game", self.game, GAMES)
        self.check_choices("isa", ISAS)
        cfg.check_nonempty("seeds", self.seeds)
        self.check_counts("seeds", "torch_threads", "profile", "learning_frames", "repeats")
        self.check_chunks("learning_frames", "chunks")


def agent_config(game: str, quick: bool) -> DQNConfig:
    """The paper's agent on ``game``, without rlfa's greedy evaluation; ``quick``: a small
    replay and warm-up, for smoke tests only."""
    small = dict(buffer_capacity=1_000, warmup_steps=100, target_period=100,
                 epsilon_decay_steps=1_000) if quick else {}
    return paper_config(game, num_eval_episodes=0, **small)


# --- the cases --------------------------------------------------------------------------------


def run_rlfa(case: dict) -> dict:
    """Time one rlfa case (``mode`` train, no_update, act or bare) in this process."""
    harness.check_isa(case)
    dqn = agent_config(case["game"], case["quick"])
    if case["mode"] == "bare":
        return {**case, "us_per_frame": time_bare_update(dqn, 50 if case["quick"] else 1000),
                "peak_rss_mb": harness.peak_rss_mb()}
    built, chunks, seeds = loop_variant(dqn, case["mode"]), case["chunks"], case["seeds"]
    vectorize = dqn_study.vectorize_runs() if case["vectorize"] is None else case["vectorize"]
    results, learning_s = harness.run_steady(built.program, dqn.hparams, seeds,
                                             case["learning_frames"], chunks, vectorize)
    timed_frames = case["learning_frames"] // chunks * (chunks - 1)
    train_return = results.metrics["train_return"][0, :, -1]
    return {**case, "vectorize": vectorize, "num_devices": results.num_devices,
            "timed_frames": timed_frames, "learning_s": learning_s,
            "frames_per_s": timed_frames / learning_s,
            "us_per_frame": learning_s / timed_frames * 1e6,
            "compile_and_warmup_s": results.compile_s, "run_s": results.run_s,
            "replay_mb_total": built.replay_nbytes * seeds / 2**20,
            "train_return": float(np.nanmean(train_return)) if case["mode"] == "train" else None,
            "peak_rss_mb": harness.peak_rss_mb(), "xla_flags": os.environ.get("XLA_FLAGS", "")}


def run_torch(case: dict) -> dict:
    """Time the original PyTorch script once, through :data:`TORCH_DRIVER`."""
    spec = {k: case[k] for k in ("script", "threads", "seed", "warmup_frames",
                                 "learning_frames", "chunks")}
    got = harness.run_peer(case["python"], TORCH_DRIVER,
                           dict(spec, game=MINATAR_NAMES[case["game"]]),
                           f"the PyTorch original ({case['python']} {case['script']})",
                           {"OMP_NUM_THREADS": str(case["threads"])})
    if got["updates"] != case["learning_frames"]:
        raise RuntimeError(f"the PyTorch original made {got['updates']} updates, expected "
                           f"{case['learning_frames']}: has its frame loop changed?")
    return {**case, **got, "seeds": 1, "frames_per_s": got["timed_frames"] / got["learning_s"],
            "us_per_frame": got["learning_s"] / got["timed_frames"] * 1e6}


def cases(config: BenchmarkConfig) -> tuple[list[list[dict]], list[dict]]:
    """``(rounds, profile)``: every round's cases, rlfa and PyTorch interleaved (and the
    bare update where the profile has 1 seed), and the profile's cases (run once, after
    the rounds)."""
    quick = config.quick
    base = dict(game=config.game, quick=quick, chunks=2 if quick else config.chunks,
                learning_frames=20 if quick else config.learning_frames,
                vectorize=config.vectorize)
    rlfa = [dict(base, impl="rlfa", mode="train", seeds=n, isa=isa)
            for isa in ((harness.isa_in_effect(),) if quick else config.isa)
            for n in ((1,) if quick else config.seeds)]
    torch = [] if quick or not config.torch_python else [
        dict(base, impl="pytorch", mode="train", python=config.torch_python,
             script=config.torch_script, threads=t, seed=0,
             warmup_frames=agent_config(config.game, False).warmup_steps)
        for t in config.torch_threads]
    profile = [] if quick else [
        dict(base, impl="rlfa", mode=m, seeds=n, isa="capped", round=0)
        for n in config.profile for m in ("no_update", "act")]
    if not quick and 1 in config.profile:
        rlfa.append(dict(base, impl="rlfa", mode="bare", seeds=1, isa="capped"))
    return harness.interleaved_rounds(rlfa, torch, 1 if quick else config.repeats), profile


def label(r: dict) -> str:
    """A case's name: ``rlfa 8 seeds fast`` or ``pytorch 1 thread``."""
    if r["impl"] == "pytorch":
        return f"pytorch {r['threads']} thread{'s' * (r['threads'] != 1)}"
    mode = "" if r["mode"] == "train" else f" {r['mode']}"
    return f"rlfa {r['seeds']} seed{'s' * (r['seeds'] != 1)} {r['isa']}{mode}"


# --- analysis -------------------------------------------------------------------------------


def analyse(rows: list[dict], profile: list[dict]) -> dict:
    """Medians per case, paired (same-round) ratios, the goals and the profile's shares."""
    trains = [r for r in rows if r["mode"] == "train"]
    out = {"per_seed_frames_per_s": harness.spread(trains, label, per_seed_fps),
           "speedup_over_pytorch": harness.speedups(trains, label, per_seed_fps),
           "seeds_time_ratio": harness.seeds_time_ratios(trains, label, per_seed_fps),
           "frame_over_update": harness.paired_median(
               rows, label, "rlfa 1 seed capped", "rlfa 1 seed capped bare",
               lambda train, bare: train["us_per_frame"] / bare["us_per_frame"])}
    bare = [r for r in rows if r["mode"] == "bare"]
    return out | {"goals": goals(out), "profile": profile_shares(trains, [*profile, *bare])}


def goals(analysis: dict) -> dict:
    """The two goals per ISA, from the paired medians (None: not measured): at 1 seed, rlfa's
    frames/s at least ``GOAL_SPEEDUP`` times the fastest PyTorch setting's (the lowest
    speedup); 8 seeds' time for the same frames per seed at most ``GOAL_SCALING`` x 1 seed's."""
    worst = {isa: min((v for k, v in analysis["speedup_over_pytorch"].items()
                       if k.startswith(f"rlfa 1 seed {isa} /")), default=None) for isa in ISAS}
    scaling = {k.split(" / ")[0].split()[-1]: v for k, v in analysis["seeds_time_ratio"].items()
               if k.startswith("rlfa 8 seeds")}
    met = {isa: v >= GOAL_SPEEDUP for isa, v in worst.items() if v is not None}
    return {"speedup_goal": GOAL_SPEEDUP, "speedup_vs_fastest_pytorch": worst,
            "speedup_met": met or None, "seeds_8_time_ratio_goal": GOAL_SCALING,
            "seeds_8_time_ratio": scaling,
            "seeds_8_met": {isa: v <= GOAL_SCALING for isa, v in scaling.items()} or None,
            "frame_over_update_goal": GOAL_FRAME_OVER_UPDATE,
            "frame_over_update": analysis["frame_over_update"],
            "frame_over_update_met": (None if analysis["frame_over_update"] is None else
                                      analysis["frame_over_update"] <= GOAL_FRAME_OVER_UPDATE)}


def profile_shares(trains: list[dict], profile: list[dict]) -> dict:
    """Where a frame's time goes (capped), per profiled seed count: the loop's variants
    (medians where they ran in every round), subtracted from the training loop's median
    time per frame (all seeds together)."""
    out = {}
    for n in dict.fromkeys(r["seeds"] for r in profile if r["mode"] != "bare"):
        name = label({"impl": "rlfa", "mode": "train", "seeds": n, "isa": "capped"})
        us = {m: statistics.median(r["us_per_frame"] for r in profile
                                   if r["seeds"] == n and r["mode"] == m)
              for m in dict.fromkeys(r["mode"] for r in profile if r["seeds"] == n)}
        train = [r["us_per_frame"] for r in trains if label(r) == name]
        out[name] = {"us_per_frame": us}
        if train and {"no_update", "act"} <= set(us):
            us["train"] = t = statistics.median(train)
            out[name]["share_of_frame"] = {
                "gradient update (from the loop)": 1 - us["no_update"] / t,
                "replay writes + sampling": (us["no_update"] - us["act"]) / t,
                "acting (forward pass) + env step": us["act"] / t,
                **({"bare update alone": us["bare"] / t} if "bare" in us else {})}
    return out


def estimates(analysis: dict, warmup: int) -> dict:
    """Hours for the full protocol (5M frames per seed), from the learning frames/s.

    rlfa at 64 seeds is 8 times the 8-seed time: at 8 seeds both cores are already
    busy and the update is compute-bound, so more seeds add their work linearly.
    PyTorch's seeds are independent single-thread processes, as many at once as cores.
    """
    fps = analysis["per_seed_frames_per_s"]
    hours = {k: (PAPER_FRAMES - warmup) / v["median"] / 3600 for k, v in fps.items()}
    out = {}
    for isa in (isa for isa in ISAS if f"rlfa 1 seed {isa}" in hours):
        out[f"rlfa {isa}"] = {"1": hours[f"rlfa 1 seed {isa}"]}
        if (eight := hours.get(f"rlfa 8 seeds {isa}")) is not None:
            out[f"rlfa {isa}"] |= {"8": eight, "64": 8 * eight}
    if "pytorch 1 thread" in hours:
        cores = os.cpu_count() or 1
        out["pytorch 1 thread"] = {str(n): hours["pytorch 1 thread"] * -(-n // cores)
                                   for n in ESTIMATE_SEEDS}
    return {"hours": out, "frames_per_seed": PAPER_FRAMES,
            "assumptions": "learning frames/s for every frame after the warm-up (warm-up "
                           "and compile, seconds, left out); rlfa 64 seeds = 8 x 8 seeds; "
                           f"PyTorch: one single-thread process per seed, {os.cpu_count()} "
                           "at a time, no slow-down from sharing"}


# --- report ---------------------------------------------------------------------------------


COLUMNS = (
    Column("case", 26, label, align="<"), Column("round", 5, "round"),
    Column("frames/s/seed", 14, lambda r: r.get("frames_per_s", 1e6 / r["us_per_frame"]),
           ".0f"),
    Column("us/frame", 9, "us_per_frame", ".0f"), Column("learning s", 11, "learning_s", ".2f"),
    Column("compile+warm s", 15, lambda r: r.get("compile_and_warmup_s") or r.get("warmup_s"),
           ".1f"),
    Column("peak MB", 8, "peak_rss_mb", ".0f"))
LEAD = ("case", "impl", "mode", "seeds", "isa", "round")  # metrics.csv's first columns


def draw(fps: dict[str, dict], torch_measured: bool):
    """Learning frames/s per seed of every training case (``fps``: the analysis'
    ``per_seed_frames_per_s``; the profile is in the summary), median, min and max; the
    goal line at twice PyTorch's 1-thread median when it was measured."""
    torch_one = fps.get("pytorch 1 thread")
    title = "MinAtar paper's DQN: learning frames/s per seed"
    return report.bar_figure(
        [n.replace(" ", "\n", 1) for n in fps],  # two lines: the names stay apart
        {k: [v[k] for v in fps.values()] for k in ("median", "min", "max")}, "frames / s / seed",
        title if torch_measured else f"{title} (PyTorch not measured)",
        target=GOAL_SPEEDUP * torch_one["median"] if torch_one else None,
        target_label="goal: 2x PyTorch (1 thread)" if torch_one else None)


def main(config: BenchmarkConfig) -> Path:
    """Run every round and the profile, write ``runs/benchmark_minatar/<timestamp>/``."""
    t0 = time.perf_counter()
    rounds, profile_cases = cases(config)
    rows, profile = harness.time_rounds_and_profile(rounds, profile_cases, MODULE,
                                                    config.isolated, run_rlfa,
                                                    {"pytorch": run_torch}, COLUMNS)
    torch_measured = bool(config.torch_python) and not config.quick
    analysis = analyse(rows, profile)
    dqn = agent_config(config.game, config.quick)
    summary = {"cases": rows, "profile_cases": profile, "analysis": analysis,
               "estimates": estimates(analysis, dqn.warmup_steps),
               "pytorch": ("measured in this run, interleaved with rlfa" if torch_measured else
                           "not measured in this run (give --torch-python and --torch-script)"),
               "agent": dataclasses.asdict(dqn), "cpu_count": os.cpu_count(),
               "jax": jax.__version__, "python": sys.version.split()[0],
               "wall_s": time.perf_counter() - t0}
    print(json.dumps(analysis, indent=1), json.dumps(summary["estimates"], indent=1), sep="\n")
    if not torch_measured:
        print("PyTorch: not measured (give --torch-python and --torch-script).")
    return harness.write_results("minatar", config, summary,
                                 [{"case": label(r), **r} for r in rows + profile],
                                 draw(analysis["per_seed_frames_per_s"], torch_measured), LEAD)


if __name__ == "__main__":  # devices and processes: see benchmarks/__init__.py
    harness.worker_or_cli(run_rlfa, BenchmarkConfig, main)
