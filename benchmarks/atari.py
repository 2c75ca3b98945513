"""The Nature DQN on Atari per learning frame: rlfa beside CleanRL's ``dqn_atari_jax.py``.

    python -m benchmarks.atari                    # rlfa only (minutes)
    python -m benchmarks.atari --cleanrl-python /tmp/cleanrl/bin/python \\
        --cleanrl-script /path/to/cleanrl/cleanrl/dqn_atari_jax.py   # both, interleaved
    python -m benchmarks.atari --quick            # seconds, for tests

Matched settings: one game (Breakout), one environment, a replay of ``--buffer-size``
transitions, 32 per batch, an update every 4 agent steps after ``--learning-starts``
random ones, the Nature network; rlfa's evaluation is off (CleanRL's script has none).
What differs and stays: the optimizer (CleanRL: Adam 1e-4; rlfa: DeepMind's RMSProp, the
same cost), the wrappers (CleanRL: SB3's, with FIRE at a reset and a lost life ending the
episode as gymnasium's reset; rlfa: ale-py's, no FIRE, the game going on), the target
network's period (each its own default: both copy rarely).

rlfa: one seed, in a fresh process per case, with XLA's CPU instruction set capped at AVX
(rlfa's default, ``rlfa``) and at XLA's default (``rlfa fast``, as CleanRL's process runs);
the goal is judged on the capped one. Its learning steps run in equal chunks, the
first dropped, so the rate is learning's steady state. CleanRL: its script, never copied
here, run unmodified in its own Python by :data:`CLEANRL_DRIVER`, which times every call of
its jitted ``update`` (the first third dropped, as rlfa's first chunk). A rate is agent
steps (each 4 frames) per second of the learning phase; a ratio is the median over rounds
of the ratio within each round.

The profile: rlfa's loop without updates (``no_update``: emulator, acting, replay), a bare
update in a loop with the network's patch convolutions and with XLA's (the reason the
network uses patches), the emulator alone (ale-py's vector environment, envpool's when it
is installed, gymnasium's Python wrappers), and the peak memory of one seed with the
paper's 1,000,000-transition replay.

Writes ``runs/benchmark_atari/<timestamp>/``: ``config.json``, ``metrics.csv`` (one row per
case and round), ``summary.json`` (medians, paired ratios, the goal, the profile, the full
protocol's estimated time) and ``figure.png`` (learning frames/s per case).
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks import harness
from benchmarks.dqn import _touch_batch
from benchmarks.harness import ISAS, Column
from rlfa import config as cfg
from rlfa import nets, report
from rlfa.control.dqn import atari as nature
from rlfa.control.dqn import dqn as dqn_module
from rlfa.control.dqn.dqn import make_agent
from rlfa.envs import atari
from rlfa.hparams import traced
from rlfa.types import Transition

MODULE = "benchmarks.atari"
GOAL_SPEEDUP = 1.5  # rlfa's learning frames/s over CleanRL's, at least
GOAL_PEAK_GB = 10.0  # one seed's peak memory with the 1M-transition replay, at most
ESTIMATE_SEEDS = (1, 8)

# Run by --cleanrl-python as ``python -c DRIVER JSON``: CleanRL's script as its own
# ``__main__`` with the matched flags, every call of its jitted ``update`` timed.
CLEANRL_DRIVER = r"""
import json, os, runpy, sys, tempfile, time
case = json.loads(sys.argv[1])
sys.path.insert(0, os.path.dirname(os.path.dirname(case["script"])))  # its cleanrl_utils
os.chdir(tempfile.mkdtemp())  # its runs/ (TensorBoard files) out of the way
import ale_py  # registers the ALE's games with gymnasium, for its gym.make
import jax
stamps, jit = [], jax.jit
def timing_jit(fun=None, *args, **kwargs):
    if fun is None:
        return lambda f: timing_jit(f, *args, **kwargs)
    jitted = jit(fun, *args, **kwargs)
    if getattr(fun, "__name__", "") != "update":
        return jitted
    def timed(*a, **k):
        out = jitted(*a, **k)
        jax.block_until_ready(out)
        stamps.append(time.perf_counter())
        return out
    return timed
jax.jit = timing_jit
sys.argv = [case["script"], *case["args"]]
t0 = time.perf_counter()
runpy.run_path(case["script"], run_name="__main__")
first = len(stamps) // 3
steps = (len(stamps) - 1 - first) * case["train_frequency"]
print(json.dumps({"updates": len(stamps), "learning_s": stamps[-1] - stamps[first],
                  "timed_steps": steps, "wall_s": time.perf_counter() - t0,
                  "jax": jax.__version__}))
