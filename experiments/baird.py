"""Baird's counterexample (Sutton & Barto Example 11.1, Figures 11.2, 11.5, 11.6).

    python -m experiments.baird                   # the book's settings, 10 seeds, every figure
    python -m experiments.baird --figure 11.5     # one figure: expected TDC
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

The expected updates, each one deterministic run of one program (its ``init``
ignores the key, a step is one update), go through the runner like the rest:
semi-gradient DP, which diverges too (Figure 11.2, right); expected TDC, whose
sqrt(PBE) goes to about 0 while sqrt(VE) does not (Figure 11.5, right); and
expected emphatic TD, whose sqrt(VE) goes to 0 (Figure 11.6). Their curves go
to ``metrics.npz`` only (``metrics.csv`` holds the sampled runs).
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from rlfa import config as cfg
from rlfa import prediction, report, stats
from rlfa.envs import baird
from rlfa.study import Job, Record, Study, StudyOptions, cli, latest_mean
from rlfa.types import Program

METHODS = {"semi_gradient_td": prediction.off_policy_semi_gradient_td0,
           "residual_gradient_td": prediction.off_policy_residual_gradient_td}
EXPECTED = {  # name -> (book figure, one expected update (mdp, w, aux, hparams) -> (w, aux),
    # aux's size (TDC's v, emphatic TD's per-state emphasis f), {headline label: its final value})
    "semi_gradient_dp": ("11.2", lambda mdp, w, a, hp: (
        prediction.semi_gradient_dp_update(mdp, w, hp), a), (), {"semi_gradient_dp": "max |w|"}),
    "expected_tdc": ("11.5", prediction.expected_tdc_update, (baird.NUM_FEATURES,),
                     {"expected_tdc": "sqrt(PBE)", "expected_tdc sqrt(VE)": "sqrt(VE)"}),
    "expected_emphatic_td": ("11.6", prediction.expected_emphatic_td_update,
                             (baird.NUM_STATES,), {"expected_emphatic_td": "sqrt(VE)"})}
FIGURES = ("11.2", "11.5", "11.6", "all")


@dataclasses.dataclass(frozen=True)
class BairdConfig(StudyOptions):
    """Reproduce Figures 11.2, 11.5 and 11.6 on Baird's counterexample.

    ``--quick``: 2 seeds of 1000 steps (the expected updates run in full).
    """

    figure: str = "all"
    """Which of the book's figures: 11.2 (sampled TD left, semi-gradient DP right),
    11.5 (expected TDC), 11.6 (expected emphatic TD) or all."""
    num_steps: int = 1000
    """Transitions per run (the book's Figure 11.2: 1000)."""
    num_seeds: int = 10
    """Independent runs per method."""
    step_size: float = 0.01
    """alpha of sampled TD and semi-gradient DP (the book: 0.01)."""
    num_updates: int = 1000
    """Expected updates (DP sweeps) per deterministic run (the book: 1000)."""
    tdc_step_size: float = 0.005
    """alpha of expected TDC (the book's Figure 11.5: 0.005)."""
    tdc_beta: float = 0.05
    """beta of expected TDC (the book's Figure 11.5: 0.05)."""
    emphatic_step_size: float = 0.03
    """alpha of expected emphatic TD (the book's Figure 11.6: 0.03)."""
    gamma: float = baird.GAMMA
    """Discount (the book: 0.99)."""
    sweep: prediction.PredictionSweep = prediction.PredictionSweep()
    """alpha and gamma values to run instead, all in one compiled program per method
    (sampled TD only; the expected updates run at their book point)."""
    log_every: int = 10
    """Transitions (expected updates) between logged weights."""
    divergence_bound: float = 100.0
    """A weight beyond this magnitude (ten times the largest initial weight) counts as diverged."""

    def __post_init__(self):
        super().__post_init__()
        cfg.check_choice("figure", self.figure, FIGURES)
        for name in ("num_steps", "num_updates", "num_seeds", "log_every"):
            cfg.check_positive_int(name, getattr(self, name))
        for name in ("tdc_step_size", "tdc_beta", "emphatic_step_size", "divergence_bound"):
            cfg.check_positive(name, getattr(self, name))
        for point in self.grid(prediction.PredictionHParams(self.step_size, self.gamma)):
            cfg.check_positive("step_size", float(point.step_size))
            cfg.check_in_range("gamma", float(point.gamma), 0.0, 1.0)
        for name in ("num_steps", "num_updates"):
            if getattr(self, name) % self.log_every:
                raise ValueError(f"{name}={getattr(self, name)} is invalid: must be a multiple "
                                 f"of log_every={self.log_every}.")

    def effective(self) -> BairdConfig:
        return dataclasses.replace(self, num_steps=1000, num_seeds=2) if self.quick else self


def expected_program(name: str) -> Program:
    """One deterministic run (``init`` ignores the key) of an expected update from the
    book's initial weights; the carry is ``(w, aux)``, a step is one update."""
    _, update, aux_shape, _ = EXPECTED[name]
    mdp, zeros = prediction.baird_mdp(), jnp.zeros(baird.NUM_STATES)

    def log(carry, hp):
        return {"w": carry[0], "rms_ve": prediction.mdp_rms_value_error(mdp, carry[0], zeros),
                "rms_pbe": prediction.rms_projected_bellman_error(mdp, carry[0], hp.gamma)}

    return Program(lambda key, hp: (jnp.asarray(baird.INITIAL_WEIGHTS), jnp.zeros(aux_shape)),
                   lambda carry, hp: update(mdp, *carry, hp), log, weights=lambda c: c[0])


def jobs(config: BairdConfig):
    if config.figure in ("11.2", "all"):
        yield from sampled_jobs(config)
    hparams = {"semi_gradient_dp": prediction.PredictionHParams(config.step_size, config.gamma),
               "expected_tdc": prediction.TDCHParams(config.tdc_step_size, config.tdc_beta,
                                                     config.gamma),
               "expected_emphatic_td": prediction.PredictionHParams(config.emphatic_step_size,
                                                                    config.gamma)}
    num_logs = config.num_updates // config.log_every
    for name, (book_figure, *_) in EXPECTED.items():
        if config.figure in (book_figure, "all"):
            yield Job(f"Baird {name}", expected_program(name), [hparams[name]], 1, num_logs,
                      steps_per_log=config.log_every,
                      log_x=config.log_every * np.arange(1, num_logs + 1), unit="updates",
                      postfix=latest_mean("rms_ve", "sqrt(VE)"),
                      divergence_bound=config.divergence_bound, info=name)


def sampled_jobs(config: BairdConfig):
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


def record_expected(config: BairdConfig, job: Job, results) -> Record:
    """Headlines: max |w| for DP (it diverges), final sqrt(PBE) and sqrt(VE) for TDC,
    final sqrt(VE) for emphatic TD. The curves go to metrics.npz, not metrics.csv."""
    name, m, rec = job.info, results.metrics, Record()
    final = {"max |w|": np.max(np.abs(m["w"][0, :, -1]), axis=-1),
             "sqrt(VE)": m["rms_ve"][0, :, -1], "sqrt(PBE)": m["rms_pbe"][0, :, -1]}
    after = f"after {config.num_updates} {'sweeps' if name == 'semi_gradient_dp' else 'updates'}"
    for label, metric in EXPECTED[name][3].items():
        rec.headlines[label] = stats.headline(f"{metric} {after}", final[metric],
                                              higher_is_better=False, task="Baird")
    at = int(results.diverged_at[0, 0])
    entry = {"figure": EXPECTED[name][0],
             "hparams": {k: float(v) for k, v in job.hparams[0]._asdict().items()},
             "diverged_at_update": int(job.log_x[at]) if at >= 0 else None,
             **{f"final {k}": float(v[0]) for k, v in final.items()}}
    rec.summary = {"expected": {name: entry}, "divergence_bound": config.divergence_bound,
                   "log_every": config.log_every}
    rec.arrays = {f"{name}_{k}": m[k][0] for k in ("w", "rms_ve", "rms_pbe")}
    return rec


def record(config: BairdConfig, job: Job, results) -> Record:
    if job.info in EXPECTED:
        return record_expected(config, job, results)
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


def panel(ax, run, name):
    """One method's weights (a sampled method's first seed, like the book's single run),
    with an expected update's errors (the book draws only DP's weights)."""
    e = run.summary.get("expected", {}).get(name)
    w = run.arrays[f"{name}_w"][0] if e else run.arrays[f"{name}_w"][0, 0]
    x = run.summary["log_every"] * np.arange(1, len(w) + 1)
    for i in range(w.shape[-1]):
        finite = np.isfinite(w[:, i])  # a diverged weight is not drawn past overflow
        ax.plot(x[finite], w[finite, i], label=f"w{i + 1}", lw=1)
    unit = "steps" if e is None else "sweeps" if name == "semi_gradient_dp" else "updates"
    if e is None:
        seed0 = run.summary["methods"][name]["per_seed"][0]
        at, where = seed0["diverged_at_step"], "Figure 11.2 left, seed 0"
    else:
        at, where = e["diverged_at_update"], ", ".join(
            f"{'alpha' if k == 'step_size' else k}={v:g}" for k, v in e["hparams"].items()
            if k != "gamma") + f"; Figure {e['figure']}{' right' * (e['figure'] != '11.6')}"
        for metric in EXPECTED[name][3].values():  # its headline errors, not DP's max |w|
            if metric.startswith("sqrt"):
                ax.plot(x, run.arrays[f"{name}_rms_{metric[5:-1].lower()}"][0],
                        "k--" if "PBE" in metric else "k", lw=2, label=metric)
    title = f"{name.replace('_', ' ')} ({where})" + (
        f"\n(beyond ±{run.summary['divergence_bound']:g} at {unit[:-1]} {at})" if at else "")
    ax.set(xlabel=unit, ylabel="weight" if unit != "updates" else "weight / error", title=title)
    ax.legend(fontsize=7, ncol=2)


def figure(run):
    """One row per book figure run: 11.2 (sampled TD, residual gradient, semi-gradient DP),
    11.5 (expected TDC: weights, sqrt(VE), sqrt(PBE)), 11.6 (expected emphatic TD)."""
    import matplotlib.pyplot as plt

    expected = run.summary.get("expected", {})
    rows = [[*run.summary.get("methods", {}), *[n for n in expected if n == "semi_gradient_dp"]],
            *([n] for n in ("expected_tdc", "expected_emphatic_td") if n in expected)]
    rows = [r for r in rows if r]
    ncols = max(map(len, rows))
    fig, axes = plt.subplots(len(rows), ncols, figsize=(5.5 * ncols, 4 * len(rows)),
                             squeeze=False)
    for ax_row, names in zip(axes, rows):
        for ax in ax_row[len(names):]:
            ax.axis("off")
        for ax, name in zip(ax_row, names):
            panel(ax, run, name)
    fig.suptitle(f"Baird's counterexample, gamma={run.config['gamma']} (S&B Figures 11.2, "
                 f"11.5, 11.6; sampled: alpha={run.config['step_size']})")
    fig.tight_layout()
    return fig


STUDY = Study("baird", jobs, record, figure)

if __name__ == "__main__":
    cli(BairdConfig, STUDY)  # devices and processes: see experiments/__init__.py
