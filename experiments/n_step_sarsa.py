"""n-step semi-gradient SARSA on Mountain Car (Sutton & Barto §10.2, Figures 10.3 and 10.4).

    python -m experiments.n_step_sarsa                    # both figures, the book's settings
    python -m experiments.n_step_sarsa --figure 10.4 --sweep.n 4 8 --sweep.step-size 0.3/8
    python -m experiments.n_step_sarsa --quick            # seconds, for tests

8 tilings of 8x8 tiles, step size alpha/8, epsilon = 0 (zero weights are optimistic),
undiscounted (:func:`rlfa.control.n_step_sarsa.n_step_semi_gradient_sarsa` in
:func:`rlfa.control.episodes.episodic_control`). n is traced, so each figure is one
compiled program over all its n, step sizes and runs. Episodes are cut at
``max_episode_steps`` (a truncation that still bootstraps). In Figure 10.4 a run is
flagged when an episode hits that cap, a weight goes non-finite (or past the runner's
divergence bound), or it has taken ``max_run_steps_10_4`` steps without finishing its
episodes (a mean of at least 600 steps per episode, twice the top of the book's axis);
a flagged run stops counting (it no longer holds the program up: all runs advance in
lock-step, so one blown-up run would otherwise keep every run going to 50 x the cap),
and an (n, alpha) point with any flagged run is left off its curve and marked, with the
counts in ``summary.json``, as the book's curves stop where they blow up.
"""

from __future__ import annotations

import dataclasses
import itertools

import jax.numpy as jnp
import numpy as np

from rlfa import config as cfg
from rlfa import control, files, report, stats, sweep
from rlfa import hparams as hp
from rlfa.control import mountain_car as mc
from rlfa.control import n_step_sarsa as nss
from rlfa.envs.mountain_car import MountainCar
from rlfa.study import Job, Record, Study, StudyOptions, cli, latest_mean
from rlfa.sweep import Sweep

FIGURES = ("10.3", "10.4")
EPISODES_AT = (1, 10, 50, 100, 500)


@dataclasses.dataclass(frozen=True)
class NStepSarsaConfig(StudyOptions):
    """Reproduce Sutton & Barto's Figures 10.3 and 10.4: n-step semi-gradient SARSA on
    Mountain Car. ``--quick``: 2 runs, 20 episodes (10.3) and 2 n x 2 alphas of 5 episodes
    (10.4)."""

    figure: str = "all"
    """Which figure: 10.3 (steps per episode, n=1 vs n=8), 10.4 (early performance vs alpha
    and n), or all."""
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
    """Figure 10.4's alpha x number of tilings, crossed with every n (the book's axis: 0 to
    about 1.7)."""
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
        cfg.check_choice("figure", self.figure, ("all",) + FIGURES)
        for name in ("num_seeds", "num_episodes_10_3", "num_episodes_10_4", "num_tilings",
                     "tiles_per_dim", "max_episode_steps", "max_run_steps_10_4", "block_steps"):
            if getattr(self, name) is not None:  # num_seeds None: the book's
                cfg.check_positive_int(name, getattr(self, name))
        for name in ("settings_10_3", "ns_10_4", "alphas_10_4"):
            cfg.check_nonempty(name, getattr(self, name))
        for figure in FIGURES:
            grid(self, figure)  # checks every point against the declared bounds
        self.features()

    def effective(self) -> NStepSarsaConfig:
        if not self.quick:
            return self
        return dataclasses.replace(self, quick=False, num_seeds=min(self.num_seeds or 2, 2),
                                   num_episodes_10_3=20, num_episodes_10_4=5, ns_10_4=(1, 4),
                                   alphas_10_4=(0.4, 0.8))

    def features(self):
        return mc.tile_features(tiles_per_dim=self.tiles_per_dim, num_tilings=self.num_tilings)


def max_n(points) -> int:
    """The ring buffer's length: the largest n of a job's points (at least 1)."""
    return max(1, *(round(float(p.n)) for p in points))


