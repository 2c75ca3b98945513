"""DQN on Atari as the Nature paper ran it (Mnih et al. 2015), game by game, over seeds.

    python -m experiments.atari                        # Breakout and Pong, 3 seeds x 50M frames
    python -m experiments.atari --games Breakout --frames 1000000 --num-logs 10 --settings cpu
    python -m experiments.atari --protocol machado     # sticky actions, 18 actions, no no-ops
    python -m experiments.atari --dqn.target-period 40000 --atari.noop-max 0
    python -m experiments.atari --quick                # seconds, for tests

The agent is :data:`rlfa.control.dqn.atari.NATURE_DQN` (every field a ``--dqn.*`` flag):
the Nature network, DeepMind's RMSProp, Huber loss, 32 transitions from a 1M-step replay
that stores each frame once, an update every 4 agent steps after 50,000 random ones, the
target network copied every 10,000 agent steps, epsilon 1.0 -> 0.1 over 1M agent steps.
Those schedules are made for 50M frames: a 1M-frame run ends at epsilon 0.82. ``--settings
cpu`` (:data:`~rlfa.control.dqn.atari.CPU_DQN`) is the same agent sized for 1M frames on a
CPU (Adam, CleanRL's target period, schedules scaled to the run); it learns Breakout there.
The games follow ``--protocol`` (``nature`` or ``machado``; each field of it is an
``--atari.*`` flag and wins over the protocol's where set away from the Nature value):
frame skip 4, a stack of 4, up to 30 no-op frames, a lost life ends a training episode,
rewards clipped for learning.
Frames count the emulator's frames (an agent step is ``frame_skip`` of them).

At each logged point ``--dqn.num-eval-episodes`` whole games are played at epsilon 0.05,
each up to 18,000 frames (5 minutes). The headline per game: the final evaluation score,
mean over seeds with a 95% bootstrap CI, and its human-normalised value, (score - random)
/ (human - random), with the Atari-57 random and human scores
(:data:`rlfa.envs.atari.REFERENCE_SCORES`). The figure draws each game's evaluation score
against frames with its band, the random and human scores as lines.

The paper's 50 million frames per game are a GPU workload:

    python -m experiments.atari --games Breakout Pong --num-seeds 3   # the full protocol

On a 2-core CPU one seed learns at about 470 frames/s (``python -m benchmarks.atari``, beside
CleanRL's ``dqn_atari_jax.py``): about 30 hours per seed and game. On a GPU the updates
leave the host's share: the emulator (0.45 ms per agent step on this CPU) and its callback,
about 0.6 ms per agent step of one seed (the seeds' games step one after another), about 2
hours per seed and game for the 12.5 million agent steps, plus the updates on the
accelerator (not measured here). On a CPU the seeds run one after another.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rlfa import config as cfg
from rlfa import dqn_study, files, report, stats, sweep
from rlfa.control.dqn import DQNConfig, DQNHParams
from rlfa.control.dqn import atari as nature
from rlfa.envs import atari
from rlfa.study import Job, Record, Study, StudyOptions, cli, latest_mean
from rlfa.sweep import Sweep

NUM_LOGS = 50
QUICK_FRAMES = 2_400


def quick_dqn(dqn: DQNConfig) -> DQNConfig:
    """A tiny version of ``dqn`` for ``--quick``: a small replay and warm-up, short
    schedules, two evaluation games."""
    return dataclasses.replace(dqn, buffer_capacity=2_000, warmup_steps=200,
                               target_period=100, epsilon_decay_steps=200, num_eval_episodes=2)


@dataclasses.dataclass(frozen=True)
class AtariConfig(StudyOptions):
    """Train the Nature DQN on Atari games over seeds; write curves and human-normalised
    scores. ``--quick``: the first game, at most 2 seeds, 2,400 frames, games of at most
    400 frames, a small replay."""

    games: tuple[str, ...] = ("Breakout", "Pong")
    """Atari games by name (Breakout, Pong, SpaceInvaders, ...: any ale-py ships)."""
    protocol: str = "nature"
    """nature (Mnih et al. 2015) or machado (Machado et al. 2018: sticky actions 0.25, 18
    actions, no no-op starts, a lost life ends nothing)."""
    atari: atari.AtariProtocol = atari.NATURE
    """How the games are played: a field set away from the Nature protocol's value wins over
    --protocol's."""
    settings: str = "nature"
    """The agent: nature (the paper's) or cpu (sized for 1M frames on a CPU: Adam 1e-4, the
    target copied every 1,000 steps, 12,500 random steps, epsilon 1 -> 0.01 over 62,500, a
    250,000-step replay)."""
    dqn: DQNConfig = nature.NATURE_DQN
    """The agent's fields: one set away from the Nature agent's value wins over --settings'.
    Its env is set by --games and --protocol."""
    sweep: Sweep[DQNHParams] = Sweep[DQNHParams]()
    """Hyperparameter values to run instead of --dqn's, in each game's one program."""
    num_seeds: int = 3
    """Independent runs per game."""
    frames: int | None = None
    """Emulator frames per seed, the warm-up included, rounded up to whole logged points
    (default: the paper's 50,000,000; 2,400 with --quick)."""
    num_logs: int | None = None
    """Logged points, each with an evaluation (default: 50; 2 with --quick)."""
    logs_per_chunk: int = 1
    """Logged points per compiled chunk: progress, checkpoints and Ctrl-C act between chunks
    (one: at every logged point, a million frames of the paper's run, half an hour on a CPU)."""

    def __post_init__(self):
        super().__post_init__()
        cfg.check_nonempty("games", self.games)
        for game in self.games:
            atari.check_game(game)
        cfg.check_choice("protocol", self.protocol, tuple(atari.PROTOCOLS))
        cfg.check_choice("settings", self.settings, tuple(nature.AGENTS))
        cfg.check_positive_int("num_seeds", self.num_seeds)
        for name in ("frames", "num_logs"):
            if getattr(self, name) is not None:
                cfg.check_positive_int(name, getattr(self, name))
        episodes = self.agent_settings().num_eval_episodes
        if episodes < 1:
            raise ValueError(f"dqn.num_eval_episodes={episodes} is invalid:"
                             " the study reports evaluation scores, so it needs >= 1.")
        for game in self.games:
            self.agent(game)

    def agent(self, game: str) -> DQNConfig:
        """The agent on ``game``, its evaluation capped at the protocol's frames."""
        protocol = self.protocol_settings()
        return dataclasses.replace(self.agent_settings(), env=atari.env_name(game, self.protocol),
                                   eval_max_steps=protocol.eval_max_steps)

    def agent_settings(self) -> DQNConfig:
        """``--settings``' agent with every ``--dqn.*`` field given."""
        return cfg.overlay(nature.AGENTS[self.settings], self.dqn, nature.NATURE_DQN)

    def protocol_settings(self) -> atari.AtariProtocol:
        """``--protocol``'s settings with every ``--atari.*`` field given."""
        return cfg.overlay(atari.PROTOCOLS[self.protocol], self.atari, atari.NATURE)

    def effective(self) -> AtariConfig:
        """The config actually run: defaults filled in; ``--quick`` shrinks the workload."""
        if not self.quick:
            return dataclasses.replace(self, frames=self.frames or nature.PAPER_FRAMES,
                                       num_logs=self.num_logs or NUM_LOGS)
        return dataclasses.replace(
            self, games=self.games[:1], dqn=quick_dqn(self.agent_settings()),
            num_seeds=min(self.num_seeds, 2),
            atari=dataclasses.replace(self.atari, max_episode_frames=400, eval_max_frames=400),
            frames=self.frames or QUICK_FRAMES, num_logs=self.num_logs or 2, quick=False)


