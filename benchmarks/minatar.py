"""The per-frame cost of the MinAtar paper's DQN agent, rlfa beside the original PyTorch code.

    python -m benchmarks.minatar                  # rlfa only (minutes)
    python -m benchmarks.minatar --torch-python /tmp/torchvenv/bin/python \\
        --torch-script /path/to/MinAtar/examples/dqn.py   # both, interleaved
    python -m benchmarks.minatar --quick          # seconds, for tests

The agent is :func:`rlfa.control.dqn.minatar_paper.paper_config` on one game (Breakout by
default), the paper's protocol: one update per frame on a batch of 32 from a
100k-transition replay, 5,000 uniformly random frames first, centered RMSProp,
the target network copied every 1,000 frames. Only the greedy evaluation rlfa
adds at logged points is switched off (``num_eval_episodes=0``): the paper has
none, so the timed loop is training alone.

rlfa: one seed, and several seeds laid over the CPU devices (one per core) and, on each,
run one after another as the MinAtar study does on a CPU (``--vectorize True``: vmapped),
each with XLA's CPU instruction set capped at AVX (rlfa's deterministic
default, ``capped``) and uncapped (``RLFA_CPU_FAST=1``, ``fast``). Every case
runs in a fresh process, so the environment variable applies and its compile is
its own. The warm-up runs in the program's ``init`` and is timed with the
compile; the learning frames run in ``chunks`` equal chunks and the first is
dropped (first-touch of the replay pages, caches), so frames/s is the steady
state of learning.

PyTorch: the original ``examples/dqn.py`` of the MinAtar repository, in its own
Python (``--torch-python``, with torch and minatar installed) and never copied
here: a small driver imports the script from ``--torch-script``, sets its
``NUM_FRAMES`` to the same budget (warm-up + learning frames), seeds Python,
numpy and torch, sets torch's thread count and wraps the script's ``train`` to
time every update; the same first chunk of learning frames is dropped. Without
both options only rlfa is measured and the summary says so.

The machine may be shared, so the cases run in rounds: every round times each
case once, rlfa and PyTorch interleaved, and ratios are taken within a round
(paired), then their median over rounds is quoted.

The profile (capped, at 1 and 8 seeds) runs the same loop without the gradient
updates (``no_update``: acting, env, replay writes and sampling) and acting
alone (``act``), plus (at 1 seed) a bare jitted update of the same network at
the same batch, so the differences say where a frame's time goes.

Writes ``runs/benchmark_minatar/<timestamp>/``: ``config.json``, ``metrics.csv``
(one row per timed case and round), ``summary.json`` (medians, paired ratios,
goals, the profile and estimates of the full 5M-frame protocol's time) and
``figure.png`` (learning frames/s per seed, per case).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks import harness
from benchmarks.harness import Column
from rlfa import config as cfg
from rlfa import dqn_study, files, report, runner
from rlfa.control.dqn import DQNConfig, make_agent
from rlfa.control.dqn.minatar_paper import GAMES, PAPER_FRAMES, paper_config
from rlfa.hparams import traced
from rlfa.study import absolute_paths
from rlfa.types import Transition

MODULE = "benchmarks.minatar"  # what a fresh process per case runs (python -m)
ISAS = ("capped", "fast")
GOAL_SPEEDUP = 2.0  # rlfa's per-seed frames/s over the PyTorch original's, at least
GOAL_SCALING = 4.5  # 8 seeds' run time over one seed's, at most
ESTIMATE_SEEDS = (1, 8, 64)
# The minatar package's names of the games (rlfa's GAMES).
MINATAR_NAMES = {"Asterix": "asterix", "Breakout": "breakout", "Freeway": "freeway",
                 "Seaquest": "seaquest", "SpaceInvaders": "space_invaders"}

# Run by --torch-python as ``python -c DRIVER JSON``; imports only the standard library, the
# original script (from its path) and what it imports itself. Prints its result as JSON.
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
class BenchmarkConfig:
    """Time the MinAtar paper's DQN per frame: rlfa (seeds, XLA CPU ISA) and the original."""

    game: str = "Breakout"
    """MinAtar game (Asterix, Breakout, Freeway, Seaquest, SpaceInvaders), paper protocol."""
    seeds: tuple[int, ...] = (1, 8)
    """rlfa seed counts to time (laid over the CPU devices; see --vectorize for each device's)."""
    isa: tuple[str, ...] = ISAS
    """XLA's CPU instruction set: capped (at AVX, rlfa's default) and/or fast (RLFA_CPU_FAST=1)."""
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
    at 1 seed a bare update too); empty: no profile."""
    isolate: bool = True
    """Run every rlfa case in a fresh process (needed for the ISA setting to apply)."""
    quick: bool = False
    """A tiny workload in seconds, in this process: 1 seed, a small replay, no PyTorch
    (for tests and smoke checks)."""
    out: str = "runs"
    """Root directory for results."""

    def __post_init__(self):
        absolute_paths(self, "out", "torch_python", "torch_script")
        cfg.check_choice("game", self.game, GAMES)
        cfg.check_nonempty("seeds", self.seeds)
        for n in self.seeds:
            cfg.check_positive_int("seeds", n)
        cfg.check_nonempty("isa", self.isa)
        for isa in self.isa:
            cfg.check_choice("isa", isa, ISAS)
        for name in ("learning_frames", "repeats"):
            cfg.check_positive_int(name, getattr(self, name))
        for n in self.torch_threads:
            cfg.check_positive_int("torch_threads", n)
        for n in self.profile:
            cfg.check_positive_int("profile", n)
        if not isinstance(self.chunks, int) or self.chunks < 2:
            raise ValueError(f"chunks={self.chunks!r} is invalid: must be an integer >= 2 (the "
                             "first chunk is dropped from frames/s).")
        if self.learning_frames % self.chunks:
            raise ValueError(f"learning_frames={self.learning_frames} is invalid: must be a "
                             f"multiple of chunks={self.chunks}.")
        if (self.torch_python is None) != (self.torch_script is None):
            raise ValueError("torch_python and torch_script are invalid: give both (to time "
                             "the PyTorch original) or neither (rlfa only).")
        for name in ("torch_python", "torch_script"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise ValueError(f"{name}={path!r} is invalid: no such file.")


def agent_config(game: str, quick: bool) -> DQNConfig:
    """The paper's agent on ``game``, without rlfa's greedy evaluation; ``quick``: a small
    replay and warm-up, for smoke tests only."""
    small = dict(buffer_capacity=1_000, warmup_steps=100, target_period=100,
                 epsilon_decay_steps=1_000) if quick else {}
    return paper_config(game, num_eval_episodes=0, **small)


# --- one case, in this process ------------------------------------------------------------


def _isa_in_effect() -> str:
    """``capped`` if XLA's CPU instruction set is capped in this process, else ``fast``."""
    return "capped" if "xla_cpu_max_isa" in os.environ.get("XLA_FLAGS", "") else "fast"


