"""Benchmark: wall time of the random walk's Figure 9.1, 9.5 and 9.10 workloads.

    python -m benchmarks.random_walk              # full book workloads, 3 repeats
    python -m benchmarks.random_walk --figures 9.10 --repeats 5
    python -m benchmarks.random_walk --quick

Compile time is reported apart from run time; each workload is repeated and the
median reported, with its environment steps per second (the episodes' steps, all
runs). Figures 9.5 and 9.10 are 30 runs of 5,000 episodes per curve, which every
run steps on its own clock (:func:`rlfa.prediction.episodic_prediction`). In the same
process, a plain Python/NumPy gradient Monte Carlo in the style of the book's public
reference code runs a slice of Figure 9.1's episodes, so the speed-up is a ratio
measured on one machine at one time.

Writes ``runs/benchmark_random_walk/<timestamp>/``: ``config.json``,
``metrics.csv`` (one row per workload and repeat: compile and run seconds),
``summary.json`` (the medians, the NumPy reference and the speed-up) and
``figure.png`` (median run and compile seconds per workload beside the NumPy
reference's extrapolated run time, on a log scale).
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from pathlib import Path

import numpy as np

from benchmarks import harness
from benchmarks.harness import Column
from rlfa import prediction, report, runner
from rlfa.book import random_walk_figures as rwf
from rlfa.study import cli


@dataclasses.dataclass(frozen=True)
class BenchmarkConfig(harness.DevicesOptions):
    """Time the Figure 9.1, 9.5 and 9.10 workloads.

    --quick: tiny workloads, one repeat, and 9.5's six programs left out unless --figures
    names it.
    """

    figures: tuple[str, ...] = ("9.1", "9.5", "9.10")
    """Which figures' workloads to time (9.1's also times the NumPy reference)."""
    repeats: int = 3
    """Repeats of each workload; the median is reported (--quick: one)."""
    reference_episodes: int = 2000
    """Episodes of the NumPy reference to time (extrapolated to the full workload)."""

    def __post_init__(self):
        super().__post_init__()
        self.check_choices("figures", rwf.FIGURES)
        self.check_counts("repeats", "reference_episodes")

    def effective(self) -> BenchmarkConfig:
        """What runs: with --quick, one repeat and (at the default figures) no 9.5."""
        if not self.quick:
            return self
        figures = tuple(f for f in self.figures if f != "9.5") \
            if self.figures == BenchmarkConfig.figures else self.figures
        return dataclasses.replace(self, repeats=1, figures=figures)


def numpy_reference_gradient_mc(num_episodes: int, alpha: float = 2e-5, seed: int = 0) -> float:
    """Seconds for ``num_episodes`` of every-visit gradient MC, one Python step at a time."""
    rng = np.random.default_rng(seed)
    w = np.zeros(10)
    start = time.perf_counter()
    for _ in range(num_episodes):
        state, trajectory = 500, [500]
        while True:
            state += rng.integers(1, 101) * (1 if rng.random() < 0.5 else -1)
            if state < 1 or state > 1000:
                reward = -1.0 if state < 1 else 1.0
                break
            trajectory.append(state)
        for s in trajectory:
            g = (s - 1) // 100
            w[g] += alpha * (reward - w[g])
    return time.perf_counter() - start


def draw(table: dict, reference_episodes: int):
    """Median run and compile seconds per workload, and the NumPy reference (Fig 9.1 only)."""
    figures = list(table)
    return report.bar_figure(
        [f"Fig {f}" for f in figures],
        {"rlfa run s (median)": [table[f]["run_s_median"] for f in figures],
         "rlfa compile s (median)": [table[f]["compile_s_median"] for f in figures],
         "NumPy reference run s (extrapolated)":
             [table[f].get("numpy_reference_s_extrapolated", np.nan) for f in figures]},
        "seconds (log scale)", "Random walk: wall time per workload\n(NumPy reference: "
        f"Fig 9.1 only, extrapolated from {reference_episodes} episodes)", log=True)


def run_curve(curve: rwf.Curve, seeds: int, episodes: int, log_every: int,
              num_devices: int | None) -> runner.Results:
    """One curve of the book's figure, as ``python -m experiments.random_walk`` runs it."""
    return runner.run(rwf.random_walk_program(curve.method, curve.feature_map,
                                              lock_step=curve.lock_step),
                      runner.stack_hparams([prediction.PredictionHParams(curve.step_size, 1.0)]),
                      seed=0, num_seeds=seeds, num_logs=episodes // log_every,
                      steps_per_log=log_every, num_devices=num_devices, progress=False,
                      threefry=curve.threefry)


