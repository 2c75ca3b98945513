"""How fast rlfa's DQN runs on CartPole-v1: seeds, devices, and where the time goes.

    python -m benchmarks.dqn                # the full benchmark (tens of minutes)
    python -m benchmarks.dqn --settings purejaxrl --seeds 1 8
    python -m benchmarks.dqn --replays rlfa flashbax --seeds 1
    python -m benchmarks.dqn --quick        # seconds, for tests

Two hyperparameter sets: ``purejaxrl`` (PureJaxRL's published CartPole DQN:
10 envs, 500k env steps, buffer 10k, batch 128, learning starts at 10k, one
update per 10 env steps, target copied every 500, Adam 2.5e-4, epsilon 1 to
0.05 over 250k, gamma 0.99, MLP 120-84) and ``rlfa`` (``experiments.dqn``'s
CartPole defaults, ``rlfa.control.dqn.CARTPOLE``, 100k env steps). For
each, 1, 8 and 64 seeds run on one host device and spread over all of them (one
per core); every case runs in a fresh process, so its peak memory (max RSS) is
its own. Compile time is apart from run time.

The profile, at one seed on one device, runs the same loop three ways, so the
differences say where the time goes: ``train``; ``no_update`` (acting,
environments, replay writes and sampling, no gradient); ``act`` (the ceiling:
environments stepped with the network's forward pass choosing actions, nothing
else); and a bare jitted update of the same network and batch, alone in a
``lax.fori_loop``. The ratio ``train / bare`` per update is the loop's overhead
(goal: at most 1.2).

Writes ``runs/benchmark_dqn/<timestamp>/``: ``config.json``, ``metrics.csv`` (one
row per timed case, its measured numbers as columns), ``summary.json`` (the
cases, the ratios above, the hyperparameters) and ``figure.png`` (run and
compile seconds per case; the bare update, timed on its own, is in the table).

Only rlfa is timed here. For comparison the summary also keeps, clearly apart as
``purejaxrl_reference_quoted``, PureJaxRL's own times for its CartPole DQN at
500k env steps per seed: 8.4 s for 1 seed and 68.1 s for 8 seeds vmapped,
measured 2026-11-30 on a quiet 2-core x86 CPU with jax 0.4.35, not in this run,
so a ratio to them holds only on a comparable machine and workload.
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
from benchmarks.harness import Column
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
    hparams=DQNHParams(learning_rate=2.5e-4, epsilon_start=1.0, epsilon_end=0.05, gamma=0.99,
                       tau=1.0))
SETTINGS = {"purejaxrl": (PUREJAXRL, 500_000), "rlfa": (CARTPOLE, 100_000)}
# Quoted, never measured by this module: PureJaxRL's own DQN at its CartPole settings.
PUREJAXRL_REFERENCE_QUOTED = {
    "run_s": {"1": 8.4, "8": 68.1},
    "workload": "PureJaxRL's own dqn.py, CartPole-v1 at its published settings, 500k env "
                "steps per seed; 1 seed, and 8 seeds vmapped",
    "measured": "2026-11-30, quiet 2-core x86 CPU, jax 0.4.35, not in this run",
}


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
    replays: tuple[str, ...] = ("flashbax",)
    """Replay implementations to time (flashbax, the default, and/or rlfa's own)."""
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
        for n in self.seeds:
            cfg.check_positive_int("seeds", n)
        cfg.check_positive_int("num_logs", self.num_logs)
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
    """Time one case in this process."""
    dqn, total = case_config(case["settings"], case["replay"], case["quick"],
                             case.get("total_steps"))
    if case["mode"] == "bare":
        return {**case, "us_per_update": time_bare_update(dqn, 50 if case["quick"] else 2000)}
    built = loop_variant(dqn, case["mode"])
    steps_per_log, env_steps = dqn_study.plan(dqn, total, case["num_logs"])
    num_devices = 1 if case["devices"] == "one" else None
    results = runner.run(built.program, runner.stack_hparams([dqn.hparams]), seed=0,
                         num_seeds=case["seeds"], num_logs=case["num_logs"],
                         steps_per_log=steps_per_log, num_devices=num_devices, progress=False)
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


def cases(config: BenchmarkConfig) -> list[dict]:
    """Every case to time, in order."""
    seeds = (1,) if config.quick else config.seeds
    devices = ("one",) if config.quick else config.devices
    # Both settings run the same code: --quick times the first (each case compiles anew).
    settings_run = config.settings[:1] if config.quick else config.settings
    num_logs = 2 if config.quick else config.num_logs
    base = dict(quick=config.quick, num_logs=num_logs, total_steps=config.total_steps)
    out = []
    for settings in settings_run:
        for replay in config.replays:
            for n in seeds:
                for d in devices:
                    out.append(dict(base, settings=settings, replay=replay, seeds=n, devices=d,
                                    mode="train"))
            if config.profile:
                for mode in ("no_update", "act", "bare"):
                    out.append(dict(base, settings=settings, replay=replay, seeds=1,
                                    devices="one", mode=mode))
    return out


def _find(rows: list[dict], **match) -> dict | None:
    return next((r for r in rows if all(r[k] == v for k, v in match.items())), None)


def analyse(rows: list[dict]) -> dict:
    """Ratios: loop vs bare update, where a train step's time goes, seeds scaling."""
    out = {}
    for settings, replay in sorted({(r["settings"], r["replay"]) for r in rows}):
        rs = [r for r in rows if (r["settings"], r["replay"]) == (settings, replay)]
        train1 = _find(rs, mode="train", seeds=1, devices="one")
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
        for d in ("one", "all"):
            base = _find(rs, mode="train", seeds=1, devices=d)
            if base:
                timed = [r for r in rs if r["mode"] == "train" and r["devices"] == d]
                g[f"seeds_scaling_{d}"] = {str(r["seeds"]): r["run_s"] / base["run_s"]
                                           for r in timed}
        out[f"{settings}/{replay}"] = g
    return out


def _or_bare(key: str, from_us: Callable[[float], Any]) -> Callable[[dict], Any]:
    """A column's value: the row's ``key``; for the bare update, which has no loop, compile
    or return, ``from_us`` of its microseconds per update."""
    return lambda r: from_us(r["us_per_update"]) if r["mode"] == "bare" else r.get(key)


COLUMNS = (
    Column("settings", 10, "settings", align="<"), Column("replay", 8, "replay", align="<"),
    Column("mode", 9, _or_bare("mode", lambda us: "bare upd"), align="<"),
    Column("seeds", 5, "seeds"), Column("dev", 3, "num_devices"),
    Column("compile s", 9, "compile_s", ".1f"), Column("run s", 8, "run_s", ".2f"),
    Column("env steps/s", 12, "env_steps_per_s", ".0f"),
    Column("updates/s", 10, _or_bare("updates_per_s", lambda us: 1e6 / us), ".0f"),
    Column("us/step", 8, _or_bare("us_per_train_step", lambda us: us), ".1f"),
    Column("peak MB", 8, "peak_rss_mb", ".0f"),
    Column("return", 7, "final_greedy_return", ".1f"))
SEP = " "
LEAD = ("settings", "replay", "mode", "seeds", "devices")  # metrics.csv's first columns


def case_label(r: dict) -> str:
    """A case's short name: settings/replay, mode, seeds and devices."""
    seeds = f"{r['seeds']} seed{'s' if r['seeds'] != 1 else ''}"
    return f"{r['settings']}/{r['replay']} {r['mode']}, {seeds}, {r['devices']} dev"


def draw(rows: list[dict]):
    """Run and compile seconds per timed loop (the bare update has neither: see the table)."""
    timed = [r for r in rows if r["mode"] != "bare"]
    return report.bar_figure(
        [case_label(r) for r in timed],
        {"run s": [r["run_s"] for r in timed], "compile s": [r["compile_s"] for r in timed]},
        "seconds (log scale)", "rlfa DQN on CartPole-v1: wall time per case", log=True)


def reference_table() -> str:
    """PureJaxRL's quoted times, labelled as such (not measured in this run)."""
    ref = PUREJAXRL_REFERENCE_QUOTED
    rows = [{"seeds": n, "run_s": t} for n, t in ref["run_s"].items()]
    columns = (Column("seeds", 5, "seeds"), Column("quoted run s", 12, "run_s", ".1f"))
    return (f"PureJaxRL reference, quoted ({ref['measured']}): {ref['workload']}\n"
            + harness.table(rows, columns, SEP))


def main(config: BenchmarkConfig) -> Path:
    """Run every case (printing its row), write ``runs/benchmark_dqn/<timestamp>/``."""
    t0 = time.perf_counter()
    run = (lambda case: harness.run_worker(MODULE, case)) if config.isolated else run_case
    rows = harness.time_cases(cases(config), run, COLUMNS, SEP)
    hparams = {name: dataclasses.asdict(SETTINGS[name][0])
               | {"total_steps": config.total_steps or SETTINGS[name][1]}
               for name in config.settings}
    summary = {"cases": rows, "analysis": analyse(rows), "hyperparameters": hparams,
               "cpu_count": os.cpu_count(), "jax": jax.__version__,
               "wall_s": time.perf_counter() - t0}
    print(json.dumps(summary["analysis"], indent=1))
    if "purejaxrl" in config.settings:
        summary["purejaxrl_reference_quoted"] = PUREJAXRL_REFERENCE_QUOTED
        print(reference_table())
    return harness.write_results("dqn", config, summary, rows, draw(rows), LEAD)


if __name__ == "__main__":  # devices and processes: see benchmarks/__init__.py
    harness.worker_or_cli(run_case, BenchmarkConfig, main)