def bare_update_us(dqn: DQNConfig, repeats: int, num_batches: int = 64) -> float:
    """Microseconds per jitted update of the paper's network at its batch, alone in a loop.

    The batches are random frames (bool, like the replay's), a different one each
    iteration: with one fixed batch XLA would hoist the target network's forward
    pass out of the loop.
    """
    from rlfa import envs

    env, params = envs.make(dqn.env)
    obs_shape = tuple(env.observation_space(params).shape)
    agent, hp = make_agent(dqn, obs_shape, env.num_actions), traced(dqn.hparams)
    obs_key, next_key, action_key, init_key = jax.random.split(jax.random.key(0), 4)
    state = agent.init(init_key, jnp.zeros(obs_shape, bool))
    shape = (num_batches, dqn.batch_size)
    batches = Transition(jax.random.bernoulli(obs_key, 0.1, shape + obs_shape),
                         jax.random.randint(action_key, shape, 0, env.num_actions, jnp.int32),
                         jnp.ones(shape), jnp.zeros(shape, bool), jnp.zeros(shape, bool),
                         jax.random.bernoulli(next_key, 0.1, shape + obs_shape))

    def one_update(i, s):
        return agent.update(s, hp, jax.tree.map(lambda x: x[i % num_batches], batches))[0]

    loop = jax.jit(lambda s: jax.lax.fori_loop(0, repeats, one_update, s)).lower(state).compile()
    jax.block_until_ready(loop(state))
    times = []
    for _ in range(3):
        t = time.perf_counter()
        jax.block_until_ready(loop(state))
        times.append(time.perf_counter() - t)
    return min(times) / repeats * 1e6


