"""Baird's counterexample (Sutton & Barto Example 11.1, Figure 11.2): off-policy divergence.

    python -m experiments.baird                   # the book's setting, 10 seeds
    python -m experiments.baird --num-steps 5000  # longer: the weights run away
    python -m experiments.baird --quick           # seconds, for tests

Semi-gradient off-policy TD(0), ``w += alpha * rho * delta * phi(S)``, diverges
from the book's initial weights (Figure 11.2, left); residual-gradient TD,
``w += alpha * rho * delta * (phi(S) - gamma * phi(S'))``, the true gradient of
the squared TD error here since transitions are deterministic given the action,
does not (:mod:`rlfa.prediction.off_policy`). The runner flags, per seed, the
first logged point at which a weight is non-finite or beyond
``divergence_bound``; the summary reports it and the figure never plots a
non-finite weight.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rlfa import config as cfg
from rlfa import prediction, report, stats
from rlfa.envs import baird
from rlfa.study import Job, Record, Study, StudyOptions, cli, latest_mean

METHODS = {"semi_gradient_td": prediction.off_policy_semi_gradient_td0,
           "residual_gradient_td": prediction.off_policy_residual_gradient_td}


@dataclasses.dataclass(frozen=True)
class BairdConfig(StudyOptions):
    """Reproduce Figure 11.2: semi-gradient off-policy TD diverges on Baird's counterexample.

    ``--quick``: 2 seeds of 1000 steps.
    """

    num_steps: int = 1000
    """Transitions per run (the book's Figure 11.2: 1000)."""
    num_seeds: int = 10
    """Independent runs per method."""
    step_size: float = 0.01
    """alpha (the book: 0.01)."""
    gamma: float = baird.GAMMA
    """Discount (the book: 0.99)."""
    sweep: prediction.PredictionSweep = prediction.PredictionSweep()
    """alpha and gamma values to run instead, all in one compiled program per method."""
    log_every: int = 10
    """Transitions between logged weights."""
    divergence_bound: float = 100.0
    """A weight beyond this magnitude (ten times the largest initial weight) counts as diverged."""

    def __post_init__(self):
        super().__post_init__()
        cfg.check_positive_int("num_steps", self.num_steps)
        cfg.check_positive_int("num_seeds", self.num_seeds)
        for point in self.grid(prediction.PredictionHParams(self.step_size, self.gamma)):
            cfg.check_positive("step_size", float(point.step_size))
            cfg.check_in_range("gamma", float(point.gamma), 0.0, 1.0)
        cfg.check_positive_int("log_every", self.log_every)
        cfg.check_positive("divergence_bound", self.divergence_bound)
        if self.num_steps % self.log_every:
            raise ValueError(f"num_steps={self.num_steps} is invalid: must be a multiple of "
                             f"log_every={self.log_every}.")

    def effective(self) -> BairdConfig:
        return dataclasses.replace(self, num_steps=1000, num_seeds=2) if self.quick else self


def jobs(config: BairdConfig):
    points = config.grid(prediction.PredictionHParams(config.step_size, config.gamma))
    num_logs = config.num_steps // config.log_every
    for method, agent in METHODS.items():
        yield Job(f"Baird {method}", prediction.baird_program(agent(baird.features()),
                                                              baird.features(), config.log_every),
                  points, config.num_seeds, num_logs, steps_per_log=1,
                  log_x=config.log_every * np.arange(1, num_logs + 1), unit="steps",
                  postfix=latest_mean("rms_ve", "sqrt(VE)"),
                  divergence_bound=config.divergence_bound,
                  grid_labels=[{"alpha": float(p.step_size), "gamma": float(p.gamma)}
                               for p in points], info=method)


def record(config: BairdConfig, job: Job, results) -> Record:
    method, rec = job.info, Record()
    steps = job.log_x
    for g, labels in enumerate(job.grid_labels):
        name = method if len(job.hparams) == 1 else \
            f"{method} (alpha={labels['alpha']:g}, gamma={labels['gamma']:g})"
        at, final_w = results.diverged_at[g], results.metrics["w"][g, :, -1]
        final_ve = results.metrics["rms_ve"][g, :, -1]
        rec.headlines[name] = stats.headline(f"sqrt(VE) after {config.num_steps} steps", final_ve,
                                             higher_is_better=False, task="Baird")
        rec.summary[name] = {
            "diverged_seeds": np.flatnonzero(at >= 0).tolist(),
            "per_seed": [{"seed": s, "diverged": bool(a >= 0),
                          "diverged_at_step": int(steps[a]) if a >= 0 else None,
                          "final_weights_finite": bool(np.isfinite(final_w[s]).all()),
                          "final_max_abs_weight": float(np.max(np.abs(final_w[s])))}
                         for s, a in enumerate(at)],
            "final_rms_ve": report.summary_stats(final_ve),
        }
        rec.arrays[f"{name}_w"] = results.metrics["w"][g:g + 1]
    rec.summary = {"methods": rec.summary, "divergence_bound": config.divergence_bound,
                   "log_every": config.log_every}
    rec.rows = report.metric_rows({"rms_ve": results.metrics["rms_ve"]},
                                  [{"method": method, **labels} for labels in job.grid_labels]
                                  if len(job.hparams) > 1 else [{"method": method}], "step", steps)
    return rec


def figure(run):
    import matplotlib.pyplot as plt

    methods, log_every = run.summary["methods"], run.summary["log_every"]
    fig, axes = plt.subplots(1, len(methods), figsize=(5.5 * len(methods), 4), squeeze=False)
    for ax, (name, entry) in zip(axes[0], methods.items()):
        w = run.arrays[f"{name}_w"][0, 0]  # the first seed, like the book's single run
        steps = log_every * np.arange(1, len(w) + 1)
        for i in range(w.shape[-1]):
            finite = np.isfinite(w[:, i])  # a diverged weight is not drawn past overflow
            ax.plot(steps[finite], w[finite, i], label=f"w{i + 1}")
        title = name.replace("_", " ")
        if entry["per_seed"][0]["diverged"]:
            title += (f"\n(beyond ±{run.summary['divergence_bound']:g} at step "
                      f"{entry['per_seed'][0]['diverged_at_step']})")
        ax.set(xlabel="steps", ylabel="weight", title=title)
        ax.legend(fontsize=7, ncol=2)
    fig.suptitle(f"Baird's counterexample, alpha={run.config['step_size']}, gamma="
                 f"{run.config['gamma']} (S&B Figure 11.2, seed 0)")
    fig.tight_layout()
    return fig


STUDY = Study("baird", jobs, record, figure)

if __name__ == "__main__":
    cli(BairdConfig, STUDY)  # devices and processes: see experiments/__init__.py
