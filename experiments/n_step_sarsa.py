"""n-step semi-gradient SARSA on Mountain Car (Sutton & Barto §10.2, Figures 10.3 and 10.4).

    python -m experiments.n_step_sarsa                    # both figures, the book's settings
    python -m experiments.n_step_sarsa --figure 10.4 --sweep.n 4 8 --sweep.step-size 0.3/8
    python -m experiments.n_step_sarsa --quick            # seconds, for tests

8 tilings of 8x8 tiles, step size alpha/8, epsilon = 0 (zero weights are optimistic),
undiscounted (:func:`rlfa.book.mountain_car_figures.sarsa_program`, n-step); a compiled
program per n, over its step sizes and runs. Episodes are cut at ``max_episode_steps`` (a
truncation that still bootstraps). In Figure 10.4 a run that hits that cap, goes
non-finite (or past the runner's divergence bound) or takes ``max_run_steps_10_4`` steps
(600 per episode, twice the top of the book's axis) is flagged and stops
(:func:`rlfa.book.mountain_car_figures.flagged`); a point with a flagged run is
left off its curve and marked, as the book's curves stop where they blow up.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np

from rlfa import config as cfg
from rlfa import hparams as hp
from rlfa import stats, sweep
from rlfa.book import mountain_car_figures as mc
from rlfa.control import n_step_sarsa as nss
from rlfa.study import Job, Record, Study, StudyOptions, cli, latest_mean
from rlfa.sweep import Sweep

EPISODES_AT = (1, 10, 50, 100, 500)


@dataclasses.dataclass(frozen=True)
class NStepSarsaConfig(StudyOptions):
    """Reproduce Sutton & Barto's Figures 10.3 and 10.4: n-step semi-gradient SARSA on
    Mountain Car. ``--quick``: 2 runs, 20 episodes (10.3) and 2 n x 2 alphas of 5 episodes
    (10.4)."""

    figure: str = "all"
    """Which figure: 10.3 (steps per episode, n=1 vs 8), 10.4 (vs alpha and n), or all."""
    num_seeds: int | None = None
    """Independent runs per setting (default: the book's 100)."""
    settings_10_3: tuple[tuple[int, float], ...] = ((1, 0.5), (8, 0.3))
    """Figure 10.3's (n, alpha before dividing by the tilings) (the book: n=1 with 0.5/8, n=8
    with 0.3/8, its good step sizes)."""
    num_episodes_10_3: int = 500
    """Figure 10.3's episodes per run (the book: 500)."""
    ns_10_4: tuple[int, ...] = (1, 2, 4, 8, 16)
    """Figure 10.4's n (the book: 1, 2, 4, 8, 16)."""
    alphas_10_4: tuple[float, ...] = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0, 1.2, 1.4, 1.7)
    """Figure 10.4's alpha x tilings, crossed with every n (the book's axis: 0 to 1.7)."""
    num_episodes_10_4: int = 50
    """Figure 10.4's episodes per run, averaged over (the book: the first 50)."""
    max_run_steps_10_4: int = 30_000
    """Figure 10.4's per-run step budget: a run that has taken this many steps before finishing
    its episodes is flagged (with 50 episodes, a mean of at least 600 steps per episode)."""
    epsilon: float = 0.0
    """Exploration probability (the book: 0, relying on optimistic initial values)."""
    gamma: float = 1.0
    """Discount (the book: 1, undiscounted)."""
    num_tilings: int = 8
    """Tilings (the book: 8)."""
    tiles_per_dim: int = 8
    """Tiles per dimension in each tiling (the book: 8x8)."""
    max_episode_steps: int = 10_000
    """Per-episode step cap (time limit, truncating); episodes that hit it are reported."""
    block_steps: int = 64
    """Environment steps per program step (one bulk draw of randomness)."""
    sweep: Sweep[nss.NStepSarsaHParams] = Sweep[nss.NStepSarsaHParams]()
    """Figure 10.4's grid: --sweep.n replaces ns_10_4, --sweep.step-size alphas_10_4/tilings,
    epsilons and gammas are crossed with them (Figure 10.3 keeps its two settings)."""

    def __post_init__(self):
        super().__post_init__()
        cfg.check_choice("figure", self.figure, ("all",) + mc.N_STEP_FIGURES)
        for name in ("num_seeds", "num_episodes_10_3", "num_episodes_10_4", "num_tilings",
                     "tiles_per_dim", "max_episode_steps", "max_run_steps_10_4", "block_steps"):
            if getattr(self, name) is not None:  # num_seeds None: the book's
                cfg.check_positive_int(name, getattr(self, name))
        for name in ("settings_10_3", "ns_10_4", "alphas_10_4"):
            cfg.check_nonempty(name, getattr(self, name))
        for figure in mc.N_STEP_FIGURES:
            grid(self, figure)  # checks every point against the declared bounds
        self.features()

    def effective(self) -> NStepSarsaConfig:
        return dataclasses.replace(self, quick=False, num_seeds=min(self.num_seeds or 2, 2),
                                   num_episodes_10_3=20, num_episodes_10_4=5, ns_10_4=(1, 4),
                                   alphas_10_4=(0.4, 0.8)) if self.quick else self

    def features(self):
        return mc.tile_features(tiles_per_dim=self.tiles_per_dim, num_tilings=self.num_tilings)


