"""Compare saved runs: ``python -m rlfa compare RUN_DIR [RUN_DIR ...]``.

    python -m rlfa compare runs/dqn/20260101-120000 runs/dqn/20260101-130000
    python -m rlfa compare runs/dqn_ladder/20260102-090000 --reps 5000 --seed 1
    python -m rlfa compare RUN_DIR... --out results/dqn-vs-ladder

It reads the ``headlines`` of each run's ``summary.json`` (see :mod:`rlfa.stats`;
it never reruns anything) and reports, as Agarwal et al. (NeurIPS 2021) recommend:

1. the compared *entries*: every headline of every run, labelled
   ``"<run dir name>/<headline label>"``, or just the headline label where that
   is unique across the runs (``<experiment>/<run dir name>/...`` if two run
   directories share a name);
2. a table of each entry's task, metric, seeds, mean and IQM with 95% CIs (the
   values stored in the summary);
3. for each pair of entries on the same task and metric, the probability that
   the first improves on the second (a run of it scores better than a run of the
   other; ties count half), with a 95% stratified-bootstrap CI;
4. when the entries span several tasks: per *method*, the IQM across tasks of
   per-task min-max normalised scores (1: the best score compared on that task,
   0: the worst) with a stratified-bootstrap CI, the probability of improvement
   between methods across tasks, and performance profiles (the fraction of runs
   with a normalised score above tau, with 95% CIs).

Methods across tasks: an entry's method is its headline label without the task
(``"CartPole-v1: DQN (+ Huber, Double)"`` -> ``"DQN (+ Huber, Double)"``: the part
after ``"<task>: "``, else after the first ``": "``, else the whole label). Where
two entries of one method sit on the same task (e.g. the same study run twice),
the method is split by run (``"<run dir name>/<method>"``). Only methods that have
exactly one entry on every compared task and metric enter the aggregate; the
others are named in ``notes``.

With ``--curve COLUMN`` (e.g. ``greedy_return``) it also draws ``compare_curves.png``: that
column of every run's ``metrics.csv`` against ``env_steps``, one curve per run and
configuration (the rows' text columns: environment, game, rung...), the mean over seeds with
its 95% bootstrap band, and puts each curve's points in ``compare.json`` (``curves``): a
learning curve of one study beside another's at the same environment steps.

Every resampling is seeded (``--seed``, see :func:`rlfa.stats.seeded`), so the same runs give
the same numbers. Results go to ``--out`` (default ``runs/compare/<timestamp>/``): ``compare.json``
(everything), ``compare.csv`` (the table) and ``compare.png``.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from rlfa import files, stats

TAUS = np.linspace(0.0, 1.0, 51)  # normalised-score thresholds of the performance profiles
USAGE = ("python -m rlfa compare RUN_DIR [RUN_DIR ...] [--out DIR] [--reps N] [--seed S] "
         "[--curve COLUMN]")
CURVE_X = "env_steps"  # the x column of --curve


@dataclasses.dataclass(frozen=True)
class Run:
    """One saved run directory."""

    path: Path  # absolute
    experiment: str  # the run directory's parent's name (runs/dqn/<timestamp> -> "dqn")
    config: Any  # config.json's content, None without one
    headlines: dict[str, dict[str, Any]]  # summary.json's "headlines" (see stats.headline)


@dataclasses.dataclass(frozen=True)
class Entry:
    """One headline of one run: what is compared."""

    label: str  # unique across the comparison
    run: Run
    run_name: str  # the run's unique short name (its directory's name if unique)
    headline: str  # its label in the run's summary
    task: str
    metric: str
    higher_is_better: bool
    scores: np.ndarray  # [finite seeds], in the metric's units
    estimates: dict[str, Any]  # stats.interval_estimates' keys: mean, iqm, median, n, n_nonfinite

    @property
    def stratum(self) -> tuple[str, str, bool]:
        """What makes two entries comparable: the same task and metric (and direction)."""
        return self.task, self.metric, self.higher_is_better

    @property
    def oriented(self) -> np.ndarray:
        """``[finite seeds]`` scores, negated for a lower-is-better metric: higher is better."""
        return self.scores if self.higher_is_better else -self.scores


# ----------------------------------------------------------------------------- reading runs


def _read_json(path: Path, run_dir: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except OSError as err:
        raise ValueError(f"run directory {run_dir}: cannot read {path.name} "
                         f"({err.strerror or err}).") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"run directory {run_dir}: {path.name} is not valid JSON ({err}).") \
            from None


def _check_headline(run_dir: Path, label: str, head: Any) -> None:
    """Refuse a headline that lacks what a comparison needs (see :func:`stats.headline`)."""
    where = f"run directory {run_dir}: headline {label!r} in summary.json"
    if not isinstance(head, dict):
        raise ValueError(f"{where} is not an object.")
    for key, kind in (("task", str), ("metric", str), ("higher_is_better", bool),
                      ("per_seed", list)):
        if not isinstance(head.get(key), kind):
            raise ValueError(f"{where} has no valid {key!r} (a {kind.__name__}).")
    if not all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
               for v in head["per_seed"]):
        raise ValueError(f"{where}: 'per_seed' holds something other than numbers and nulls.")


def load_run(path: str | Path) -> Run:
    """Read one run directory's ``summary.json`` headlines (and ``config.json`` if present).

    Raises:
      ValueError: one line naming the directory when it does not exist, has no
        ``summary.json``, holds invalid JSON or a summary without ``headlines``.
    """
    run_dir = Path(path).expanduser().absolute()
    if not run_dir.exists():
        raise ValueError(f"run directory {run_dir} does not exist.")
    if not run_dir.is_dir():
        raise ValueError(f"{run_dir} is not a run directory (it is not a directory).")
    if not (run_dir / "summary.json").is_file():
        raise ValueError(f"run directory {run_dir} has no summary.json (not a run directory, "
                         "or a run that did not finish).")
    summary = _read_json(run_dir / "summary.json", run_dir)
    if not isinstance(summary, dict) or not isinstance(summary.get("headlines"), dict) \
            or not summary["headlines"]:
        raise ValueError(f"run directory {run_dir}: summary.json has no 'headlines' (a run "
                         "written before rlfa.stats, or a study that reports none).")
    for label, head in summary["headlines"].items():
        _check_headline(run_dir, label, head)
    config_path = run_dir / "config.json"
    config = _read_json(config_path, run_dir) if config_path.is_file() else None
    return Run(run_dir, run_dir.parent.name, config, summary["headlines"])


def _run_names(runs: list[Run]) -> list[str]:
    """The shortest unique name of each run: its directory's name, else with its experiment."""
    for name in (lambda r: r.path.name, lambda r: f"{r.experiment}/{r.path.name}",
                 lambda r: str(r.path)):
        names = [name(r) for r in runs]
        if len(set(names)) == len(names):
            return names
    raise AssertionError("unreachable: run paths are unique")


