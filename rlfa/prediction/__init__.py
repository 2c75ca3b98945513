"""Linear policy evaluation, one course algorithm per module.

* :mod:`~rlfa.prediction.gradient_mc`: gradient Monte Carlo, first or every visit, from
  whole episodes or (the same weights at each episode end) one transition at a time;
* :mod:`~rlfa.prediction.td`: semi-gradient TD(0) and residual-gradient TD;
* :mod:`~rlfa.prediction.n_step_td`: n-step semi-gradient TD, n swept in one program (§9.4);
* :mod:`~rlfa.prediction.lstd`: least-squares TD with the Sherman-Morrison inverse (§9.8);
* :mod:`~rlfa.prediction.off_policy`: the same with importance sampling;
* :mod:`~rlfa.prediction.semi_gradient_dp`: finite MDPs as arrays (:class:`FiniteMDP`),
  their Bellman error, and semi-gradient DP's expected sweep (§11.2, Figure 11.2 right);
* :mod:`~rlfa.prediction.gradient_td`: TDC / GTD(0), sampled and in expectation, and
  sqrt(VE), sqrt(PBE) of a finite MDP (§11.4, §11.7, Figure 11.5);
* :mod:`~rlfa.prediction.emphatic_td`: one-step emphatic TD in expectation (§11.8, Figure 11.6);
* :mod:`~rlfa.prediction.base`: what they share (hyperparameters, weights);
* :mod:`~rlfa.prediction.episodes`: the episodic loop that runs them;
* :mod:`~rlfa.prediction.value_error`: sqrt(VE), the error they are measured by (eq. 9.1).

The book's figures that run them (the random walk's, Baird's) are :mod:`rlfa.book`'s.
"""

from rlfa.prediction.base import LinearState, PredictionHParams, value
from rlfa.prediction.emphatic_td import (
    expected_emphatic_td_trajectory,
    expected_emphatic_td_update,
)
from rlfa.prediction.episodes import (
    EpisodicCarry,
    StepCarry,
    episodic_prediction,
    rollout,
)
from rlfa.prediction.gradient_mc import (
    Episode,
    OnlineMCState,
    gradient_monte_carlo,
    online_gradient_monte_carlo,
)
from rlfa.prediction.gradient_td import (
    TDCHParams,
    TDCState,
    expected_tdc_trajectory,
    expected_tdc_update,
    mdp_rms_value_error,
    rms_projected_bellman_error,
    tdc,
)
from rlfa.prediction.lstd import (
    LSTDHParams,
    LSTDState,
    fixed_point_errors,
    lstd,
    td_fixed_point,
)
from rlfa.prediction.n_step_td import (
    NStepHParams,
    NStepState,
    n_step_semi_gradient_td,
    n_step_td_by_episode,
)
from rlfa.prediction.off_policy import (
    OffPolicyTransition,
    off_policy_residual_gradient_td,
    off_policy_semi_gradient_td0,
)
from rlfa.prediction.semi_gradient_dp import (
    FiniteMDP,
    bellman_error,
    semi_gradient_dp_trajectory,
    semi_gradient_dp_update,
)
from rlfa.prediction.td import residual_gradient_td, semi_gradient_td0
from rlfa.prediction.value_error import (
    all_state_features,
    rms_value_error,
    rms_value_error_fn,
    state_values,
)

__all__ = [
    "Episode", "EpisodicCarry", "LSTDHParams", "LSTDState", "LinearState", "NStepHParams",
    "NStepState", "OffPolicyTransition", "OnlineMCState", "PredictionHParams", "StepCarry",
    "all_state_features", "episodic_prediction", "gradient_monte_carlo", "lstd",
    "n_step_semi_gradient_td", "off_policy_residual_gradient_td", "off_policy_semi_gradient_td0",
    "online_gradient_monte_carlo", "residual_gradient_td", "rms_value_error",
    "rms_value_error_fn", "rollout", "semi_gradient_td0", "state_values", "value",
]
# n-step TD by whole episodes and LSTD's closed-form target (the n_step_td study).
__all__ += ["fixed_point_errors", "n_step_td_by_episode", "td_fixed_point"]
# Chapter 11's expected updates and TDC (semi_gradient_dp, gradient_td, emphatic_td).
__all__ += [
    "FiniteMDP",
    "TDCHParams",
    "TDCState",
    "bellman_error",
    "expected_emphatic_td_trajectory",
    "expected_emphatic_td_update",
    "expected_tdc_trajectory",
    "expected_tdc_update",
    "mdp_rms_value_error",
    "rms_projected_bellman_error",
    "semi_gradient_dp_trajectory",
    "semi_gradient_dp_update",
    "tdc",
]
