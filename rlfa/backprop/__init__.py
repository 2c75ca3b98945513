"""Neural networks from first principles, in plain JAX (no flax, no autodiff inside).

* :mod:`~rlfa.backprop.activations`: theta and theta' (ReLU, sigmoid, arctan, tanh,
  identity, sign), a stable softmax and its Jacobian.
* :mod:`~rlfa.backprop.perceptron`: the perceptron learning rule.
* :mod:`~rlfa.backprop.feedforward`: an L-layer network, its forward pass, the
  backward pass by the delta recursion, and the empirical risk.
* :mod:`~rlfa.backprop.sgd`: SGD and mini-batch SGD as pure step functions.
* :mod:`~rlfa.backprop.universal_approximation`: N sigmoids fit to a curve, the
  hand-written network against its flax twin trained by optax's Adam. The one
  module here that uses flax and optax, so it is imported by name
  (``from rlfa.backprop import universal_approximation``), not with the package.

Everything is a pure function of weight pytrees; keys come from the caller.
"""

from rlfa.backprop.activations import (
    ACTIVATIONS,
    Activation,
    get_activation,
    softmax,
    softmax_jacobian,
)
from rlfa.backprop.feedforward import (
    Architecture,
    Layer,
    Params,
    Trace,
    architecture,
    backward,
    check_batch,
    check_params,
    forward,
    init_params,
    predict,
    risk,
    risk_and_grad,
)
from rlfa.backprop.perceptron import (
    PerceptronResult,
    add_bias_feature,
    perceptron_epoch,
    perceptron_update,
    train_perceptron,
)
from rlfa.backprop.sgd import (
    check_learning_rate,
    gradient_step,
    minibatch_sgd,
    minibatch_sgd_step,
    sample_minibatches,
    sgd_step,
)

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "Architecture",
    "Layer",
    "Params",
    "PerceptronResult",
    "Trace",
    "add_bias_feature",
    "architecture",
    "backward",
    "check_batch",
    "check_learning_rate",
    "check_params",
    "forward",
    "get_activation",
    "gradient_step",
    "init_params",
    "minibatch_sgd",
    "minibatch_sgd_step",
    "perceptron_epoch",
    "perceptron_update",
    "predict",
    "risk",
    "risk_and_grad",
    "sample_minibatches",
    "sgd_step",
    "softmax",
    "softmax_jacobian",
    "train_perceptron",
]