def _estimates(head: dict[str, Any], per_seed: np.ndarray, reps: int, seed: int) -> dict:
    """The stored mean/IQM/median with CIs, recomputed only if the summary lacks them."""
    keys = (*stats.AGGREGATES, "n", "n_nonfinite")
    if all(k in head for k in keys) and all(
            isinstance(head[k], dict) and "value" in head[k] and "ci95" in head[k]
            for k in stats.AGGREGATES):
        return {k: head[k] for k in keys}
    return stats.interval_estimates(per_seed, reps=reps, seed=seed)


def make_entries(runs: list[Run], *, reps: int, seed: int) -> list[Entry]:
    """Every headline of every run, in the order given, with unique labels."""
    counts = Counter(label for run in runs for label in run.headlines)
    entries = []
    for run, name in zip(runs, _run_names(runs)):
        for label, head in run.headlines.items():
            per_seed = np.array([np.nan if v is None else v for v in head["per_seed"]],
                                np.float64)
            entries.append(Entry(
                label=label if counts[label] == 1 else f"{name}/{label}", run=run, run_name=name,
                headline=label, task=head["task"], metric=head["metric"],
                higher_is_better=head["higher_is_better"],
                scores=per_seed[np.isfinite(per_seed)],
                estimates=_estimates(head, per_seed, reps, seed)))
    return entries


