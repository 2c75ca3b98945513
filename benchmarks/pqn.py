"""How fast rlfa's PQN runs, beside purejaxql's own PQN scripts, and where it ends.

    python -m benchmarks.pqn --purejaxql-python PQ/bin/python --purejaxql-dir purejaxql/purejaxql
    python -m benchmarks.pqn --seeds 1 8 --repeats 3 --games       # rlfa only, CartPole only
    python -m benchmarks.pqn --quick        # seconds, for tests

Two workloads at purejaxql's own settings (``rlfa.control.pqn.PQNConfig()`` is its
``config/alg/pqn_cartpole.yaml``; :data:`rlfa.control.pqn.MINATAR` its
``pqn_minatar.yaml``):

* ``cartpole``: CartPole-v1, 500,000 steps per seed (244 rollouts of 32 x 64), at 1 and 8
  seeds. purejaxql evaluates greedily 21 times (128 environments x 500 steps, its
  ``TEST_INTERVAL`` 0.05); rlfa evaluates at 4 logged points, 128 episodes each. The
  final greedy returns per seed of both are reported.
* ``minatar``: gymnax's ``Breakout-MinAtar`` (the environment purejaxql's MinAtar script
  runs), ``--minatar-steps`` per seed (409,600 by default: 100 rollouts of 128 x 32, a
  slice of its 10M-step run with the same schedules), one seed, learning only (both
  evaluations off).

purejaxql runs as its ``main`` does: its unmodified ``pqn_gymnax.py`` / ``pqn_minatar.py``,
imported from ``--purejaxql-dir`` by :data:`PUREJAXQL_DRIVER` in its own Python (the jax
version it pins), the config composed from its YAML files as its hydra ``main`` composes
it (``+alg=pqn_cartpole``), with ``NUM_SEEDS`` seeds vmapped, compiled apart from the run.
Rounds (``--repeats``) time every case once, rlfa's and purejaxql's interleaved; the
ratio of run times is taken within each round and its median reported, against the
goals: rlfa at most 0.8x purejaxql's time for one seed, and 8 seeds at most 4x one seed's.

Writes ``runs/benchmark_pqn/<timestamp>/``: ``config.json``, ``metrics.csv`` (one row
per timed case), ``summary.json`` (the cases, the ratios, the settings) and
``figure.png`` (run seconds per case).
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path

import jax
import numpy as np

from benchmarks import harness
from benchmarks.harness import Column
from rlfa import dqn_study, report, runner
from rlfa.study import absolute_paths
from rlfa.control.pqn import MINATAR, PQNConfig, make_program

MODULE = "benchmarks.pqn"
CARTPOLE_STEPS = 500_000
GOAL_ONE_SEED = 0.8  # rlfa's time over purejaxql's, one seed
GOAL_EIGHT_SEEDS = 4.0  # 8 seeds' time over one seed's


def settings(workload: str, quick: bool, minatar_steps: int) -> tuple[PQNConfig, int, int]:
    """``(config, rollouts per seed, logged points)`` of a workload as rlfa runs it."""
    if workload == "cartpole":
        config = dataclasses.replace(PQNConfig(), num_eval_episodes=128)
        rollouts, logs = CARTPOLE_STEPS // config.batch_size, 4  # purejaxql's 244
    else:
        config = dataclasses.replace(MINATAR, env="Breakout-MinAtar", num_eval_episodes=0)
        rollouts, logs = minatar_steps // config.batch_size, 2
    if quick:
        config = dqn_study.quick_pqn(dataclasses.replace(config, num_eval_episodes=2))
        rollouts = logs = 2
    return config, rollouts, logs


# purejaxql's script, run as its hydra main composes it: config.yaml with the algorithm's
# YAML merged into ``alg`` and flattened, then train_vjit over NUM_SEEDS split keys.
PUREJAXQL_DRIVER = r"""
import importlib.util, json, sys, time
case = json.loads(sys.argv[1])
from omegaconf import OmegaConf
base = OmegaConf.to_container(OmegaConf.load(f"{case['dir']}/config/config.yaml"))
base["alg"].update(OmegaConf.to_container(OmegaConf.load(
    f"{case['dir']}/config/alg/{case['alg']}.yaml")))