def jobs(config: AtariConfig):
    protocol = config.protocol_settings()
    for game in config.games:
        dqn = config.agent(game)
        built = nature.make_program(dqn, protocol)
        steps_per_log, env_steps = dqn_study.plan(dqn, -(-config.frames // protocol.frame_skip),
                                                  config.num_logs)
        labels = sweep.labels(config.grid(dqn.hparams), varying=True)
        yield Job(game, built.program, config.grid(dqn.hparams), config.num_seeds,
                  len(env_steps), steps_per_log, log_x=env_steps * protocol.frame_skip,
                  unit="frames", derive=dqn_study.derived_metrics,
                  postfix=latest_mean("greedy_return", "score"),
                  grid_labels=labels if len(labels) > 1 else None,
                  info=dqn_study.JobInfo(built, dqn, labels),
                  vectorize=dqn_study.vectorize_runs())


def record(config: AtariConfig, job: Job, results) -> Record:
    game, rec, points = job.name, Record(), {}
    metrics = {k: v for k, v in results.metrics.items() if v.ndim == 3}
    metrics["eval_score"] = dqn_study.greedy_return(results.metrics)
    for run, point in zip(dqn_study.runs(job, results), job.info.labels):
        name = dqn_study.point_name(game, point)
        final = run.greedy[:, -1]
        rec.headlines[name] = stats.headline("final evaluation score", final,
                                             higher_is_better=True, task=game)
        rec.headlines[f"{name}, human-normalised"] = stats.headline(
            "final human-normalised score", atari.human_normalised(game, final),
            higher_is_better=True, task=game)
        summary = dqn_study.run_summary(run)
        summary.pop("headline")
        random, human = atari.REFERENCE_SCORES.get(atari.rom_id(game), (None, None))
        points[name] = {**summary, "final_score_per_seed": final.tolist(),
                        "random_score": random, "human_score": human,
                        "frames_per_seed": int(job.log_x[-1])}
        rec.arrays[f"{name} eval_score"] = run.greedy
        rec.arrays[f"{name} train_return"] = results.metrics["train_return"][run.point]
    rec.arrays[f"{game} frames"] = np.asarray(job.log_x)
    rec.summary = {"games": {game: points}, "protocol": config.protocol,
                   "protocol_settings": dataclasses.asdict(config.protocol_settings()),
                   "settings": config.settings,
                   "num_seeds": job.num_seeds, "frames": int(job.log_x[-1])}
    rec.rows = files.metric_rows(metrics, [{"game": game, **point} for point in job.info.labels],
                                 "frames", job.log_x)
    return rec


def figure(run):
    import matplotlib.pyplot as plt

    games = run.summary["games"]
    fig, axes = plt.subplots(1, len(games), figsize=(5.5 * len(games), 4), squeeze=False)
    for ax, (game, points) in zip(axes[0], games.items()):
        frames = run.arrays[f"{game} frames"]
        for name, point in points.items():
            report.plot_band(ax, frames, run.arrays[f"{name} eval_score"], name)
            if point["random_score"] is not None:
                ax.axhline(point["random_score"], color="grey", ls=":", lw=1, label="random")
                ax.axhline(point["human_score"], color="grey", ls="--", lw=1, label="human")
        ax.set(xlabel="frames per seed", ylabel="evaluation score (mean, 95% bootstrap CI)",
               title=f"{game} ({run.summary['protocol']}, {run.summary['num_seeds']} seeds)")
        ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


STUDY = Study("atari", jobs, record, figure)

if __name__ == "__main__":
    cli(AtariConfig, STUDY)  # devices and processes: see experiments/__init__.py