def strata(entries: list[Entry]) -> dict[tuple[str, str, bool], list[Entry]]:
    """Entries by (task, metric, higher_is_better), in order of first appearance."""
    out: dict[tuple[str, str, bool], list[Entry]] = {}
    for entry in entries:
        out.setdefault(entry.stratum, []).append(entry)
    return out


def _describe_run(run: Run, name: str) -> str:
    pairs = sorted({(h["task"], h["metric"]) for h in run.headlines.values()})
    return f"{name} ({run.experiment}: " + "; ".join(f"task {t!r}, metric {m!r}"
                                                     for t, m in pairs) + ")"


def check_comparable(runs: list[Run], entries: list[Entry]) -> None:
    """Refuse a comparison with nothing to compare, or runs of different experiments that
    share no task and metric with the others (one line naming the directories)."""
    groups = strata(entries)
    if all(len(group) < 2 for group in groups.values()):
        raise ValueError("nothing to compare: no two headlines share a task and metric ("
                         + "; ".join(_describe_run(run, str(run.path)) for run in runs) + ").")
    if len({run.experiment for run in runs}) < 2:
        return  # one study: runs on other tasks are simply listed beside the others
    for run in runs:
        shared = any(entry.run is not run and entry.stratum == mine.stratum
                     for mine in entries if mine.run is run for entry in entries)
        if not shared:
            others = "; ".join(_describe_run(r, str(r.path)) for r in runs if r is not run)
            raise ValueError(f"run directory {_describe_run(run, str(run.path))} shares no task"
                             f" and metric with the other runs ({others}): runs of different "
                             "experiments can be compared only on a shared task and metric.")


# ----------------------------------------------------------------------------- statistics


def table_rows(entries: list[Entry]) -> list[dict[str, Any]]:
    """One row per entry (``compare.csv``): task, metric, seeds, mean/IQM/median with CIs."""
    rows = []
    for entry in entries:
        row = {"entry": entry.label, "run": str(entry.run.path),
               "experiment": entry.run.experiment, "headline": entry.headline,
               "task": entry.task, "metric": entry.metric,
               "higher_is_better": entry.higher_is_better,
               "n": entry.estimates["n"], "n_nonfinite": entry.estimates["n_nonfinite"]}
        for name in stats.AGGREGATES:
            est = entry.estimates[name]
            row.update({name: est["value"], f"{name}_ci_low": est["ci95"][0],
                        f"{name}_ci_high": est["ci95"][1]})
        rows.append(row)
    return rows


def _complement(p: dict[str, Any]) -> dict[str, Any]:
    """P(Y improves on X) from P(X improves on Y): ties count half, so the two sum to 1 on
    every resample, and the percentile interval flips."""
    low, high = p["ci95"]
    return {"value": 1.0 - p["value"], "ci95": [1.0 - high, 1.0 - low]}