config = {**base, **base["alg"]}
config.update(case["overrides"])
spec = importlib.util.spec_from_file_location("peer", f"{case['dir']}/{case['script']}")
peer = importlib.util.module_from_spec(spec)
spec.loader.exec_module(peer)
import jax, numpy as np
rngs = jax.random.split(jax.random.PRNGKey(config["SEED"]), config["NUM_SEEDS"])
t0 = time.perf_counter()
train = jax.jit(jax.vmap(peer.make_train(dict(config)))).lower(rngs).compile()
compile_s = time.perf_counter() - t0
t0 = time.perf_counter()
out = jax.block_until_ready(train(rngs))
run_s = time.perf_counter() - t0
metrics = out["metrics"]
final = np.asarray(metrics["test/returned_episode_returns"][:, -1]).tolist() \
    if "test/returned_episode_returns" in metrics else None
print(json.dumps({"compile_s": compile_s, "run_s": run_s, "jax": jax.__version__,
                  "updates": int(metrics["update_steps"][0, -1]), "final_per_seed": final,
                  "config": {k: v for k, v in config.items() if isinstance(v, (int, float, str))}}))
"""
# What the peer's YAML must say for the comparison to be like for like (checked per run).
PEER_KEYS = {
    "cartpole": {"NUM_ENVS": 32, "NUM_STEPS": 64, "NUM_EPOCHS": 4, "NUM_MINIBATCHES": 16,
                 "LR": 1e-4, "LAMBDA": 0.95, "GAMMA": 0.99, "EPS_FINISH": 0.2,
                 "HIDDEN_SIZE": 256, "NUM_LAYERS": 2, "NORM_TYPE": "layer_norm",
                 "REW_SCALE": 0.1, "MAX_GRAD_NORM": 10, "ENV_NAME": "CartPole-v1"},
    "minatar": {"NUM_ENVS": 128, "NUM_STEPS": 32, "NUM_EPOCHS": 2, "NUM_MINIBATCHES": 32,
                "LR": 5e-4, "LAMBDA": 0.65, "GAMMA": 0.99, "EPS_FINISH": 0.05,
                "NORM_TYPE": "layer_norm", "MAX_GRAD_NORM": 10, "ENV_NAME": "Breakout-MinAtar"},
}


@dataclasses.dataclass(frozen=True)
class BenchmarkConfig(harness.IsolatedOptions):
    """Benchmark PQN on CartPole-v1 and MinAtar Breakout beside purejaxql's own scripts.

    --quick: a tiny CartPole workload, in this process, rlfa only.
    """

    workloads: tuple[str, ...] = ("cartpole", "minatar")
    """cartpole (500k steps at 1 and --seeds seeds, evaluated) and/or minatar (one seed,
    learning only)."""
    seeds: tuple[int, ...] = (1, 8)
    """CartPole seed counts to time (over all devices)."""
    vectorize: tuple[bool, ...] = (False, True)
    """With several seeds on a device: one after another (False) and/or vmapped (True)."""
    minatar_steps: int = 409_600
    """Environment steps of the MinAtar case."""
    repeats: int = 1
    """Rounds: each times every case once, rlfa and purejaxql interleaved."""
    purejaxql_python: str | None = None
    """A Python with purejaxql's packages (jax 0.4.35, flax, optax, gymnax, hydra, wandb)."""
    purejaxql_dir: str | None = None
    """purejaxql's package directory (holding pqn_gymnax.py, pqn_minatar.py and config/)."""

    def __post_init__(self):
        super().__post_init__()
        self.check_choices("workloads", ("cartpole", "minatar"))
        self.check_counts("seeds", "repeats", "minatar_steps")
        absolute_paths(self, "purejaxql_python", "purejaxql_dir")
        if (self.purejaxql_python is None) != (self.purejaxql_dir is None):
            raise ValueError("purejaxql_python and purejaxql_dir are invalid: give both (to time"
                             " purejaxql) or neither (rlfa only).")
        if self.purejaxql_dir is not None and not Path(self.purejaxql_dir,
                                                       "pqn_gymnax.py").is_file():
            raise ValueError(f"purejaxql_dir={self.purejaxql_dir!r} is invalid: it holds no"
                             " pqn_gymnax.py.")


