"""The ladder from Q-learning with a neural network to DQN, rung by rung, side by side.

    python -m experiments.dqn_ladder                   # CartPole-v1 and Acrobot-v1, 16 seeds
    python -m experiments.dqn_ladder --envs CartPole-v1 --num-seeds 32
    python -m experiments.dqn_ladder --quick           # seconds, for tests

Four rungs with identical budgets (environment steps, warm-up, updates, network,
optimizer, exploration), each adding one idea of Mnih et al. (2015):

1. online Q-learning with a neural network: one update on the newest
   transitions, bootstrapping from the network being updated;
2. + experience replay: mini-batches drawn uniformly from a buffer;
3. + fixed Q-targets: bootstrap from a target network copied every C steps;
4. DQN: all of the above with the Huber loss and Double DQN targets.

Each rung runs all its seeds in one compiled program; one figure holds every
environment's curves (mean greedy return, 95% CI over seeds).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from experiments import dqn as dqn_exp
from rlfa import config as cfg
from rlfa import distributed, report, runner, stats
from rlfa.control.dqn import DQNConfig
from rlfa.study import StudyOptions, cli, finish

RUNGS = {
    "Q-learning + NN (online)": dict(replay=False, target_net=False, double=False, huber=False),
    "+ experience replay": dict(replay=True, target_net=False, double=False, huber=False),
    "+ fixed Q-targets": dict(replay=True, target_net=True, double=False, huber=False),
    "DQN (+ Huber, Double)": dict(replay=True, target_net=True, double=True, huber=True),
}


@dataclasses.dataclass(frozen=True)
class LadderConfig(StudyOptions):
    """Run the four rungs of the DQN ladder on each environment with identical budgets.

    Every rung uses the same seeds (``--seed``): paired comparisons. ``--quick``:
    the first environment only, 2 seeds, 600 environment steps each.
    """

    envs: tuple[str, ...] = ("CartPole-v1", "Acrobot-v1")
    """Environments (any gymnax name)."""
    base: DQNConfig = dqn_exp.CARTPOLE
    """Settings shared by every rung (each rung sets replay, target_net, double, huber)."""
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

    def rung(self, env: str, rung: str) -> DQNConfig:
        """The configuration of one rung on one environment."""
        base = dqn_exp.quick_dqn(self.base) if self.quick else self.base
        return dataclasses.replace(base, env=env, **RUNGS[rung])

    @property
    def run_envs(self) -> tuple[str, ...]:
        """The environments actually run (one rung compiles per environment: --quick keeps one)."""
        return self.envs[:1] if self.quick else self.envs

    @property
    def workload(self) -> tuple[int, int, int]:
        """(num_seeds, total_steps, num_logs) actually run."""
        if self.quick:
            return min(self.num_seeds, 2), dqn_exp.QUICK_STEPS, 2
        return self.num_seeds, self.total_steps, self.num_logs


def draw(curves: dict[str, dict[str, dqn_exp.DQNRun]]):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(6 * len(curves), 4), squeeze=False)
    for ax, (env, runs) in zip(axes[0], curves.items()):
        for label, run in runs.items():
            dqn_exp.plot_curves(ax, run.env_steps, run.greedy, label)
        ax.set(xlabel="environment steps per seed", ylabel="greedy return (mean, 95% CI)",
               title=env)
        ax.legend(fontsize=8)
    num_seeds = len(next(iter(runs.values())).greedy)
    fig.suptitle(f"From Q-learning with a neural network to DQN ({num_seeds} seeds each)")
    return fig


def main(config: LadderConfig) -> Path | None:
    """Run every rung on every environment, write ``runs/dqn_ladder/<timestamp>/``."""
    t0 = time.perf_counter()
    num_seeds, total_steps, num_logs = config.workload
    curves: dict[str, dict[str, dqn_exp.DQNRun]] = {}
    summary: dict = {"headlines": {}, "envs": {}, "num_seeds": num_seeds}
    rows: list[dict] = []
    results: list[runner.Results] = []
    checkpoints = config.checkpoint_root("dqn_ladder")
    with config.logging("dqn_ladder", checkpoints) as logger:
        for env in config.run_envs:
            curves[env], summary["envs"][env] = {}, {}
            for label in RUNGS:
                run = dqn_exp.train(config.rung(env, label), num_seeds=num_seeds,
                                    total_steps=total_steps, num_logs=num_logs,
                                    **config.run_options(checkpoints, f"{env}: {label}",
                                                         logger=logger))
                curves[env][label] = run
                results.append(run.results)
                summary["envs"][env][label] = dqn_exp.run_summary(run, env)
                summary["headlines"][f"{env}: {label}"] = \
                    summary["envs"][env][label].pop("headline")
                rows += report.metric_rows({"greedy_return": run.greedy[None]},
                                           [{"env": env, "rung": label}], "env_steps",
                                           run.env_steps)
    summary["run_s"] = sum(r["run_s"] for e in summary["envs"].values() for r in e.values())
    summary["compile_s"] = sum(r["compile_s"] for e in summary["envs"].values()
                               for r in e.values())
    summary["wall_s"] = time.perf_counter() - t0
    if not distributed.is_main_process():
        return None  # every process has every result; process 0 writes them
    path = report.write_run("dqn_ladder", config, summary, rows, {"figure": draw(curves)},
                            root=config.out)
    for env, rungs in summary["envs"].items():
        for label, r in rungs.items():
            head = summary["headlines"][f"{env}: {label}"]
            print(f"{env:<12} {label:<26} final greedy return {stats.describe(head)}"
                  f"  (run {r['run_s']:.1f} s)")
    return finish(path, results)


if __name__ == "__main__":
    # devices and processes: see experiments/__init__.py
    cli(LadderConfig, main, omit_prefixes=True)