def run_rlfa(case: dict) -> dict:
    """Time one rlfa case (``mode`` train, no_update, act or bare) in this process."""
    isa = _isa_in_effect()
    if case["isa"] != isa:
        raise RuntimeError(f"case asks for isa={case['isa']!r} but XLA_FLAGS="
                           f"{os.environ.get('XLA_FLAGS', '')!r} gives {isa!r}.")
    dqn = agent_config(case["game"], case["quick"])
    if case["mode"] == "bare":
        return {**case, "us_per_frame": bare_update_us(dqn, 50 if case["quick"] else 1000),
                "peak_rss_mb": harness.peak_rss_mb()}
    from benchmarks.dqn import loop_variant  # the train / no_update / act loops

    built = loop_variant(dqn, case["mode"])
    chunks, seeds = case["chunks"], case["seeds"]
    vectorize = dqn_study.vectorize_runs() if case["vectorize"] is None else case["vectorize"]
    stamps = []
    results = runner.run(built.program, runner.stack_hparams([dqn.hparams]), seed=0,
                         num_seeds=seeds, num_logs=chunks, vectorize=vectorize,
                         steps_per_log=case["learning_frames"] // chunks, logs_per_chunk=1,
                         progress=False, on_chunk=lambda *_: stamps.append(time.perf_counter()))
    timed_frames = case["learning_frames"] // chunks * (chunks - 1)
    learning_s = stamps[-1] - stamps[0]
    train_return = results.metrics["train_return"][0, :, -1]
    return {**case, "vectorize": vectorize, "num_devices": results.num_devices,
            "timed_frames": timed_frames,
            "learning_s": learning_s, "frames_per_s": timed_frames / learning_s,
            "us_per_frame": learning_s / timed_frames * 1e6,
            "compile_and_warmup_s": results.compile_s, "run_s": results.run_s,
            "replay_mb_total": built.replay_nbytes * seeds / 2**20,
            "train_return": float(np.nanmean(train_return)) if case["mode"] == "train" else None,
            "peak_rss_mb": harness.peak_rss_mb(), "xla_flags": os.environ.get("XLA_FLAGS", "")}


# --- cases in fresh processes ---------------------------------------------------------------


@contextlib.contextmanager
def isa_environment(isa: str):
    """This process's environment, for the duration, set so a child gets ``isa``: the cap
    (which this process may have put in ``XLA_FLAGS``) removed and ``RLFA_CPU_FAST=1`` for
    ``fast``; ``RLFA_CPU_FAST`` unset for ``capped`` (the child's start-up caps it)."""
    saved = {k: os.environ.get(k) for k in ("XLA_FLAGS", "RLFA_CPU_FAST")}
    os.environ.pop("RLFA_CPU_FAST", None)
    if isa == "fast":
        flags = os.environ.get("XLA_FLAGS", "").split()
        os.environ["XLA_FLAGS"] = " ".join(f for f in flags if "xla_cpu_max_isa" not in f)
        os.environ["RLFA_CPU_FAST"] = "1"
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_torch(case: dict) -> dict:
    """Time the original PyTorch script once, through :data:`TORCH_DRIVER`."""
    spec = {k: case[k] for k in ("script", "threads", "seed", "warmup_frames",
                                 "learning_frames", "chunks")}
    spec["game"] = MINATAR_NAMES[case["game"]]
    env = {**os.environ, "OMP_NUM_THREADS": str(case["threads"])}
    out = subprocess.run([case["python"], "-c", TORCH_DRIVER, json.dumps(spec)], env=env,
                         capture_output=True, text=True, check=False)
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"the PyTorch original ({case['python']} {case['script']}) failed "
                           f"(exit {out.returncode}):\n{out.stderr[-harness.STDERR_TAIL:]}")
    got = json.loads(lines[-1])
    if got["updates"] != case["learning_frames"]:
        raise RuntimeError(f"the PyTorch original made {got['updates']} updates, expected "
                           f"{case['learning_frames']}: has its frame loop changed?")
    return {**case, **got, "seeds": 1, "frames_per_s": got["timed_frames"] / got["learning_s"],
            "us_per_frame": got["learning_s"] / got["timed_frames"] * 1e6}