def improvements(entries: list[Entry], *, reps: int, seed: int) -> list[dict[str, Any]]:
    """Probability of improvement between every two entries on the same task and metric.

    Returns:
      One dict per task and metric with two or more entries: ``task``, ``metric``,
      ``higher_is_better``, ``entries`` (labels), ``matrix`` (``[row][column]``:
      P(row improves on column) ``{"value", "ci95"}``, None on the diagonal or
      without scores) and ``pairs`` (each unordered pair once, first in input
      order: ``{"first", "second", "value", "ci95"}``).
    """
    out = []
    for (task, metric, higher), group in strata(entries).items():
        if len(group) < 2:
            continue
        matrix: list[list[Any]] = [[None] * len(group) for _ in group]
        pairs = []
        for i, j in itertools.combinations(range(len(group)), 2):
            x, y = group[i].oriented, group[j].oriented  # oriented: higher is better
            if len(x) and len(y):
                p = stats.probability_of_improvement(x, y, reps=reps, seed=seed)
            else:
                p = {"value": None, "ci95": [None, None]}
            if p["value"] is not None:
                matrix[i][j], matrix[j][i] = p, _complement(p)
            pairs.append({"first": group[i].label, "second": group[j].label, **p})
        out.append({"task": task, "metric": metric, "higher_is_better": higher,
                    "entries": [e.label for e in group], "matrix": matrix, "pairs": pairs})
    return out


def method_of(entry: Entry) -> str:
    """The entry's headline label without its task: ``"CartPole-v1: DQN"`` -> ``"DQN"``."""
    label = entry.headline
    if label.startswith(f"{entry.task}: "):
        return label[len(entry.task) + 2:]
    return label.partition(": ")[2] or label


def method_groups(entries: list[Entry]) -> tuple[dict[str, list[Entry]], list[str]]:
    """Entries by method, split by run where a method has two entries on one task.

    Returns:
      ``(groups, notes)``: method -> its entries, for the methods with one entry on
      every stratum (task and metric) of the comparison, ordered as the strata;
      notes name the methods left out and why.
    """
    by_method: dict[str, list[Entry]] = {}
    for entry in entries:
        by_method.setdefault(method_of(entry), []).append(entry)
    split: dict[str, list[Entry]] = {}
    for method, members in by_method.items():
        if len({m.stratum for m in members}) == len(members):
            split[method] = members
        else:  # e.g. the same study run twice: each run's rung is its own method
            for member in members:
                split.setdefault(f"{member.run_name}/{method}", []).append(member)
    first = {id(entry): i for i, entry in enumerate(entries)}  # list by first appearance
    split = dict(sorted(split.items(), key=lambda item: first[id(item[1][0])]))
    all_strata = list(strata(entries))
    groups, notes = {}, []
    for method, members in split.items():
        by_stratum = {m.stratum: m for m in members}
        if len(by_stratum) < len(members):
            notes.append(f"{method!r} has two entries on one task and metric: not aggregated.")
        elif set(by_stratum) != set(all_strata):
            notes.append(f"{method!r} is not on every task and metric compared "
                         f"({len(by_stratum)} of {len(all_strata)}): not aggregated.")
        else:
            groups[method] = [by_stratum[s] for s in all_strata]
    return groups, notes


def normalisation(entries: list[Entry]) -> dict[tuple[str, str, bool], tuple[float, float]]:
    """Per stratum, ``(worst, best)`` of all compared finite scores (metric units)."""
    out = {}
    for key, group in strata(entries).items():
        oriented = np.concatenate([e.oriented for e in group])
        if len(oriented):
            low, high = float(oriented.min()), float(oriented.max())
            out[key] = (low, high) if key[2] else (-low, -high)
    return out


def normalised(entry: Entry, bounds: tuple[float, float]) -> np.ndarray:
    """``[finite seeds]`` scores mapped to [0, 1]: 0 the worst compared score on the entry's
    task, 1 the best (0.5 everywhere when every score on it is equal)."""
    worst, best = bounds
    if best == worst:
        return np.full(len(entry.scores), 0.5)
    return (entry.scores - worst) / (best - worst)  # the sign of (best - worst) orients it


def _aggregates(scores: np.ndarray) -> np.ndarray:
    """``[runs, tasks]`` -> ``[3]``: mean, IQM and median (stats.AGGREGATES' order).

    Across tasks the median is rliable's: the median over tasks of per-task means.
    """
    from rliable import metrics

    return np.array([metrics.aggregate_mean(scores), metrics.aggregate_iqm(scores),
                     metrics.aggregate_median(scores)])