def run_case(case: dict) -> dict:
    """Time rlfa's PQN for one case in this process."""
    config, rollouts, logs = settings(case["workload"], case["quick"], case["minatar_steps"])
    results = runner.run(make_program(config).program, runner.stack_hparams([config.hparams]),
                         seed=0, num_seeds=case["seeds"], num_logs=logs,
                         steps_per_log=rollouts // logs, vectorize=case["vectorize"],
                         progress=False)
    final = (dqn_study.greedy_return(results.metrics)[0, :, -1].tolist()
             if config.num_eval_episodes else None)
    steps = rollouts * config.batch_size
    return {**case, "num_devices": results.num_devices, "env_steps_per_seed": steps,
            "compile_s": results.compile_s, "run_s": results.run_s,
            "env_steps_per_s": steps * case["seeds"] / results.run_s,
            "final_per_seed": final, "peak_rss_mb": harness.peak_rss_mb()}


def run_purejaxql(case: dict) -> dict:
    """Time purejaxql's own script once through :data:`PUREJAXQL_DRIVER`.

    Raises:
      RuntimeError: its YAML differs from :data:`PEER_KEYS`, or it made another number of
        rollouts than rlfa's case.
    """
    cartpole = case["workload"] == "cartpole"
    steps = CARTPOLE_STEPS if cartpole else case["minatar_steps"]
    overrides = {"NUM_SEEDS": case["seeds"], "TOTAL_TIMESTEPS": steps}
    if not cartpole:  # its YAML's game is Asterix; both run Breakout here
        overrides.update(TEST_DURING_TRAINING=False, ENV_NAME="Breakout-MinAtar")
    spec = {"dir": case["dir"], "script": "pqn_gymnax.py" if cartpole else "pqn_minatar.py",
            "alg": "pqn_cartpole" if cartpole else "pqn_minatar", "overrides": overrides}
    got = harness.run_peer(case["python"], PUREJAXQL_DRIVER, spec,
                           f"purejaxql's {spec['script']} ({case['python']})")
    differ = {k: (got["config"].get(k), v) for k, v in PEER_KEYS[case["workload"]].items()
              if got["config"].get(k) != v}
    if differ:
        raise RuntimeError(f"purejaxql's settings differ from rlfa's (theirs, ours): {differ}")
    config, rollouts, _ = settings(case["workload"], False, case["minatar_steps"])
    if got["updates"] != rollouts:
        raise RuntimeError(f"purejaxql made {got['updates']} rollouts, rlfa {rollouts}")
    return {**case, "compile_s": got["compile_s"], "run_s": got["run_s"], "jax": got["jax"],
            "env_steps_per_seed": steps, "env_steps_per_s": steps * case["seeds"] / got["run_s"],
            "final_per_seed": got["final_per_seed"]}


def cases(config: BenchmarkConfig) -> list[list[dict]]:
    """Every round's cases, rlfa's and purejaxql's interleaved."""
    base = {"quick": config.quick, "minatar_steps": config.minatar_steps, "impl": "rlfa"}
    ours, peers = [], []
    for workload in ("cartpole",) if config.quick else config.workloads:
        seeds = (1,) if config.quick or workload == "minatar" else config.seeds
        for n in seeds:
            ours += [dict(base, workload=workload, seeds=n, vectorize=v)
                     for v in (config.vectorize if n > 1 else (False,))]
            if config.purejaxql_python and not config.quick:
                peers.append(dict(base, workload=workload, seeds=n, impl="purejaxql",
                                  python=config.purejaxql_python, dir=config.purejaxql_dir))
    return harness.interleaved_rounds(ours, peers, 1 if config.quick else config.repeats)


