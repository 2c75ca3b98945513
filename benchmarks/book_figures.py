"""Benchmark: wall time of the full workload of each of Sutton & Barto's chapter 9-11
figures that has no benchmark of its own (9.5 and 9.10 are in ``benchmarks.random_walk``).

    python -m benchmarks.book_figures                       # every figure, the book's settings
    python -m benchmarks.book_figures --figures 10.4 10.5   # some of them
    python -m benchmarks.book_figures --quick               # Figure 11.6's --quick workload

Each figure runs as ``python -m experiments.NAME --figure F`` would, in this process
(``STUDY.run``), its results written to a temporary directory; compile and run seconds
are the runner's, wall seconds the whole study's (statistics and writing included).
The median over ``repeats`` is reported beside the target of one minute per figure.

Writes ``runs/benchmark_book_figures/<timestamp>/``: ``config.json``, ``metrics.csv``
(one row per figure and repeat), ``summary.json`` (medians per figure, the workload and
its headline count) and ``figure.png`` (median seconds per figure, on a log scale).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import io
import json
import statistics
import tempfile
from pathlib import Path

from benchmarks import harness
from benchmarks.harness import Column
from rlfa import config as cfg
from rlfa import report
from rlfa.study import cli

# figure -> (study module, its config class, the config's arguments for that figure)
FIGURES = {
    "9.2-right": ("experiments.n_step_td", "NStepTDConfig", {"figure": "9.2-right"}),
    "lstd": ("experiments.n_step_td", "NStepTDConfig", {"figure": "lstd"}),
    "9.8": ("experiments.coarse_coding", "CoarseCodingConfig", {}),
    "10.3": ("experiments.n_step_sarsa", "NStepSarsaConfig", {"figure": "10.3"}),
    "10.4": ("experiments.n_step_sarsa", "NStepSarsaConfig", {"figure": "10.4"}),
    "10.5": ("experiments.access_control", "AccessControlConfig", {}),
    "11.2": ("experiments.baird", "BairdConfig", {"figure": "11.2"}),
    "11.5": ("experiments.baird", "BairdConfig", {"figure": "11.5"}),
    "11.6": ("experiments.baird", "BairdConfig", {"figure": "11.6"}),
}
TARGET_S = 60.0  # each figure's full workload, on 2 CPU cores


@dataclasses.dataclass(frozen=True)
class BenchmarkConfig(harness.DevicesOptions):
    """Time the full workload of each chapter 9-11 figure.

    --quick: the studies' --quick workloads (and by default one figure).
    """

    figures: tuple[str, ...] = ()
    """Which figures (9.2-right, lstd, 9.8, 10.3, 10.4, 10.5, 11.2, 11.5, 11.6; default:
    all, or with --quick the quickest, 11.6: the studies' own tests run the others)."""
    repeats: int = 1
    """Repeats of each figure's workload; the median is reported."""

    def __post_init__(self):
        super().__post_init__()
        self.check_counts("repeats")
        for figure in self.figures:
            cfg.check_choice("figures", figure, tuple(FIGURES))

    def chosen(self) -> tuple[str, ...]:
        return self.figures or (("11.6",) if self.quick else tuple(FIGURES))


def time_figure(figure: str, config: BenchmarkConfig) -> dict:
    """One run of ``figure``'s study: its compile, run and wall seconds, as its summary says."""
    module, config_name, kwargs = FIGURES[figure]
    study = importlib.import_module(module)
    # The study's own printout (headlines, its results line) would read as this benchmark's.
    with tempfile.TemporaryDirectory() as out, contextlib.redirect_stdout(io.StringIO()):
        path = study.STUDY.run(getattr(study, config_name)(
            **kwargs, quick=config.quick, out=out, progress=False,
            num_devices=config.num_devices))
        summary = json.loads((Path(path) / "summary.json").read_text())
    return {key: summary[key] for key in ("compile_s", "run_s", "wall_s", "num_devices")} | {
        "headlines": len(summary["headlines"])}


COLUMNS = (
    Column("figure", 12, "figure", align="<"), Column("study", 28, "study", align="<"),
    Column("compile s", 10, "compile_s_median", ".2f"), Column("run s", 9, "run_s_median", ".2f"),
    Column("wall s", 9, "wall_s_median", ".1f"),
    Column("<= 60 s", 9, lambda r: str(r["within_target"])))


def main(config: BenchmarkConfig) -> Path:
    """Time every chosen figure, print the table, write
    ``runs/benchmark_book_figures/<timestamp>/``."""
    rows, table = [], {}
    for figure in config.chosen():
        runs = [time_figure(figure, config) for _ in range(config.repeats)]
        rows += [{"figure": figure, "repeat": i, **r} for i, r in enumerate(runs)]
        table[figure] = {f"{k}_median": statistics.median(r[k] for r in runs)
                         for k in ("compile_s", "run_s", "wall_s")}
        table[figure] |= {"study": FIGURES[figure][0], "headlines": runs[0]["headlines"],
                          "num_devices": runs[0]["num_devices"],
                          "within_target": table[figure]["wall_s_median"] <= TARGET_S}
    summary = {"benchmarks": table, "repeats": config.repeats, "target_wall_s": TARGET_S,
               "quick": config.quick}
    labels = [f"Fig {f}" for f in table]
    fig = report.bar_figure(
        labels, {name: [t[f"{key}_median"] for t in table.values()]
                 for name, key in (("run s", "run_s"), ("compile s", "compile_s"),
                                   ("wall s", "wall_s"))},
        "seconds (median, log scale)", "Chapter 9-11 figures: full workload per figure",
        target=TARGET_S, target_label="target: 60 s", log=True)
    print(harness.table([{"figure": f, **t} for f, t in table.items()], COLUMNS))
    return harness.write_results("book_figures", config, summary, rows, fig)


if __name__ == "__main__":
    cli(BenchmarkConfig, main)  # devices and processes: see benchmarks/__init__.py