def _normalised_matrices(groups: dict[str, list[Entry]], bounds: dict, notes: list[str]
                         ) -> dict[str, np.ndarray]:
    """Per method, ``[runs, tasks]`` normalised scores (rliable's layout).

    A ``[runs, tasks]`` array needs as many runs on every task, so a method whose
    tasks kept different numbers of finite seeds uses the first ``min`` of each
    (noted); one without a finite score on some task is left out (noted).
    """
    matrices = {}
    for method, members in groups.items():
        columns = [normalised(m, bounds[m.stratum]) if m.stratum in bounds else np.zeros(0)
                   for m in members]
        n = min(len(c) for c in columns)
        if n == 0:
            notes.append(f"{method!r} has no finite score on some task: not aggregated.")
            continue
        if any(len(c) > n for c in columns):
            notes.append(f"{method!r}: the first {n} finite scores on each task are aggregated "
                         f"(tasks have {[len(c) for c in columns]}).")
        matrices[method] = np.stack([c[:n] for c in columns], axis=1)
    return matrices


def aggregate(entries: list[Entry], *, reps: int, seed: int) -> dict[str, Any] | None:
    """Aggregates across tasks of normalised scores, per method (None with a single task).

    Returns:
      ``{"tasks": [{"task", "metric", "higher_is_better", "worst", "best"}]``
      (the normalisation, metric units), ``"taus": [thresholds]``, ``"methods":
      {method: {"entries", "runs" (per task), "mean"/"iqm"/"median": {"value",
      "ci95"}, "profile": {"values": [taus], "ci95": [[taus], [taus]]}}}``,
      ``"improvement": [{"first", "second", "value", "ci95"}]`` (between methods,
      averaged over tasks), ``"notes": [str]}``; values are normalised (0..1).
    """
    from rliable import library

    all_strata = list(strata(entries))
    if len(all_strata) < 2:
        return None
    bounds = normalisation(entries)
    groups, notes = method_groups(entries)
    matrices = _normalised_matrices(groups, bounds, notes)
    out: dict[str, Any] = {
        "tasks": [{"task": t, "metric": m, "higher_is_better": h,
                   "worst": bounds.get((t, m, h), (None, None))[0],
                   "best": bounds.get((t, m, h), (None, None))[1]} for t, m, h in all_strata],
        "taus": TAUS, "methods": {}, "improvement": [], "notes": notes}
    if not matrices:
        notes.append("no method is on every task compared: no aggregate across tasks.")
        return out
    point, interval = stats.bootstrap_estimates(matrices, _aggregates, reps=reps, seed=seed)
    with stats.seeded(seed):  # it takes no seed of its own
        profiles, profile_cis = library.create_performance_profile(matrices, TAUS, reps=reps)
    for method, matrix in matrices.items():
        out["methods"][method] = {
            "entries": [e.label for e in groups[method]], "runs": len(matrix),
            **{name: {"value": float(point[method][i]),
                      "ci95": [float(interval[method][0, i]), float(interval[method][1, i])]}
               for i, name in enumerate(stats.AGGREGATES)},
            "profile": {"values": profiles[method], "ci95": profile_cis[method]}}
    for a, b in itertools.combinations(matrices, 2):
        p = stats.probability_of_improvement(matrices[a], matrices[b], reps=reps, seed=seed)
        out["improvement"].append({"first": a, "second": b, **p})
    return out


def config_differences(runs: list[Run]) -> dict[str, list[Any]]:
    """``config.json`` keys (dotted) whose values differ between runs -> one value per run."""
    flat = [files.flatten(run.config) if isinstance(run.config, dict) else {} for run in runs]
    keys = dict.fromkeys(k for f in flat for k in f)
    return {k: [f.get(k) for f in flat] for k in keys
            if len({json.dumps(f.get(k), sort_keys=True) for f in flat}) > 1}


