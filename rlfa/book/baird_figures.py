"""Sutton & Barto's Figures 11.2, 11.5 and 11.6: Baird's counterexample (Example 11.1).

* Figure 11.2 (§11.2): semi-gradient off-policy TD(0) diverges on transitions of the
  behaviour policy (left), and so does semi-gradient DP, sweeping expected updates (right,
  :func:`baird_semi_gradient_dp`); residual-gradient TD (§11.5) is run beside them;
* Figure 11.5 (§11.7): TDC, sampled (left) and in expectation (right,
  :func:`baird_expected_tdc`), drives sqrt(PBE) to about 0;
* Figure 11.6 (§11.8): emphatic TD in expectation (:func:`baird_expected_emphatic_td`)
  drives sqrt(VE) to 0.

:func:`baird_mdp` is the counterexample as a :class:`~rlfa.prediction.FiniteMDP`. As runner
Programs: :func:`sampled_program` (an agent of :data:`SAMPLED_AGENTS`, by
:func:`baird_program`, from the book's initial weights) and :func:`expected_program` (one
deterministic run of an expected update of :data:`EXPECTED_UPDATES`, one update a
program step). Both log the weights ``w`` ``[8]``, sqrt(VE) against the true values (all
0) and sqrt(PBE) (eq. 11.22), under the behaviour policy's uniform state distribution.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from rlfa import config
from rlfa import hparams as hp
from rlfa.envs import baird
from rlfa.features import FeatureMap, linear_value
from rlfa.prediction.base import PredictionHParams
from rlfa.prediction.emphatic_td import (
    expected_emphatic_td_trajectory,
    expected_emphatic_td_update,
)
from rlfa.prediction.gradient_td import (
    TDCHParams,
    expected_tdc_trajectory,
    expected_tdc_update,
    mdp_rms_value_error,
    rms_projected_bellman_error,
    tdc,
)
from rlfa.prediction.off_policy import (
    OffPolicyTransition,
    off_policy_residual_gradient_td,
    off_policy_semi_gradient_td0,
)
from rlfa.prediction.semi_gradient_dp import (
    FiniteMDP,
    semi_gradient_dp_trajectory,
    semi_gradient_dp_update,
)
from rlfa.types import Agent, Program, Transition

# Each figure's methods, one row of panels per figure.
# Each method's headlines in the study: label suffix -> the final error it reports (the
# others report sqrt(VE)).
HEADLINES = {"semi_gradient_dp": {"": "max |w|"}, "tdc": {"": "sqrt(PBE)", " sqrt(VE)": "sqrt(VE)"},
             "expected_tdc": {"": "sqrt(PBE)", " sqrt(VE)": "sqrt(VE)"}}
FIGURE_METHODS = {"11.2": ("semi_gradient_td", "residual_gradient_td", "semi_gradient_dp"),
                  "11.5": ("tdc", "expected_tdc"), "11.6": ("expected_emphatic_td",)}
# The methods run on sampled transitions: feature map -> agent.
SAMPLED_AGENTS = {"semi_gradient_td": off_policy_semi_gradient_td0,
                  "residual_gradient_td": off_policy_residual_gradient_td, "tdc": tdc}


def figure_of(method: str) -> str:
    """The book's figure that draws ``method`` (a key of :data:`FIGURE_METHODS`' rows)."""
    return next(f for f, methods in FIGURE_METHODS.items() if method in methods)


def baird_mdp(dtype: Any = jnp.float32, xp: Any = jnp) -> FiniteMDP:
    """Baird's counterexample (Example 11.1) under its target policy, float32 by default.

    The target policy always takes SOLID, which leads to the lower state (7 in the
    book, index 6) from every state; every reward is 0. ``mu`` is the behaviour
    policy's state distribution: uniform over the 7 states (dashed w.p. 6/7 lands on
    each upper state w.p. 1/7, solid on the lower one w.p. 1/7), and it is so from the
    first step, since the environment starts in a uniformly drawn state. ``xp``: the
    array module, ``jax.numpy`` or ``numpy`` (float64 on the host, whatever JAX's mode).
    """
    n = baird.NUM_STATES
    transitions = np.zeros((n, n))
    transitions[:, n - 1] = 1.0
    return FiniteMDP(features=xp.asarray(baird.feature_matrix(), dtype),
                     mu=xp.full((n,), 1.0 / n, dtype),
                     transitions=xp.asarray(transitions, dtype),
                     rewards=xp.zeros((n,), dtype))


def baird_hparams(step_size: float) -> PredictionHParams:
    """Step size alpha with Baird's gamma (0.99), as float32 arrays; ``ValueError`` for an
    alpha outside its declared bounds."""
    point = PredictionHParams(step_size, baird.GAMMA)
    hp.check(point)
    return hp.traced(point)


def baird_semi_gradient_dp(step_size: float, num_sweeps: int) -> jax.Array:
    """Figure 11.2 (right): semi-gradient DP on Baird from the book's initial weights,
    ``w`` ``[num_sweeps + 1, 8]`` (row 0 is :data:`rlfa.envs.baird.INITIAL_WEIGHTS`);
    the book uses alpha = 0.01 and 1000 sweeps. Raises ``ValueError`` on a bad alpha."""
    config.check_positive_int("num_sweeps", num_sweeps)
    return _baird_semi_gradient_dp(baird_hparams(step_size), num_sweeps)


@functools.partial(jax.jit, static_argnames="num_sweeps")
def _baird_semi_gradient_dp(hparams: PredictionHParams, num_sweeps: int) -> jax.Array:
    return semi_gradient_dp_trajectory(baird_mdp(), jnp.asarray(baird.INITIAL_WEIGHTS),
                                       hparams, num_sweeps)


class BairdTDCCurves(NamedTuple):
    """Expected TDC on Baird, ``num_updates + 1`` points each (point 0 is the start).

    Attributes:
      w: float32 ``[num_updates + 1, 8]``; v: the same for the secondary weights.
      rms_ve: sqrt(VE) against the true values (all 0), ``[num_updates + 1]``.
      rms_pbe: sqrt(PBE), ``[num_updates + 1]``.
    """

    w: jax.Array
    v: jax.Array
    rms_ve: jax.Array
    rms_pbe: jax.Array


def baird_expected_tdc(step_size: float = 0.005, beta: float = 0.05,
                       num_updates: int = 1000) -> BairdTDCCurves:
    """Figure 11.5 (right): expected TDC on Baird's counterexample from
    :data:`rlfa.envs.baird.INITIAL_WEIGHTS` and ``v = 0``, with the book's defaults
    (alpha = 0.005, beta = 0.05, 1000 updates). Raises ``ValueError`` on a bad alpha or beta."""
    config.check_positive_int("num_updates", num_updates)
    point = TDCHParams(step_size, beta, baird.GAMMA)
    hp.check(point)
    return _baird_expected_tdc(hp.traced(point), num_updates)


@functools.partial(jax.jit, static_argnames="num_updates")
def _baird_expected_tdc(hp: TDCHParams, num_updates: int) -> BairdTDCCurves:
    mdp = baird_mdp()
    w0 = jnp.asarray(baird.INITIAL_WEIGHTS)
    ws, vs = expected_tdc_trajectory(mdp, w0, jnp.zeros_like(w0), hp, num_updates)
    zeros = jnp.zeros((baird.NUM_STATES,), jnp.float32)
    rms_ve = jax.vmap(lambda w: mdp_rms_value_error(mdp, w, zeros))(ws)
    rms_pbe = jax.vmap(lambda w: rms_projected_bellman_error(mdp, w, hp.gamma))(ws)
    return BairdTDCCurves(ws, vs, rms_ve, rms_pbe)


class BairdEmphaticCurves(NamedTuple):
    """Expected emphatic TD on Baird, ``num_updates + 1`` points each (point 0 is the start).

    Attributes:
      w: float32 ``[num_updates + 1, 8]``.
      emphasis: the mean emphasis ``E[M_t] = sum_s f_t(s)``, ``[num_updates + 1]``.
      rms_ve: sqrt(VE) against the true values (all 0), ``[num_updates + 1]``.
    """

    w: jax.Array
    emphasis: jax.Array
    rms_ve: jax.Array


def baird_expected_emphatic_td(step_size: float = 0.03,
                               num_updates: int = 1000) -> BairdEmphaticCurves:
    """Figure 11.6: expected emphatic TD (interest 1) on Baird's counterexample from
    :data:`rlfa.envs.baird.INITIAL_WEIGHTS`, with the book's alpha = 0.03 and 1000 updates.
    Raises ``ValueError`` on a bad alpha."""
    config.check_positive_int("num_updates", num_updates)
    return _baird_expected_emphatic_td(baird_hparams(step_size), num_updates)


@functools.partial(jax.jit, static_argnames="num_updates")
def _baird_expected_emphatic_td(hparams: PredictionHParams,
                                num_updates: int) -> BairdEmphaticCurves:
    mdp = baird_mdp()
    ws, fs = expected_emphatic_td_trajectory(mdp, jnp.asarray(baird.INITIAL_WEIGHTS),
                                             hparams, num_updates)
    zeros = jnp.zeros((baird.NUM_STATES,), jnp.float32)
    rms_ve = jax.vmap(lambda w: mdp_rms_value_error(mdp, w, zeros))(ws)
    return BairdEmphaticCurves(ws, fs.sum(-1), rms_ve)


class BairdCarry(NamedTuple):
    """One run on Baird's counterexample: the agent's state, the current observation, the key."""

    agent: Any
    obs: jax.Array
    key: jax.Array


def _errors(w: jax.Array, gamma: jax.Array) -> dict[str, jax.Array]:
    mdp = baird_mdp(w.dtype)
    return {"w": w, "rms_ve": mdp_rms_value_error(mdp, w, jnp.zeros(baird.NUM_STATES, w.dtype)),
            "rms_pbe": rms_projected_bellman_error(mdp, w, gamma)}


def baird_program(agent: Agent, feature_map: FeatureMap, block_steps: int) -> Program:
    """An off-policy agent on Baird's counterexample from the book's initial weights.

    The agent's state is its ``init`` with ``w`` replaced by
    :data:`rlfa.envs.baird.INITIAL_WEIGHTS` (TDC's ``v`` stays 0). One program step
    is ``block_steps`` transitions of the behaviour policy, whose actions and
    landing states are drawn in bulk per block. The log holds ``w`` ``[8]``,
    ``rms_ve`` (sqrt(VE)) and ``rms_pbe`` (sqrt(PBE)); the hyperparameters need a
    ``gamma`` (every prediction agent's have one).
    """
    env, params = baird.Baird(), baird.EnvParams()

    def init(key, hparams):
        del hparams
        key_start, key_run = jax.random.split(key)
        obs, _ = env.reset_from_noise(jax.random.uniform(key_start, (1,)), params)
        state = agent.init(key_run, obs)._replace(w=jnp.asarray(baird.INITIAL_WEIGHTS))
        return BairdCarry(state, obs, key_run)

    def transition(c: BairdCarry, hparams, noise):
        action = baird.behaviour_action(noise[0])
        obs_t = env.get_obs(baird.EnvState(position=baird.next_state(action, noise[1]), time=0))
        tr = Transition(c.obs, action, jnp.float32(0.0), jnp.bool_(False), jnp.bool_(False), obs_t)
        agent_state, _ = agent.update(c.agent, hparams,
                                      OffPolicyTransition(tr, baird.importance_ratio(action)))
        return BairdCarry(agent_state, obs_t, c.key)

    def step(c: BairdCarry, hparams):
        key, key_noise = jax.random.split(c.key)
        noise = jax.random.uniform(key_noise, (block_steps, 2))
        c = jax.lax.fori_loop(0, block_steps, lambda j, c: transition(c, hparams, noise[j]), c)
        return c._replace(key=key)

    def log(c: BairdCarry, hparams):
        values = jax.vmap(lambda s: linear_value(c.agent.w, feature_map(s)))(jnp.arange(7.0))
        # sqrt(VE) as the mean over the 7 equally likely states, as Figure 11.2 was first run.
        return _errors(c.agent.w, hparams.gamma) | {"rms_ve": jnp.sqrt(jnp.mean(values**2))}

    return Program(init, step, log, weights=lambda c: c.agent.w)


class ExpectedUpdate(NamedTuple):
    """An expected update on Baird: ``update(mdp, w, aux, hparams) -> (w, aux)``, where
    ``aux`` (shape ``aux_shape``, starting at 0) is TDC's ``v`` or emphatic TD's
    per-state emphasis; ``figure`` is the book's."""

    figure: str
    update: Callable
    aux_shape: tuple[int, ...]


EXPECTED_UPDATES = {
    "semi_gradient_dp": ExpectedUpdate("11.2", lambda mdp, w, aux, hp: (
        semi_gradient_dp_update(mdp, w, hp), aux), ()),
    "expected_tdc": ExpectedUpdate("11.5", expected_tdc_update, (baird.NUM_FEATURES,)),
    "expected_emphatic_td": ExpectedUpdate("11.6", expected_emphatic_td_update,
                                           (baird.NUM_STATES,)),
}


def expected_program(name: str) -> Program:
    """One deterministic run (``init`` ignores the key) of :data:`EXPECTED_UPDATES`
    ``[name]`` from the book's initial weights; the carry is ``(w, aux)``, a program
    step one update (one sweep for DP). Logs as :func:`baird_program`.

    In the float of JAX's mode: float32, or float64 in its 64-bit mode (the runner's
    ``x64``), where the iteration goes on below float32's round-off (Figure 11.6's
    sqrt(VE) stops near 3e-6 in float32; :func:`expected_reference`)."""
    _, update, aux_shape = EXPECTED_UPDATES[name]

    def init(key, hp):
        w0 = jnp.asarray(baird.INITIAL_WEIGHTS, jax.dtypes.canonicalize_dtype(jnp.float64))
        return w0, jnp.zeros(aux_shape, w0.dtype)

    return Program(init, lambda carry, hp: update(baird_mdp(carry[0].dtype), *carry, hp),
                   lambda carry, hp: _errors(carry[0], hp.gamma), weights=lambda c: c[0])


def expected_reference(name: str, hparams, num_updates: int) -> dict[str, float]:
    """:func:`expected_program` ``(name)`` at ``hparams`` in float64 on the host: its
    ``max |w|``, ``sqrt(VE)`` and ``sqrt(PBE)`` after ``num_updates`` updates.

    The same update function, iterated on NumPy float64 arrays (the errors taken in
    JAX's 64-bit mode), so a float32 run can be set beside what its iteration reaches
    without float32's round-off: Figure 11.6's sqrt(VE) after 1000 updates is about
    2.7e-6 in float32 and 4.6e-13 in float64.
    """
    _, update, aux_shape = EXPECTED_UPDATES[name]
    mdp = baird_mdp(np.float64, np)
    point = type(hparams)(*(float(x) for x in hparams))
    w, aux = np.asarray(baird.INITIAL_WEIGHTS, np.float64), np.zeros(aux_shape)
    with np.errstate(over="ignore", invalid="ignore"):  # DP may run past float64 too
        for _ in range(num_updates):
            w, aux = update(mdp, w, aux, point)
    with jax.enable_x64(True):
        return {"max |w|": float(np.max(np.abs(w))),
                "sqrt(VE)": float(mdp_rms_value_error(mdp, w, np.zeros(baird.NUM_STATES))),
                "sqrt(PBE)": float(rms_projected_bellman_error(mdp, w, point.gamma))}


def sampled_program(name: str, block_steps: int) -> Program:
    """:func:`baird_program` of ``SAMPLED_AGENTS[name]`` on Baird's features."""
    return baird_program(SAMPLED_AGENTS[name](baird.features()), baird.features(), block_steps)


def plot_weights(ax, method: str, x: np.ndarray, w: np.ndarray, rms_ve: np.ndarray,
                 rms_pbe: np.ndarray) -> None:
    """A run of ``method`` as the book draws it: the weights ``w`` ``[len(x), 8]`` against
    ``x``, each only where finite (a diverged one is not drawn past overflow), and in black
    the errors ``[len(x)]`` the book draws beside them: sqrt(VE) for TDC and emphatic TD
    (Figures 11.5, 11.6), sqrt(PBE) for TDC."""
    for i in range(w.shape[-1]):
        finite = np.isfinite(w[:, i])
        ax.plot(x[finite], w[finite, i], label=f"w{i + 1}", lw=1)
    if "tdc" in method or "emphatic" in method:
        ax.plot(x, rms_ve, "k", lw=2, label="sqrt(VE)")
    if "tdc" in method:
        ax.plot(x, rms_pbe, "k--", lw=2, label="sqrt(PBE)")


def float32_floor(method: str, hparams, num_updates: int,
                  final: dict[str, float]) -> dict[str, dict]:
    """A float32 expected run of ``method`` at ``hparams`` for ``num_updates`` beside the same
    iteration in float64 (:func:`expected_reference`): ``float64_reference``, its final
    errors, and ``float32_floor``, each metric of ``final`` (the float32 run's final values)
    that float32 left more than 1% above float64's (its round-off, not the algorithm,
    stopped it) with both values.
    """
    reference = expected_reference(method, hparams, num_updates)
    floor = {metric: {"float32": float(value), "float64": reference[metric]}
             for metric, value in final.items()
             if np.isfinite(value) and value > 1.01 * reference[metric]}
    return {"float64_reference": {f"final {k}": v for k, v in reference.items()},
            "float32_floor": floor}


def plot_panel(ax, run, name: str) -> None:
    """Method ``name``'s weights and errors from a saved Baird run (``run.summary``'s
    ``methods``, ``run.arrays``): a sampled method's first seed, like the book's single run."""
    entry, w = run.summary["methods"][name], run.arrays[f"{name}_w"][0]
    plot_weights(ax, name, run.summary["log_every"] * np.arange(1, len(w) + 1), w,
                    run.arrays[f"{name}_rms_ve"][0], run.arrays[f"{name}_rms_pbe"][0])
    at = entry["per_seed"][0]["diverged_at"]
    hp = ", ".join(f"{'alpha' if k == 'step_size' else k}={v:g}"
                   for k, v in entry["hparams"].items() if k != "gamma")
    ax.set(xlabel=entry["unit"], ylabel="weight / error", title=f"{name.replace('_', ' ')} "
           f"({hp}; Figure {entry['figure']})" + (f"\n(beyond ±{run.summary['divergence_bound']:g}"
                                                  f" at {entry['unit'][:-1]} {at})" if at else ""))
    ax.legend(fontsize=7, ncol=2)
