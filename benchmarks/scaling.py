"""How throughput scales with seeds and devices: random-walk TD(0), Mountain Car SARSA, DQN.

    python -m benchmarks.scaling                 # the default benchmark (minutes)
    python -m benchmarks.scaling --workloads dqn --seeds 1 64 1024
    python -m benchmarks.scaling --devices-only  # 1 vs 2 vs 4 CPU devices only
    python -m benchmarks.scaling --quick         # seconds, for tests

Two studies, each measurement a fixed budget per seed, timed by
:func:`rlfa.runner.run` (``Results.compile_s`` apart from ``Results.run_s``):

1. *Seeds*: every workload at 1, 4, 16, 64, 256 and 1024 seeds, laid over all
   the devices present (one per core on CPU; ``RLFA_CPU_DEVICES`` overrides).
2. *Devices*: every workload at a fixed seed count in a process with
   ``max(device_counts)`` forced CPU devices (``RLFA_CPU_DEVICES``), the runner
   using the first 1, 2, 4 of them (``num_devices``). XLA's CPU backend runs one
   small program on about one core, so on a 2-core machine 2 devices should come
   close to twice 1 device's throughput; the summary reports that speed-up.

The workloads: semi-gradient TD(0) with state
aggregation on the 1000-state random walk (S&B Figure 9.2, one program step is
one episode, episodes vmapped in lock step); semi-gradient SARSA with 8x8x8 tile
coding on Mountain Car (S&B Figure 10.2, alpha = 0.5/8, one program step is 64
environment steps); DQN on CartPole-v1 (``experiments.dqn``'s defaults with a
10k replay buffer and no greedy evaluation, so the timed loop is training only;
the warm-up runs in ``init`` and is timed with compilation).

Throughput counts real environment steps (summed over seeds; padding runs added
to fill the devices are not counted) and gradient updates, per second of run
time. Memory: with ``--isolate`` (the default) every measurement runs in a fresh
process, so its peak resident set (``ru_maxrss``) is its own; the process's RSS
before the run (imports and program built) is reported beside it, and the
device's own peak (``memory_stats()["peak_bytes_in_use"]``) where the backend
reports one (GPU/TPU; not on CPU).

Writes ``runs/benchmark_scaling/<timestamp>/``: ``config.json``, ``metrics.csv``
(one row per measurement), ``summary.json`` and ``figure.png`` (throughput vs
seeds and vs CPU devices, log-log).
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import time
from pathlib import Path

import jax
import numpy as np

from benchmarks import harness
from benchmarks.harness import Column
from rlfa import config as cfg
from rlfa import runner

MODULE = "benchmarks.scaling"  # what a fresh process per measurement runs (python -m)

WORKLOADS = ("random_walk", "mountain_car", "dqn")
LABELS = {"random_walk": "random-walk TD(0)", "mountain_car": "Mountain Car SARSA",
          "dqn": "DQN CartPole"}
MC_BLOCK_STEPS = 64  # env steps per Mountain Car program step (experiments.mountain_car's)
NUM_LOGS = 2


@dataclasses.dataclass(frozen=True)
class ScalingConfig(harness.IsolatedOptions):
    """Throughput of three workloads over seed counts and CPU device counts.

    --quick: a tiny workload, in this process: every budget and count shrunk.
    """

    workloads: tuple[str, ...] = WORKLOADS
    """Workloads to time: random_walk (TD(0)), mountain_car (SARSA), dqn (CartPole)."""
    seeds: tuple[int, ...] = (1, 4, 16, 64, 256, 1024)
    """Seed counts of the seeds study, all on every device present."""
    random_walk_episodes: int = 48
    """Random-walk episodes per seed (about 84 environment steps each)."""
    mountain_car_steps: int = 4096
    """Mountain Car environment steps per seed (rounded up to whole blocks of 64)."""
    dqn_steps: int = 512
    """DQN training environment steps per seed after the warm-up (one update per 4 steps)."""
    device_counts: tuple[int, ...] = (1, 2, 4)
    """CPU device counts of the devices study (empty: skip it)."""
    device_seeds: int = 64
    """Seeds per measurement in the devices study."""
    devices_only: bool = False
    """Run only the devices study."""
    seed: int = 0
    """The seed every key is derived from."""

    def __post_init__(self):
        super().__post_init__()
        self.check_choices("workloads", WORKLOADS)
        cfg.check_nonempty("seeds", self.seeds)
        self.check_counts("seeds", "device_counts", "random_walk_episodes", "mountain_car_steps",
                          "dqn_steps", "device_seeds")
        if self.devices_only and not self.device_counts:
            raise ValueError("device_counts=() is invalid with devices_only: give at least one "
                             "device count.")

    def effective(self) -> ScalingConfig:
        """The config actually run: ``--quick`` shrinks every budget and count."""
        if not self.quick:
            return self
        return dataclasses.replace(
            self, seeds=tuple(n for n in self.seeds if n <= 4)[:2] or (1,),
            random_walk_episodes=4, mountain_car_steps=128, dqn_steps=32,
            device_counts=tuple(n for n in self.device_counts if n <= 2), device_seeds=4,
            isolate=False, quick=False)  # a fresh process per case would dwarf the work


def _dqn_config():
    """experiments.dqn's CartPole agent, with a buffer that fits 1024 seeds and no evaluation."""
    from rlfa.control.dqn import CARTPOLE

    return dataclasses.replace(CARTPOLE, buffer_capacity=10_000, num_eval_episodes=0)


