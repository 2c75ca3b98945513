"""Coarseness of coarse coding (Sutton & Barto Example 9.3, Figure 9.8).

    python -m experiments.coarse_coding          # 30 seeds x 3 widths, 10240 examples
    python -m experiments.coarse_coding --quick  # seconds, for tests

Linear SGD (eq. 9.7) learns a square wave on [0, 2) from uniform samples, with 50
intervals of each width as features (:func:`rlfa.book.coarse_coding_figure.program`); every
width and seed in one program. Headlines: RMS error vs the wave per width and example count.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from rlfa import config as cfg
from rlfa import files, stats, sweep
from rlfa import hparams as hp
from rlfa.book.coarse_coding_figure import HIGH, LOW, X_EVAL, HParams, program, square_wave
from rlfa.features import coarse_coding_1d
from rlfa.study import Job, Record, Study, StudyOptions, cli, latest_mean
from rlfa.sweep import Sweep


@dataclasses.dataclass(frozen=True)
class CoarseCodingConfig(StudyOptions):
    """Figure 9.8. The book: 50 features, alpha = 0.2 / n (n features present), uniform
    samples, 10 .. 10240 examples; widths 0.2, 0.4, 1.0 and the wave 1 on (0.5, 1.5) as in
    the public reference code, which draws fresh samples per count where a run here goes
    on learning. ``--quick``: 8 seeds, counts 10, 40, 640."""

    widths: tuple[float, ...] = (0.2, 0.4, 1.0)
    """Interval lengths (narrow, medium, broad), all in one program."""
    num_features: int = 50
    """Intervals per width, spread evenly over [0, 2]."""
    step_size: float = 0.2
    """alpha times the number of active features (the book: 0.2)."""
    example_counts: tuple[int, ...] = (10, 40, 160, 640, 2560, 10240)
    """Examples seen at each logged point (increasing)."""
    num_seeds: int = 30
    """Independent sample streams per width."""
    sweep: Sweep[HParams] = Sweep[HParams]()
    """step_size values to run instead, crossed with the widths in the same program
    (--sweep.width replaces --widths)."""

    def __post_init__(self):
        super().__post_init__()
        cfg.check_nonempty("widths", self.widths)
        for point in points(self):  # each within the domain and covering it
            coarse_coding_1d(LOW, HIGH, float(point.width), self.num_features)
        counts = self.example_counts
        if not counts or list(counts) != sorted(set(counts)) or not all(
                isinstance(c, int) and not isinstance(c, bool) and c >= 1 for c in counts):
            raise ValueError(f"example_counts={counts} is invalid: must be increasing ints >= 1.")
        cfg.check_positive_int("num_seeds", self.num_seeds)

    def effective(self) -> CoarseCodingConfig:
        return dataclasses.replace(self, quick=False, num_seeds=8, example_counts=(10, 40, 640)
                                   ) if self.quick else self


def points(config: CoarseCodingConfig) -> list[HParams]:
    """Each width of --widths (or of --sweep.width, which replaces them) with --step-size (or
    each of --sweep.step-size).

    Raises:
      ValueError: for a point outside the declared bounds, naming the width it came from,
        e.g. ``widths 0: width=0.0 is invalid: ...``.
    """
    widths = config.widths[:1] if "width" in sweep.requested(config.sweep) else config.widths
    out = []
    for width in widths:
        base = HParams(config.step_size, width)
        hp.check(base, prefix=f"widths {width:g}: ")
        out += config.grid(base)
    return out


def jobs(config: CoarseCodingConfig):
    grid = points(config)
    counts = config.example_counts
    yield Job("coarse coding", program(counts, config.num_features), grid, config.num_seeds,
              len(counts), 1, log_x=np.asarray(counts), unit="examples",
              postfix=latest_mean("rms_error", "RMS error"),
              grid_labels=[{"width": float(p.width), "step_size": float(p.step_size)}
                           for p in grid])


def record(config: CoarseCodingConfig, job: Job, results) -> Record:
    rec, swept = Record(), len({p["step_size"] for p in job.grid_labels}) > 1
    names = [f"width {p['width']:g}" + (f", step size {p['step_size']:g}" if swept else "")
             for p in job.grid_labels]
    for g, name in enumerate(names):
        for t, count in enumerate(config.example_counts):
            rec.headlines[f"{name}, {count} examples"] = stats.headline(
                "RMS error vs the square wave", results.metrics["rms_error"][g, :, t],
                higher_is_better=False, task="square wave")
        rec.arrays[f"values {name}"] = results.metrics["values"][g]  # [seeds, counts, points]
    rec.arrays["x_eval"] = X_EVAL
    rec.summary = {"curves": names, "example_counts": list(config.example_counts),
                   "num_seeds": config.num_seeds}
    rec.rows = files.metric_rows({"rms_error": results.metrics["rms_error"]}, job.grid_labels,
                                 "examples", job.log_x)
    return rec


def figure(run):
    """Rows: examples; columns: widths. Mean over seeds (95% bootstrap band), seed 0 thin."""
    import matplotlib.pyplot as plt

    names, counts, x = run.summary["curves"], run.summary["example_counts"], run.arrays["x_eval"]
    fig, axes = plt.subplots(len(counts), len(names), figsize=(3.6 * len(names),
                             1.9 * len(counts)), sharex=True, sharey=True, squeeze=False)
    for j, name in enumerate(names):
        values = run.arrays[f"values {name}"]
        for t, (ax, count) in enumerate(zip(axes[:, j], counts)):
            mean, low, high = stats.bootstrap_band(values[:, t])
            ax.plot(x, np.asarray(square_wave(jnp.asarray(x))), color="0.75", lw=3)
            ax.fill_between(x, low, high, alpha=0.3)
            ax.plot(x, mean, lw=1.5, label="mean, 95% CI")
            ax.plot(x, values[0, t], "k", lw=0.6, label="seed 0")
            rms = run.summary["headlines"][f"{name}, {count} examples"]["mean"]["value"]
            ax.set_title(f"{name}: {count} examples (RMS {rms:.3f})", fontsize=8)
        axes[-1, j].set_xlabel("x")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"Coarse coding of a square wave, {run.config['num_features']} intervals "
                 "per width (S&B Figure 9.8)")
    fig.tight_layout()
    return fig


STUDY = Study("coarse_coding", jobs, record, figure)

if __name__ == "__main__":
    cli(CoarseCodingConfig, STUDY)  # devices and processes: see experiments/__init__.py