def compare(paths: list[str | Path], *, reps: int = stats.DEFAULT_REPS, seed: int = 0
            ) -> dict[str, Any]:
    """Compare saved runs; the result is what ``compare.json`` holds.

    Args:
      paths: run directories (``runs/<experiment>/<timestamp>/``).
      reps: bootstrap resamples of every interval computed here.
      seed: seed of every resampling.

    Returns:
      ``{"runs": [{"dir", "name", "experiment", "config"}], "config_differences",
      "reps", "seed", "entries": [table row + "per_seed"], "improvement": see
      :func:`improvements`, "aggregate": see :func:`aggregate` (None: one task)}``.

    Raises:
      ValueError: a bad run directory, or nothing to compare (one line naming them).
    """
    runs = [load_run(p) for p in paths]
    seen = Counter(run.path for run in runs)
    for path, count in seen.items():
        if count > 1:
            raise ValueError(f"run directory {path} is given {count} times.")
    entries = make_entries(runs, reps=reps, seed=seed)
    check_comparable(runs, entries)
    rows = table_rows(entries)
    for row, entry in zip(rows, entries):
        row["per_seed"] = entry.run.headlines[entry.headline]["per_seed"]
    return {
        "runs": [{"dir": str(run.path), "name": name, "experiment": run.experiment,
                  "config": run.config} for run, name in zip(runs, _run_names(runs))],
        "config_differences": config_differences(runs), "reps": reps, "seed": seed,
        "entries": rows, "improvement": improvements(entries, reps=reps, seed=seed),
        "aggregate": aggregate(entries, reps=reps, seed=seed)}


