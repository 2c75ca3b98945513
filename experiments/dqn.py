"""DQN on any gymnax environment, many seeds in one compiled program.

    python -m experiments.dqn                          # CartPole-v1, 16 seeds x 100k env steps
    python -m experiments.dqn --dqn.env Acrobot-v1 --num-seeds 8 --total-steps 200000
    python -m experiments.dqn --dqn.env Breakout-MinAtar   # the small CNN is picked from the shape
    python -m experiments.dqn --sweep.learning-rate 1e-3 5e-4
    python -m experiments.dqn --quick                  # seconds, for tests

Every field of :class:`rlfa.control.dqn.DQNConfig` is a ``--dqn.*`` flag
(``--dqn.double``, ``--dqn.huber``, ``--dqn.target-period``...). All seeds (and
``--sweep.*`` points) run as one program, spread over every core (on a CPU, the
seeds of a core one after another: ``--vectorize True`` vmaps them). At each logged
point a greedy evaluation (its own key stream) runs ``--dqn.num-eval-episodes``
episodes; the curves show their mean return with a 95% confidence interval over
seeds, and ``summary.json`` gives each seed's final greedy return.
"""

from __future__ import annotations

import dataclasses

from rlfa import config as cfg
from rlfa import dqn_study, files, report
from rlfa.control.dqn import CARTPOLE, DQNConfig, DQNHParams
from rlfa.dqn_study import NUM_LOGS, QUICK_STEPS, SOLVED, TOTAL_STEPS
from rlfa.study import Job, Record, Study, StudyOptions, cli
from rlfa.sweep import Sweep


@dataclasses.dataclass(frozen=True)
class ExperimentConfig(StudyOptions):
    """Train DQN on a gymnax environment over many seeds and write curves and a summary."""

    dqn: DQNConfig = CARTPOLE
    """The agent, its training loop and hyperparameters."""
    sweep: Sweep[DQNHParams] = Sweep[DQNHParams]()
    """Hyperparameter values to run instead of --dqn's, all in one compiled program."""
    num_seeds: int = 16
    """Independent runs, all in one compiled program."""
    total_steps: int | None = None
    """Environment steps per seed (warm-up included), rounded up to fill whole logged points
    (default: 100,000; 600 with --quick)."""
    num_logs: int | None = None
    """Logged points, each with a greedy evaluation (default: 20; 2 with --quick)."""

    def __post_init__(self):
        super().__post_init__()
        cfg.check_positive_int("num_seeds", self.num_seeds)
        for name in ("total_steps", "num_logs"):
            if getattr(self, name) is not None:
                cfg.check_positive_int(name, getattr(self, name))

    def effective(self) -> ExperimentConfig:
        """The config actually run: defaults filled in; ``--quick`` shrinks the workload
        (a smaller agent, at most 2 seeds, and step and log counts not given explicitly)."""
        if not self.quick:
            return dataclasses.replace(self, total_steps=self.total_steps or TOTAL_STEPS,
                                       num_logs=self.num_logs or NUM_LOGS)
        return dataclasses.replace(self, dqn=dqn_study.quick_dqn(self.dqn),
                                   num_seeds=min(self.num_seeds, 2),
                                   total_steps=self.total_steps or QUICK_STEPS,
                                   num_logs=self.num_logs or 2, quick=False)


def jobs(config: ExperimentConfig):
    yield dqn_study.job("DQN", config.dqn, config.grid(config.dqn.hparams),
                   num_seeds=config.num_seeds, total_steps=config.total_steps,
                   num_logs=config.num_logs)


def record(config: ExperimentConfig, job: Job, results) -> Record:
    env, labels, rec = job.info.env, job.info.labels, Record(arrays=dict(results.metrics))
    points = {}
    for run, point in zip(dqn_study.runs(job, results), labels):
        summary = dqn_study.run_summary(run)
        name = dqn_study.point_name(f"{env}: {job.name}", point)
        rec.headlines[name] = summary.pop("headline")
        points[name] = summary
    # One point keeps its numbers at the top level; a sweep has one entry per point.
    rec.summary = {"env": env, "agent": job.name, **summary} if len(points) == 1 else \
        {"env": env, "agent": job.name, "num_seeds": summary["num_seeds"], "points": points}
    metrics = {k: v for k, v in results.metrics.items() if v.ndim == 3}
    metrics["greedy_return"] = dqn_study.greedy_return(results.metrics)
    rec.rows = files.metric_rows(metrics, [{"env": env, **point} for point in labels],
                                 "env_steps", job.log_x)
    return rec


def figure(run):
    import matplotlib.pyplot as plt

    env, num_seeds, agent = run.summary["env"], run.summary["num_seeds"], run.summary.get("agent", "DQN")
    names = list(run.summary.get("points", [f"{agent}, {num_seeds} seeds"]))
    greedy, env_steps = dqn_study.greedy_return(run.arrays), run.arrays["env_steps"][0, 0]
    fig, ax = plt.subplots(figsize=(6, 4))
    for g, name in enumerate(names):
        report.plot_band(ax, env_steps, greedy[g], name)
    if env in SOLVED:
        ax.axhline(SOLVED[env], color="grey", ls="--", lw=1, label=f"solved ({SOLVED[env]:g})")
    ax.set(xlabel="environment steps per seed", ylabel="greedy return (mean, 95% bootstrap CI)",
           title=env)
    ax.legend()
    return fig


STUDY = Study("dqn", jobs, record, figure)

if __name__ == "__main__":
    cli(ExperimentConfig, STUDY)  # devices and processes: see experiments/__init__.py