def grid(config: NStepSarsaConfig, figure: str) -> tuple[list[dict], list[nss.NStepSarsaHParams]]:
    """A figure's (labels, points): Figure 10.3's settings; Figure 10.4's n x alpha, each
    crossed with --sweep.epsilon and --sweep.gamma, --sweep.n / --sweep.step-size replacing
    the config's ns / alphas. A point outside the declared bounds is a ValueError naming the
    settings it came from (``ns_10_4 0, alphas_10_4 0.5: n=0.0 is invalid: ...``)."""
    def point(n, alpha, setting):
        p = nss.NStepSarsaHParams(alpha / config.num_tilings, config.epsilon, config.gamma,
                                  float(n))
        hp.check(p, prefix=f"{setting}: ")
        return p
    if figure == "10.3":
        return ([{"n": n, "alpha": a} for n, a in config.settings_10_3],
                [point(n, a, f"settings_10_3 ({n}, {a:g})") for n, a in config.settings_10_3])
    swept, labels, points = sweep.requested(config.sweep), [], []
    ns = config.ns_10_4[:1] if "n" in swept else config.ns_10_4  # the sweep replaces them
    alphas = config.alphas_10_4[:1] if "step_size" in swept else config.alphas_10_4
    for n, alpha in itertools.product(ns, alphas):
        base = point(n, alpha, f"ns_10_4 {n}, alphas_10_4 {alpha:g}")
        for p in config.grid(base) if swept else [base]:
            x = float(p.step_size) * config.num_tilings if "step_size" in swept else alpha
            labels.append({"n": round(float(p.n)), "alpha": x} | {
                k: float(getattr(p, k)) for k in swept if k not in ("n", "step_size")})
            points.append(p)
    return labels, points


def jobs(config: NStepSarsaConfig):
    """A program per n of a figure, in grid order: its ring of pending updates is n long,
    and its runs, whose episodes take longer as n grows, end together."""
    for figure in [f for f in mc.N_STEP_FIGURES if config.figure in ("all", f)]:
        num_episodes = config.num_episodes_10_3 if figure == "10.3" else config.num_episodes_10_4
        labels, points = grid(config, figure)
        for n, group in itertools.groupby(zip(labels, points), key=lambda lp: lp[0]["n"]):
            group_labels, group_points = map(list, zip(*group))
            num_logs, steps_per_log, log_x = mc.log_schedule(
                num_episodes, config.max_episode_steps, config.block_steps,
                config.logs_per_chunk, max_n=n)
            program = mc.sarsa_program(
                config.features(), num_episodes, max_episode_steps=config.max_episode_steps,
                block_steps=config.block_steps, max_n=n,
                max_run_steps=config.max_run_steps_10_4 if figure == "10.4" else None)
            yield Job(f"Fig {figure} n={n}", program, [hp.traced(p) for p in group_points],
                      config.num_seeds or 100, num_logs, steps_per_log, log_x=log_x,
                      unit="env steps", postfix=latest_mean("episodes", "episodes"),
                      grid_labels=group_labels, info=figure)


def record(config: NStepSarsaConfig, job: Job, results) -> Record:
    final, figure = results.final, job.info
    lengths = np.asarray(final.lengths, np.float64)  # [point, seed, episode]
    num_episodes, steps = lengths.shape[-1], np.asarray(final.steps)
    rec, per_point = Record(grid_arrays={f"steps_{figure}": lengths}), {}
    if figure == "10.4":
        flags = mc.flagged_runs(final, results.diverged_at, num_episodes,
                                config.max_run_steps_10_4)
        rec.grid_arrays |= {"flagged_10_4": flags.flagged, **{f"{k}_10_4": np.array(
            [lab[k] for lab in job.grid_labels]) for k in ("n", "alpha")}}
    for g, label in enumerate(job.grid_labels):
        key = ", ".join(f"alpha={v:g}/{config.num_tilings}" if k == "alpha" else f"{k}={v:g}"
                        for k, v in label.items())
        entry = {**label, "step_size": float(job.hparams[g].step_size)}
        if figure == "10.3":
            entry |= stats.episode_summary(lengths[g], np.asarray(final.truncated)[g],
                                           EPISODES_AT)
            entry["steps_mean_first_50_episodes"] = stats.interval_estimates(
                lengths[g, :, :50].mean(-1))
        else:
            entry |= flags.counts(g)
        if entry.get("valid", True):  # a point with a flagged run has no number: it blew up
            rec.headlines[f"Fig {figure}: {key}"] = mc.steps_headline(lengths[g], figure == "10.4")
        per_point[key] = entry
    rec.summary = {"figures": {figure: {
        "per_point": per_point, "num_seeds": job.num_seeds, "num_episodes": num_episodes,
        "programs": {job.name: {"run_s": results.run_s, "compile_s": results.compile_s,
                                "env_steps": int(steps.sum()),
                                "max_env_steps_per_run": int(steps.max()),
                                "num_devices": results.num_devices}}}}}
    if figure == "10.4":  # point -> its flagged seeds
        rec.summary["figures"][figure]["flagged_points"] = {
            k: e["flagged_seeds"] for k, e in per_point.items() if not e["valid"]}
    rec.rows = mc.steps_rows(lengths, figure, job.grid_labels)
    return rec


def figure(run):
    import matplotlib.pyplot as plt

    figures, arrays = run.summary["figures"], run.arrays
    fig, axes = plt.subplots(1, len(figures), figsize=(5.2 * len(figures), 4), squeeze=False)
    axes = iter(axes[0])
    if "10.3" in figures:
        mc.plot_steps_per_episode(next(axes), arrays["steps_10.3"],
                                  list(figures["10.3"]["per_point"]), "10.3")
    if "10.4" in figures:
        mc.plot_steps_against_alpha(next(axes), arrays["steps_10.4"], arrays["flagged_10_4"],
                                    arrays["n_10_4"], arrays["alpha_10_4"])
    fig.tight_layout()
    return fig


STUDY = Study("n_step_sarsa", jobs, record, figure)

if __name__ == "__main__":
    cli(NStepSarsaConfig, STUDY)  # devices and processes: see experiments/__init__.py