def run_case(case: dict, isolate: bool) -> dict:
    """Time one case: PyTorch in its own Python; rlfa in a fresh process (``isolate``) with
    its ISA set, or here."""
    if case["impl"] == "pytorch":
        return run_torch(case)
    if not isolate:
        return run_rlfa(case)
    with isa_environment(case["isa"]):
        return harness.run_worker(MODULE, case)


def cases(config: BenchmarkConfig) -> tuple[list[list[dict]], list[dict]]:
    """``(rounds, profile)``: every round's cases, rlfa and PyTorch interleaved, and the
    profile's cases (run once, after the rounds)."""
    quick = config.quick
    chunks = 2 if quick else config.chunks
    learning = 20 if quick else config.learning_frames
    base = dict(game=config.game, quick=quick, chunks=chunks, learning_frames=learning,
                vectorize=config.vectorize)
    seeds = (1,) if quick else config.seeds
    isas = (_isa_in_effect(),) if quick else config.isa
    rlfa = [dict(base, impl="rlfa", mode="train", seeds=n, isa=isa)
            for isa in isas for n in seeds]
    torch = []
    if config.torch_python and not quick:
        warmup = agent_config(config.game, False).warmup_steps
        torch = [dict(base, impl="pytorch", mode="train", python=config.torch_python,
                      script=config.torch_script, threads=t, seed=0, warmup_frames=warmup)
                 for t in config.torch_threads]
    rounds = []
    for r in range(1 if quick else config.repeats):
        order = [c for pair in zip(torch, rlfa) for c in pair]  # alternate while both last
        order += rlfa[len(torch):] + torch[len(rlfa):]
        rounds.append([dict(c, round=r) for c in order])
    profile = [] if quick else [
        dict(base, impl="rlfa", mode=m, seeds=n, isa="capped", round=0)
        for n in config.profile for m in ("no_update", "act", "bare") if m != "bare" or n == 1]
    return rounds, profile


# --- analysis -------------------------------------------------------------------------------


def label(r: dict) -> str:
    """A case's name: ``rlfa 8 seeds fast`` or ``pytorch 1 thread``."""
    if r["impl"] == "pytorch":
        return f"pytorch {r['threads']} thread{'s' if r['threads'] != 1 else ''}"
    seeds = f"{r['seeds']} seed{'s' if r['seeds'] != 1 else ''}"
    mode = "" if r["mode"] == "train" else f" {r['mode']}"
    return f"rlfa {seeds} {r['isa']}{mode}"


def per_seed_fps(r: dict) -> float:
    """Learning frames per second, per seed."""
    return r["frames_per_s"]


def _median_by_round(pairs: list[tuple[float, float]], f) -> float | None:
    values = [f(a, b) for a, b in pairs]
    return statistics.median(values) if values else None


def analyse(rows: list[dict], profile: list[dict]) -> dict:
    """Medians per case, paired (same-round) ratios, the goals and the profile's shares."""
    trains = [r for r in rows if r["mode"] == "train"]
    out = {"per_seed_frames_per_s": {}, "speedup_over_pytorch": {}, "seeds_time_ratio": {}}
    for name in dict.fromkeys(map(label, trains)):
        fps = [per_seed_fps(r) for r in trains if label(r) == name]
        out["per_seed_frames_per_s"][name] = {"median": statistics.median(fps),
                                              "min": min(fps), "max": max(fps), "n": len(fps)}
    by_round = {(label(r), r["round"]): r for r in trains}
    rounds = sorted({r["round"] for r in trains})

    def paired(a: str, b: str):
        return [(by_round[a, k], by_round[b, k]) for k in rounds
                if (a, k) in by_round and (b, k) in by_round]

    rlfa_names = [n for n in out["per_seed_frames_per_s"] if n.startswith("rlfa")]
    torch_names = [n for n in out["per_seed_frames_per_s"] if n.startswith("pytorch")]
    for a in rlfa_names:
        for b in torch_names:
            out["speedup_over_pytorch"][f"{a} / {b}"] = _median_by_round(
                paired(a, b), lambda x, y: per_seed_fps(x) / per_seed_fps(y))
    for r in trains:
        if r["impl"] == "rlfa" and r["seeds"] > 1 and r["round"] == rounds[0]:
            one = label(dict(r, seeds=1))
            if pairs := paired(label(r), one):  # time for the same frames per seed
                out["seeds_time_ratio"][f"{label(r)} / {one}"] = _median_by_round(
                    pairs, lambda x, y: per_seed_fps(y) / per_seed_fps(x))
    out["goals"] = goals(out)
    out["profile"] = profile_shares(trains, profile)
    return out


