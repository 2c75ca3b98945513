"""Universal approximation made visible: one hidden layer of N sigmoids fit to a curve on [0, 1].

    python -m experiments.universal_approximation           # N = 1..64, 10 seeds each
    python -m experiments.universal_approximation --quick   # seconds, for tests

Cybenko (1989), "Approximation by superpositions of a sigmoidal function": sums
``sum_j v_j sigmoid(a_j x + b_j)`` are dense in the continuous functions on [0, 1], so
the error of the best N-unit network goes to 0 as N grows. Here each N is trained on
``sin(2 pi x)`` plus a narrow Gaussian bump, two ways from the same initial weights
and the same mini-batches: the hand-written backpropagation of :mod:`rlfa.backprop`
with plain mini-batch SGD, and the same network in flax trained by optax's Adam.
Every seed of one N runs in one program through :func:`rlfa.runner.run`; widths change
shapes, so the N run one after another.

Writes ``runs/universal_approximation/<timestamp>/`` with the final test risk per N
and method (mean, 95% CI) in ``summary.json``, the learning curves in ``metrics.csv``,
the fitted curves in ``metrics.npz`` and ``figure.png`` (error vs N, fitted curves).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from rlfa import backprop as bp
from rlfa import config as cfg
from rlfa import distributed, report, runner, stats
from rlfa.study import StudyOptions, cli, finish, latest_mean

EXPERIMENT = "universal_approximation"
METHODS = ("sgd", "adam")
LABELS = {"sgd": "hand-written backprop + mini-batch SGD", "adam": "flax + optax Adam"}


@dataclasses.dataclass(frozen=True)
class UniversalApproximationConfig(StudyOptions):
    """Fit one hidden layer of N sigmoids to sin(2 pi x) plus a bump, for several N.

    ``--quick``: widths 1 and 16, 3 seeds, 4,000 updates (seconds, for tests).
    """

    widths: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
    """Hidden-layer widths N, one run each."""
    num_seeds: int = 10
    """Independent initialisations and mini-batch streams per width."""
    num_updates: int = 100_000
    """Mini-batch updates per seed (each method)."""
    batch_size: int = 32
    """Examples per mini-batch, drawn uniformly with replacement."""
    sgd_learning_rate: float = 0.1
    """Step size of the hand-written mini-batch SGD."""
    adam_learning_rate: float = 0.01
    """Step size of optax.adam."""
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
    num_logs: int = 40
    """Logged points per run (learning curves)."""
    updates_per_draw: int = 100
    """Updates whose mini-batch indices are drawn at once (randomness in bulk is cheaper)."""

    def __post_init__(self):
        super().__post_init__()
        cfg.check_nonempty("widths", self.widths)
        for name in (
            "num_seeds",
            "num_updates",
            "batch_size",
            "num_train",
            "num_test",
            "num_logs",
            "updates_per_draw",
        ):
            cfg.check_positive_int(name, getattr(self, name))
        for width in self.widths:
            cfg.check_positive_int("widths", width)
        for name in ("sgd_learning_rate", "adam_learning_rate", "bump_width", "init_slope"):
            cfg.check_positive(name, getattr(self, name))
        cfg.check_in_range("bump_center", self.bump_center, 0.0, 1.0)
        settings = self.effective
        per_log = settings.num_logs * settings.updates_per_draw
        if settings.num_updates % per_log:
            raise ValueError(
                f"num_updates={settings.num_updates} is invalid: must be a multiple "
                f"of num_logs * updates_per_draw = {per_log}."
            )

    @property
    def effective(self) -> UniversalApproximationConfig:
        """The settings actually run: ``--quick`` replaces widths, seeds, updates and logs."""
        if not self.quick:
            return self
        return dataclasses.replace(
            self, quick=False, widths=(1, 16), num_seeds=3, num_updates=4_000, num_logs=10
        )


class HParams(NamedTuple):
    """Step sizes, traced (a sweep over them would compile once)."""

    sgd_learning_rate: jax.Array
    adam_learning_rate: jax.Array


class Carry(NamedTuple):
    """One seed's whole training state."""

    sgd: bp.Params
    adam: dict
    adam_state: optax.OptState
    key: jax.Array


class SigmoidNet(nn.Module):
    """The same network as ``bp.architecture((1, width, 1), hidden="sigmoid")``, in flax."""

    width: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        hidden = nn.sigmoid(nn.Dense(self.width, name="hidden")(x))
        return nn.Dense(1, name="output")(hidden)


def target(x: jax.Array, config: UniversalApproximationConfig) -> jax.Array:
    """sin(2 pi x) + exp(-(x - c)^2 / (2 w^2)), the function to approximate."""
    bump = jnp.exp(-0.5 * ((x - config.bump_center) / config.bump_width) ** 2)
    return jnp.sin(2 * jnp.pi * x) + bump


