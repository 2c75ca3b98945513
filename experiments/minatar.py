"""MinAtar (Young & Tian 2019): the paper's DQN and its ablations, game by game, over seeds.

    python -m experiments.minatar                      # 5 games x 4 rungs x 30 seeds x 5M frames
    python -m experiments.minatar --games Breakout --num-seeds 5 --frames 250000
    python -m experiments.minatar --rungs DQN "no replay" --protocol gymnax
    python -m experiments.minatar --sweep.learning-rate 2.5e-4 1e-3
    python -m experiments.minatar --quick              # seconds, for tests

The agent is the paper's (:mod:`rlfa.control.dqn.minatar_paper`): a conv 16 3x3 + dense
128 Q-network, Huber loss, gamma 0.99, centered RMSProp (lr 2.5e-4, decay 0.95,
eps 0.01 outside the square root), one update per frame on 32 transitions from a
100,000-transition replay after 5,000 uniformly random frames, the target network
copied every 1,000 updates, epsilon 1.0 -> 0.1 over the 100,000 frames after the
random ones. The rungs are the paper's Figure 2: ``DQN``; ``no replay`` (a batch of
one, the newest transition, learning from frame 0, target network kept); ``no
target network`` (bootstrapping from the online network, replay kept); ``neither``.
Each rung on each game is one compiled program over every seed (and ``--sweep.*``
point): replay and the target network change the program's structure. On a CPU
the seeds on each core run one after another (``--vectorize False``, the default
there): one seed's update already keeps a core busy, and XLA's CPU code for a
vmapped batch of one seed is slower than the unbatched program.

The environments follow ``--protocol``: ``paper`` (the original package's
defaults: all 6 actions, sticky actions with probability 0.1, no episode cap but
the game's own, binary frames) or ``gymnax`` (gymnax's: the minimal action set, no
sticky actions, 1,000-step episodes (Freeway 2,500) cut as truncations).

The paper's metric, the headline: the return of the training (epsilon-greedy)
episodes, averaged over the last 100 finished by the frame budget (warm-up
episodes count, as in the original), per seed, with its mean over seeds and a 95%
bootstrap confidence interval. Reported separately: the mean return of
``--dqn.num-eval-episodes`` greedy episodes at the last logged point (of at most
``--dqn.eval-max-steps`` frames each, sticky actions on; an episode unfinished by
then does not count), which the paper does not have.

The default workload is the paper's, 5 million frames per seed (one update per
frame: about 45 MFLOP each), for 30 seeds, 4 rungs and 5 games: a GPU/TPU workload
(hours per seed on a 2-core CPU: ``python -m benchmarks.minatar`` measures the rate
beside the original PyTorch code and estimates the full protocol's time). The figure draws, per
game, each rung's training-return curve (the last 100 episodes' mean, against frames) with
a 95% bootstrap band over seeds, as the paper's Figure 2, and the greedy return below it
(:func:`rlfa.minatar_study.plot_game`).
"""

from __future__ import annotations

import dataclasses

from rlfa import config as cfg
from rlfa import dqn_study, minatar_study
from rlfa.control.dqn import DQNConfig, DQNHParams
from rlfa.control.dqn.minatar_paper import (
    GAMES,
    PAPER,
    PAPER_FRAMES,
    PROTOCOLS,
    RUNGS,
    env_name,
    rung_config,
)
from rlfa.study import Job, Record, Study, StudyOptions, cli
from rlfa.sweep import Sweep

DEFAULT_GAMES = ("Breakout", "Asterix", "Freeway", "SpaceInvaders", "Seaquest")
NUM_LOGS = 100
# --quick: the first game, its first two rungs, 2,000 frames, a small replay (each rung
# compiles a CNN program: tens of seconds on a small CPU).
QUICK_FRAMES = 2_000


