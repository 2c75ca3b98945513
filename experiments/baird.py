"""Baird's counterexample (Sutton & Barto Example 11.1, Figure 11.2): off-policy divergence.

    python -m experiments.baird                   # the book's setting, 10 seeds
    python -m experiments.baird --num-steps 5000  # longer: the weights run away
    python -m experiments.baird --quick           # seconds, for tests

Semi-gradient off-policy TD(0) with importance sampling, ``w += alpha * rho *
delta * phi(S)``, diverges from the book's initial weights (Figure 11.2, left);
residual-gradient TD, ``w += alpha * rho * delta * (phi(S) - gamma * phi(S'))``,
the true gradient of the squared TD error here since transitions are
deterministic given the action, does not. Both are rlfa's prediction agents with
the step size scaled by rho. The runner flags, per seed, the first logged point
at which a weight is non-finite or beyond ``divergence_bound``; the summary
reports it and the figure never plots a non-finite weight.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from rlfa import config as cfg
from rlfa import distributed, prediction, report, runner, stats
from rlfa.envs import baird
from rlfa.features import FeatureMap, linear_value
from rlfa.study import StudyOptions, cli, finish, latest_mean
from rlfa.types import Agent, Program, Transition

METHODS = ("semi_gradient_td", "residual_gradient_td")


@dataclasses.dataclass(frozen=True)
class BairdConfig(StudyOptions):
    """Reproduce Figure 11.2: semi-gradient off-policy TD diverges on Baird's counterexample."""

    num_steps: int = 1000
    """Transitions per run (the book's Figure 11.2: 1000)."""
    num_seeds: int = 10
    """Independent runs per method."""
    step_size: float = 0.01
    """alpha (the book: 0.01)."""
    gamma: float = baird.GAMMA
    """Discount (the book: 0.99)."""
    log_every: int = 10
    """Transitions between logged weights."""
    divergence_bound: float = 100.0
    """A weight beyond this magnitude (ten times the largest initial weight) counts as diverged."""

    def __post_init__(self):
        super().__post_init__()
        cfg.check_positive_int("num_steps", self.num_steps)
        cfg.check_positive_int("num_seeds", self.num_seeds)
        cfg.check_positive("step_size", self.step_size)
        cfg.check_in_range("gamma", self.gamma, 0.0, 1.0)
        cfg.check_positive_int("log_every", self.log_every)
        cfg.check_positive("divergence_bound", self.divergence_bound)
        if self.num_steps % self.log_every:
            raise ValueError(f"num_steps={self.num_steps} is invalid: must be a multiple of "
                             f"log_every={self.log_every}.")
        if self.num_devices is not None:
            cfg.check_positive_int("num_devices", self.num_devices)

    @property
    def effective(self) -> BairdConfig:
        """The config actually run: ``quick`` shrinks it."""
        if not self.quick:
            return self
        return dataclasses.replace(self, num_steps=1000, num_seeds=2, quick=False)


class BairdCarry(NamedTuple):
    """One run: the agent's weights, the current state's observation, the key."""

    agent: prediction.LinearState
    obs: jax.Array
    key: jax.Array


def off_policy_program(agent: Agent, feature_map: FeatureMap, block_steps: int) -> Program:
    """Off-policy TD on Baird's counterexample; one program step = ``block_steps`` transitions.

    The behaviour policy's actions and the landing states are drawn in bulk per
    block; each transition updates with step size ``alpha * rho``.
    """
    env, params = baird.Baird(), baird.EnvParams()

    def init(key, hparams):
        del hparams
        key_start, key_run = jax.random.split(key)
        obs, _ = env.reset_from_noise(jax.random.uniform(key_start, (1,)), params)
        return BairdCarry(prediction.LinearState(jnp.asarray(baird.INITIAL_WEIGHTS)), obs, key_run)

    def transition(c: BairdCarry, hparams, noise):
        action = baird.behaviour_action(noise[0])
        obs_t = env.get_obs(baird.EnvState(position=baird.next_state(action, noise[1]), time=0))
        tr = Transition(c.obs, action, jnp.float32(0.0), jnp.bool_(False), jnp.bool_(False), obs_t)
        scaled = hparams._replace(step_size=hparams.step_size * baird.importance_ratio(action))
        agent_state, _ = agent.update(c.agent, scaled, tr)
        return BairdCarry(agent_state, obs_t, c.key)

    def step(c: BairdCarry, hparams):
        key, key_noise = jax.random.split(c.key)
        noise = jax.random.uniform(key_noise, (block_steps, 2))
        c = jax.lax.fori_loop(0, block_steps, lambda j, c: transition(c, hparams, noise[j]), c)
        return c._replace(key=key)

    def log(c: BairdCarry, hparams):
        del hparams
        values = jax.vmap(lambda s: linear_value(c.agent.w, feature_map(s)))(jnp.arange(7.0))
        # True values are 0; the behaviour policy's stationary distribution is uniform.
        return {"w": c.agent.w, "rms_ve": jnp.sqrt(jnp.mean(values**2))}

    return Program(init, step, log, weights=lambda c: c.agent.w)


