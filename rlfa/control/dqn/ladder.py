"""The ladder from Q-learning with a neural network to DQN: four rungs, one idea each.

Mnih et al. (2015) added to online Q-learning with a neural network, one at a
time: experience replay, a fixed target network, then (with later work) the
Huber loss and Double DQN targets. Each rung here is a :class:`DQNConfig` that
differs from the one below it in those static switches only, so budgets
(environment steps, warm-up, updates, network, optimizer, exploration) are
identical up the ladder.
"""

from __future__ import annotations

import dataclasses

from rlfa.control.dqn.config import DQNConfig

RUNGS = {
    "Q-learning + NN (online)": dict(replay=False, target_net=False, double=False, huber=False),
    "+ experience replay": dict(replay=True, target_net=False, double=False, huber=False),
    "+ fixed Q-targets": dict(replay=True, target_net=True, double=False, huber=False),
    "DQN (+ Huber, Double)": dict(replay=True, target_net=True, double=True, huber=True),
}


def rung(base: DQNConfig, env: str, name: str) -> DQNConfig:
    """The rung called ``name`` (a key of :data:`RUNGS`) of ``base`` on ``env``."""
    return dataclasses.replace(base, env=env, **RUNGS[name])
