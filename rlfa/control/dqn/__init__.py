"""Deep Q-learning (Mnih et al. 2015), rung by rung, as one agent with static switches.

* :mod:`~rlfa.control.dqn.config`: :class:`DQNConfig` (static, validated),
  :class:`DQNHParams` (traced, sweepable) and :class:`DQNSweep` (``--sweep.*``);
* :mod:`~rlfa.control.dqn.loss`: the loss of one transition, vmapped over a batch;
* :mod:`~rlfa.control.dqn.agent`: the agent's pure functions (init, act, update, advance);
* :mod:`~rlfa.control.dqn.train`: the training loop as a runner program, in named pieces;
* :mod:`~rlfa.control.dqn.ladder`: the four rungs from online neural Q-learning to DQN;
* :mod:`~rlfa.control.dqn.runs`: what the studies, benchmarks and notebook share (the
  CartPole settings, study jobs, greedy returns, summaries, curves). Import it by name
  (``from rlfa.control.dqn import runs``): it builds on :mod:`rlfa.study` and the runner,
  which the agent itself never loads.
"""

from rlfa.control.dqn.agent import DQNAgent, DQNState, make_agent
from rlfa.control.dqn.config import DQNConfig, DQNHParams, DQNSweep, check_hparams
from rlfa.control.dqn.ladder import RUNGS, rung
from rlfa.control.dqn.loss import batch_loss, batch_targets, bootstrap_target, transition_loss
from rlfa.control.dqn.train import (
    DQNCarry,
    DQNParts,
    DQNSetup,
    Learn,
    assemble,
    build_parts,
    gradient_updates,
    make_program,
    no_learning,
    plan,
    repeat_updates,
    storage_dtype,
)

__all__ = [
    "RUNGS",
    "DQNAgent",
    "DQNCarry",
    "DQNConfig",
    "DQNHParams",
    "DQNParts",
    "DQNSetup",
    "DQNState",
    "DQNSweep",
    "Learn",
    "assemble",
    "batch_loss",
    "batch_targets",
    "bootstrap_target",
    "build_parts",
    "check_hparams",
    "gradient_updates",
    "make_agent",
    "make_program",
    "no_learning",
    "plan",
    "repeat_updates",
    "rung",
    "storage_dtype",
    "transition_loss",
]
