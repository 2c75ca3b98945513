"""Universal approximation made visible: one hidden layer of N sigmoids fit to a curve on [0, 1].

Cybenko (1989), "Approximation by superpositions of a sigmoidal function": sums
``sum_j v_j sigmoid(a_j x + b_j)`` are dense in the continuous functions on [0, 1], so
the error of the best N-unit network goes to 0 as N grows. :func:`make_program` trains
one width on ``sin(2 pi x)`` plus a narrow Gaussian bump two ways, from the same initial
weights and the same mini-batches: the hand-written backpropagation of
:mod:`rlfa.backprop` with plain mini-batch SGD, and the same network in flax
(:class:`SigmoidNet`) trained by optax's Adam. This is the one module of
:mod:`rlfa.backprop` that uses flax, optax and ``jax.grad`` (import it by name:
``from rlfa.backprop import universal_approximation``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from rlfa import config as cfg
from rlfa.backprop.feedforward import Layer, Params, architecture, predict, risk
from rlfa.backprop.sgd import minibatch_sgd, sample_minibatches
from rlfa.hparams import Positive
from rlfa.types import Program

METHODS = ("sgd", "adam")
LABELS = {"sgd": "hand-written backprop + mini-batch SGD", "adam": "flax + optax Adam"}


@dataclasses.dataclass(frozen=True)
class FitSettings:
    """The curve to fit, its training and test inputs, and how training draws mini-batches."""

    num_train: int = 256
    """Evenly spaced training inputs in [0, 1]."""
    num_test: int = 1001
    """Evenly spaced test inputs in [0, 1] on which the error is measured."""
    bump_center: float = 0.7
    """Centre of the Gaussian bump added to sin(2 pi x)."""
    bump_width: float = 0.05
    """Standard deviation of the bump (narrow bumps need more units)."""
    init_slope: float = 20.0
    """Initial hidden slopes a_j ~ N(0, init_slope^2); each unit's step sits at a uniform point of [0, 1]."""
    batch_size: int = 32
    """Examples per mini-batch, drawn uniformly with replacement."""
    updates_per_draw: int = 100
    """Updates whose mini-batch indices are drawn at once (randomness in bulk is cheaper)."""

    def __post_init__(self):
        for name in ("num_train", "num_test", "batch_size", "updates_per_draw"):
            cfg.check_positive_int(name, getattr(self, name))
        for name in ("bump_width", "init_slope"):
            cfg.check_positive(name, getattr(self, name))
        cfg.check_in_range("bump_center", self.bump_center, 0.0, 1.0)


class HParams(NamedTuple):
    """The two methods' step sizes, traced (a sweep over them compiles once per width)."""

    sgd_learning_rate: Positive = 0.1
    """Step size > 0 of the hand-written mini-batch SGD."""
    adam_learning_rate: Positive = 0.01
    """Step size > 0 of optax.adam."""


class Carry(NamedTuple):
    """One seed's whole training state."""

    sgd: Params
    adam: dict
    adam_state: optax.OptState
    key: jax.Array


class SigmoidNet(nn.Module):
    """The same network as ``architecture((1, width, 1), hidden="sigmoid")``, in flax."""

    width: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        hidden = nn.sigmoid(nn.Dense(self.width, name="hidden")(x))
        return nn.Dense(1, name="output")(hidden)


def target(x: jax.Array, bump_center: float, bump_width: float) -> jax.Array:
    """sin(2 pi x) + exp(-(x - c)^2 / (2 w^2)), the function to approximate (same shape as x)."""
    bump = jnp.exp(-0.5 * ((x - bump_center) / bump_width) ** 2)
    return jnp.sin(2 * jnp.pi * x) + bump


def describe(settings: FitSettings) -> dict[str, Any]:
    """The target, the error and the methods in words (for a run's ``summary.json``)."""
    return {"target": f"sin(2 pi x) + exp(-(x - {settings.bump_center})^2 / (2 * "
                      f"{settings.bump_width}^2)) on [0, 1]",
            "error": "test risk E = 1/(2n) sum (f(x) - y)^2 over num_test evenly spaced x",
            "methods": LABELS}