def run_method(method: str, config: BairdConfig, checkpoints: Path | None = None,
               logger=None) -> runner.Results:
    """All seeds of one method in one compiled program (checkpointed in ``checkpoints``,
    logged live by ``logger``, see :meth:`StudyOptions.logging`)."""
    feature_map = baird.features()
    make = {"semi_gradient_td": prediction.semi_gradient_td0,
            "residual_gradient_td": prediction.residual_gradient_td}[method]
    program = off_policy_program(make(feature_map), feature_map, config.log_every)
    hparams = runner.stack_hparams([prediction.PredictionHParams(config.step_size, config.gamma)])
    num_logs = config.num_steps // config.log_every
    return runner.run(program, hparams, num_seeds=config.num_seeds, num_logs=num_logs,
                      steps_per_log=1, divergence_bound=config.divergence_bound,
                      log_x=config.log_every * np.arange(1, num_logs + 1), unit="steps",
                      postfix=latest_mean("rms_ve", "sqrt(VE)"),
                      **config.run_options(checkpoints, f"Baird {method}", logger=logger))


def draw(results: dict[str, runner.Results], config: BairdConfig):
    import matplotlib.pyplot as plt

    steps = np.arange(1, config.num_steps // config.log_every + 1) * config.log_every
    fig, axes = plt.subplots(1, len(results), figsize=(5.5 * len(results), 4), squeeze=False)
    for ax, (method, res) in zip(axes[0], results.items()):
        w = res.metrics["w"][0, 0]  # the first seed, like the book's single run
        for i in range(w.shape[-1]):
            finite = np.isfinite(w[:, i])  # a diverged weight is not drawn past overflow
            ax.plot(steps[finite], w[finite, i], label=f"w{i + 1}")
        diverged = res.diverged_at[0, 0]
        title = method.replace("_", " ")
        if diverged >= 0:
            title += f"\n(beyond ±{config.divergence_bound:g} at step {steps[diverged]})"
        ax.set(xlabel="steps", ylabel="weight", title=title)
        ax.legend(fontsize=7, ncol=2)
    fig.suptitle(f"Baird's counterexample, alpha={config.step_size}, gamma={config.gamma} "
                 "(S&B Figure 11.2, seed 0)")
    fig.tight_layout()
    return fig


def main(config: BairdConfig) -> Path | None:
    """Run both methods, write ``runs/baird/<timestamp>/``, return its path."""
    t0 = time.perf_counter()
    run = config.effective
    checkpoints = config.checkpoint_root("baird")
    with run.logging("baird", checkpoints) as logger:
        results = {m: run_method(m, run, checkpoints, logger) for m in METHODS}
    steps = np.arange(1, run.num_steps // run.log_every + 1) * run.log_every
    summary: dict = {"headlines": {}, "methods": {}}
    rows: list[dict] = []
    for method, res in results.items():
        at = res.diverged_at[0]
        final_w = res.metrics["w"][0, :, -1]
        summary["headlines"][method] = stats.headline(
            f"sqrt(VE) after {run.num_steps} steps", res.metrics["rms_ve"][0, :, -1],
            higher_is_better=False, task="Baird")
        summary["methods"][method] = {
            "diverged_seeds": np.flatnonzero(at >= 0).tolist(),
            "per_seed": [{"seed": s, "diverged": bool(a >= 0),
                          "diverged_at_step": int(steps[a]) if a >= 0 else None,
                          "final_weights_finite": bool(np.isfinite(final_w[s]).all()),
                          "final_max_abs_weight": float(np.max(np.abs(final_w[s])))}
                         for s, a in enumerate(at)],
            "final_rms_ve": report.summary_stats(res.metrics["rms_ve"][0, :, -1]),
            "compile_s": res.compile_s,
            "run_s": res.run_s,
        }
        rows += report.metric_rows({"rms_ve": res.metrics["rms_ve"]}, [{"method": method}],
                                   "step", steps)
    summary["divergence_bound"] = run.divergence_bound
    summary["wall_s"] = time.perf_counter() - t0
    if not distributed.is_main_process():
        return None  # every process has every result; process 0 writes them
    path = report.write_run("baird", config, summary, rows, {"figure": draw(results, run)},
                            root=config.out,
                            arrays={f"{m}_w": r.metrics["w"] for m, r in results.items()})
    for method, s in summary["methods"].items():
        print(f"{method:<22} diverged seeds {len(s['diverged_seeds'])}/{run.num_seeds}"
              f"  final sqrt(VE) {stats.describe(summary['headlines'][method], 3)}"
              f"  (run {s['run_s']:.2f} s)")
    return finish(path, results.values())


if __name__ == "__main__":
    cli(BairdConfig, main)  # devices and processes: see experiments/__init__.py
