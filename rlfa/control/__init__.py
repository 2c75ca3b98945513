"""Control agents: semi-gradient SARSA, linear and tabular Q-learning, and their episode loop.

One course algorithm per module: :mod:`~rlfa.control.sarsa`,
:mod:`~rlfa.control.n_step_sarsa`, :mod:`~rlfa.control.q_learning`,
:mod:`~rlfa.control.tabular_q`, :mod:`~rlfa.control.differential_sarsa`; what the linear
ones share (hyperparameters, weights, action values) is :mod:`~rlfa.control.linear_values`;
the loop that runs them is :mod:`~rlfa.control.episodes`. The book's figures that run them
(Mountain Car's, access control's) are :mod:`rlfa.book`'s. Deep Q-learning is the package
:mod:`~rlfa.control.dqn` (imported by name: it brings flax, optax and a replay
buffer), with fixed Q-targets in :mod:`~rlfa.control.target_network` and epsilon
schedules in :mod:`~rlfa.control.schedules`.
"""

from rlfa.control.differential_sarsa import (
    DifferentialHParams,
    DifferentialQState,
    differential_sarsa,
)
from rlfa.control.episodes import (
    ActionRule,
    ControlCarry,
    act_afresh,
    episodic_control,
)
from rlfa.control.linear_values import (
    ControlHParams,
    LinearQState,
    linear_q,
)
from rlfa.control.n_step_sarsa import (
    NStepSarsaHParams,
    NStepSarsaState,
    n_step_semi_gradient_sarsa,
)
from rlfa.control.policies import epsilon_greedy, epsilon_greedy_from_noise
from rlfa.control.q_learning import linear_q_learning
from rlfa.control.sarsa import SarsaTransition, sarsa_actions, sarsa_transition, semi_gradient_sarsa
from rlfa.control.tabular_q import TabularQState, q_table, tabular_q_learning

__all__ = [
    "ActionRule",
    "ControlCarry",
    "ControlHParams",
    "DifferentialHParams",
    "DifferentialQState",
    "LinearQState",
    "NStepSarsaHParams",
    "NStepSarsaState",
    "SarsaTransition",
    "TabularQState",
    "act_afresh",
    "differential_sarsa",
    "episodic_control",
    "epsilon_greedy",
    "epsilon_greedy_from_noise",
    "linear_q",
    "linear_q_learning",
    "n_step_semi_gradient_sarsa",
    "q_table",
    "sarsa_actions",
    "sarsa_transition",
    "semi_gradient_sarsa",
    "tabular_q_learning",
]