def goals(analysis: dict) -> dict:
    """The issue's two goals, checked against the paired medians (None: not measured)."""
    speedups = analysis["speedup_over_pytorch"]
    one_seed = {k: v for k, v in speedups.items() if k.startswith("rlfa 1 seed")}
    # Against the fastest PyTorch setting, i.e. the lowest speedup, per ISA.
    worst = {isa: min((v for k, v in one_seed.items() if f" {isa} /" in k), default=None)
             for isa in ISAS}
    scaling = {k.split(" / ")[0].split()[-1]: v for k, v in
               analysis["seeds_time_ratio"].items() if k.startswith("rlfa 8 seeds")}
    return {
        "speedup_goal": GOAL_SPEEDUP,
        "speedup_vs_fastest_pytorch": worst,
        "speedup_met": {isa: v >= GOAL_SPEEDUP for isa, v in worst.items() if v is not None}
        or None,
        "seeds_8_time_ratio_goal": GOAL_SCALING,
        "seeds_8_time_ratio": scaling,
        "seeds_8_met": {isa: v <= GOAL_SCALING for isa, v in scaling.items()} or None,
    }


def profile_shares(trains: list[dict], profile: list[dict]) -> dict:
    """Where a frame's time goes (capped), per profiled seed count: the loop's variants,
    subtracted from the training loop's median time per frame (all seeds together)."""
    out = {}
    for n in dict.fromkeys(r["seeds"] for r in profile):
        name = label({"impl": "rlfa", "mode": "train", "seeds": n, "isa": "capped"})
        us = {r["mode"]: r["us_per_frame"] for r in profile if r["seeds"] == n}
        train = [r["us_per_frame"] for r in trains if label(r) == name]
        if not train or not {"no_update", "act"} <= set(us):
            out[name] = {"us_per_frame": us}
            continue
        us["train"] = train_us = statistics.median(train)
        share = {"gradient update (from the loop)": 1 - us["no_update"] / train_us,
                 "replay writes + sampling": (us["no_update"] - us["act"]) / train_us,
                 "acting (forward pass) + env step": us["act"] / train_us}
        if "bare" in us:
            share["bare update alone"] = us["bare"] / train_us
        out[name] = {"us_per_frame": us, "share_of_frame": share}
    return out