def curves(paths: list[str | Path], column: str, *, seed: int = 0) -> dict[str, dict]:
    """``column`` of every run's ``metrics.csv`` against :data:`CURVE_X`, per configuration.

    A configuration is a run's rows sharing their text columns (``env``, ``game``, ``rung``
    ...), labelled ``"<run dir name>/<their values>"``.

    Returns:
      label -> ``{"x": [points], "mean": [...], "ci95": [[low...], [high...]], "n": seeds,
      "per_seed": [seed][point]}`` (NaN where a seed has no value), in the runs' order.

    Raises:
      ValueError: a run whose ``metrics.csv`` lacks the column, :data:`CURVE_X` or ``seed``.
    """
    import csv

    runs = [load_run(p) for p in paths]
    out: dict[str, dict] = {}
    for run, name in zip(runs, _run_names(runs)):
        with open(run.path / "metrics.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        missing = {column, CURVE_X, "seed"} - set(rows[0] if rows else ())
        if missing:
            raise ValueError(f"run directory {run.path}: metrics.csv has no column "
                             f"{', '.join(sorted(missing))} to draw --curve {column} from.")

        def is_text(key: str, value: str) -> bool:
            try:
                float(value)
                return False
            except ValueError:
                return key not in (column, CURVE_X, "seed")

        groups: dict[tuple, list[dict]] = {}
        for row in rows:
            key = tuple(v for k, v in row.items() if is_text(k, v))
            groups.setdefault(key, []).append(row)
        for key, members in groups.items():
            xs = sorted({float(r[CURVE_X]) for r in members})
            seeds = sorted({int(r["seed"]) for r in members})
            values = np.full((len(seeds), len(xs)), np.nan)
            for r in members:
                value = r[column]
                values[seeds.index(int(r["seed"])), xs.index(float(r[CURVE_X]))] = \
                    float(value) if value not in ("", None) else np.nan
            with stats.seeded(seed):
                mean, low, high = stats.bootstrap_band(values)
            label = "/".join([name, *key])
            out[label] = {"x": xs, "mean": mean.tolist(), "ci95": [low.tolist(), high.tolist()],
                          "n": len(seeds), "per_seed": values.tolist()}
    return out


def draw_curves(found: dict[str, dict], column: str):
    """``compare_curves.png``: every curve of :func:`curves`, mean and 95% band."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, curve in found.items():
        (line,) = ax.plot(curve["x"], curve["mean"], label=f"{label} ({curve['n']} seeds)")
        ax.fill_between(curve["x"], *curve["ci95"], color=line.get_color(), alpha=0.2)
    ax.set(xlabel="environment steps per seed", ylabel=f"{column} (mean, 95% bootstrap CI)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- output


def _interval(est: dict[str, Any]) -> str:
    if est["value"] is None:
        return "n/a"
    return f"{est['value']:.4g} [{est['ci95'][0]:.4g}, {est['ci95'][1]:.4g}]"


def _direction(higher_is_better: bool) -> str:
    return "higher is better" if higher_is_better else "lower is better"


def _table_text(rows: list[dict[str, Any]]) -> list[str]:
    """The entries as aligned text columns."""
    header = ("entry", "task", "metric", "n", "mean [95% CI]", "IQM [95% CI]")
    cells = [header] + [
        (r["entry"], r["task"], f"{r['metric']} ({_direction(r['higher_is_better'])})",
         f"{r['n']}" + (f" (+{r['n_nonfinite']} non-finite)" if r["n_nonfinite"] else ""),
         _interval({"value": r["mean"], "ci95": [r["mean_ci_low"], r["mean_ci_high"]]}),
         _interval({"value": r["iqm"], "ci95": [r["iqm_ci_low"], r["iqm_ci_high"]]}))
        for r in rows]
    widths = [max(len(str(c[i])) for c in cells) for i in range(len(header))]
    return ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]


def format_report(result: dict[str, Any]) -> str:
    """What the CLI prints: the table, the probabilities of improvement, the aggregate."""
    lines = _table_text(result["entries"])
    for block in result["improvement"]:
        lines += ["", (f"P(first improves on second), 95% CI: task {block['task']!r}, "
                       f"{block['metric']} ({_direction(block['higher_is_better'])})")]
        lines += [f"  P({p['first']} > {p['second']}) = {_interval(p)}" for p in block["pairs"]]
    agg = result["aggregate"]
    if agg is not None:
        lines += ["", (f"across {len(agg['tasks'])} tasks (scores min-max normalised per task:"
                       " 1 = best compared, 0 = worst), 95% stratified-bootstrap CIs:")]
        lines += [f"  {method}: IQM {_interval(m['iqm'])}, mean {_interval(m['mean'])}"
                  f" ({m['runs']} runs per task)" for method, m in agg["methods"].items()]
        lines += [f"  P({p['first']} > {p['second']}) = {_interval(p)}"
                  for p in agg["improvement"]]
        lines += [f"  note: {note}" for note in agg["notes"]]
    if result["config_differences"]:
        lines += ["", "config differences (one value per run, in order):"]
        lines += [f"  {k}: " + " | ".join(json.dumps(v) for v in values)
                  for k, values in result["config_differences"].items()]
    return "\n".join(lines)


def _interval_panel(ax, labels: list[str], estimates: list[dict], xlabel: str, title: str):
    """Horizontal point estimates with 95% CI bars, one row per label (top to bottom)."""
    y = np.arange(len(labels))
    for yi, est in zip(y, estimates):
        if est["value"] is not None:
            lo, hi = est["ci95"]
            ax.errorbar(est["value"], yi, xerr=[[est["value"] - lo], [hi - est["value"]]],
                        fmt="o", capsize=4, color="C0")
    ax.set_yticks(y, labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.set(xlabel=xlabel, title=title)
    ax.grid(True, axis="x", alpha=0.3)


def draw(result: dict[str, Any]):
    """``compare.png``: per task, IQM with 95% CI per entry; with several tasks, the
    normalised IQM per method and the performance profiles (95% CI bands)."""
    import matplotlib.pyplot as plt

    by_stratum: dict[tuple, list[dict]] = {}
    for row in result["entries"]:
        by_stratum.setdefault((row["task"], row["metric"]), []).append(row)
    methods = (result["aggregate"] or {}).get("methods", {})
    heights = [1.2 + 0.35 * len(rows) for rows in by_stratum.values()]
    heights += [1.2 + 0.35 * len(methods), 3.5] if methods else []
    fig, axes = plt.subplots(len(heights), 1, figsize=(8, sum(heights) + 0.6), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    axes = list(axes[:, 0])
    for ax, ((task, metric), rows) in zip(axes, by_stratum.items()):
        _interval_panel(ax, [r["entry"] for r in rows],
                        [{"value": r["iqm"], "ci95": [r["iqm_ci_low"], r["iqm_ci_high"]]}
                         for r in rows], f"{metric} (IQM, 95% CI)", task)
    if methods:
        _interval_panel(axes[-2], list(methods), [m["iqm"] for m in methods.values()],
                        "normalised score (IQM, 95% CI; 1 = best compared)",
                        f"across {len(result['aggregate']['tasks'])} tasks")
        taus = np.asarray(result["aggregate"]["taus"])
        for i, (method, m) in enumerate(methods.items()):
            axes[-1].plot(taus, m["profile"]["values"], color=f"C{i}", label=method)
            low, high = m["profile"]["ci95"]
            axes[-1].fill_between(taus, low, high, color=f"C{i}", alpha=0.2)
        axes[-1].set(xlabel=r"normalised score $\tau$", ylabel=r"fraction of runs > $\tau$",
                     title="performance profiles", ylim=(-0.02, 1.02))
        axes[-1].legend(fontsize=8)
    fig.tight_layout()
    return fig


def output_dir(out: str | Path | None) -> Path:
    """``out`` made absolute and created, or a fresh ``runs/compare/<timestamp>/``."""
    if out is None:
        return files.new_run_dir("compare", Path("runs").absolute())
    path = Path(out).expanduser().absolute()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(f"output directory {path} cannot be created: {err}") from None
    return path


def write(result: dict[str, Any], out: Path) -> None:
    """``compare.json``, ``compare.csv`` (the table) and ``compare.png`` under ``out``."""
    files.write_json(out / "compare.json", result)
    files.write_csv(out / "compare.csv",
                    [{k: v for k, v in row.items() if k != "per_seed"}
                     for row in result["entries"]])
    files.save_figure(draw(result), out / "compare.png")


def _count(kind: str, minimum: int, maximum: int | None = None):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None \
                else f">= {minimum}"
            raise argparse.ArgumentTypeError(f"{kind} must be {bound}, got {value}")
        return value
    return parse


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m rlfa compare", usage=USAGE,
        description="Compare saved runs' headline scores (summary.json) with rliable: "
                    "table, probability of improvement, aggregates across tasks.")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run directories to compare")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="results directory (default: runs/compare/<timestamp>/)")
    p.add_argument("--reps", type=_count("--reps", 1), default=stats.DEFAULT_REPS, metavar="N",
                   help=f"bootstrap resamples (default: {stats.DEFAULT_REPS})")
    p.add_argument("--seed", type=_count("--seed", 0, 2**32 - 1), default=0, metavar="S",
                   help="seed of every resampling (default: 0)")
    p.add_argument("--curve", default=None, metavar="COLUMN",
                   help=f"also draw this metrics.csv column against {CURVE_X} for every run "
                        "(compare_curves.png), e.g. greedy_return")
    return p


def main(argv: list[str] | None = None) -> int:
    """The ``compare`` subcommand: print the comparison, write it, return the exit status
    (2 with one ``error:`` line for a bad run directory or nothing to compare)."""
    args = parser().parse_args(argv)
    try:
        result = compare(args.runs, reps=args.reps, seed=args.seed)
        if args.curve:
            result["curves"] = curves(args.runs, args.curve, seed=args.seed)
        out = output_dir(args.out)  # only once there is something to write
        write(result, out)
        if args.curve:
            files.save_figure(draw_curves(result["curves"], args.curve),
                              out / "compare_curves.png")
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr, flush=True)
        return 2
    print(format_report(result))
    print(f"results: {out}", flush=True)
    return 0
