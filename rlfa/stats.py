"""Statistics over seeds: rliable's interval estimates, and bootstrap bands for curves.

rlfa reports results over seeds as Agarwal et al. (NeurIPS 2021, "Deep RL at
the Edge of the Statistical Precipice") recommend, through their library
rliable: the mean, the interquartile mean (IQM, the mean of the middle 50% of
runs) and the median, each with a 95% percentile-bootstrap confidence interval
(stratified over tasks when there are several). Unlike a Student-t interval, a
percentile-bootstrap interval never leaves the range of the data: with 2 seeds of
CartPole it stays within [0, 500].

Every study's ``summary.json`` has ``headlines``: label -> :func:`headline`, the
per-seed scores of its main metric with these estimates; ``python -m rlfa compare``
reads them back. Every other interval in a summary or a figure is a percentile bootstrap
too (:func:`interval_estimates`, :func:`bootstrap_band`).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

AGGREGATES = ("mean", "iqm", "median")
DEFAULT_REPS = 2000


def aggregates(scores: np.ndarray) -> np.ndarray:
    """Mean, IQM and median of ``scores [runs, tasks]``.

    The median is over all runs' scores: rliable's ``aggregate_median`` is the
    median over tasks of per-task means, which over one task is just the mean.
    """
    from rliable import metrics

    return np.array([metrics.aggregate_mean(scores), metrics.aggregate_iqm(scores),
                     np.median(scores)])


@contextlib.contextmanager
def seeded(seed: int):
    """Seed NumPy's global generator for the block, then put its state back.

    rliable's bootstraps draw their indices with ``np.random.choice`` whatever
    ``random_state`` they are given: seeding the global generator is what makes
    an interval reproducible, and restoring it keeps the caller's stream intact.
    """
    saved = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(saved)


def bootstrap_estimates(score_dict: dict, func, *, reps: int = DEFAULT_REPS, seed: int = 0):
    """rliable's ``get_interval_estimates`` (percentile bootstrap, 95%), resampled from ``seed``."""
    from rliable import library as rly

    with seeded(seed), warnings.catch_warnings():
        # arch (under rliable) deprecates the RandomState rliable hands it.
        warnings.simplefilter("ignore", FutureWarning)
        return rly.get_interval_estimates(score_dict, func, reps=reps,
                                          random_state=np.random.RandomState(seed))


def interval_estimates(scores, *, reps: int = DEFAULT_REPS, seed: int = 0) -> dict[str, Any]:
    """Mean, IQM and median over runs with 95% stratified-bootstrap intervals (rliable).

    Args:
      scores: ``[runs]`` or ``[runs, tasks]``; runs with a non-finite score (a
        diverged seed) are left out and counted in ``n_nonfinite``.
      reps: bootstrap resamples.
      seed: seed of the resampling, so a summary is reproducible.

    Returns:
      ``{"mean": {"value", "ci95": [low, high]}, "iqm": ..., "median": ...,
      "n": runs used, "n_nonfinite": runs left out}``; with fewer than two runs
      the interval is ``[value, value]``, with none every value is None.
    """
    x = np.asarray(scores, np.float64)
    x = x.reshape(len(x), -1)
    finite = np.isfinite(x).all(axis=1)
    x = x[finite]
    out: dict[str, Any] = {"n": len(x), "n_nonfinite": int((~finite).sum())}
    if len(x) == 0:
        return {**{name: {"value": None, "ci95": [None, None]} for name in AGGREGATES}, **out}
    if len(x) == 1:
        values = aggregates(x)
        return {**{name: {"value": float(v), "ci95": [float(v), float(v)]}
                   for name, v in zip(AGGREGATES, values)}, **out}
    point, interval = bootstrap_estimates({"scores": x}, aggregates, reps=reps, seed=seed)
    for i, name in enumerate(AGGREGATES):
        out[name] = {"value": float(point["scores"][i]),
                     "ci95": [float(interval["scores"][0, i]), float(interval["scores"][1, i])]}
    return out


def headline(metric: str, per_seed, *, higher_is_better: bool, task: str,
             reps: int = DEFAULT_REPS, seed: int = 0) -> dict[str, Any]:
    """A study's main number for one configuration, as ``summary.json`` stores it.

    Args:
      metric: what the scores are (e.g. ``"final greedy return"``).
      per_seed: ``[seeds]`` scores, one per run.
      higher_is_better: the direction of improvement (returns: True; errors: False).
      task: the environment or problem the scores are on (comparisons across
        tasks are stratified by it).
    """
    scores = np.asarray(per_seed, np.float64).ravel()
    return {"metric": metric, "task": task, "higher_is_better": bool(higher_is_better),
            "per_seed": [float(v) if np.isfinite(v) else None for v in scores],
            **interval_estimates(scores, reps=reps, seed=seed)}