def init_network(key: jax.Array, width: int, slope: float) -> Params:
    """Hidden unit j is sigmoid(a_j (x - c_j)), a_j ~ N(0, slope^2), c_j ~ U(0, 1).

    A LeCun-scaled slope (~1) would leave every sigmoid almost linear on [0, 1]; a steep
    slope with its step inside [0, 1] starts each unit as the "bump builder" of
    Cybenko's argument. Output weights are N(0, 1/N), output bias 0.
    """
    slope_key, centre_key, out_key = jax.random.split(key, 3)
    a = slope * jax.random.normal(slope_key, (1, width))
    c = jax.random.uniform(centre_key, (width,))
    v = jax.random.normal(out_key, (width, 1)) / jnp.sqrt(width)
    return (Layer(a, -a[0] * c), Layer(v, jnp.zeros(1)))


def to_flax(params: Params) -> dict:
    """``(Layer(w, b), Layer(w, b))`` as :class:`SigmoidNet`'s variables (``w`` is ``kernel``)."""
    return {
        "params": {
            name: {"kernel": layer.w, "bias": layer.b}
            for name, layer in zip(("hidden", "output"), params)
        }
    }


def make_program(settings: FitSettings, width: int) -> Program:
    """One seed at one width, for :func:`rlfa.runner.run` with :class:`HParams`.

    A program step is ``settings.updates_per_draw`` updates of each method. Logged:
    ``test_risk_sgd`` and ``test_risk_adam`` (the risk E on the test inputs, scalars)
    and ``curve_sgd``, ``curve_adam`` (the fitted f on the test inputs, ``[num_test]``).
    """
    arch = architecture((1, width, 1), hidden="sigmoid")
    net = SigmoidNet(width)
    x_train = jnp.linspace(0.0, 1.0, settings.num_train)[:, None]
    y_train = target(x_train, settings.bump_center, settings.bump_width)
    x_test = jnp.linspace(0.0, 1.0, settings.num_test)[:, None]
    y_test = target(x_test, settings.bump_center, settings.bump_width)

    def adam_loss(variables, x, y):
        residual = net.apply(variables, x) - y
        return 0.5 * jnp.mean(jnp.sum(residual * residual, axis=-1))  # risk's E(w)

    def init(key, hp):
        init_key, data_key = jax.random.split(key)
        params = init_network(init_key, width, settings.init_slope)
        variables = to_flax(params)
        return Carry(params, variables, optax.adam(hp.adam_learning_rate).init(variables), data_key)

    def step(carry, hp):
        key, draw_key = jax.random.split(carry.key)
        indices = sample_minibatches(
            draw_key, settings.num_train, settings.updates_per_draw, settings.batch_size
        )
        sgd, _ = minibatch_sgd(arch, carry.sgd, x_train, y_train, indices, hp.sgd_learning_rate)
        optimizer = optax.adam(hp.adam_learning_rate)

        def adam_update(state, index):
            variables, opt_state = state
            grads = jax.grad(adam_loss)(variables, x_train[index], y_train[index])
            updates, opt_state = optimizer.update(grads, opt_state, variables)
            return (optax.apply_updates(variables, updates), opt_state), None

        (adam, adam_state), _ = jax.lax.scan(adam_update, (carry.adam, carry.adam_state), indices)
        return Carry(sgd, adam, adam_state, key)

    def log(carry, hp):
        return {
            "test_risk_sgd": risk(arch, carry.sgd, x_test, y_test),
            "test_risk_adam": adam_loss(carry.adam, x_test, y_test),
            "curve_sgd": predict(arch, carry.sgd, x_test)[:, 0],
            "curve_adam": net.apply(carry.adam, x_test)[:, 0],
        }

    return Program(init, step, log, weights=lambda c: (c.sgd, c.adam))