def label(r: dict) -> str:
    """A case's name: ``rlfa cartpole 8 seeds map`` or ``purejaxql cartpole 8 seeds``."""
    seeds = f"{r['seeds']} seed{'s' if r['seeds'] != 1 else ''}"
    layout = "" if r["impl"] != "rlfa" or r["seeds"] == 1 else \
        " vmap" if r["vectorize"] else " map"
    return f"{r['impl']} {r['workload']} {seeds}{layout}"


def analyse(rows: list[dict]) -> dict:
    """The paired ratios against purejaxql and against one seed, with the goals, and the
    final greedy returns of each case."""
    def time_ratio(a: dict, b: dict) -> float:
        return a["run_s"] / b["run_s"]

    names = {label(r): r for r in rows}
    against = {f"{a} / {b}": harness.paired_median(rows, label, a, b, time_ratio)
               for a, x in names.items() if x["impl"] == "rlfa"
               for b, y in names.items() if y["impl"] == "purejaxql"
               and (x["workload"], x["seeds"]) == (y["workload"], y["seeds"])}
    one_seed = {k: v for k, v in against.items() if " 1 seed " in k and v is not None}
    eight = {f"{label(r)} / {label(dict(r, seeds=1))}": harness.paired_median(
        rows, label, label(r), label(dict(r, seeds=1)), time_ratio)
        for r in rows if r["impl"] == "rlfa" and r["seeds"] == 8}
    best_one = min(one_seed.values(), default=None)
    best_eight = min((v for v in eight.values() if v is not None), default=None)
    finals = {}
    for r in rows:
        if r.get("final_per_seed"):
            finals.setdefault(label(r), r["final_per_seed"])
    return {"time_over_purejaxql": against, "eight_over_one_seed": eight,
            "goals": {"one seed, rlfa / purejaxql": {"best": best_one, "goal": GOAL_ONE_SEED,
                                                      "met": None if best_one is None
                                                      else best_one <= GOAL_ONE_SEED},
                      "8 seeds / 1 seed": {"best": best_eight, "goal": GOAL_EIGHT_SEEDS,
                                           "met": None if best_eight is None
                                           else best_eight <= GOAL_EIGHT_SEEDS}},
            "final_greedy_return_per_seed": finals}


COLUMNS = (
    Column("case", 32, label, align="<"), Column("dev", 3, "num_devices"),
    Column("compile s", 9, "compile_s", ".1f"), Column("run s", 8, "run_s", ".2f"),
    Column("env steps/s", 12, "env_steps_per_s", ".0f"),
    Column("peak MB", 8, "peak_rss_mb", ".0f"),
    Column("final return (mean)", 19, lambda r: None if not r.get("final_per_seed")
           else float(np.mean(r["final_per_seed"])), ".1f"))


def main(config: BenchmarkConfig) -> Path:
    """Run every round (printing each row), write ``runs/benchmark_pqn/<timestamp>/``."""
    t0 = time.perf_counter()
    run = (lambda case: harness.run_worker(MODULE, case)) if config.isolated else run_case
    rows = harness.time_cases(
        [c for r in cases(config) for c in r],
        lambda case: run_purejaxql(case) if case["impl"] == "purejaxql" else run(case),
        COLUMNS, " ")
    summary = {"cases": rows, "analysis": analyse(rows),
               "settings": {w: dataclasses.asdict(settings(w, config.quick,
                                                           config.minatar_steps)[0])
                            for w in config.workloads},
               "cpu_count": os.cpu_count(), "jax": jax.__version__,
               "wall_s": time.perf_counter() - t0}
    print(json.dumps(summary["analysis"]["goals"], indent=1))
    run_s = harness.spread(rows, label, lambda r: r["run_s"])
    figure = report.bar_figure(list(run_s), {"run s": [v["median"] for v in run_s.values()]},
                               "seconds", "PQN: run time per case (median)")
    return harness.write_results("pqn", config, summary, rows, figure,
                                 ("impl", "workload", "seeds", "vectorize", "round"))


if __name__ == "__main__":  # devices and processes: see benchmarks/__init__.py
    harness.worker_or_cli(run_case, BenchmarkConfig, main)