def init_network(key: jax.Array, width: int, slope: float) -> bp.Params:
    """Hidden unit j is sigmoid(a_j (x - c_j)), a_j ~ N(0, slope^2), c_j ~ U(0, 1).

    A LeCun-scaled slope (~1) would leave every sigmoid almost linear on [0, 1]; a steep
    slope with its step inside [0, 1] starts each unit as the "bump builder" of
    Cybenko's argument. Output weights are N(0, 1/N), output bias 0.
    """
    slope_key, centre_key, out_key = jax.random.split(key, 3)
    a = slope * jax.random.normal(slope_key, (1, width))
    c = jax.random.uniform(centre_key, (width,))
    v = jax.random.normal(out_key, (width, 1)) / jnp.sqrt(width)
    return (bp.Layer(a, -a[0] * c), bp.Layer(v, jnp.zeros(1)))


def to_flax(params: bp.Params) -> dict:
    """bp's ``(Layer(w, b), ...)`` as flax Dense variables: ``w`` is flax's ``kernel``."""
    return {
        "params": {
            name: {"kernel": layer.w, "bias": layer.b}
            for name, layer in zip(("hidden", "output"), params)
        }
    }


def make_program(config: UniversalApproximationConfig, width: int) -> runner.Program:
    """One seed at one width: a program step is ``updates_per_draw`` updates of each method."""
    arch = bp.architecture((1, width, 1), hidden="sigmoid")
    net = SigmoidNet(width)
    x_train = jnp.linspace(0.0, 1.0, config.num_train)[:, None]
    y_train = target(x_train, config)
    x_test = jnp.linspace(0.0, 1.0, config.num_test)[:, None]
    y_test = target(x_test, config)

    def adam_loss(variables, x, y):
        residual = net.apply(variables, x) - y
        return 0.5 * jnp.mean(jnp.sum(residual * residual, axis=-1))  # bp.risk's E(w)

    def init(key, hp):
        init_key, data_key = jax.random.split(key)
        params = init_network(init_key, width, config.init_slope)
        variables = to_flax(params)
        return Carry(params, variables, optax.adam(hp.adam_learning_rate).init(variables), data_key)

    def step(carry, hp):
        key, draw_key = jax.random.split(carry.key)
        indices = bp.sample_minibatches(
            draw_key, config.num_train, config.updates_per_draw, config.batch_size
        )
        sgd, _ = bp.minibatch_sgd(arch, carry.sgd, x_train, y_train, indices, hp.sgd_learning_rate)
        optimizer = optax.adam(hp.adam_learning_rate)

        def adam_update(state, index):
            variables, opt_state = state
            grads = jax.grad(adam_loss)(variables, x_train[index], y_train[index])
            updates, opt_state = optimizer.update(grads, opt_state, variables)
            return (optax.apply_updates(variables, updates), opt_state), None

        (adam, adam_state), _ = jax.lax.scan(adam_update, (carry.adam, carry.adam_state), indices)
        return Carry(sgd, adam, adam_state, key)

    def log(carry, hp):
        curve_sgd = bp.predict(arch, carry.sgd, x_test)
        curve_adam = net.apply(carry.adam, x_test)
        return {
            "test_risk_sgd": bp.risk(arch, carry.sgd, x_test, y_test),
            "test_risk_adam": adam_loss(carry.adam, x_test, y_test),
            "curve_sgd": curve_sgd[:, 0],
            "curve_adam": curve_adam[:, 0],
        }

    return runner.Program(init, step, log, weights=lambda c: (c.sgd, c.adam))


def train_width(config: UniversalApproximationConfig, width: int,
                checkpoints: Path | None = None, logger=None) -> runner.Results:
    """Every seed of one width in one compiled program (checkpointed in ``checkpoints``,
    logged live by ``logger``, see :meth:`StudyOptions.logging`)."""
    hparams = runner.stack_hparams([HParams(config.sgd_learning_rate, config.adam_learning_rate)])
    steps = config.num_updates // config.updates_per_draw
    return runner.run(
        make_program(config, width),
        hparams,
        num_seeds=config.num_seeds,
        num_logs=config.num_logs,
        steps_per_log=steps // config.num_logs,
        log_x=logged_updates(config),
        unit="updates",
        postfix=latest_mean("test_risk_sgd", "risk SGD"),
        **config.run_options(checkpoints, f"N={width}", logger=logger),
    )