def grid(config: NStepSarsaConfig, figure: str) -> tuple[list[dict], list[nss.NStepSarsaHParams]]:
    """A figure's (labels, points): Figure 10.3's settings; Figure 10.4's n x alpha, each
    crossed with --sweep.epsilon and --sweep.gamma, --sweep.n / --sweep.step-size replacing
    the config's ns / alphas.

    Raises:
      ValueError: for a point outside the declared bounds, naming the settings it came
        from, e.g. ``ns_10_4 0, alphas_10_4 0.5: n=0.0 is invalid: ...``.
    """
    def point(n, alpha, setting):
        p = nss.NStepSarsaHParams(alpha / config.num_tilings, config.epsilon, config.gamma,
                                  float(n))
        hp.check(p, prefix=f"{setting}: ")
        return p
    if figure == "10.3":
        return ([{"n": n, "alpha": a} for n, a in config.settings_10_3],
                [point(n, a, f"settings_10_3 ({n}, {a:g})") for n, a in config.settings_10_3])
    swept = sweep.requested(config.sweep)
    ns = config.ns_10_4[:1] if "n" in swept else config.ns_10_4
    alphas = config.alphas_10_4[:1] if "step_size" in swept else config.alphas_10_4
    labels, points = [], []
    for n, alpha in itertools.product(ns, alphas):
        base = point(n, alpha, f"ns_10_4 {n}, alphas_10_4 {alpha:g}")
        for p in config.grid(base) if swept else [base]:
            label = {"n": round(float(p.n)), "alpha": alpha}
            if "step_size" in swept:
                label["alpha"] = float(p.step_size) * config.num_tilings
            labels.append(label | {k: float(getattr(p, k)) for k in swept
                                   if k not in ("n", "step_size")})
            points.append(p)
    return labels, points


def program(config: NStepSarsaConfig, num_episodes: int, max_n: int, stop_flagged: bool):
    """One run of n-step SARSA on Mountain Car; ``stop_flagged``: a run counts as finished
    once an episode hit the cap, a weight is non-finite or it has spent its step budget
    (Figure 10.4's flagged runs)."""
    env, features = MountainCar(), config.features()
    params = env.default_params.replace(max_steps_in_episode=config.max_episode_steps)
    tiles = control.linear_values.precomputed(features)  # tiles computed once per observation
    prog = control.episodic_control(
        env, params, nss.n_step_semi_gradient_sarsa(tiles, mc.NUM_ACTIONS, max_n),
        control.linear_q(tiles, mc.NUM_ACTIONS), mc.NUM_ACTIONS, num_episodes=num_episodes,
        actions=control.sarsa_actions("reuse"), block_steps=config.block_steps, observe=features)
    if not stop_flagged:
        return prog
    return prog._replace(finished=lambda c: (c.episodes >= num_episodes) | jnp.any(c.truncated)
                         | ~jnp.all(jnp.isfinite(c.agent.w))
                         | (c.steps >= config.max_run_steps_10_4))


def jobs(config: NStepSarsaConfig):
    for figure in [f for f in FIGURES if config.figure in ("all", f)]:
        num_episodes = config.num_episodes_10_3 if figure == "10.3" else config.num_episodes_10_4
        labels, points = grid(config, figure)
        num_logs, steps_per_log, log_x = mc.log_schedule(
            num_episodes, config.max_episode_steps, config.block_steps, config.logs_per_chunk)
        hparams = [hp.traced(p) for p in points]
        yield Job(f"Fig {figure}", program(config, num_episodes, max_n(points), figure == "10.4"),
                  hparams, config.num_seeds or 100, num_logs, steps_per_log, log_x=log_x,
                  unit="env steps", postfix=latest_mean("episodes", "episodes"),
                  grid_labels=labels, info=figure)


def _key(label: dict, tilings: int) -> str:
    return ", ".join(f"alpha={v:g}/{tilings}" if k == "alpha" else f"{k}={v:g}"
                     for k, v in label.items())


