"""Baird's counterexample (Sutton & Barto Example 11.1, Figures 11.2, 11.5 and 11.6).

    python -m experiments.baird                   # every figure, the book's settings, 10 seeds
    python -m experiments.baird --figure 11.5     # one figure: TDC, sampled and expected
    python -m experiments.baird --num-steps 5000  # longer: the weights run away
    python -m experiments.baird --figure 11.6 --x64  # expected updates in float64
    python -m experiments.baird --quick           # seconds, for tests

Sampled, from the book's initial weights: semi-gradient off-policy TD(0) diverges (Figure
11.2 left), residual-gradient TD (the true gradient of the squared TD error here) does not,
and TDC drives sqrt(PBE) towards 0 (Figure 11.5 left). Expected, one deterministic run each:
semi-gradient DP diverges (Figure 11.2 right), expected TDC's sqrt(PBE) goes to about 0
while sqrt(VE) does not (Figure 11.5 right), expected emphatic TD's sqrt(VE) goes to 0
(Figure 11.6); the programs are :mod:`rlfa.book.baird_figures`'. The runner flags, per
seed, the first logged point with a weight non-finite or beyond ``divergence_bound``.

The expected updates run in float32 unless ``--x64``; where float32's round-off stops one
short of float64's iteration, the study says so (:func:`rlfa.book.baird_figures.float32_floor`).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rlfa import config as cfg
from rlfa import files, prediction, stats
from rlfa import hparams as hp
from rlfa.book import baird_figures as bf
from rlfa.envs import baird
from rlfa.hparams import Flat
from rlfa.study import Job, Record, Study, StudyOptions, cli, latest_mean
from rlfa.sweep import Sweep


@dataclasses.dataclass(frozen=True)
class BairdConfig(StudyOptions):
    """Reproduce Figures 11.2, 11.5 and 11.6 on Baird's counterexample.

    ``--step-size``: alpha of sampled TD and semi-gradient DP (the book's Figure 11.2: 0.01);
    ``--gamma``: every method's discount (the book: 0.99). ``--quick``: 2 seeds of 1000 steps
    (the expected updates run in full).
    """

    figure: str = "all"
    """Which of the book's figures: 11.2 (sampled TD left, semi-gradient DP right),
    11.5 (TDC sampled and expected), 11.6 (expected emphatic TD) or all."""
    num_steps: int = 1000
    """Transitions per sampled run (the book: 1000)."""
    num_seeds: int = 10
    """Independent runs per sampled method (the book shows one)."""
    hparams: Flat[prediction.PredictionHParams] = prediction.PredictionHParams(0.01, baird.GAMMA)
    """Sampled TD's and semi-gradient DP's alpha and every method's gamma (--step-size, --gamma)."""
    num_updates: int = 1000
    """Expected updates (DP sweeps) per deterministic run (the book: 1000)."""
    tdc_step_size: float = 0.005
    """alpha of TDC, sampled and expected (the book's Figure 11.5: 0.005)."""
    tdc_beta: float = 0.05
    """beta of TDC, sampled and expected (the book's Figure 11.5: 0.05)."""
    emphatic_step_size: float = 0.03
    """alpha of expected emphatic TD (the book's Figure 11.6: 0.03)."""
    sweep: Sweep[prediction.PredictionHParams] = Sweep[prediction.PredictionHParams]()
    """alpha and gamma values to run instead, all in one compiled program per method
    (sampled semi-gradient and residual-gradient TD; the others run at their book point)."""
    log_every: int = 10
    """Transitions (expected updates) between logged weights."""
    divergence_bound: float = 100.0
    """A weight beyond this magnitude (ten times the largest initial weight) counts as diverged."""
    x64: bool = False
    """Run the expected updates (semi-gradient DP, expected TDC and emphatic TD) in float64,
    past float32's round-off (JAX's 64-bit mode for those programs only); the sampled runs
    stay float32."""

    def __post_init__(self):
        super().__post_init__()
        cfg.check_choice("figure", self.figure, (*bf.FIGURE_METHODS, "all"))
        cfg.check_choice("x64", self.x64, (False, True))
        for name in ("num_steps", "num_updates", "num_seeds", "log_every"):
            cfg.check_positive_int(name, getattr(self, name))
            if name in ("num_steps", "num_updates") and getattr(self, name) % self.log_every:
                raise ValueError(f"{name}={getattr(self, name)} is invalid: must be a multiple "
                                 f"of log_every={self.log_every}.")
        cfg.check_positive("divergence_bound", self.divergence_bound)
        hp.check(self.hparams)
        for name in ("tdc", "emphatic"):  # the prefix makes the field the flag: tdc_beta
            hp.check(self.book_point(name), prefix=f"{name}_")

    def effective(self) -> BairdConfig:
        return dataclasses.replace(self, num_steps=1000, num_seeds=2) if self.quick else self

    def book_point(self, name: str):
        """The one point method ``name`` runs at: TDC's and emphatic TD's own step sizes,
        the others' --step-size; every method's --gamma."""
        gamma = self.hparams.gamma
        if "tdc" in name:
            return prediction.TDCHParams(self.tdc_step_size, self.tdc_beta, gamma)
        if "emphatic" in name:
            return prediction.PredictionHParams(self.emphatic_step_size, gamma)
        return self.hparams


def jobs(config: BairdConfig):
    def job(name, program, points, num_seeds, num, unit):
        x = config.log_every * np.arange(1, num // config.log_every + 1)
        labels = [{"alpha": float(p.step_size), "gamma": float(p.gamma)} for p in points]
        x64 = config.x64 and unit != "steps"  # the expected updates only
        return Job(f"Baird {name}", program, points, num_seeds, len(x), steps_per_log=(
            1 if unit == "steps" else config.log_every), log_x=x, unit=unit,
            postfix=latest_mean("rms_ve", "sqrt(VE)"), divergence_bound=config.divergence_bound,
            grid_labels=labels, info=name, x64=x64)

    for figure_number, names in bf.FIGURE_METHODS.items():
        for name in names if config.figure in (figure_number, "all") else ():
            # TDC's point as float32 arrays: summary.json reports the values it ran at
            book = config.book_point(name)
            float64 = config.x64 and name not in bf.SAMPLED_AGENTS
            book = [hp.traced(book) if "tdc" in name and not float64 else book]
            if name in bf.SAMPLED_AGENTS:
                points = book if name == "tdc" else config.grid(config.hparams)
                yield job(name, bf.sampled_program(name, config.log_every), points,
                          config.num_seeds, config.num_steps, "steps")
            else:
                yield job(name, bf.expected_program(name), book,
                          1, config.num_updates, "sweeps" if "dp" in name else "updates")


def record(config: BairdConfig, job: Job, results) -> Record:
    method, rec, m, x = job.info, Record(), results.metrics, job.log_x
    for g, labels in enumerate(job.grid_labels):
        name = method if len(job.hparams) == 1 else \
            f"{method} (alpha={labels['alpha']:g}, gamma={labels['gamma']:g})"
        final = {"max |w|": np.max(np.abs(m["w"][g, :, -1]), axis=-1),
                 "sqrt(VE)": m["rms_ve"][g, :, -1], "sqrt(PBE)": m["rms_pbe"][g, :, -1]}
        headlined = bf.HEADLINES.get(method, {"": "sqrt(VE)"})
        for suffix, metric in headlined.items():
            rec.headlines[name + suffix] = stats.headline(
                f"{metric} after {x[-1]} {job.unit}", final[metric], higher_is_better=False,
                task="Baird")
        at = results.diverged_at[g]
        rec.summary[name] = {
            "figure": bf.figure_of(method), "unit": job.unit,
            "hparams": {k: float(v) for k, v in job.hparams[g]._asdict().items()},
            "diverged_seeds": np.flatnonzero(at >= 0).tolist(),
            "per_seed": [{"seed": s, "diverged": bool(a >= 0),
                          "diverged_at": int(x[a]) if a >= 0 else None,
                          "final_weights_finite": bool(np.isfinite(m["w"][g, s, -1]).all()),
                          **{f"final {k}": float(v[s]) for k, v in final.items()}}
                         for s, a in enumerate(at)],
            # each final error once: here only where no headline holds it
            **{key: stats.interval_estimates(final[metric]) for key, metric in (
                ("final_rms_ve", "sqrt(VE)"), ("final_rms_pbe", "sqrt(PBE)"))
               if metric not in headlined.values()}}
        if job.unit != "steps":  # an expected update: one deterministic run
            rec.summary[name]["precision"] = "float64" if job.x64 else "float32"
            if not job.x64:
                floor = bf.float32_floor(method, job.hparams[0], int(job.log_x[-1]),
                                         {m: final[m][0] for m in headlined.values()})
                rec.summary[name] |= floor
                rec.notes += [f"{name}: {metric} after {x[-1]} {job.unit} stops at the float32 "
                              f"floor, {v['float32']:.4g}; the same iteration in float64 reaches "
                              f"{v['float64']:.4g} (--x64 runs it so)"
                              for metric, v in floor["float32_floor"].items()]
        rec.arrays |= {f"{name}_{k}": m[k][g] for k in ("w", "rms_ve", "rms_pbe")}
    rec.summary = {"methods": rec.summary, "divergence_bound": config.divergence_bound,
                   "log_every": config.log_every}
    if job.unit == "steps":  # the sampled runs' curves; the expected ones are in metrics.npz
        rec.rows = files.metric_rows(
            {"rms_ve": m["rms_ve"]}, [{"method": method, **labels} for labels in job.grid_labels]
            if len(job.hparams) > 1 else [{"method": method}], "step", x)
    return rec


def figure(run):
    """One row per book figure: 11.2 (sampled TD, residual gradient, DP), 11.5 (TDC
    sampled and expected), 11.6 (expected emphatic TD)."""
    import matplotlib.pyplot as plt

    rows = [[n for n in names if n in run.summary["methods"]]
            for names in bf.FIGURE_METHODS.values()]
    rows = [r for r in rows if r] or [list(run.summary["methods"])]  # a sweep: its points
    ncols = max(map(len, rows))
    fig, axes = plt.subplots(len(rows), ncols, figsize=(5.5 * ncols, 4 * len(rows)),
                             squeeze=False)
    for ax_row, names in zip(axes, rows):
        for ax in ax_row[len(names):]:
            ax.axis("off")
        for ax, name in zip(ax_row, names):
            bf.plot_panel(ax, run, name)
    gamma = next(iter(run.summary["methods"].values()))["hparams"]["gamma"]
    fig.suptitle(f"Baird's counterexample, gamma={gamma:g} (S&B Figures 11.2, 11.5, 11.6; "
                 "sampled runs: seed 0)")
    fig.tight_layout()
    return fig


STUDY = Study("baird", jobs, record, figure)

if __name__ == "__main__":
    cli(BairdConfig, STUDY)  # devices and processes: see experiments/__init__.py
