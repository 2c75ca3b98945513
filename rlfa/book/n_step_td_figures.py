"""Sutton & Barto's Figure 9.2 (right), and LSTD beside TD(0), on the 1000-state random walk.

Figure 9.2 (right) (§9.4, Example 9.2): the sqrt(VE) of n-step semi-gradient TD (eq.
9.15), averaged over each run's first 10 episodes, against alpha, one curve per n, with
state aggregation (:data:`FEATURES`, 20 groups of 50 states) and gamma = 1. Beside it,
least-squares TD (§9.8) against semi-gradient TD(0) over 1000 episodes, and the error at
the TD fixed point LSTD estimates (:func:`lstd_fixed_point`).

:data:`GRID` is the figure's n x alpha grid (:data:`QUICK_GRID` a few seconds' worth),
:data:`WORKLOAD` each panel's runs and episodes, :func:`record_grid` the figure's
headlines and files; :func:`plot_grid` and :func:`plot_lstd` draw the two panels.
"""

from __future__ import annotations

import jax
import numpy as np

from rlfa import files, report, stats
from rlfa.envs import random_walk as rw
from rlfa.features import dense, state_aggregation
from rlfa.prediction.lstd import fixed_point_errors
from rlfa.prediction.semi_gradient_dp import FiniteMDP
from rlfa.prediction.value_error import all_state_features
from rlfa.study import Job, Record

FEATURES = state_aggregation(1000, 50)
# alpha: the book's 0..1 in steps of 0.05, and below 0.05, where n >= 32 does best.
GRID = {"n": tuple(str(2 ** k) for k in range(10)),
        "step_size": ("0.01", "0.02", "0.03", *(f"{a / 20:g}" for a in range(1, 21)))}
QUICK_GRID = {"n": ("1", "4", "512"), "step_size": ("0.1", "0.4", "1")}
WORKLOAD = {"9.2-right": (100, 10, 1), "lstd": (30, 1000, 10)}  # seeds, episodes, log every


def lstd_fixed_point() -> dict[str, float]:
    """sqrt(VE) of :data:`FEATURES` on the walk at the TD fixed point ``w_TD = A^-1 b`` and
    at the best weights (:func:`~rlfa.prediction.lstd.fixed_point_errors`)."""
    phi = all_state_features(FEATURES, rw.all_observations())
    x = np.asarray(jax.vmap(dense, (0, None))(phi, FEATURES.num_features), np.float64)
    return fixed_point_errors(FiniteMDP(x, rw.on_policy_distribution(), *rw.transition_matrix()),
                              rw.true_values(), 1.0)


def record_grid(job: Job, err: np.ndarray, ok: np.ndarray) -> Record:
    """Figure 9.2 right: per (n, gamma) the best alpha's runs as a headline; the whole grid.

    Args:
      job: the grid's job, a grid label (n, step_size, gamma) per point.
      err: sqrt(VE) ``[point, seed, episode]``.
      ok: bool ``[point, seed]``, False for a run gone non-finite or diverged: it scores NaN.
    """
    scores, rec = np.where(ok, err.mean(-1), np.nan), Record()  # [grid, seed]
    mean, low, high = stats.bootstrap_band(scores.T)
    grid = [{**p, "mean": m, "ci95": [lo, hi], "nonfinite_runs": int((~o).sum())}
            for p, m, lo, hi, o in zip(job.grid_labels, mean, low, high, ok)]
    for n, gamma in sorted({(p["n"], p["gamma"]) for p in grid}):
        ids = [g for g, p in enumerate(grid) if (p["n"], p["gamma"]) == (n, gamma)]
        best = min(ids, key=lambda g: np.inf if grid[g]["nonfinite_runs"] else mean[g])
        rec.headlines[f"9.2-right: n={n:g}, gamma={gamma:g} (best alpha="
                      f"{grid[best]['step_size']:g})"] = stats.headline(
            f"sqrt(VE) averaged over the first {err.shape[-1]} episodes", scores[best],
            higher_is_better=False, task="RandomWalk1000")
    rec.summary = {"9.2-right": {"grid": grid, "num_seeds": err.shape[1]}}
    rec.arrays = {"9.2-right scores": scores, **{f"9.2-right {k}": np.array(
        [p[k] for p in grid]) for k in ("n", "step_size", "gamma")}}
    rec.rows = files.metric_rows({"rms_error": scores[..., None]}, [  # one row per run
        {"figure": "9.2-right", "config": f"n={p['n']:g}, alpha={p['step_size']:g}, gamma="
         f"{p['gamma']:g}, mean over episodes 1-{err.shape[-1]}"} for p in grid],
        "episodes", np.array([err.shape[-1]]))
    return rec


def plot_grid(ax, arrays: dict[str, np.ndarray]) -> None:
    """Figure 9.2 right from :func:`record_grid`'s arrays: error against alpha, one curve
    per n (and gamma, where several); x: a point with a run gone non-finite."""
    a, scores = arrays, arrays["9.2-right scores"]
    for n, gamma in sorted(set(zip(a["9.2-right n"], a["9.2-right gamma"]))):
        ids = np.flatnonzero((a["9.2-right n"] == n) & (a["9.2-right gamma"] == gamma))
        ids = ids[np.argsort(a["9.2-right step_size"][ids])]
        alpha, label = a["9.2-right step_size"][ids], f"n={n:g}" + (
            f", gamma={gamma:g}" if len(set(a["9.2-right gamma"])) > 1 else "")
        report.plot_band(ax, alpha, scores[ids].T, label, lw=1.2, marker=".")
        bad = ~np.isfinite(scores[ids]).all(1)
        ax.plot(alpha[bad], np.full(bad.sum(), 0.6), "kx", ms=8)
    ax.axhline(0.55, color="0.6", ls=":", lw=1, label="top of the book's axis")
    ax.set(xlabel="alpha", ylabel="sqrt(VE) averaged over the first episodes",
           title=f"Figure 9.2 right ({scores.shape[1]} runs; x: a run non-finite)")


def plot_lstd(ax, episodes: np.ndarray, curves: dict[str, np.ndarray],
              fixed: dict[str, float]) -> None:
    """LSTD beside TD(0): each of ``curves`` (label -> sqrt(VE) ``[seed, len(episodes)]``)
    against episodes, and the errors ``fixed`` (:func:`lstd_fixed_point`) as lines."""
    for name, err in curves.items():
        report.plot_band(ax, episodes, err, name, lw=1.2)
    ax.axhline(fixed["td_fixed_point"], color="k", ls="--", lw=1, label="TD fixed point")
    ax.axhline(fixed["best"], color="k", ls=":", lw=1, label="min VE (best w)")
    ax.set(xlabel="episodes", ylabel="sqrt(VE)", ylim=(0, None),
           title=f"LSTD beside TD(0), 20 groups ({len(err)} runs)")