def time_figure(figure: str, config: BenchmarkConfig) -> tuple[list[dict], dict]:
    """``config.repeats`` timings of ``figure``'s workload: (metrics rows, table entry)."""
    seeds, episodes, log_every = rwf.book_workload(figure, config.quick)
    curves = rwf.book_curves(figure)
    rows, compile_s, run_s = [], [], []
    for repeat in range(config.repeats):
        c = r = 0.0
        env_steps = 0
        for curve in curves:
            results = run_curve(curve, seeds, episodes, log_every, config.num_devices)
            c, r = c + results.compile_s, r + results.run_s
            env_steps += int(results.metrics["steps"][..., -1].sum())
        compile_s.append(c)
        run_s.append(r)
        rows.append({"figure": figure, "repeat": repeat, "seeds": seeds, "episodes": episodes,
                     "compile_s": c, "run_s": r, "env_steps": env_steps})
    median_run = statistics.median(run_s)
    return rows, {
        "workload": f"{len(curves)} config x {seeds} runs x {episodes} episodes",
        "run_s_median": median_run,
        "compile_s_median": statistics.median(compile_s),
        "env_steps_per_s": env_steps / median_run,
        "num_devices": results.num_devices,
    }


COLUMNS = (
    Column("workload", 10, "figure", align="<"), Column("runs", 38, "workload"),
    Column("run s (median)", 16, "run_s_median", ".2f"),
    Column("compile s", 11, "compile_s_median", ".2f"),
    Column("steps/s", 12, "env_steps_per_s", ".3g"))


def main(config: BenchmarkConfig) -> Path:
    """Time every figure's workload (and the NumPy reference), print the table, write
    ``runs/benchmark_random_walk/<timestamp>/``."""
    config = config.effective()
    rows, table = [], {}
    for figure in config.figures:
        figure_rows, table[figure] = time_figure(figure, config)
        rows += figure_rows
    summary = {"benchmarks": table, "repeats": config.repeats}
    if "9.1" in table:
        ref_s = numpy_reference_gradient_mc(config.reference_episodes)
        _, fig91_episodes, _ = rwf.book_workload("9.1", config.quick)
        ref_full = ref_s / config.reference_episodes * fig91_episodes
        table["9.1"]["numpy_reference_s_extrapolated"] = ref_full
        table["9.1"]["speedup_vs_numpy"] = ref_full / table["9.1"]["run_s_median"]
        table["9.1"]["target_run_s"] = 1.0
        summary["reference_episodes_timed"] = config.reference_episodes
    print(harness.table([{"figure": f"Fig {f}", **t} for f, t in table.items()], COLUMNS))
    if "9.1" in table:
        print(f"NumPy reference, Fig 9.1 extrapolated from {config.reference_episodes} episodes: "
              f"{table['9.1']['numpy_reference_s_extrapolated']:.1f} s -> rlfa is "
              f"{table['9.1']['speedup_vs_numpy']:.0f}x faster")
    return harness.write_results("random_walk", config, summary, rows,
                                 draw(table, config.reference_episodes))


if __name__ == "__main__":
    cli(BenchmarkConfig, main)  # devices and processes: see benchmarks/__init__.py
