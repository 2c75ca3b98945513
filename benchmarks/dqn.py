"""How fast rlfa's DQN runs on CartPole-v1: seeds, devices, and where the time goes, beside
PureJaxRL's own DQN.

    python -m benchmarks.dqn                # the full benchmark (tens of minutes)
    python -m benchmarks.dqn --settings purejaxrl --seeds 1 8 --repeats 3 \
        --purejaxrl-python PJ/bin/python --purejaxrl-script purejaxrl/dqn.py
    python -m benchmarks.dqn --replays rlfa flashbax --seeds 1
    python -m benchmarks.dqn --quick        # seconds, for tests

Two hyperparameter sets: ``purejaxrl`` (PureJaxRL's published CartPole DQN:
10 envs, 500k env steps, buffer 10k, batch 128, learning starts at 10k, one
update per 10 env steps, target copied every 500, Adam 2.5e-4 without gradient
clipping, epsilon 1 to 0.05 over 250k, gamma 0.99, MLP 120-84) and ``rlfa``
(``experiments.dqn``'s CartPole defaults, ``rlfa.control.dqn.CARTPOLE``, 100k env
steps). For
each, 1, 8 and 64 seeds run on one host device and spread over all of them (one
per core), a device's seeds vmapped and/or one after another (``--vectorize``);
every case runs in a fresh process, so its peak memory (max RSS) is its own.
Compile time is apart from run time.

PureJaxRL: its own ``dqn.py`` (the purejaxrl repository's ``purejaxrl/dqn.py``, never
copied here), run in its own Python with the jax it pins by :data:`PUREJAXRL_DRIVER`:
the script's ``make_train`` at its own config (checked equal to ``purejaxrl`` above),
with ``NUM_SEEDS`` seeds vmapped as its ``main`` does. Rounds (``--repeats``) time every
case once, rlfa's and PureJaxRL's interleaved; the ratio of run times is taken within
each round and its median reported (rlfa also runs 4 greedy evaluations of 10 episodes
that PureJaxRL does not).

The profile, at one seed on one device, runs the same loop three ways, so the
differences say where the time goes: ``train``; ``no_update`` (acting,
environments, replay writes and sampling, no gradient); ``act`` (the ceiling:
environments stepped with the network's forward pass choosing actions, nothing
else); and a bare jitted update of the same network and batch, alone in a
``lax.fori_loop``. The ratio ``train / bare`` per update is the loop's overhead.

Writes ``runs/benchmark_dqn/<timestamp>/``: ``config.json``, ``metrics.csv`` (one
row per timed case, its measured numbers as columns), ``summary.json`` (the
cases, the ratios above, the hyperparameters) and ``figure.png`` (run and
compile seconds per case; the bare update, timed on its own, is in the table).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks import harness
from benchmarks.harness import ISAS, Column
from rlfa import config as cfg
from rlfa import dqn_study, envs, report, runner
from rlfa.control.dqn import CARTPOLE, DQN, DQNConfig, DQNHParams, make_agent, make_program
from rlfa.hparams import traced
from rlfa.types import Transition

MODULE = "benchmarks.dqn"  # what a fresh process per case runs (python -m)

PUREJAXRL = DQNConfig(
    env="CartPole-v1", hidden=(120, 84), num_envs=10, buffer_capacity=10_000, batch_size=128,
    warmup_steps=10_000, train_frequency=10, gradient_steps=1, target_period=500,
    epsilon_decay_steps=250_000, double=False, huber=False, num_eval_episodes=10,
    optimizer="adam", max_grad_norm=0.0,  # PUREJAXRL_OPTIMIZER: Adam, no gradient clipping
    hparams=DQNHParams(learning_rate=2.5e-4, epsilon_start=1.0, epsilon_end=0.05, gamma=0.99,
                       tau=1.0))
SETTINGS = {"purejaxrl": (PUREJAXRL, 500_000), "rlfa": (CARTPOLE, 100_000)}
# PureJaxRL's config keys and the values PUREJAXRL must have for a like-for-like ratio.
PUREJAXRL_KEYS = {
    "NUM_ENVS": PUREJAXRL.num_envs, "BUFFER_SIZE": PUREJAXRL.buffer_capacity,
    "BUFFER_BATCH_SIZE": PUREJAXRL.batch_size, "LEARNING_STARTS": PUREJAXRL.warmup_steps,
    "TRAINING_INTERVAL": PUREJAXRL.train_frequency,
    "TARGET_UPDATE_INTERVAL": PUREJAXRL.target_period,
    "EPSILON_ANNEAL_TIME": PUREJAXRL.epsilon_decay_steps, "LR": PUREJAXRL.hparams.learning_rate,
    "EPSILON_START": PUREJAXRL.hparams.epsilon_start,
    "EPSILON_FINISH": PUREJAXRL.hparams.epsilon_end, "GAMMA": PUREJAXRL.hparams.gamma,
    "TAU": PUREJAXRL.hparams.tau, "ENV_NAME": PUREJAXRL.env, "LR_LINEAR_DECAY": False}
# PureJaxRL's optimizer as its script builds it (``tx = ...`` in ``make_train``), which the
# driver reads back: plain Adam, so PUREJAXRL neither clips gradients nor decays its rate.
PUREJAXRL_OPTIMIZER = "optax.adam(learning_rate=lr)"
GOALS = {1: 0.70, 8: 0.30}  # rlfa's run time over PureJaxRL's, at most, per seed count

# Run by --purejaxrl-python as ``python -c DRIVER JSON`` (harness.run_peer); imports only
# the standard library, PureJaxRL's script (from its path) and what it imports itself.
# The script's own config is read from its ``main`` (never edited); only the seeds and
# steps are set, and it is printed back so the caller can check it.
PUREJAXRL_DRIVER = r"""
import ast, importlib.util, json, sys, time
case = json.loads(sys.argv[1])
source = open(case["script"]).read()
functions = {n.name: n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)}
main, make_train = functions["main"], functions["make_train"]
config = next(ast.literal_eval(n.value) for n in ast.walk(main) if isinstance(n, ast.Assign)
              and getattr(n.targets[0], "id", "") == "config")