@dataclasses.dataclass(frozen=True)
class MinAtarConfig(StudyOptions):
    """Run the MinAtar paper's DQN and its ablations (Figure 2) on MinAtar games over seeds.

    Every rung uses the same seeds (``--seed``): paired comparisons. ``--quick``: the
    first game and the first two rungs, at most 2 seeds, 2,000 frames, a small replay.
    """

    games: tuple[str, ...] = DEFAULT_GAMES
    """MinAtar games: Asterix, Breakout, Freeway, Seaquest, SpaceInvaders."""
    rungs: tuple[str, ...] = tuple(RUNGS)
    """Ablation rungs: DQN, "no replay", "no target network", neither."""
    protocol: str = "paper"
    """paper (6 actions, sticky actions p=0.1, no episode cap) or gymnax (gymnax's defaults)."""
    dqn: DQNConfig = PAPER
    """The paper's agent; every field but env (set by --games and --protocol) applies to
    every rung, which then sets replay and target_net (and, without replay, warmup_steps=0)."""
    sweep: Sweep[DQNHParams] = Sweep[DQNHParams]()
    """Hyperparameter values to run instead of --dqn's, in each rung's one program."""
    num_seeds: int = 30
    """Independent runs per game and rung (the paper: 30)."""
    frames: int | None = None
    """Frames per seed, the warm-up included, rounded up to fill whole logged points
    (default: the paper's 5,000,000; 2,000 with --quick)."""
    num_logs: int | None = None
    """Logged points, each with a greedy evaluation (default: 100; 2 with --quick)."""

    def __post_init__(self):
        super().__post_init__()
        cfg.check_nonempty("games", self.games)
        for game in self.games:
            cfg.check_choice("games", game, GAMES)
        cfg.check_nonempty("rungs", self.rungs)
        for rung in self.rungs:
            cfg.check_choice("rungs", rung, tuple(RUNGS))
        cfg.check_choice("protocol", self.protocol, PROTOCOLS)
        if self.dqn.train_return_window < 1:
            raise ValueError(f"dqn.train_return_window={self.dqn.train_return_window} is"
                             " invalid: the headline is the mean return of the last training"
                             " episodes, so it needs >= 1 (the paper: 100).")
        if self.dqn.env != PAPER.env:
            raise ValueError(f"dqn.env={self.dqn.env!r} is invalid here: the environments are"
                             " set by --games and --protocol; leave --dqn.env out.")
        cfg.check_positive_int("num_seeds", self.num_seeds)
        for name in ("frames", "num_logs"):
            if getattr(self, name) is not None:
                cfg.check_positive_int(name, getattr(self, name))
        for game in self.games:  # every rung's config is valid (the network fits, ...)
            for rung in self.rungs:
                self.rung(game, rung)

    def rung(self, game: str, rung: str) -> DQNConfig:
        """The configuration of one rung on one game."""
        return rung_config(self.dqn, game, rung, self.protocol)

    def effective(self) -> MinAtarConfig:
        """The config actually run: defaults filled in; ``--quick`` shrinks the workload
        (the first game and two rungs, a small agent, at most 2 seeds, frames and logs not
        given)."""
        if not self.quick:
            return dataclasses.replace(self, frames=self.frames or PAPER_FRAMES,
                                       num_logs=self.num_logs or NUM_LOGS)
        return dataclasses.replace(self, games=self.games[:1], rungs=self.rungs[:2],
                                   dqn=minatar_study.quick_dqn(self.dqn),
                                   num_seeds=min(self.num_seeds, 2),
                                   frames=self.frames or QUICK_FRAMES,
                                   num_logs=self.num_logs or 2, quick=False)


def jobs(config: MinAtarConfig):
    for game in config.games:
        for rung in config.rungs:
            yield dqn_study.job(f"{game}: {rung}", config.rung(game, rung),
                           config.grid(config.dqn.hparams), num_seeds=config.num_seeds,
                           total_steps=config.frames, num_logs=config.num_logs)


def record(config: MinAtarConfig, job: Job, results) -> Record:
    rec, runs = minatar_study.record_rung(job, results, config.dqn.train_return_window)
    game = job.name.split(": ", 1)[0]
    rec.summary = {"games": {game: runs}, "num_seeds": job.num_seeds,
                   "protocol": config.protocol, "frames": config.frames,
                   "envs": {game: env_name(game, config.protocol)}}
    return rec


def figure(run):
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    games = run.summary["games"]
    frames_label = FuncFormatter(lambda x, _: f"{x / 1e6:g}M" if run.summary["frames"] >= 10**6
                                 else f"{x / 1e3:g}k")
    fig, axes = plt.subplots(2, len(games), figsize=(5 * len(games), 7.5), squeeze=False,
                             sharex="col")
    for col, (game, runs) in enumerate(games.items()):
        minatar_study.plot_game(axes[:, col], run.arrays, game, runs, run.summary["envs"][game])
        axes[1, col].xaxis.set_major_formatter(frames_label)
    fig.suptitle(f"MinAtar: DQN and its ablations ({run.summary['num_seeds']} seeds each; "
                 "mean, 95% bootstrap CI)")
    return fig


STUDY = Study("minatar", jobs, record, figure)

if __name__ == "__main__":
    cli(MinAtarConfig, STUDY)  # devices and processes: see experiments/__init__.py