def logged_updates(config: UniversalApproximationConfig) -> np.ndarray:
    """Updates done at each logged point, ``[num_logs]``."""
    return (np.arange(config.num_logs) + 1) * (config.num_updates // config.num_logs)


def draw_figure(config: UniversalApproximationConfig, summary: dict, curves: dict):
    """Final test risk vs N (mean, 95% bootstrap CI) and the fitted curves of seed 0."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    widths = np.asarray(config.widths)
    for method, marker in zip(METHODS, ("o", "s")):
        heads = [summary["headlines"][f"N={n}: {LABELS[method]}"]["mean"] for n in config.widths]
        mean = np.array([h["value"] for h in heads], dtype=float)
        low, high = np.array([h["ci95"] for h in heads], dtype=float).T
        # A bootstrap interval stays within the (positive) risks, so it fits log axes.
        yerr = np.stack([mean - low, high - mean])
        axes[0].errorbar(widths, mean, yerr=yerr, marker=marker, capsize=3, label=LABELS[method])
    axes[0].set(
        xscale="log",
        yscale="log",
        xlabel="hidden sigmoids N",
        ylabel="final test risk E (mean, 95% bootstrap CI)",
        title="Error vs width",
    )
    axes[0].set_xticks(widths, [str(n) for n in widths])
    axes[0].legend()
    x = np.linspace(0.0, 1.0, config.num_test)
    y = np.asarray(target(jnp.asarray(x), config))
    shown = config.widths if len(config.widths) <= 4 else config.widths[::2]
    for ax, method in zip(axes[1:], METHODS):
        ax.plot(x, y, "k", lw=2.5, label="target")
        for n in shown:
            ax.plot(x, curves[method][n][0], lw=1.2, label=f"N={n}")
        ax.set(xlabel="x", ylabel="f(x)", title=f"Fits, seed 0: {LABELS[method]}")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def main(config: UniversalApproximationConfig) -> Path | None:
    """Train every width, write the run directory, print a table, return the directory."""
    settings = config.effective
    rows, arrays, compile_s, run_s = [], {}, {}, {}
    final = {m: {} for m in METHODS}
    headlines = {}
    curves = {m: {} for m in METHODS}
    diverged = {}
    updates = logged_updates(settings)
    checkpoints = config.checkpoint_root(EXPERIMENT)
    with settings.logging(EXPERIMENT, checkpoints) as logger:
        results = [train_width(settings, width, checkpoints, logger) for width in settings.widths]
    for width, res in zip(settings.widths, results):
        compile_s[str(width)], run_s[str(width)] = res.compile_s, res.run_s
        diverged[str(width)] = np.flatnonzero(res.diverged_at[0] >= 0).tolist()
        scalars = {f"test_risk_{m}": res.metrics[f"test_risk_{m}"] for m in METHODS}
        rows += report.metric_rows(scalars, [{"width": width}], "update", updates)
        for m in METHODS:
            final[m][str(width)] = report.summary_stats(res.metrics[f"test_risk_{m}"][0, :, -1])
            headlines[f"N={width}: {LABELS[m]}"] = stats.headline(
                f"test risk after {settings.num_updates} updates",
                res.metrics[f"test_risk_{m}"][0, :, -1], higher_is_better=False,
                task=f"sigmoid fit, N={width}")
            curves[m][width] = res.metrics[f"curve_{m}"][0, :, -1]
            arrays[f"curve_{m}_N{width}"] = curves[m][width]
    summary = {
        "headlines": headlines,
        "target": f"sin(2 pi x) + exp(-(x - {settings.bump_center})^2 / (2 * "
        f"{settings.bump_width}^2)) on [0, 1]",
        "error": "test risk E = 1/(2n) sum (f(x) - y)^2 over num_test evenly spaced x",
        "methods": LABELS,
        "widths": list(settings.widths),
        "num_seeds": settings.num_seeds,
        "num_updates": settings.num_updates,
        "final_test_risk": final,
        "diverged_seeds": diverged,
        "compile_s": compile_s,
        "run_s": run_s,
    }
    arrays["x_test"] = np.linspace(0.0, 1.0, settings.num_test)
    if not distributed.is_main_process():
        return None  # every process has every result; process 0 writes them
    path = report.write_run(
        EXPERIMENT,
        config,
        summary,
        rows,
        {"figure": draw_figure(settings, summary, curves)},
        root=config.out,
        arrays=arrays,
    )
    print(
        f"{'N':>4}  {'SGD test risk':>22}  {'Adam test risk':>22}  {'compile s':>9}  {'run s':>7}"
    )
    for width in settings.widths:
        cells = [
            f"{final[m][str(width)]['mean']:.3e} ± {final[m][str(width)]['ci95']:.1e}"
            for m in METHODS
        ]
        print(
            f"{width:>4}  {cells[0]:>22}  {cells[1]:>22}  {compile_s[str(width)]:>9.2f}"
            f"  {run_s[str(width)]:>7.2f}"
        )
    return finish(path, results)


if __name__ == "__main__":
    cli(UniversalApproximationConfig, main)  # devices, processes: experiments/__init__.py