def episode_summary(lengths, truncated, at_episodes: Sequence[int] = ()) -> dict[str, Any]:
    """Steps per episode of one setting's runs, JSON-ready, beside its headline.

    Args:
      lengths: steps of each episode, ``[seeds, episodes]``
        (:attr:`rlfa.control.ControlCarry.lengths`).
      truncated: whether the time limit cut it, bool ``[seeds, episodes]``.
      at_episodes: episode numbers (1-based) to report on their own, those run.

    Returns:
      ``steps_episode_<e>`` for each of ``at_episodes``, as :func:`interval_estimates`;
      ``capped_episodes`` (episodes cut, all runs) and ``runs_with_capped_episodes``.
      The mean over all episodes is the setting's :func:`headline`, not repeated here.
    """
    lengths, truncated = np.asarray(lengths, np.float64), np.asarray(truncated)
    summary: dict[str, Any] = {f"steps_episode_{e}": interval_estimates(lengths[:, e - 1])
                               for e in at_episodes if e <= lengths.shape[-1]}
    summary["capped_episodes"] = int(truncated.sum())
    summary["runs_with_capped_episodes"] = int(truncated.any(-1).sum())
    return summary


def describe(estimates: dict[str, Any], digits: int = 4) -> str:
    """``mean M [lo, hi], IQM Q [lo, hi] (n seeds)`` of :func:`interval_estimates`' output."""
    if estimates["n"] == 0:
        return f"no finite score ({estimates['n_nonfinite']} non-finite)"

    def one(name: str) -> str:
        e = estimates[name]
        return f"{e['value']:.{digits}g} [{e['ci95'][0]:.{digits}g}, {e['ci95'][1]:.{digits}g}]"

    left_out = f", {estimates['n_nonfinite']} non-finite left out" \
        if estimates["n_nonfinite"] else ""
    return f"mean {one('mean')}, IQM {one('iqm')} ({estimates['n']} seeds{left_out})"


def bootstrap_band(x, *, reps: int = 1000, seed: int = 0, axis: int = 0
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over runs of curves and its 95% percentile-bootstrap band, point by point.

    Every resample weighs the runs by multinomial counts, so its mean is a
    weighted mean of the data: the band never leaves the range of the runs.
    Non-finite values (diverged runs) are left out point by point.

    Args:
      x: ``[runs, points]`` (or runs on ``axis``).

    Returns:
      ``(mean, low, high)``, each ``[points]`` (NaN where no run is finite).
    """
    x = np.moveaxis(np.asarray(x, np.float64), axis, 0)
    x = x.reshape(len(x), -1) if x.ndim != 2 else x
    finite = np.isfinite(x)
    values = np.where(finite, x, 0.0)
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(len(x), np.full(len(x), 1.0 / len(x)), size=reps)  # [reps, runs]
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a point where no run is finite: NaN
        mean = values.sum(0) / finite.sum(0)
        resampled = (counts @ values) / (counts @ finite)  # [reps, points]
        low, high = np.nanpercentile(resampled, [2.5, 97.5], axis=0)
    return mean, low, high


def probability_of_improvement(x, y, *, reps: int = DEFAULT_REPS, seed: int = 0
                               ) -> dict[str, Any]:
    """P(a run of X scores higher than a run of Y), averaged over tasks, with a 95% CI.

    Args:
      x, y: ``[runs_x, tasks]`` and ``[runs_y, tasks]`` (or ``[runs]``); orient
        them so that higher is better.

    Returns:
      ``{"value", "ci95": [low, high]}`` (rliable's estimate: Mann-Whitney U / (n_x n_y)).
    """
    from rliable import metrics

    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    x, y = x.reshape(len(x), -1), y.reshape(len(y), -1)
    point, interval = bootstrap_estimates({"x,y": (x, y)}, metrics.probability_of_improvement,
                                          reps=reps, seed=seed)
    return {"value": float(point["x,y"]),
            "ci95": [float(interval["x,y"][0].item()), float(interval["x,y"][1].item())]}