def record(config: NStepSarsaConfig, job: Job, results) -> Record:
    final, figure = results.final, job.info
    lengths = np.asarray(final.lengths, np.float64)  # [point, seed, episode]
    truncated = np.asarray(final.truncated)
    num_episodes = lengths.shape[-1]
    common = {"run_s": results.run_s, "compile_s": results.compile_s,
              "env_steps": int(np.asarray(final.steps).sum()),
              "max_env_steps_per_run": int(np.asarray(final.steps).max()),
              "num_seeds": job.num_seeds, "num_episodes": num_episodes}
    rec = Record(arrays={f"steps_{figure}": lengths})
    per_point = {}
    if figure == "10.4":
        diverged = (results.diverged_at >= 0) | ~np.isfinite(
            np.asarray(final.agent.w)).all(-1)
        capped = truncated.any(-1)
        incomplete = np.asarray(final.episodes) < num_episodes
        over_budget = incomplete & (np.asarray(final.steps) >= config.max_run_steps_10_4)
        flagged = diverged | capped | incomplete
        rec.arrays |= {"flagged_10_4": flagged,
                       "n_10_4": np.array([lab["n"] for lab in job.grid_labels]),
                       "alpha_10_4": np.array([lab["alpha"] for lab in job.grid_labels])}
    for g, label in enumerate(job.grid_labels):
        key, entry = _key(label, config.num_tilings), {**label,
                                                       "step_size": float(job.hparams[g].step_size)}
        per_seed = lengths[g].mean(-1)
        if figure == "10.3":
            entry |= stats.episode_summary(lengths[g], truncated[g], EPISODES_AT)
            entry["steps_mean_first_50_episodes"] = stats.interval_estimates(
                lengths[g, :, :50].mean(-1))
            rec.headlines[f"Fig 10.3: {key}"] = stats.headline(
                f"mean steps per episode over {num_episodes} episodes", per_seed,
                higher_is_better=False, task="MountainCar")
        else:
            entry |= {"diverged_runs": int(diverged[g].sum()), "capped_runs": int(capped[g].sum()),
                      "over_budget_runs": int(over_budget[g].sum()),
                      "incomplete_runs": int(incomplete[g].sum()),
                      "flagged_seeds": np.flatnonzero(flagged[g]).tolist(),
                      "valid": not flagged[g].any()}
            if entry["valid"]:  # a point with a flagged run has no number: it blew up
                rec.headlines[f"Fig 10.4: {key}"] = stats.headline(
                    f"mean steps per episode over the first {num_episodes} episodes", per_seed,
                    higher_is_better=False, task="MountainCar")
        per_point[key] = entry
    rec.summary = {"figures": {figure: {"per_point": per_point, **common,
                                        "num_devices": results.num_devices}}}
    if figure == "10.4":
        rec.summary["figures"][figure]["flagged_points"] = [
            k for k, e in per_point.items() if not e["valid"]]
    rec.rows = files.metric_rows({"steps": lengths},
                                 [{"figure": figure, **lab} for lab in job.grid_labels],
                                 "episode", np.arange(1, num_episodes + 1))
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
        _draw_10_4(next(axes), arrays)
    fig.tight_layout()
    return fig


def _draw_10_4(ax, arrays):
    """Mean steps per episode against alpha x tilings, one line per n through its valid
    points; points with a flagged run marked x along the top, one row per n."""
    lengths, flagged = arrays["steps_10.4"], arrays["flagged_10_4"]
    ns, alphas = arrays["n_10_4"], arrays["alpha_10_4"]
    per_seed = lengths.mean(-1)
    top = max([per_seed[g].mean() for g in range(len(ns)) if not flagged[g].any()] + [300])
    for i, n in enumerate(dict.fromkeys(ns.tolist())):
        rows = np.flatnonzero(ns == n)
        ok = [g for g in rows if not flagged[g].any()]
        if ok:
            report.plot_band(ax, alphas[ok], per_seed[ok].T, f"n={n}", marker="o", ms=3)
        color = ax.lines[-1].get_color() if ok else None
        bad = [g for g in rows if flagged[g].any()]
        ax.plot(alphas[bad], np.full(len(bad), top * (1.03 + 0.03 * i)), "x", color=color,
                label=None if ok else f"n={n}")
    ax.set(xlabel="alpha x number of tilings", ylabel=(
        f"mean steps per episode, first {lengths.shape[-1]} episodes"),
        title=f"Figure 10.4 ({lengths.shape[1]} runs; x: a run blew up)")
    ax.legend(fontsize=8)


STUDY = Study("n_step_sarsa", jobs, record, figure)

if __name__ == "__main__":
    cli(NStepSarsaConfig, STUDY)  # devices and processes: see experiments/__init__.py
