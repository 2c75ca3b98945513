"""The MinAtar paper's DQN (Young & Tian 2019, after the original's ``examples/dqn.py``)
and its ablations, as :class:`~rlfa.control.dqn.DQNConfig`\\ s.

========================  =================================================================
network                   conv 16 filters 3x3 stride 1, ReLU, dense 128, ReLU, linear
                          per action (``network="cnn"``: :class:`rlfa.nets.MinAtarCNN`)
loss, discount            Huber, gamma 0.99; plain (not Double) Q-learning targets
optimizer                 centered RMSProp, lr 2.5e-4, decay 0.95, eps 0.01 OUTSIDE the
                          square root (PyTorch's form), no gradient clipping
batch, replay             32 transitions from 100,000; 5,000 random-policy frames first
updates                   one per frame; the target network copied every 1,000 frames
exploration               epsilon 1.0 -> 0.1 linearly over 100,000 frames, then 0.1
environment               the ``paper`` protocol (:mod:`rlfa.envs.minatar`): 6 actions,
                          sticky actions p = 0.1, no cap but the game's own
budget                    5 million frames, no frame skip (30 seeds in the paper)
========================  =================================================================
"""

from __future__ import annotations

import dataclasses

from rlfa.control.dqn.config import DQNConfig

GAMES = ("Asterix", "Breakout", "Freeway", "Seaquest", "SpaceInvaders")
PAPER_FRAMES = 5_000_000

PAPER = DQNConfig(
    env="Breakout-MinAtar-paper", network="cnn", num_envs=1, buffer_capacity=100_000,
    batch_size=32, warmup_steps=5_000, train_frequency=1, gradient_steps=1,
    target_period=1_000, epsilon_decay_steps=100_000, epsilon_start=1.0, epsilon_end=0.1,
    learning_rate=2.5e-4, optimizer="centered_rmsprop", rmsprop_decay=0.95, rmsprop_eps=0.01,
    max_grad_norm=0.0, gamma=0.99, huber=True, double=False)

# The paper's ablations (its Figure 2): each removes one of DQN's two stabilisers.
RUNGS = {
    "DQN": {"replay": True, "target_net": True},
    "no replay": {"replay": False, "target_net": True},
    "no target network": {"replay": True, "target_net": False},
    "neither": {"replay": False, "target_net": False},
}


def paper_config(game: str, rung: str = "DQN", **overrides) -> DQNConfig:
    """The paper's agent on ``game`` (one of :data:`GAMES`), ablated as :data:`RUNGS`
    ``[rung]``, with any other field replaced by ``overrides``.

    Raises:
      ValueError: an unknown game or rung, naming it and the choices.
    """
    if game not in GAMES:
        raise ValueError(f"game={game!r} is invalid: must be one of {', '.join(GAMES)}.")
    if rung not in RUNGS:
        raise ValueError(f"rung={rung!r} is invalid: must be one of {', '.join(RUNGS)}.")
    return dataclasses.replace(PAPER, env=f"{game}-MinAtar-paper", **RUNGS[rung], **overrides)


__all__ = ["GAMES", "PAPER", "PAPER_FRAMES", "RUNGS", "paper_config"]
