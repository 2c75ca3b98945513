"""PQN (Gallici et al. 2025): online Q-learning with LayerNorm, parallel environments and
Q(lambda) targets, no replay and no target network, many seeds in one compiled program.

    python -m experiments.pqn                          # CartPole-v1, 16 seeds x 500k env steps
    python -m experiments.pqn --game Breakout --num-seeds 4 --total-steps 1000000   # MinAtar
    python -m experiments.pqn --sweep.lambda 0 0.65 0.95   # one compiled program
    python -m experiments.pqn --pqn.no-layer-norm      # the ablation
    python -m experiments.pqn --quick                  # seconds, for tests

Every field of :class:`rlfa.control.pqn.PQNConfig` is a ``--pqn.*`` flag. The defaults are
purejaxql's CartPole settings; a MinAtar game (``--game Breakout``, under the paper's
protocol or ``--protocol gymnax``) starts from its MinAtar settings
(:data:`rlfa.control.pqn.MINATAR`) instead, and every ``--pqn.*`` flag given with a value
other than the CartPole default still wins. At each logged point a greedy evaluation runs
``--pqn.num-eval-episodes`` episodes; the curves show their mean return with a 95%
bootstrap interval over seeds, and ``summary.json`` gives each seed's final greedy return
and the agent as run (``agent_settings``: the MinAtar settings with the flags on top).
"""

from __future__ import annotations

import dataclasses

from experiments import dqn
from rlfa import config as cfg
from rlfa import dqn_study
from rlfa.control.dqn.minatar_paper import PROTOCOLS, env_name
from rlfa.control.pqn import MINATAR, PQNConfig, PQNHParams
from rlfa.study import Study, StudyOptions, cli
from rlfa.sweep import Sweep

TOTAL_STEPS = 500_000  # purejaxql's CartPole budget (pqn_cartpole.yaml's TOTAL_TIMESTEPS)


def settings(pqn: PQNConfig, game: str | None = None, protocol: str = "paper") -> PQNConfig:
    """``pqn`` as run: for a MinAtar ``game`` (or a MinAtar ``pqn.env``), :data:`MINATAR` on
    that game with every field (and hyperparameter) that ``pqn`` sets away from the CartPole
    default."""
    env = pqn.env if game is None else env_name(game, protocol)
    if "MinAtar" not in env.split("-"):
        return pqn
    return dataclasses.replace(cfg.overlay(MINATAR, pqn, PQNConfig()), env=env)


@dataclasses.dataclass(frozen=True)
class ExperimentConfig(StudyOptions):
    """Train PQN on a gymnax or MinAtar environment over many seeds; write curves and a summary."""

    pqn: PQNConfig = PQNConfig()
    """The agent, its rollouts and hyperparameters (purejaxql's CartPole settings; its MinAtar
    ones on a MinAtar environment)."""
    game: str | None = None
    """A MinAtar game (Asterix, Breakout, Freeway, Seaquest, SpaceInvaders): PQN on it with
    purejaxql's MinAtar settings, instead of --pqn.env."""
    protocol: str = "paper"
    """The MinAtar protocol of --game: paper (6 actions, sticky actions p=0.1, no episode cap)
    or gymnax (gymnax's defaults)."""
    sweep: Sweep[PQNHParams] = Sweep[PQNHParams]()
    """Hyperparameter values to run instead of --pqn's, all in one compiled program."""
    num_seeds: int = 16
    """Independent runs, all in one compiled program."""
    total_steps: int | None = None
    """Environment steps per seed, rounded up to whole rollouts and logged points (default:
    500,000; 600 with --quick)."""
    num_logs: int | None = None
    """Logged points, each with a greedy evaluation (default: 20; 2 with --quick)."""

    def __post_init__(self):
        super().__post_init__()
        cfg.check_positive_int("num_seeds", self.num_seeds)
        cfg.check_choice("protocol", self.protocol, PROTOCOLS)
        if self.game is not None:
            env_name(self.game, self.protocol)  # names the game and the choices
        for name in ("total_steps", "num_logs"):
            if getattr(self, name) is not None:
                cfg.check_positive_int(name, getattr(self, name))

    def effective(self) -> ExperimentConfig:
        """The config actually run: defaults and the environment's settings filled in;
        ``--quick`` shrinks the workload (a smaller rollout, at most 2 seeds, and step and
        log counts not given explicitly)."""
        pqn = settings(self.pqn, self.game, self.protocol)
        if not self.quick:
            return dataclasses.replace(self, pqn=pqn, total_steps=self.total_steps or TOTAL_STEPS,
                                       num_logs=self.num_logs or dqn_study.NUM_LOGS)
        return dataclasses.replace(self, pqn=dqn_study.quick_pqn(pqn),
                                   num_seeds=min(self.num_seeds, 2),
                                   total_steps=self.total_steps or dqn_study.QUICK_STEPS,
                                   num_logs=self.num_logs or 2, quick=False)


def jobs(config: ExperimentConfig):
    yield dqn_study.job("PQN", config.pqn, config.grid(config.pqn.hparams),
                        num_seeds=config.num_seeds, total_steps=config.total_steps,
                        num_logs=config.num_logs)


def figure(run):
    """The greedy-return curves with their bands, drawn as ``experiments.dqn`` draws DQN's."""
    return dqn.figure(run)


STUDY = Study("pqn", jobs, dqn.record, figure)

if __name__ == "__main__":
    cli(ExperimentConfig, STUDY)  # devices and processes: see experiments/__init__.py