"""


@dataclasses.dataclass(frozen=True)
class BenchmarkConfig(harness.IsolatedOptions):
    """Time the Nature DQN per learning frame on one Atari game: rlfa and CleanRL.

    --quick: a tiny workload in this process: a small replay, a few updates, no CleanRL, no
    1M-replay memory case.
    """

    game: str = "Breakout"
    """Atari game (CleanRL's env id: GAMENoFrameskip-v4)."""
    learning_steps: int = 3_000
    """Agent steps after the random ones (one update every 4)."""
    learning_starts: int = 5_000
    """Agent steps of random actions first (no updates)."""
    buffer_size: int = 100_000
    """Replay capacity in transitions, both implementations."""
    chunks: int = 3
    """Equal chunks of rlfa's learning steps; the first is dropped from the rate (>= 2)."""
    repeats: int = 2
    """Rounds: each times every case once, rlfa and CleanRL interleaved."""
    cleanrl_python: str | None = None
    """A Python with CleanRL's requirements (jax, flax, optax, gymnasium, ale-py, torch for
    its TensorBoard writer, tyro, tensorboard), to time its script."""
    cleanrl_script: str | None = None
    """CleanRL's cleanrl/dqn_atari_jax.py (needs cleanrl_python)."""
    memory: bool = True
    """Also measure one seed's peak memory with the paper's 1,000,000-transition replay."""
    profile: bool = True
    """Also time rlfa without updates, bare updates (patch and XLA convolutions) and the
    emulators alone."""
    isa: tuple[str, ...] = ISAS
    """XLA's CPU instruction set of rlfa's training case: capped (at AVX, rlfa's default)
    and/or fast (RLFA_CPU_FAST=1: XLA's default, as CleanRL's process runs), set in each
    case's fresh process (--isolate); the profile runs as this process does."""

    def __post_init__(self):
        super().__post_init__()
        self.check_peer("cleanrl_python", "cleanrl_script", "CleanRL's dqn_atari_jax.py")
        atari.check_game(self.game)
        self.check_choices("isa", ISAS)
        self.check_counts("learning_steps", "learning_starts", "buffer_size", "repeats")
        self.check_chunks("learning_steps", "chunks")
        if self.learning_steps % (4 * self.chunks):
            raise ValueError(f"learning_steps={self.learning_steps} is invalid: must be a "
                             f"multiple of 4 x chunks={4 * self.chunks} (whole train steps).")


def agent_config(case: dict):
    """The Nature agent on the case's game at the matched settings, without evaluation."""
    return nature.nature_config(case["game"], buffer_capacity=case["buffer_size"],
                                warmup_steps=case["learning_starts"], num_eval_episodes=0)


def run_rlfa(case: dict) -> dict:
    """Time one rlfa case (``mode``: train, no_update, memory, bare, env) here."""
    harness.check_isa(case)
    mode = case["mode"]
    if mode == "bare":
        return {**case, **bare_updates(case["quick"])}
    if mode == "env":
        return {**case, **emulator_rates(case["game"], 200 if case["quick"] else 3_000)}
    dqn = agent_config(case)
    agent = None
    if mode == "no_update":
        agent = make_agent(dqn, (4, 84, 84), atari.num_actions(case["game"], atari.NATURE))
        agent = agent._replace(update=_touch_batch)
    built = nature.make_program(dqn, agent=agent)
    train_steps = case["learning_steps"] // dqn.train_frequency
    results, learning_s = harness.run_steady(built.program, dqn.hparams, 1, train_steps,
                                             case["chunks"], vectorize=False)
    timed = case["learning_steps"] // case["chunks"] * (case["chunks"] - 1)
    return {**case, "timed_steps": timed, "learning_s": learning_s,
            "steps_per_s": timed / learning_s, "frames_per_s": 4 * timed / learning_s,
            "compile_and_warmup_s": results.compile_s, "replay_gb": built.replay_nbytes / 1e9,
            "peak_rss_mb": harness.peak_rss_mb()}


def bare_updates(quick: bool) -> dict:
    """Microseconds per update alone in a loop, the network's patch convolutions and XLA's."""
    dqn = nature.NATURE_DQN
    shape = (8, dqn.batch_size)
    keys = jax.random.split(jax.random.key(0), 3)
    frames = jax.random.randint(keys[0], shape + (4, 84, 84), 0, 256).astype(jnp.uint8)
    batches = Transition(frames, jax.random.randint(keys[1], shape, 0, 4, jnp.int32),
                         jnp.ones(shape), jnp.zeros(shape, bool), jnp.zeros(shape, bool),
                         jnp.roll(frames, 1, axis=1))
    out = {}
    for name, patches in (("update_us", True), ("update_xla_conv_us", False)):
        # The agent's network with its convolutions swapped (the same parameters).
        with mock.patch.object(dqn_module.nets, "q_network",
                               lambda *a, patches=patches, **k: nets.NatureCNN(4, patches)):
            agent = make_agent(dqn, (4, 84, 84), 4)
        state = agent.init(keys[2], frames[0, 0])
        out[name] = harness.bare_update_us(agent, traced(dqn.hparams), state, batches,
                                           2 if quick else 20)
    return out


def emulator_rates(game: str, steps: int) -> dict:
    """Agent steps per second of one environment with the Nature preprocessing: ale-py's
    vector environment, envpool's (when installed), gymnasium's Python wrappers."""
    import gymnasium as gym

    def rate(step) -> float:
        start = time.perf_counter()
        for _ in range(steps):
            step()
        return steps / (time.perf_counter() - start)

    action = np.zeros(1, np.int32)
    env = atari.make_vector_env(game, atari.NATURE, 1, evaluation=False)
    env.reset(seed=0)
    out = {"ale_py_steps_per_s": rate(lambda: env.step(action))}
    env.close()
    try:
        import envpool
    except ImportError:
        out["envpool_steps_per_s"] = None
    else:
        pool = envpool.make(f"{game}-v5", env_type="gymnasium", num_envs=1, episodic_life=False,
                            reward_clip=False, num_threads=1)
        pool.reset()
        out["envpool_steps_per_s"] = rate(lambda: pool.step(action))
    import ale_py

    gym.register_envs(ale_py)
    wrapped = gym.wrappers.FrameStackObservation(gym.wrappers.AtariPreprocessing(
        gym.make(f"ALE/{game}-v5", frameskip=1, repeat_action_probability=0.0), noop_max=30),
        4, padding_type="zero")
    wrapped.reset(seed=0)

    def gym_step():
        if any(wrapped.step(0)[2:4]):
            wrapped.reset()

    out["gymnasium_steps_per_s"] = rate(gym_step)
    return out


def run_cleanrl(case: dict) -> dict:
    """Time CleanRL's script once, through :data:`CLEANRL_DRIVER`."""
    total = case["learning_starts"] + case["learning_steps"]
    args = ["--env-id", f"{case['game']}NoFrameskip-v4", "--total-timesteps", str(total),
            "--learning-starts", str(case["learning_starts"]), "--buffer-size",
            str(case["buffer_size"]), "--batch-size", "32", "--train-frequency", "4",
            "--seed", "0", "--no-track", "--no-capture-video", "--no-save-model"]
    got = harness.run_peer(case["python"], CLEANRL_DRIVER,
                           {"script": case["script"], "args": args, "train_frequency": 4},
                           f"CleanRL's dqn_atari_jax.py ({case['python']} {case['script']})")
    return {**case, **got, "steps_per_s": got["timed_steps"] / got["learning_s"],
            "frames_per_s": 4 * got["timed_steps"] / got["learning_s"]}


def cases(config: BenchmarkConfig) -> tuple[list[list[dict]], list[dict]]:
    """``(rounds, profile)``: the rounds' training cases (rlfa and CleanRL interleaved) and
    the profile's cases, run once after them."""
    quick = config.quick
    base = dict(game=config.game, quick=quick, chunks=2 if quick else config.chunks,
                learning_steps=16 if quick else config.learning_steps,
                learning_starts=64 if quick else config.learning_starts,
                buffer_size=500 if quick else config.buffer_size, isa=harness.isa_in_effect())
    ours = [dict(base, impl="rlfa", mode="train", isa=isa)
            for isa in ((base["isa"],) if quick else config.isa)]
    peers = [] if quick or not config.cleanrl_python else [
        dict(base, impl="cleanrl", mode="train", python=config.cleanrl_python,
             script=config.cleanrl_script)]
    profile = []
    if config.profile:
        profile += [dict(base, impl="rlfa", mode=m, round=0) for m in ("no_update", "bare", "env")]
    if config.memory and not quick:
        profile.append(dict(base, impl="rlfa", mode="memory", round=0, buffer_size=1_000_000,
                            learning_steps=96, chunks=2, learning_starts=1_000))
    return harness.interleaved_rounds(ours, peers, 1 if quick else config.repeats), profile


def label(r: dict) -> str:
    """A case's name: ``cleanrl``, ``rlfa`` (capped ISA), ``rlfa fast`` or ``rlfa MODE``."""
    if r["impl"] == "cleanrl":
        return "cleanrl"
    if r["mode"] == "train":
        return "rlfa fast" if r.get("isa") == "fast" else "rlfa"
    return f"rlfa {r['mode']}"


def analyse(rows: list[dict], profile: list[dict]) -> dict:
    """Medians, paired ratios, the goals, the profile and the full protocol's estimate."""
    rate = lambda r: r["frames_per_s"]  # noqa: E731
    out = {"learning_frames_per_s": harness.spread(rows, label, rate),
           "speedup_over_cleanrl": harness.speedups(rows, label, rate)}
    ratio = out["speedup_over_cleanrl"].get("rlfa / cleanrl")
    fast = out["speedup_over_cleanrl"].get("rlfa fast / cleanrl")
    by_mode = {r["mode"]: r for r in profile}
    memory = by_mode.get("memory")
    out["goals"] = {
        "speedup_goal": GOAL_SPEEDUP, "speedup": ratio,
        "speedup_met": None if ratio is None else ratio >= GOAL_SPEEDUP,
        "speedup_fast_isa": fast,
        "peak_gb_goal": GOAL_PEAK_GB,
        "peak_gb_1m_replay": None if memory is None else memory["peak_rss_mb"] / 1024,
        "peak_met": None if memory is None else memory["peak_rss_mb"] / 1024 <= GOAL_PEAK_GB}
    train = [r["frames_per_s"] for r in rows if label(r) == "rlfa"]
    if "no_update" in by_mode and "bare" in by_mode and train:
        us_per_step = 1e6 * 4 / statistics.median(train)
        no_update_us = 1e6 * 4 / by_mode["no_update"]["frames_per_s"]
        update_us = by_mode["bare"]["update_us"] / 4  # an update every 4 agent steps
        out["profile"] = {"us_per_agent_step": us_per_step,
                          "share_bare_update": update_us / us_per_step,
                          "share_no_update_loop": no_update_us / us_per_step,
                          "bare_update_us": by_mode["bare"]["update_us"],
                          "bare_update_xla_conv_us": by_mode["bare"]["update_xla_conv_us"]}
    if "env" in by_mode:
        out["emulators_steps_per_s"] = {k: v for k, v in by_mode["env"].items()
                                        if k.endswith("steps_per_s")}
    out["estimates"] = estimates(out["learning_frames_per_s"])
    return out


def estimates(fps: dict[str, dict]) -> dict:
    """Hours for the paper's 50M frames per seed at the learning rates measured (the random
    steps and compile left out), seeds one after another on this machine."""
    hours = {name: {str(n): n * nature.PAPER_FRAMES / v["median"] / 3600
                    for n in ESTIMATE_SEEDS} for name, v in fps.items()}
    return {"hours": hours, "frames_per_seed": nature.PAPER_FRAMES,
            "assumptions": "learning frames/s for every frame; seeds one after another"}


COLUMNS = (
    Column("case", 16, label, align="<"), Column("round", 5, "round"),
    Column("frames/s", 9, lambda r: r.get("frames_per_s"), ".0f"),
    Column("steps/s", 8, lambda r: r.get("steps_per_s"), ".0f"),
    Column("learning s", 11, lambda r: r.get("learning_s"), ".2f"),
    Column("peak MB", 8, lambda r: r.get("peak_rss_mb"), ".0f"))
LEAD = ("case", "impl", "mode", "round")


def main(config: BenchmarkConfig) -> Path:
    """Run every round and the profile, write ``runs/benchmark_atari/<timestamp>/``."""
    t0 = time.perf_counter()
    rounds, profile_cases = cases(config)
    rows, profile = harness.time_rounds_and_profile(rounds, profile_cases, MODULE,
                                                    config.isolated, run_rlfa,
                                                    {"cleanrl": run_cleanrl}, COLUMNS)
    measured = bool(config.cleanrl_python) and not config.quick
    analysis = analyse(rows, profile)
    summary = {"cases": rows, "profile_cases": profile, "analysis": analysis,
               "cleanrl": ("measured in this run, interleaved with rlfa" if measured else
                           "not measured in this run (give --cleanrl-python and "
                           "--cleanrl-script)"),
               "cpu_count": os.cpu_count(), "jax": jax.__version__,
               "python": sys.version.split()[0], "wall_s": time.perf_counter() - t0}
    print(json.dumps(analysis, indent=1))
    if not measured:
        print("CleanRL: not measured (give --cleanrl-python and --cleanrl-script).")
    fps = analysis["learning_frames_per_s"]
    figure = report.bar_figure(
        list(fps), {k: [v[k] for v in fps.values()] for k in ("median", "min", "max")},
        "learning frames / s", f"Nature DQN on {config.game}: learning frames/s (1 seed)",
        target=GOAL_SPEEDUP * fps["cleanrl"]["median"] if "cleanrl" in fps else None,
        target_label="goal: 1.5x CleanRL" if "cleanrl" in fps else None)
    return harness.write_results("atari", config, summary,
                                 [{"case": label(r), **r} for r in rows + profile], figure, LEAD)


if __name__ == "__main__":  # devices and processes: see benchmarks/__init__.py
    harness.worker_or_cli(run_rlfa, BenchmarkConfig, main)
