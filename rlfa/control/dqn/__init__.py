"""Deep Q-learning (Mnih et al. 2015), rung by rung, as one agent with static switches.

* :mod:`~rlfa.control.dqn.dqn`: the algorithm top to bottom (state, per-transition
  loss, acting, the training step as a runner program);
* :mod:`~rlfa.control.dqn.config`: :class:`DQNConfig` (static, validated) and
  :class:`DQNHParams` (traced, sweepable, declared with their bounds);
* :mod:`~rlfa.control.dqn.ladder`: the rungs from online neural Q-learning to DQN;
* :mod:`~rlfa.control.dqn.minatar_paper`: the MinAtar paper's agent and its ablations.

Running many seeds of it in a study is :mod:`rlfa.dqn_study`'s.
"""

from rlfa.control.dqn.config import CARTPOLE, DQNConfig, DQNHParams
from rlfa.control.dqn.dqn import (
    DQN,
    DQNAgent,
    DQNCarry,
    DQNState,
    RecentReturns,
    bootstrap_target,
    make_agent,
    make_program,
    record_returns,
    storage_dtype,
    transition_loss,
    update_direction,
)
from rlfa.control.dqn.ladder import RUNGS, rung

__all__ = [
    "CARTPOLE",
    "DQN",
    "RUNGS",
    "DQNAgent",
    "DQNCarry",
    "DQNConfig",
    "DQNHParams",
    "DQNState",
    "RecentReturns",
    "bootstrap_target",
    "make_agent",
    "make_program",
    "record_returns",
    "rung",
    "storage_dtype",
    "transition_loss",
    "update_direction",
]
