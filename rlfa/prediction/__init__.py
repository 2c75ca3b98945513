"""Linear policy evaluation, one course algorithm per module.

* :mod:`~rlfa.prediction.gradient_mc`: gradient Monte Carlo, first or every visit;
* :mod:`~rlfa.prediction.td`: semi-gradient TD(0) and residual-gradient TD;
* :mod:`~rlfa.prediction.off_policy`: the same with importance sampling, and
  the loop on Baird's counterexample;
* :mod:`~rlfa.prediction.base`: what they share (hyperparameters, weights);
* :mod:`~rlfa.prediction.episodes`: the episodic loop that runs them.
"""

from rlfa.prediction.base import LinearState, PredictionHParams, PredictionSweep, value
from rlfa.prediction.episodes import EpisodicCarry, NoiseDynamics, episodic_prediction, rollout
from rlfa.prediction.gradient_mc import Episode, gradient_monte_carlo
from rlfa.prediction.off_policy import (
    OffPolicyTransition,
    baird_program,
    off_policy_residual_gradient_td,
    off_policy_semi_gradient_td0,
)
from rlfa.prediction.td import residual_gradient_td, semi_gradient_td0

__all__ = [
    "Episode", "EpisodicCarry", "LinearState", "NoiseDynamics", "OffPolicyTransition",
    "PredictionHParams", "PredictionSweep", "baird_program", "episodic_prediction",
    "gradient_monte_carlo", "off_policy_residual_gradient_td", "off_policy_semi_gradient_td0",
    "residual_gradient_td", "rollout", "semi_gradient_td0", "value",
]