def estimates(analysis: dict, warmup: int) -> dict:
    """Hours for the full protocol (5M frames per seed), from the learning frames/s.

    rlfa at 64 seeds is 8 times the 8-seed time: at 8 seeds both cores are already
    busy and the update is compute-bound, so more seeds add their work linearly.
    PyTorch's seeds are independent single-thread processes, as many at once as cores.
    """
    fps = {k: v["median"] for k, v in analysis["per_seed_frames_per_s"].items()}
    frames = PAPER_FRAMES - warmup
    out = {}
    for isa in ISAS:
        one = fps.get(f"rlfa 1 seed {isa}")
        eight = fps.get(f"rlfa 8 seeds {isa}")
        if one is None:
            continue
        hours = {"1": frames / one / 3600}
        if eight is not None:
            hours["8"] = frames / eight / 3600
            hours["64"] = 8 * hours["8"]
        out[f"rlfa {isa}"] = hours
    single = fps.get("pytorch 1 thread")
    if single is not None:
        cores = os.cpu_count() or 1
        out["pytorch 1 thread"] = {str(n): frames / single / 3600 * -(-n // cores)
                                   for n in ESTIMATE_SEEDS}
    return {"hours": out, "frames_per_seed": PAPER_FRAMES,
            "assumptions": "learning frames/s for every frame after the warm-up (warm-up "
                           "and compile, seconds, left out); rlfa 64 seeds = 8 x 8 seeds; "
                           f"PyTorch: one single-thread process per seed, {os.cpu_count()} "
                           "at a time, no slow-down from sharing"}


# --- report ---------------------------------------------------------------------------------


COLUMNS = (
    Column("case", 26, label, align="<"), Column("round", 5, "round"),
    Column("frames/s/seed", 14, "frames_per_s", ".0f"),
    Column("us/frame", 9, "us_per_frame", ".0f"),
    Column("learning s", 11, "learning_s", ".2f"),
    Column("compile+warm s", 15, lambda r: r.get("compile_and_warmup_s") or r.get("warmup_s"),
           ".1f"),
    Column("peak MB", 8, lambda r: r.get("peak_rss_mb"), ".0f"))
SEP = " "


def table_row(r: dict) -> str:
    shown = dict(r, frames_per_s=r.get("frames_per_s", 1e6 / r["us_per_frame"]),
                 learning_s=r.get("learning_s"))
    return harness.table_row(shown, COLUMNS, SEP)


def table(rows: list[dict]) -> str:
    return "\n".join([harness.table_header(COLUMNS, SEP), *map(table_row, rows)])


def metric_rows(rows: list[dict]) -> list[dict]:
    """``metrics.csv`` rows: every case with the same columns, its name first."""
    lead = ("case", "impl", "mode", "seeds", "isa", "round")
    rows = [{"case": label(r), **r} for r in rows]
    columns = list(dict.fromkeys([*lead, *(k for r in rows for k in r)]))
    return [{k: r.get(k) for k in columns} for r in rows]


def draw(rows: list[dict], torch_measured: bool):
    """Median learning frames/s per seed of every training case (the profile is in the
    summary); the goal line at twice PyTorch's 1-thread median when it was measured."""
    trains = [r for r in rows if r["mode"] == "train"]
    names = list(dict.fromkeys(map(label, trains)))
    fps = {n: [per_seed_fps(r) for r in trains if label(r) == n] for n in names}
    torch_one = fps.get("pytorch 1 thread")
    title = "MinAtar paper's DQN: learning frames/s per seed"
    if not torch_measured:
        title += " (PyTorch not measured)"
    return report.bar_figure(
        [n.replace(" ", "\n", 1) for n in names],  # two lines: the names stay apart
        {"median": [statistics.median(v) for v in fps.values()],
         "min": [min(v) for v in fps.values()], "max": [max(v) for v in fps.values()]},
        "frames / s / seed", title,
        target=GOAL_SPEEDUP * statistics.median(torch_one) if torch_one else None,
        target_label="goal: 2x PyTorch (1 thread)" if torch_one else None)


def main(config: BenchmarkConfig) -> Path:
    """Run every round and the profile, write ``runs/benchmark_minatar/<timestamp>/``."""
    t0 = time.perf_counter()
    rounds, profile_cases = cases(config)
    isolate = config.isolate and not config.quick  # a fresh process would dwarf --quick
    print(harness.table_header(COLUMNS, SEP), flush=True)
    rows, profile = [], []
    for case in [c for r in rounds for c in r]:
        rows.append(run_case(case, isolate))
        print(table_row(rows[-1]), flush=True)
    for case in profile_cases:
        profile.append(run_case(case, isolate))
        print(table_row(profile[-1]), flush=True)
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
    path = files.write_run("benchmark_minatar", config, summary, metric_rows(rows + profile),
                           {"figure": draw(rows, torch_measured)}, root=config.out)
    print(json.dumps({k: analysis[k] for k in ("per_seed_frames_per_s", "speedup_over_pytorch",
                                                "seeds_time_ratio", "goals", "profile")},
                     indent=1))
    print(json.dumps(summary["estimates"], indent=1))
    if not torch_measured:
        print("PyTorch: not measured (give --torch-python and --torch-script).")
    print(f"results: {path}")
    return path


if __name__ == "__main__":  # devices and processes: see benchmarks/__init__.py
    harness.worker_or_cli(lambda case: run_rlfa(case), BenchmarkConfig, main)