config.update(NUM_SEEDS=case["seeds"], TOTAL_TIMESTEPS=case["total_steps"])
optimizer = [ast.get_source_segment(source, n.value) for n in ast.walk(make_train)
             if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "tx"]
spec = importlib.util.spec_from_file_location("purejaxrl_dqn", case["script"])
peer = importlib.util.module_from_spec(spec)
spec.loader.exec_module(peer)
import jax
checked = dict(config)
rngs = jax.random.split(jax.random.PRNGKey(config["SEED"]), config["NUM_SEEDS"])
t0 = time.perf_counter()
train = jax.jit(jax.vmap(peer.make_train(config))).lower(rngs).compile()
compile_s = time.perf_counter() - t0
t0 = time.perf_counter()
out = jax.block_until_ready(train(rngs))
run_s = time.perf_counter() - t0
print(json.dumps({"compile_s": compile_s, "run_s": run_s, "jax": jax.__version__,
                  "config": checked, "optimizer": optimizer,
                  "updates": int(out["runner_state"][0].n_updates[0])}))
"""


@dataclasses.dataclass(frozen=True)
class BenchmarkConfig(harness.IsolatedOptions):
    """Benchmark DQN on CartPole-v1 over seeds and devices, and profile its loop.

    --quick: a tiny workload, in this process: one seed, one device, the first settings.
    """

    settings: tuple[str, ...] = ("purejaxrl", "rlfa")
    """Hyperparameter sets: purejaxrl (PureJaxRL's CartPole DQN) and/or rlfa (experiments.dqn)."""
    seeds: tuple[int, ...] = (1, 8, 64)
    """Seed counts to time."""
    devices: tuple[str, ...] = ("one", "all")
    """one host device, and/or all of them (one per core)."""
    vectorize: tuple[bool, ...] = (True, False)
    """With several seeds on a device: vmap them (True) and/or run them one after another
    (False); one seed runs as experiments.dqn runs it."""
    repeats: int = 1
    """Rounds: each times every training case once, rlfa and PureJaxRL interleaved."""
    purejaxrl_python: str | None = None
    """A Python with PureJaxRL's packages (jax, flax, optax, gymnax, flashbax, wandb)."""
    purejaxrl_script: str | None = None
    """PureJaxRL's purejaxrl/dqn.py (needs purejaxrl_python)."""
    purejaxrl_seeds: tuple[int, ...] = (1, 8)
    """Seed counts PureJaxRL is timed at (vmapped, as its main does)."""
    replays: tuple[str, ...] = ("flashbax",)
    """Replay implementations to time (flashbax, the default, and/or rlfa's own)."""
    isa: tuple[str, ...] = ISAS
    """XLA's CPU instruction set of rlfa's training cases: capped (at AVX, rlfa's default)
    and/or fast (RLFA_CPU_FAST=1: XLA's default, as PureJaxRL's process runs), set in each
    case's fresh process (--isolate); the profile runs capped."""
    profile: bool = True
    """Also time the no_update and act loops and a bare jitted update (one seed, one device)."""
    total_steps: int | None = None
    """Environment steps per seed, overriding each setting's own (500k / 100k)."""
    num_logs: int = 4
    """Logged points (each with a 10-episode greedy evaluation; the last gives the final return)."""

    def __post_init__(self):
        super().__post_init__()
        for name in self.settings:
            cfg.check_choice("settings", name, tuple(SETTINGS))
        for d in self.devices:
            cfg.check_choice("devices", d, ("one", "all"))
        for r in self.replays:
            cfg.check_choice("replays", r, ("rlfa", "flashbax"))
        self.check_choices("isa", ISAS)
        self.check_counts("seeds", "num_logs", "repeats", "purejaxrl_seeds")
        self.check_peer("purejaxrl_python", "purejaxrl_script", "PureJaxRL's DQN")
        if self.total_steps is not None:
            cfg.check_positive_int("total_steps", self.total_steps)


def case_config(settings: str, replay: str, quick: bool,
                total_steps: int | None = None) -> tuple[DQNConfig, int]:
    """The DQN config and env steps per seed of one hyperparameter set."""
    dqn, total = SETTINGS[settings]
    total = total_steps or total
    dqn = dataclasses.replace(dqn, replay_impl=replay)
    if quick:
        quick = dqn_study.quick_dqn(dqn)
        warmup = max(dqn.num_envs, quick.warmup_steps // dqn.num_envs * dqn.num_envs)
        dqn = dataclasses.replace(quick, num_envs=dqn.num_envs, warmup_steps=warmup,
                                  train_frequency=dqn.train_frequency)
        total = dqn.warmup_steps + 20 * dqn.train_frequency
    return dqn, total


def time_bare_update(dqn: DQNConfig, repeats: int, num_batches: int = 64) -> float:
    """Microseconds per jitted update of ``dqn``'s agent on ``dqn.env`` at its batch size,
    alone in a loop (:func:`benchmarks.harness.bare_update_us`).

    The ``num_batches`` mini-batches are random: frames with 10% of their cells on for a
    bool observation space (MinAtar's), standard normal observations otherwise; uniform
    actions; reward 1; no episode ends.
    """
    env, params = envs.make(dqn.env)
    space = env.observation_space(params)
    obs_shape, bool_obs = tuple(space.shape), jnp.issubdtype(space.dtype, jnp.bool_)
    agent = make_agent(dqn, obs_shape, env.num_actions)
    obs_key, next_key, action_key, init_key = jax.random.split(jax.random.key(0), 4)
    shape = (num_batches, dqn.batch_size)

    def observations(key):
        if bool_obs:
            return jax.random.bernoulli(key, 0.1, shape + obs_shape)
        return jax.random.normal(key, shape + obs_shape)

    batches = Transition(observations(obs_key),
                         jax.random.randint(action_key, shape, 0, env.num_actions, jnp.int32),
                         jnp.ones(shape), jnp.zeros(shape, bool), jnp.zeros(shape, bool),
                         observations(next_key))
    state = agent.init(init_key, jnp.zeros(obs_shape, space.dtype))
    return harness.bare_update_us(agent, traced(dqn.hparams), state, batches, repeats)


def _touch_batch(state, hp, batch):
    """An update that only reads its mini-batch (so the sampling is not optimised away)."""
    return state, {"loss": sum(jnp.sum(x.astype(jnp.float32)) for x in jax.tree.leaves(batch))}


def _no_update(state, hp, batch):
    return state, {"loss": jnp.float32(0.0)}


def loop_variant(dqn: DQNConfig, mode: str) -> DQN:
    """The training program (``train``), or, to profile the loop by subtraction, the same
    loop ``no_update`` (everything but the gradient updates: acting, environments, replay
    writes and mini-batch sampling) or ``act`` (the ceiling: environments stepped with
    actions chosen by the network's forward pass, nothing stored, nothing learnt)."""
    if mode == "train":
        return make_program(dqn)
    env, env_params = envs.make(dqn.env)
    agent = make_agent(dqn, tuple(env.observation_space(env_params).shape), env.num_actions)
    if mode == "no_update":
        return make_program(dqn, agent._replace(update=_touch_batch))
    return make_program(dataclasses.replace(dqn, replay=False), agent._replace(update=_no_update))


def run_case(case: dict) -> dict:
    """Time one case in this process (which must run with the case's ISA)."""
    harness.check_isa(case)
    dqn, total = case_config(case["settings"], case["replay"], case["quick"],
                             case.get("total_steps"))
    if case["mode"] == "bare":
        return {**case, "us_per_update": time_bare_update(dqn, 50 if case["quick"] else 2000)}
    built = loop_variant(dqn, case["mode"])
    steps_per_log, env_steps = dqn_study.plan(dqn, total, case["num_logs"])
    num_devices = 1 if case["devices"] == "one" else None
    results = runner.run(built.program, runner.stack_hparams([dqn.hparams]), seed=0,
                         num_seeds=case["seeds"], num_logs=case["num_logs"],
                         steps_per_log=steps_per_log, num_devices=num_devices,
                         vectorize=case["vectorize"], progress=False)
    train_steps = steps_per_log * case["num_logs"]
    updates = train_steps * dqn.gradient_steps if case["mode"] == "train" else 0
    seeds = case["seeds"]
    final = dqn_study.greedy_return(results.metrics)[0, :, -1]
    return {**case, "num_devices": results.num_devices, "env_steps_per_seed": int(env_steps[-1]),
            "updates_per_seed": updates, "compile_s": results.compile_s, "run_s": results.run_s,
            "env_steps_per_s": env_steps[-1] * seeds / results.run_s,
            "updates_per_s": updates * seeds / results.run_s,
            "us_per_train_step": results.run_s / train_steps * 1e6,
            "replay_mb_total": built.replay_nbytes * seeds / 2**20,
            "final_greedy_return": float(np.nanmean(final)) if case["mode"] == "train" else None,
            "peak_rss_mb": harness.peak_rss_mb()}


def check_purejaxrl_settings(config: dict, optimizer: list[str]) -> None:
    """Raise RuntimeError unless PureJaxRL's script runs :data:`PUREJAXRL`: its ``main``'s
    ``config`` has :data:`PUREJAXRL_KEYS`' values and its one optimizer is
    :data:`PUREJAXRL_OPTIMIZER` (the source of each ``tx = ...`` in ``make_train``)."""
    differ = {k: (config.get(k), v) for k, v in PUREJAXRL_KEYS.items() if config.get(k) != v}
    if optimizer != [PUREJAXRL_OPTIMIZER]:
        differ["optimizer"] = (optimizer, [PUREJAXRL_OPTIMIZER])
    if differ:
        raise RuntimeError(f"PureJaxRL's script has other settings than rlfa's purejaxrl "
                           f"(theirs, ours): {differ}")


def run_purejaxrl(case: dict) -> dict:
    """Time PureJaxRL's own DQN once, through :data:`PUREJAXRL_DRIVER`.

    Raises:
      RuntimeError: the script's settings are not :data:`PUREJAXRL`'s
        (:func:`check_purejaxrl_settings`) or it made another number of updates than
        rlfa's loop at those settings.
    """
    got = harness.run_peer(case["python"], PUREJAXRL_DRIVER,
                           {k: case[k] for k in ("script", "seeds", "total_steps")},
                           f"PureJaxRL's DQN ({case['python']} {case['script']})")
    check_purejaxrl_settings(got["config"], got["optimizer"])
    dqn = PUREJAXRL
    updates = (case["total_steps"] - dqn.warmup_steps) // dqn.train_frequency
    if abs(got["updates"] - updates) > 1:
        raise RuntimeError(f"PureJaxRL made {got['updates']} updates, expected about {updates}")
    return {**case, "compile_s": got["compile_s"], "run_s": got["run_s"], "jax": got["jax"],
            "updates_per_seed": got["updates"],
            "env_steps_per_s": case["total_steps"] * case["seeds"] / got["run_s"],
            "updates_per_s": got["updates"] * case["seeds"] / got["run_s"]}


def cases(config: BenchmarkConfig) -> tuple[list[list[dict]], list[dict]]:
    """``(rounds, profile)``: every round's training cases, rlfa's and PureJaxRL's
    interleaved, and the profile's cases (run once, after the rounds)."""
    seeds = (1,) if config.quick else config.seeds
    devices = ("one",) if config.quick else config.devices
    # Both settings run the same code: --quick times the first (each case compiles anew).
    settings_run = config.settings[:1] if config.quick else config.settings
    num_logs = 2 if config.quick else config.num_logs
    base = {"quick": config.quick, "num_logs": num_logs, "total_steps": config.total_steps,
            "impl": "rlfa"}
    isas = (harness.isa_in_effect(),) if config.quick else config.isa
    ours, profile = [], []
    for settings in settings_run:
        for replay in config.replays:
            case = dict(base, settings=settings, replay=replay)
            for n in seeds:
                layouts = config.vectorize if n > 1 else (dqn_study.vectorize_runs(),)
                ours += [dict(case, seeds=n, devices=d, mode="train", vectorize=v, isa=isa)
                         for isa in isas for d in devices for v in layouts]
            if config.profile:
                profile += [dict(case, seeds=1, devices="one", mode=m, round=0, isa="capped",
                                 vectorize=dqn_study.vectorize_runs())
                            for m in ("no_update", "act", "bare")]
    peers = [] if config.quick or not config.purejaxrl_python or "purejaxrl" not in settings_run \
        else [{"impl": "purejaxrl", "settings": "purejaxrl", "mode": "train", "seeds": n,
               "python": config.purejaxrl_python, "script": config.purejaxrl_script,
               "total_steps": config.total_steps or SETTINGS["purejaxrl"][1]}
              for n in config.purejaxrl_seeds]
    return harness.interleaved_rounds(ours, peers, 1 if config.quick else config.repeats), profile


def _find(rows: list[dict], **match) -> dict | None:
    """The matching row of median run time (of several rounds'), or None."""
    found = sorted((r for r in rows if all(r.get(k) == v for k, v in match.items())),
                   key=lambda r: r.get("run_s") or 0.0)
    return found[(len(found) - 1) // 2] if found else None


def label(r: dict) -> str:
    """A training case's name: ``rlfa purejaxrl/flashbax 8 seeds one dev vmap`` (capped ISA)
    or ``... vmap fast``, or ``purejaxrl 8 seeds``."""
    seeds = f"{r['seeds']} seed{'s' if r['seeds'] != 1 else ''}"
    if r["impl"] != "rlfa":
        return f"{r['impl']} {seeds}"
    layout = "" if r["seeds"] == 1 else " vmap" if r["vectorize"] else " map"
    fast = " fast" if r.get("isa") == "fast" else ""
    return f"rlfa {r['settings']}/{r['replay']} {seeds} {r['devices']} dev{layout}{fast}"


def against_purejaxrl(rows: list[dict]) -> dict:
    """Per PureJaxRL seed count: the paired median of every rlfa case's run time over
    PureJaxRL's at the same seeds and settings, and the goal (:data:`GOALS`) met by rlfa's
    best case."""
    rows, out = [r for r in rows if r["mode"] == "train"], {}
    for peer in dict.fromkeys(label(r) for r in rows if r["impl"] == "purejaxrl"):
        n = next(r["seeds"] for r in rows if label(r) == peer)
        ratios = {a: harness.paired_median(rows, label, a, peer,
                                           lambda x, y: x["run_s"] / y["run_s"])
                  for a in dict.fromkeys(label(r) for r in rows if r["impl"] == "rlfa"
                                         and r["settings"] == "purejaxrl" and r["seeds"] == n)}
        best = min((v for v in ratios.values() if v is not None), default=None)
        out[peer] = {"rlfa_time_over_purejaxrl": ratios, "best": best, "goal": GOALS.get(n),
                     "goal_met": None if best is None or n not in GOALS else best <= GOALS[n]}
    return out


def analyse(rows: list[dict]) -> dict:
    """Ratios: loop vs bare update, where a train step's time goes, seeds scaling."""
    rows = [r for r in rows if r["impl"] == "rlfa"]
    out = {}
    for settings, replay in sorted({(r["settings"], r["replay"]) for r in rows}):
        rs = [r for r in rows if (r["settings"], r["replay"]) == (settings, replay)]
        capped = [r for r in rs if r.get("isa", "capped") == "capped"]  # as the profile
        train1 = _find(capped, mode="train", seeds=1)  # one device, whatever --devices said
        bare = _find(rs, mode="bare")
        no_update, act = _find(rs, mode="no_update"), _find(rs, mode="act")
        g = {}
        if train1 and bare:
            per_update = train1["run_s"] / train1["updates_per_seed"] * 1e6
            g["loop_us_per_update"] = per_update
            g["bare_update_us"] = bare["us_per_update"]
            g["loop_over_bare_update"] = per_update / bare["us_per_update"]
        if train1 and no_update and act:
            train_us = train1["us_per_train_step"]
            rest_us, act_us = no_update["us_per_train_step"], act["us_per_train_step"]
            g["us_per_train_step"] = {"train": train_us, "no_update": rest_us, "act": act_us}
            g["share_of_train_step"] = {
                "gradient updates": 1 - rest_us / train_us,
                "replay writes + sampling": (rest_us - act_us) / train_us,
                "acting + environments (+ eval)": act_us / train_us}
        g["median_run_s"] = {k: v["median"] for k, v in harness.spread(
            [r for r in rs if r["mode"] == "train"], label, lambda r: r["run_s"]).items()}
        out[f"{settings}/{replay}"] = g
    return out


def _or_bare(key: str, from_us: Callable[[float], Any]) -> Callable[[dict], Any]:
    """A column's value: the row's ``key``; for the bare update, which has no loop, compile
    or return, ``from_us`` of its microseconds per update."""
    return lambda r: from_us(r["us_per_update"]) if r["mode"] == "bare" else r.get(key)


COLUMNS = (
    Column("impl", 9, "impl", align="<"), Column("settings", 10, "settings", align="<"), Column("replay", 8, "replay", align="<"),
    Column("mode", 9, _or_bare("mode", lambda us: "bare upd"), align="<"),
    Column("seeds", 5, "seeds"), Column("dev", 3, "num_devices"),
    Column("vmap", 5, lambda r: None if r["impl"] != "rlfa" or r["mode"] == "bare"
           else "yes" if r["vectorize"] else "no", align="<"),
    Column("compile s", 9, "compile_s", ".1f"), Column("run s", 8, "run_s", ".2f"),
    Column("env steps/s", 12, "env_steps_per_s", ".0f"),
    Column("updates/s", 10, _or_bare("updates_per_s", lambda us: 1e6 / us), ".0f"),
    Column("us/step", 8, _or_bare("us_per_train_step", lambda us: us), ".1f"),
    Column("peak MB", 8, "peak_rss_mb", ".0f"),
    Column("return", 7, "final_greedy_return", ".1f"))
SEP = " "
LEAD = ("impl", "settings", "replay", "mode", "seeds", "devices", "vectorize", "round")  # metrics.csv's first columns


def case_label(r: dict) -> str:
    """A timed case's short name (the training cases' :func:`label`, or the profile's mode)."""
    if r["mode"] == "train":
        return label(r)
    return f"rlfa {r['settings']}/{r['replay']} {r['mode']}, 1 seed"


def draw(rows: list[dict]):
    """Median run and compile seconds per timed loop (the bare update has neither: see the
    table)."""
    timed = [r for r in rows if r["mode"] != "bare"]
    run_s = harness.spread(timed, case_label, lambda r: r["run_s"])
    compile_s = harness.spread(timed, case_label, lambda r: r["compile_s"])
    return report.bar_figure(
        list(run_s), {"run s": [v["median"] for v in run_s.values()],
                      "compile s": [v["median"] for v in compile_s.values()]},
        "seconds (log scale)", "DQN on CartPole-v1: wall time per case (median)", log=True)


def main(config: BenchmarkConfig) -> Path:
    """Run every round and the profile (printing each row), write
    ``runs/benchmark_dqn/<timestamp>/``."""
    t0 = time.perf_counter()
    rounds, profile = cases(config)
    run = ((lambda case: harness.run_case_with_peers(case, MODULE, True, run_case, {}))
           if config.isolated else run_case)
    rows = harness.time_cases(
        [*(c for r in rounds for c in r), *profile],
        lambda case: run_purejaxrl(case) if case["impl"] == "purejaxrl" else run(case),
        COLUMNS, SEP)
    hparams = {name: dataclasses.asdict(SETTINGS[name][0])
               | {"total_steps": config.total_steps or SETTINGS[name][1]}
               for name in config.settings}
    peer_measured = any(r["impl"] == "purejaxrl" for r in rows)
    summary = {"cases": rows, "analysis": analyse(rows), "hyperparameters": hparams,
               "purejaxrl": against_purejaxrl(rows) if peer_measured else
               "not measured in this run (give --purejaxrl-python and --purejaxrl-script)",
               "cpu_count": os.cpu_count(), "jax": jax.__version__,
               "wall_s": time.perf_counter() - t0}
    print(json.dumps({k: summary[k] for k in ("analysis", "purejaxrl")}, indent=1))
    return harness.write_results("dqn", config, summary, rows, draw(rows), LEAD)


if __name__ == "__main__":  # devices and processes: see benchmarks/__init__.py
    harness.worker_or_cli(run_case, BenchmarkConfig, main)
