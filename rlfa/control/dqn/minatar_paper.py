"""The MinAtar paper's DQN (Young & Tian 2019, after the original's ``examples/dqn.py``)
and its ablations, as :class:`~rlfa.control.dqn.DQNConfig`\\ s.

========================  =================================================================
network                   conv 16 filters 3x3 stride 1, ReLU, dense 128, ReLU, linear
                          per action (``network="cnn"``: :class:`rlfa.nets.MinAtarCNN`)
loss, discount            Huber, gamma 0.99; plain (not Double) Q-learning targets
optimizer                 centered RMSProp, lr 2.5e-4, decay 0.95, eps 0.01 OUTSIDE the
                          square root (PyTorch's form), no gradient clipping
batch, replay             32 transitions from 100,000; 5,000 random-policy frames first
                          (rlfa's own buffer, ``replay_impl="rlfa"``: its one-frame write
                          stays in place where flashbax's copies the 80 MB buffer per frame)
updates                   one per frame; the target network copied every 1,000 updates
                          (every 1,000 frames: the warm-up is a multiple of 1,000)
exploration               epsilon 1.0 -> 0.1 linearly over the 100,000 frames AFTER the
                          random ones (``epsilon_after_warmup``), then 0.1
environment               the ``paper`` protocol (:mod:`rlfa.envs.minatar`): 6 actions,
                          sticky actions p = 0.1, no cap but the game's own
budget                    5 million frames, no frame skip (30 seeds in the paper)
metric                    return of the training (epsilon-greedy) episodes, averaged over
                          the last 100 (``train_return_window``, logged as
                          ``recent_train_return``)
========================  =================================================================

The paper's ablations (its Figure 2), :data:`RUNGS`: "no replay" learns from a batch of one,
the newest transition, every frame from frame 0 (no random warm-up, so epsilon decays from
frame 0), and keeps the target network; "no target network" bootstraps from the online
network and keeps the replay; "neither" removes both.

rlfa adds a greedy evaluation at every logged point (``num_eval_episodes`` episodes of at most
``eval_max_steps`` = 5,000 frames, sticky actions still on): the paper has none, and its games
have no episode cap, so the evaluation needs a budget of its own (an episode unfinished by then
does not count). Set ``num_eval_episodes=0`` to train exactly as the paper.
"""

from __future__ import annotations

import dataclasses

from rlfa.control.dqn.config import DQNConfig, DQNHParams
from rlfa.envs.minatar import PROTOCOLS

GAMES = ("Asterix", "Breakout", "Freeway", "Seaquest", "SpaceInvaders")
PAPER_FRAMES = 5_000_000

PAPER = DQNConfig(
    env="Breakout-MinAtar-paper", network="cnn", num_envs=1, buffer_capacity=100_000,
    batch_size=32, replay_impl="rlfa", warmup_steps=5_000, train_frequency=1, gradient_steps=1,
    target_period=1_000, epsilon_decay_steps=100_000,
    optimizer="centered_rmsprop", rmsprop_decay=0.95, rmsprop_eps=0.01, max_grad_norm=0.0,
    huber=True, double=False, epsilon_after_warmup=True, train_return_window=100,
    num_eval_episodes=10, eval_max_steps=5_000,
    hparams=DQNHParams(learning_rate=2.5e-4, gamma=0.99, epsilon_start=1.0, epsilon_end=0.1))

# The paper's ablations (its Figure 2): each removes one of DQN's two stabilisers. Without
# replay the original learns from frame 0 on the newest transition alone (batch of one).
RUNGS = {
    "DQN": {"replay": True, "target_net": True},
    "no replay": {"replay": False, "target_net": True, "warmup_steps": 0},
    "no target network": {"replay": True, "target_net": False},
    "neither": {"replay": False, "target_net": False, "warmup_steps": 0},
}


def env_name(game: str, protocol: str = "paper") -> str:
    """The environment name of ``game`` under ``protocol`` (``"Breakout-MinAtar-paper"``).

    Raises:
      ValueError: an unknown game or protocol, naming it and the choices.
    """
    if game not in GAMES:
        raise ValueError(f"game={game!r} is invalid: must be one of {', '.join(GAMES)}.")
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol={protocol!r} is invalid: must be one of"
                         f" {', '.join(PROTOCOLS)}.")
    return f"{game}-MinAtar-{protocol}"


def rung_config(base: DQNConfig, game: str, rung: str = "DQN",
                protocol: str = "paper") -> DQNConfig:
    """``base`` on ``game`` under ``protocol``, ablated as :data:`RUNGS` ``[rung]`` (which
    sets replay, target_net and, without replay, warmup_steps=0; nothing else changes).

    Raises:
      ValueError: an unknown game, rung or protocol, naming it and the choices.
    """
    if rung not in RUNGS:
        raise ValueError(f"rung={rung!r} is invalid: must be one of {', '.join(RUNGS)}.")
    return dataclasses.replace(base, env=env_name(game, protocol), **RUNGS[rung])


def paper_config(game: str, rung: str = "DQN", **overrides) -> DQNConfig:
    """The paper's agent on ``game`` (one of :data:`GAMES`), ablated as :data:`RUNGS`
    ``[rung]``, with any other field replaced by ``overrides`` (which win over the rung's).

    Raises:
      ValueError: an unknown game or rung, naming it and the choices.
    """
    config = rung_config(PAPER, game, rung)
    return dataclasses.replace(config, **overrides) if overrides else config


__all__ = ["GAMES", "PAPER", "PAPER_FRAMES", "PROTOCOLS", "RUNGS", "env_name", "paper_config",
           "rung_config"]
