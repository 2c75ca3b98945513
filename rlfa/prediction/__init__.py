"""Linear policy evaluation, one course algorithm per module.

* :mod:`~rlfa.prediction.gradient_mc`: gradient Monte Carlo, first or every visit;
* :mod:`~rlfa.prediction.td`: semi-gradient TD(0) and residual-gradient TD;
* :mod:`~rlfa.prediction.off_policy`: the same with importance sampling, and
  the loop on Baird's counterexample;
* :mod:`~rlfa.prediction.base`: what they share (hyperparameters, weights);
* :mod:`~rlfa.prediction.episodes`: the episodic loop that runs them;
* :mod:`~rlfa.prediction.value_error`: sqrt(VE), the error they are measured by (eq. 9.1);
* :mod:`~rlfa.prediction.random_walk`: the book's chapter 9 curves on the 1000-state walk.
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
from rlfa.prediction.random_walk import Curve, book_curves, book_workload, random_walk_program
from rlfa.prediction.td import residual_gradient_td, semi_gradient_td0
from rlfa.prediction.value_error import (
    all_state_features,
    rms_value_error,
    rms_value_error_fn,
    state_values,
)

__all__ = [
    "Curve", "Episode", "EpisodicCarry", "LinearState", "NoiseDynamics", "OffPolicyTransition",
    "PredictionHParams", "PredictionSweep", "all_state_features", "baird_program", "book_curves",
    "book_workload", "episodic_prediction", "gradient_monte_carlo",
    "off_policy_residual_gradient_td", "off_policy_semi_gradient_td0", "random_walk_program",
    "residual_gradient_td", "rms_value_error", "rms_value_error_fn", "rollout",
    "semi_gradient_td0", "state_values", "value",
]