def build(workload: str, budget: int):
    """``(program, hparams, steps_per_log, updates per program step)`` of one workload.

    Args:
      workload: one of :data:`WORKLOADS`.
      budget: episodes (random walk) or environment steps (the others) per seed.
    """
    if workload == "random_walk":
        from rlfa import prediction
        from rlfa.book import random_walk_figures as rwf

        curve = rwf.book_curves("9.2")[0]  # semi-gradient TD(0), state aggregation
        program = rwf.random_walk_program(curve.method, curve.feature_map)
        hparams = prediction.PredictionHParams(curve.step_size, 1.0)
        return program, hparams, -(-budget // NUM_LOGS), 0
    if workload == "mountain_car":
        from rlfa import control
        from rlfa.book import mountain_car_figures as mc
        from rlfa.envs.mountain_car import MountainCar

        env = MountainCar()
        features = mc.tile_features()  # the book's 8 tilings of 8x8
        steps_per_log = -(-budget // (MC_BLOCK_STEPS * NUM_LOGS))
        # As many episodes as steps: no run finishes (and freezes) before the budget is spent.
        program = control.episodic_control(
            env, env.default_params, control.semi_gradient_sarsa(features, mc.NUM_ACTIONS),
            control.linear_q(features, mc.NUM_ACTIONS), mc.NUM_ACTIONS,
            num_episodes=steps_per_log * NUM_LOGS * MC_BLOCK_STEPS,
            actions=control.sarsa_actions(), block_steps=MC_BLOCK_STEPS)
        hparams = control.ControlHParams(0.5 / 8, 0.0, 1.0)
        return program, hparams, steps_per_log, 0
    from rlfa.control.dqn import make_program
    from rlfa.dqn_study import plan

    dqn = _dqn_config()
    steps_per_log, _ = plan(dqn, dqn.warmup_steps + budget, NUM_LOGS)
    return make_program(dqn).program, dqn.hparams, steps_per_log, dqn.gradient_steps


def env_steps_done(workload: str, results: runner.Results, steps_per_log: int,
                   num_seeds: int) -> float:
    """Environment steps in the timed loop, summed over the seeds (counted in the carry
    where the workload counts them; DQN's warm-up, run in ``init``, left out)."""
    if workload == "dqn":
        return steps_per_log * NUM_LOGS * _dqn_config().train_frequency * num_seeds
    return float(np.asarray(results.final.steps, np.float64).sum())


def _rss_mb() -> float:
    """This process's resident set now, MiB (Linux /proc; else its peak so far)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return harness.peak_rss_mb()


def measure(case: dict) -> dict:
    """Time one case (workload, seeds, num_devices, budget) in this process."""
    program, hparams, steps_per_log, updates_per_step = build(case["workload"], case["budget"])
    base_rss = _rss_mb()
    results = runner.run(program, runner.stack_hparams([hparams]), seed=case["seed"],
                         num_seeds=case["seeds"], num_logs=NUM_LOGS, steps_per_log=steps_per_log,
                         logs_per_chunk=NUM_LOGS, num_devices=case["num_devices"], progress=False)
    env_steps = env_steps_done(case["workload"], results, steps_per_log, case["seeds"])
    updates = updates_per_step * steps_per_log * NUM_LOGS * case["seeds"]
    stats = jax.local_devices()[0].memory_stats() or {}
    return {**case, "num_devices": results.num_devices,
            "devices_present": len(jax.local_devices()),
            "platform": jax.local_devices()[0].platform,
            "env_steps_per_seed": env_steps / case["seeds"],
            "updates_per_seed": updates / case["seeds"],
            "compile_s": results.compile_s, "run_s": results.run_s,
            "env_steps_per_s": env_steps / results.run_s, "updates_per_s": updates / results.run_s,
            "base_rss_mb": base_rss,
            "peak_rss_mb": harness.peak_rss_mb(),
            "device_peak_mb": stats["peak_bytes_in_use"] / 2**20
            if "peak_bytes_in_use" in stats else None}


def cases(config: ScalingConfig) -> list[dict]:
    """Every measurement, in order: the seeds study, then the devices study."""
    budgets = {"random_walk": config.random_walk_episodes,
               "mountain_car": config.mountain_car_steps, "dqn": config.dqn_steps}
    out = []
    studies = [("devices", n, config.device_seeds) for n in config.device_counts]
    if not config.devices_only:
        studies = [("seeds", None, n) for n in config.seeds] + studies
    for study, num_devices, seeds in studies:
        for workload in config.workloads:
            out.append({"study": study, "workload": workload, "seeds": seeds,
                        "num_devices": num_devices, "budget": budgets[workload],
                        "seed": config.seed})
    return out


def _devices_subprocess(config: ScalingConfig) -> list[dict]:
    """The devices study in a child with ``max(device_counts)`` forced CPU devices."""
    with tempfile.TemporaryDirectory() as tmp:
        child = dataclasses.replace(config, devices_only=True, isolate=False, out=tmp)
        args = ["--devices-only", "--no-isolate", "--out", tmp, "--workloads", *child.workloads,
                "--device-counts", *map(str, child.device_counts),
                "--device-seeds", str(child.device_seeds), "--seed", str(child.seed),
                "--random-walk-episodes", str(child.random_walk_episodes),
                "--mountain-car-steps", str(child.mountain_car_steps),
                "--dqn-steps", str(child.dqn_steps)]
        harness.run_module(MODULE, args, max(config.device_counts))
        (summary,) = Path(tmp, "benchmark_scaling").glob("*/summary.json")
        return json.loads(summary.read_text())["table"]


def run_all(config: ScalingConfig) -> list[dict]:
    """Measure every case; print each row as it comes."""
    todo = cases(config)
    forced = max(config.device_counts, default=1)
    rows_devices = []
    if not config.isolate and len(jax.local_devices()) < forced:
        rows_devices = _devices_subprocess(config)  # this process has too few devices
        todo = [c for c in todo if c["study"] != "devices"]

    def run(case: dict) -> dict:  # the devices study's process has the forced CPU devices
        if not config.isolate:
            return measure(case)
        return harness.run_worker(MODULE, case, forced if case["study"] == "devices" else None)

    rows = harness.time_cases(todo, run, COLUMNS)
    for row in rows_devices:
        print(harness.table_row(row, COLUMNS), flush=True)
    return rows + rows_devices


def speedups(rows: list[dict]) -> dict[str, dict[str, float]]:
    """Devices study: throughput at k devices over throughput at 1 device, per workload."""
    out = {}
    for workload in dict.fromkeys(r["workload"] for r in rows):
        timed = {r["num_devices"]: r["env_steps_per_s"] for r in rows
                 if r["study"] == "devices" and r["workload"] == workload}
        if 1 in timed:
            out[workload] = {str(k): v / timed[1] for k, v in sorted(timed.items())}
    return out


COLUMNS = (
    Column("study", 8, "study", align="<"), Column("workload", 14, "workload", align="<"),
    Column("seeds", 6, "seeds"), Column("dev", 4, "num_devices"),
    Column("compile s", 10, "compile_s", ".2f"), Column("run s", 8, "run_s", ".3f"),
    Column("env steps/s", 13, "env_steps_per_s", ".3g"),
    Column("updates/s", 11, lambda r: r["updates_per_s"] or None, ".3g"),  # blank without
    Column("peak MB", 9, "peak_rss_mb", ".0f"))


def draw(rows: list[dict]):
    """Log-log throughput vs seeds per workload; throughput vs CPU devices beside it."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import ScalarFormatter

    fig, (ax_seeds, ax_dev) = plt.subplots(1, 2, figsize=(11, 4.2))
    for workload in dict.fromkeys(r["workload"] for r in rows):
        for ax, study, x in ((ax_seeds, "seeds", "seeds"), (ax_dev, "devices", "num_devices")):
            rs = sorted((r for r in rows if r["study"] == study and r["workload"] == workload),
                        key=lambda r: r[x])
            if rs:
                line, = ax.plot([r[x] for r in rs], [r["env_steps_per_s"] for r in rs], "o-",
                                label=f"{LABELS[workload]} (env steps/s)")
                if any(r["updates_per_s"] for r in rs):
                    ax.plot([r[x] for r in rs], [r["updates_per_s"] for r in rs], "s--",
                            color=line.get_color(), label=f"{LABELS[workload]} (updates/s)")
    for ax in (ax_seeds, ax_dev):
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_formatter(ScalarFormatter())  # 1, 4, 16, not 2^0, 2^2, 2^4
        ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
        ax.set_ylabel("throughput, summed over seeds (per s of run time)")
    seeds_rows = [r for r in rows if r["study"] == "seeds"]
    devices = seeds_rows[0]["num_devices"] if seeds_rows else "all"
    ax_seeds.set_xlabel(f"seeds (on {devices} device(s))")
    ax_seeds.set_title("Throughput vs seeds")
    if not seeds_rows:
        ax_seeds.text(0.5, 0.5, "no seeds study in this run", ha="center", va="center",
                      transform=ax_seeds.transAxes)
    dev_seeds = next((r["seeds"] for r in rows if r["study"] == "devices"), "")
    counts = sorted({r["num_devices"] for r in rows if r["study"] == "devices"})
    if counts:
        ax_dev.set_xticks(counts, [str(k) for k in counts])
    ax_dev.set_xlabel(f"CPU devices ({dev_seeds} seeds)")
    ax_dev.set_title("Throughput vs devices")
    if seeds_rows:
        ax_seeds.legend(fontsize=7)
    if any(r["study"] == "devices" for r in rows):
        ax_dev.legend(fontsize=7)
    fig.tight_layout()
    return fig


def main(config: ScalingConfig) -> Path:
    """Run both studies, write ``runs/benchmark_scaling/<timestamp>/``, print the table."""
    t0, load_start = time.perf_counter(), os.getloadavg()
    run = config.effective()
    rows = run_all(run)
    summary = {
        "table": rows,
        "speedup_over_1_device": speedups(rows),
        "workloads": {"random_walk": "semi-gradient TD(0), state aggregation (Fig 9.2), "
                      "budget in episodes per seed",
                      "mountain_car": "semi-gradient SARSA, 8 tilings of 8x8, alpha 0.5/8 "
                      "(Fig 10.2), budget in env steps per seed",
                      "dqn": {"budget": "training env steps per seed after the warm-up",
                              "config": dataclasses.asdict(_dqn_config())}},
        "memory": ("peak_rss_mb: the process's max RSS (ru_maxrss), "
                   + ("a fresh process per measurement, so each is its own"
                      if run.isolate else "one process for many measurements, so monotone: an "
                      "upper bound") + "; base_rss_mb: RSS before the run; device_peak_mb: "
                   "memory_stats()['peak_bytes_in_use'] where the backend has it (not CPU)"),
        "timing": ("compile_s includes each program's init (DQN's warm-up); run_s is the "
                   "compiled loop only; throughput = steps summed over seeds / run_s"),
        "cpu_count": os.cpu_count(), "jax": jax.__version__,
        "load_average_start": load_start, "load_average_end": os.getloadavg(),
        "wall_s": time.perf_counter() - t0,
    }
    for workload, ratios in summary["speedup_over_1_device"].items():
        print(f"speed-up over 1 device, {workload}: "
              + ", ".join(f"{k} devices {v:.2f}x" for k, v in ratios.items()))
    print(f"load average (1, 5, 15 min) at start {load_start}, at end {os.getloadavg()}")
    return harness.write_results("scaling", config, summary, rows, draw(rows))


if __name__ == "__main__":  # devices and processes: see benchmarks/__init__.py
    harness.worker_or_cli(measure, ScalingConfig, main)
