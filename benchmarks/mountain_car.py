"""Benchmark: the full Figure 10.2 workload (3 alphas x 100 runs x 500 episodes) on Mountain Car.

    python -m benchmarks.mountain_car           # the full workload
    python -m benchmarks.mountain_car --quick   # seconds, to check it runs

Times :func:`rlfa.book.mountain_car_figures.sarsa_program` with the book's tile coding
(``experiments.mountain_car``'s defaults), every run in one compiled program,
compile time apart from run time, and writes
``runs/benchmark_mountain_car/<timestamp>/``: ``config.json``, ``metrics.csv``
(one row per timed repeat: compile and run seconds, env steps, throughput),
``summary.json`` and ``figure.png`` (run and compile seconds per repeat, with the
20 s target on the full workload). The target is <= 20 s of run time. The NumPy
reference code takes about 33 CPU-minutes for this workload: a quoted figure,
not measured in this run, kept in the summary as ``numpy_reference_quoted``.
``us/lock-step`` is the run time over the env steps of the longest run: the cost
of one env step of all the runs together, which advance in lock-step until the
last one is done.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from benchmarks import harness
from benchmarks.harness import Column
from rlfa import control, report, runner
from rlfa.book import mountain_car_figures as mc
from rlfa.study import cli

REFERENCE_S = 33 * 60.0  # the NumPy reference code's quoted time for the full workload
TARGET_RUN_S = 20.0
ALPHAS, NUM_TILINGS, MAX_EPISODE_STEPS = (0.1, 0.2, 0.5), 8, 10_000  # the book's Figure 10.2


@dataclasses.dataclass(frozen=True)
class BenchmarkConfig(harness.DevicesOptions):
    """Time semi-gradient SARSA on Figure 10.2's workload.

    --quick: a tiny workload (2 runs x 10 episodes) to check the module runs.
    """

    num_seeds: int = 100
    """Runs per step size (the book: 100)."""
    num_episodes: int = 500
    """Episodes per run (the book: 500)."""
    block_steps: int = 64
    """Environment steps per program step."""
    repeats: int = 1
    """Timed repetitions (the fastest is reported)."""

    def __post_init__(self):
        super().__post_init__()
        self.check_counts("num_seeds", "num_episodes", "block_steps", "repeats")


def run_sarsa(num_seeds: int, num_episodes: int, block_steps: int,
              num_devices: int | None) -> runner.Results:
    """Every (alpha, seed) run of Figure 10.2's semi-gradient SARSA in one compiled program,
    run as ``experiments.mountain_car`` runs it (no checkpoints, no progress bar)."""
    features = mc.tile_features(num_tilings=NUM_TILINGS)
    program = mc.sarsa_program(features, num_episodes, max_episode_steps=MAX_EPISODE_STEPS,
                               block_steps=block_steps)
    num_logs, steps_per_log, log_x = mc.log_schedule(num_episodes, MAX_EPISODE_STEPS,
                                                     block_steps, logs_per_chunk=10)
    hparams = runner.stack_hparams([control.ControlHParams(a / NUM_TILINGS, 0.0, 1.0)
                                    for a in ALPHAS])
    return runner.run(program, hparams, seed=0, num_seeds=num_seeds, num_logs=num_logs,
                      steps_per_log=steps_per_log, num_devices=num_devices, progress=False,
                      log_x=log_x, unit="env steps")


COLUMNS = (
    Column("workload", 34, "workload", align="<"), Column("compile s", 10, "compile_s", ".2f"),
    Column("run s", 10, "run_s", ".2f"), Column("env steps/s", 14, "env_steps_per_s", ".3g"),
    Column("us/lock-step", 14, "us_per_lockstep_step", ".1f"))


def main(config: BenchmarkConfig) -> Path:
    """Run the benchmark, print a table, write its summary, return the run directory."""
    num_seeds, num_episodes = (2, 10) if config.quick else (config.num_seeds, config.num_episodes)
    timings, rows = [], []
    for repeat in range(config.repeats):
        res = run_sarsa(num_seeds, num_episodes, config.block_steps, config.num_devices)
        timings.append((res.run_s, res.compile_s))
        steps = np.asarray(res.final.steps)
        rows.append({"repeat": repeat, "runs": len(ALPHAS) * num_seeds,
                     "num_episodes": num_episodes, "compile_s": res.compile_s,
                     "run_s": res.run_s, "env_steps": int(steps.sum()),
                     "env_steps_per_s": int(steps.sum()) / res.run_s,
                     "us_per_lockstep_step": res.run_s / int(steps.max()) * 1e6,
                     "num_devices": res.num_devices})
    run_s, compile_s = min(timings)
    env_steps = int(res.final.steps.sum())
    lengths = np.asarray(res.final.lengths, np.float64)
    summary = {
        "workload": {"alphas": list(ALPHAS), "num_seeds": num_seeds,
                     "num_episodes": num_episodes, "runs": len(ALPHAS) * num_seeds},
        "run_s": run_s, "compile_s": compile_s, "all_run_s": [t[0] for t in timings],
        "env_steps": env_steps, "env_steps_per_s": env_steps / run_s,
        "max_env_steps_per_run": int(res.final.steps.max()),
        # The runs advance in lock-step until the longest is done: the cost of one step of all.
        "us_per_lockstep_step": run_s / int(res.final.steps.max()) * 1e6,
        "mean_steps_per_episode": {f"alpha={a}/8": float(lengths[g].mean())
                                   for g, a in enumerate(ALPHAS)},
        "capped_episodes": int(np.asarray(res.final.truncated).sum()),
        "num_devices": res.num_devices, "cpu_count": os.cpu_count(),
        "target_run_s": TARGET_RUN_S,
        "numpy_reference_quoted": {
            "run_s": REFERENCE_S,
            "measured": "quoted for the NumPy reference code on the full workload "
                        "(about 33 CPU-minutes); not measured in this run"},
        "speedup_vs_numpy_reference": REFERENCE_S / run_s if not config.quick else None,
    }
    figure = report.bar_figure(
        [f"repeat {r['repeat'] + 1}" for r in rows],
        {"run s": [r["run_s"] for r in rows], "compile s": [r["compile_s"] for r in rows]},
        "seconds", f"Mountain Car Fig 10.2: 3 alphas x {num_seeds} runs x {num_episodes} episodes",
        target=None if config.quick else TARGET_RUN_S,
        target_label=f"target: run <= {TARGET_RUN_S:g} s")
    label = f"Fig 10.2: 3 alphas x {num_seeds} x {num_episodes} ep"
    print(harness.table([{**summary, "workload": label}], COLUMNS))
    return harness.write_results("mountain_car", config, summary, rows, figure)


if __name__ == "__main__":
    cli(BenchmarkConfig, main)  # devices and processes: see benchmarks/__init__.py
