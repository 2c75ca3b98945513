"""Universal approximation made visible: one hidden layer of N sigmoids fit to a curve on [0, 1].

    python -m experiments.universal_approximation           # N = 1..64, 10 seeds each
    python -m experiments.universal_approximation --quick   # seconds, for tests
    python -m experiments.universal_approximation --sweep.adam-learning-rate 0.003 0.01 0.03

Hand-written backprop + mini-batch SGD against the same net in flax + optax's Adam
(:mod:`rlfa.backprop.universal_approximation`), one program per width N with every seed and
step size in it. Writes the final test risks, learning curves and fitted curves.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from rlfa import config as cfg
from rlfa import files, stats, sweep
from rlfa import hparams as hp
from rlfa.backprop import universal_approximation as ua
from rlfa.hparams import Flat
from rlfa.study import Job, Record, Study, StudyOptions, cli, latest_mean
from rlfa.sweep import Sweep


@dataclasses.dataclass(frozen=True)
class UniversalApproximationConfig(StudyOptions, ua.FitSettings):
    """Fit one hidden layer of N sigmoids to sin(2 pi x) plus a bump, for several N.
    ``--quick``: widths 1 and 16, 3 seeds, 4,000 updates (seconds, for tests)."""

    widths: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
    """Hidden-layer widths N, one program each."""
    num_seeds: int = 10
    """Independent initialisations and mini-batch streams per width."""
    num_updates: int = 100_000
    """Mini-batch updates per seed (each method)."""
    hparams: Flat[ua.HParams] = ua.HParams()
    """The two methods' step sizes: --sgd-learning-rate, --adam-learning-rate."""
    sweep: Sweep[ua.HParams] = Sweep[ua.HParams]()
    """Step sizes to run instead, every point in the same compiled program per width."""
    num_logs: int = 40
    """Logged points per run (learning curves)."""

    def __post_init__(self):
        super().__post_init__()
        ua.FitSettings.__post_init__(self)  # StudyOptions' does not chain on
        cfg.check_nonempty("widths", self.widths)
        for name, value in [("num_seeds", self.num_seeds), ("num_updates", self.num_updates),
                            ("num_logs", self.num_logs)] + [("widths", n) for n in self.widths]:
            cfg.check_positive_int(name, value)
        hp.check(self.hparams)
        run = self.effective()
        per_log = run.num_logs * run.updates_per_draw
        if run.num_updates % per_log:
            raise ValueError(f"num_updates={run.num_updates} is invalid: must be a "
                             f"multiple of num_logs * updates_per_draw = {per_log}.")

    def effective(self) -> UniversalApproximationConfig:
        """The settings actually run: ``--quick`` replaces widths, seeds, updates and logs."""
        return dataclasses.replace(self, quick=False, widths=(1, 16), num_seeds=3,
                                   num_updates=4_000, num_logs=10) if self.quick else self


def jobs(config: UniversalApproximationConfig):
    points = config.grid(config.hparams)
    for width in config.widths:  # a program step is updates_per_draw updates
        yield Job(f"N={width}", ua.make_program(config, width), points, config.num_seeds,
                  config.num_logs, config.num_updates // config.updates_per_draw // config.num_logs,
                  log_x=(np.arange(config.num_logs) + 1) * (config.num_updates // config.num_logs),
                  unit="updates", postfix=latest_mean("test_risk_sgd", "risk SGD"),
                  grid_labels=sweep.labels(points), info=width)


def record(config: UniversalApproximationConfig, job: Job, results) -> Record:
    width, labels, rec = job.info, job.grid_labels, Record()
    # A grid point is named in headlines, keys and arrays only when there are several.
    points = [""] if len(labels) == 1 else [f" (SGD lr={p['sgd_learning_rate']:g}, Adam lr="
                                            f"{p['adam_learning_rate']:g})" for p in labels]
    diverged = {}
    for g, point in enumerate(points):
        diverged[f"{width}{point}"] = np.flatnonzero(results.diverged_at[g] >= 0).tolist()
        for m in ua.METHODS:
            final = results.metrics[f"test_risk_{m}"][g, :, -1]
            rec.headlines[f"N={width}: {ua.LABELS[m]}{point}"] = stats.headline(
                f"test risk after {config.num_updates} updates", final, higher_is_better=False,
                task=f"sigmoid fit, N={width}")
            rec.arrays[f"curve_{m}_N{width}{point}"] = results.metrics[f"curve_{m}"][g, :, -1]
    rec.arrays["x_test"] = np.linspace(0.0, 1.0, config.num_test)
    rec.summary = {**ua.describe(config), "widths": list(config.widths), "points": points,
                   "num_seeds": config.num_seeds, "num_updates": config.num_updates,
                   "diverged_seeds": diverged}
    columns = [{"width": width, **p} if len(labels) > 1 else {"width": width} for p in labels]
    rec.rows = files.metric_rows({f"test_risk_{m}": results.metrics[f"test_risk_{m}"]
                                  for m in ua.METHODS}, columns, "update", job.log_x)
    return rec


def figure(run):
    """Final test risk vs N (mean, 95% bootstrap CI) and the fitted curves of seed 0."""
    import matplotlib.pyplot as plt

    summary, widths = run.summary, np.asarray(run.summary["widths"])
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for point in summary["points"]:
        for method, marker in zip(ua.METHODS, ("o", "s")):
            mean, low, high = np.array([[h["value"], *h["ci95"]] for h in (
                summary["headlines"][f"N={n}: {ua.LABELS[method]}{point}"]["mean"]
                for n in widths)], dtype=float).T
            # A bootstrap interval stays within the (positive) risks, so it fits log axes.
            axes[0].errorbar(widths, mean, yerr=np.stack([mean - low, high - mean]),
                             marker=marker, capsize=3, label=ua.LABELS[method] + point)
    axes[0].set(xscale="log", yscale="log", xlabel="hidden sigmoids N",
                ylabel="final test risk E (mean, 95% bootstrap CI)", title="Error vs width")
    axes[0].set_xticks(widths, [str(n) for n in widths])
    axes[0].legend(fontsize="medium" if len(summary["points"]) == 1 else "x-small")
    x, point = run.arrays["x_test"], summary["points"][0]  # the fits of the first grid point
    y = ua.target(jnp.asarray(x), run.config["bump_center"], run.config["bump_width"])
    for ax, method in zip(axes[1:], ua.METHODS):
        ax.plot(x, np.asarray(y), "k", lw=2.5, label="target")
        for n in widths if len(widths) <= 4 else widths[::2]:
            ax.plot(x, run.arrays[f"curve_{method}_N{n}{point}"][0], lw=1.2, label=f"N={n}")
        ax.set(xlabel="x", ylabel="f(x)",
               title=f"Fits, seed 0: {ua.LABELS[method]}\n{point.strip()}".strip())
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


STUDY = Study("universal_approximation", jobs, record, figure)

if __name__ == "__main__":
    cli(UniversalApproximationConfig, STUDY)  # devices, processes: experiments/__init__.py
