"""The ladder from Q-learning with a neural network to DQN and on to PQN, rung by rung.

    python -m experiments.dqn_ladder                   # CartPole-v1 and Acrobot-v1, 16 seeds
    python -m experiments.dqn_ladder --envs CartPole-v1 --num-seeds 32
    python -m experiments.dqn_ladder --base.learning-rate 5e-4 --base.target-period 1000
    python -m experiments.dqn_ladder --quick           # seconds, for tests

Four rungs with identical budgets, each adding one idea of Mnih et al. (2015)
(:mod:`rlfa.control.dqn.ladder`): online Q-learning with a neural network, +
experience replay, + fixed Q-targets, and DQN (+ the Huber loss and Double DQN
targets). Then a third way, online again with neither replay nor a target network:
PQN (Gallici et al. 2025; :mod:`rlfa.control.pqn`: LayerNorm, parallel environments,
Q(lambda) targets) and PQN without LayerNorm, at the same environment steps. Each
rung runs all its seeds (and, for the DQN rungs, ``--sweep.*`` points) in one compiled
program; one figure holds every environment's curves (mean greedy return, 95% CI over
seeds). ``python -m rlfa compare RUN_DIR`` gives the rungs' IQM across environments and
the probability that one rung improves on another.
"""

from __future__ import annotations

import dataclasses

from rlfa import config as cfg
from rlfa import dqn_study, files, report
from rlfa.control import pqn
from rlfa.control.dqn import CARTPOLE, DQNConfig, DQNHParams, rung
from rlfa.control.dqn import RUNGS as DQN_RUNGS

RUNGS = [*DQN_RUNGS, *pqn.RUNGS]  # bottom to top
from rlfa.study import Job, Record, Study, StudyOptions, cli
from rlfa.sweep import Sweep


@dataclasses.dataclass(frozen=True)
class LadderConfig(StudyOptions):
    """Run the six rungs of the DQN ladder (four DQN, two PQN) on each environment with
    identical budgets of environment steps.

    Every rung uses the same seeds (``--seed``): paired comparisons. ``--quick``:
    the first environment only, 2 seeds, 600 environment steps each.
    """

    envs: tuple[str, ...] = ("CartPole-v1", "Acrobot-v1")
    """Environments (any gymnax name)."""
    base: DQNConfig = CARTPOLE
    """Settings shared by every rung (each rung sets replay, target_net, double, huber)."""
    pqn: pqn.PQNConfig = pqn.PQNConfig()
    """Settings of the PQN rungs (each sets layer_norm; its schedules scale to
    --total-steps): purejaxql's CartPole settings."""
    sweep: Sweep[DQNHParams] = Sweep[DQNHParams]()
    """Hyperparameter values to run instead of --base's, in each DQN rung's one program."""
    num_seeds: int = 16
    """Independent runs per rung and environment."""
    total_steps: int = 100_000
    """Environment steps per seed, the same for every rung."""
    num_logs: int = 20
    """Logged points, each with a greedy evaluation."""

    def __post_init__(self):
        super().__post_init__()
        cfg.check_nonempty("envs", self.envs)
        for env in self.envs:
            dataclasses.replace(self.base, env=env)  # validates the name (lists valid ones)
        for name in ("num_seeds", "total_steps", "num_logs"):
            cfg.check_positive_int(name, getattr(self, name))

    def rung(self, env: str, name: str) -> DQNConfig | pqn.PQNConfig:
        """The configuration of one rung on one environment."""
        if name in pqn.RUNGS:
            config = pqn.rung(self.pqn, env, name,
                              dqn_study.QUICK_STEPS if self.quick else self.total_steps)
            return dqn_study.quick_pqn(config) if self.quick else config
        return rung(dqn_study.quick_dqn(self.base) if self.quick else self.base, env, name)


def jobs(config: LadderConfig):
    # One rung compiles per environment: --quick keeps the first.
    envs = config.envs[:1] if config.quick else config.envs
    num_seeds, total_steps, num_logs = (min(config.num_seeds, 2), dqn_study.QUICK_STEPS, 2) \
        if config.quick else (config.num_seeds, config.total_steps, config.num_logs)
    for env in envs:
        for label in RUNGS:
            rung_config = config.rung(env, label)
            points = [rung_config.hparams] if label in pqn.RUNGS else \
                config.grid(config.base.hparams)
            yield dqn_study.job(f"{env}: {label}", rung_config, points, num_seeds=num_seeds,
                                total_steps=total_steps, num_logs=num_logs)


def record(config: LadderConfig, job: Job, results) -> Record:
    env, rec, rungs = job.info.env, Record(), {}
    label = job.name.removeprefix(f"{env}: ")
    for run, point in zip(dqn_study.runs(job, results), job.info.labels):
        name = dqn_study.point_name(label, point)
        rungs[name] = dqn_study.run_summary(run)
        rec.headlines[f"{env}: {name}"] = rungs[name].pop("headline")
        rec.arrays[f"{env}: {name} greedy_return"] = run.greedy
        rec.arrays[f"{env}: {name} env_steps"] = run.env_steps
        rec.rows += files.metric_rows({"greedy_return": run.greedy[None]},
                                      [{"env": env, "rung": label, **point}], "env_steps",
                                      run.env_steps)
    rec.summary = {"envs": {env: rungs}, "num_seeds": job.num_seeds}
    return rec


def figure(run):
    import matplotlib.pyplot as plt

    envs = run.summary["envs"]
    fig, axes = plt.subplots(1, len(envs), figsize=(6 * len(envs), 4), squeeze=False)
    for ax, (env, rungs) in zip(axes[0], envs.items()):
        for name in rungs:
            report.plot_band(ax, run.arrays[f"{env}: {name} env_steps"],
                             run.arrays[f"{env}: {name} greedy_return"], name)
        ax.set(xlabel="environment steps per seed", ylabel="greedy return (mean, 95% CI)",
               title=env)
        ax.legend(fontsize=8)
    fig.suptitle("From Q-learning with a neural network to DQN and PQN "
                 f"({run.summary['num_seeds']} seeds each)")
    return fig


STUDY = Study("dqn_ladder", jobs, record, figure)

if __name__ == "__main__":
    cli(LadderConfig, STUDY)  # devices and processes: see experiments/__init__.py
