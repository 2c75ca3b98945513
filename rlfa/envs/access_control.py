"""The access-control queuing task (Sutton & Barto Example 10.2), as a gymnax Environment.

``k`` servers serve a queue of customers that never empties. At each step the
customer at the head of the queue, of priority 1, 2, 4 or 8 (equally likely,
independently of everything else), is accepted (action ``ACCEPT`` = 1) or
rejected (``REJECT`` = 0). Accepting when a server is free pays the customer's
priority and occupies a server; rejecting, or accepting with no server free
(which counts as a reject), pays 0. Then each busy server, the one just occupied
included, frees with probability ``p`` (0.06 in the book), and the next customer
comes to the head of the queue. The task is continuing: no termination, and the
time limit is effectively infinite, so it suits the average-reward setting
(§10.3; Figure 10.5 comes from differential semi-gradient SARSA,
:mod:`rlfa.control.differential_sarsa`).

Observations are ``(free servers, priority)`` as float32 ``[2]``, e.g. ``[3., 8.]``;
:func:`features` turns one into the one-hot tabular features of the book's
solution, and :func:`policy_average_reward` gives a fixed policy's exact average
reward r(pi) (eq. 10.6) from the Markov chain.

Noise-driven (:mod:`rlfa.envs.noise`), two uniforms per step: ``noise[0]`` is the
number of busy servers that free, by inverting the binomial(busy, p) CDF (the
servers are interchangeable, so the count is all the dynamics need), and
``noise[1]`` picks the next priority, ``priorities[floor(noise[1] * P)]``. A reset
starts with every server free and takes its priority from ``noise[1]`` likewise.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from gymnax.environments import environment, spaces
from jax.scipy.special import gammaln, xlogy

from rlfa.config import check_in_range, check_nonempty, check_positive, check_positive_int
from rlfa.envs.noise import NoiseEnvironment
from rlfa.envs.registry import register
from rlfa.features import FeatureMap, Features

REJECT, ACCEPT = 0, 1


@struct.dataclass
class EnvState(environment.EnvState):
    free: jax.Array  # int32 in [0, num_servers]: servers free when the head customer is served
    priority: jax.Array  # int32 in [0, P): index into params.priorities of the head customer
    time: int


@struct.dataclass
class EnvParams(environment.EnvParams):
    """The task's parameters; a bad value raises ValueError naming the field when built
    (``EnvParams(...)``, ``params.replace(...)``, ``rlfa.envs.make("AccessControl", ...)``).

    Attributes:
      num_servers: k >= 1 (static: it sizes the binomial CDF).
      free_prob: p in [0, 1], the probability that a busy server frees in a step (traced;
        checked when given as a Python number).
      priorities: the customers' priorities, equally likely, each > 0 (static).
      max_steps_in_episode: the time limit; continuing task, so effectively none.
    """

    num_servers: int = struct.field(pytree_node=False, default=10)
    free_prob: float = 0.06
    priorities: tuple[float, ...] = struct.field(pytree_node=False, default=(1.0, 2.0, 4.0, 8.0))
    max_steps_in_episode: int = 2**31 - 1

    def __post_init__(self):
        # Also runs when jax rebuilds params from leaves (tracers, None): check numbers only.
        check_positive_int("num_servers", self.num_servers)
        if isinstance(self.free_prob, np.number):
            check_in_range("free_prob", float(self.free_prob), 0.0, 1.0)
        elif isinstance(self.free_prob, (int, float)):
            check_in_range("free_prob", self.free_prob, 0.0, 1.0)
        check_nonempty("priorities", self.priorities)
        check_positive("priorities", [float(x) for x in self.priorities])


def servers_freed(busy: jax.Array, free_prob: jax.Array, num_servers: int,
                  noise: jax.Array) -> jax.Array:
    """How many of ``busy`` servers free, binomial(busy, p), from one uniform on [0, 1).

    The inverse CDF: the count is the number of ``m < busy`` with ``CDF(m) <= noise``,
    so ``noise`` in ``[CDF(j - 1), CDF(j))`` frees exactly ``j`` (``CDF(-1) = 0``).

    Args:
      busy: int ``[]`` in ``[0, num_servers]``.
      free_prob: p, float ``[]`` in [0, 1] (0 frees none, 1 frees all).
      num_servers: k, static: the CDF is evaluated at ``m = 0 .. k - 1``.
      noise: float ``[]``.

    Returns:
      int32 ``[]`` in ``[0, busy]``.
    """
    m = jnp.arange(num_servers, dtype=jnp.float32)
    n = jnp.asarray(busy, jnp.float32)
    p = jnp.asarray(free_prob, jnp.float32)
    # log C(n, m) + m log p + (n - m) log(1 - p); xlogy keeps 0 * log 0 = 0 at p = 0 or 1.
    log_pmf = (gammaln(n + 1) - gammaln(m + 1) - gammaln(jnp.maximum(n - m, 0) + 1)
               + xlogy(m, p) + xlogy(jnp.maximum(n - m, 0), 1 - p))
    pmf = jnp.where(m <= n, jnp.exp(log_pmf), 0.0)
    below = (jnp.cumsum(pmf) <= noise) & (m < n)
    return jnp.sum(below, dtype=jnp.int32)


def priority_index(noise: jax.Array, num_priorities: int) -> jax.Array:
    """The uniformly chosen priority's index, ``floor(noise * P)``, int32 ``[]`` in [0, P)."""
    return jnp.minimum(jnp.floor(noise * num_priorities), num_priorities - 1).astype(jnp.int32)


class AccessControl(NoiseEnvironment):
    """Example 10.2's access-control queuing task; the action is REJECT (0) or ACCEPT (1)."""

    noise_size = 2

    @property
    def default_params(self) -> EnvParams:
        return EnvParams()

    def step_from_noise(self, state: EnvState, action, noise, params: EnvParams):
        accepted = (jnp.asarray(action) == ACCEPT) & (state.free > 0)
        priority = jnp.asarray(params.priorities, jnp.float32)[state.priority]
        reward = jnp.where(accepted, priority, 0.0).astype(jnp.float32)
        free = state.free - accepted.astype(jnp.int32)
        free = free + servers_freed(params.num_servers - free, params.free_prob,
                                    params.num_servers, noise[0])
        state = EnvState(free=free, priority=priority_index(noise[1], len(params.priorities)),
                         time=state.time + 1)
        return self.get_obs(state, params), state, reward, jnp.bool_(False), {}

    def reset_from_noise(self, noise, params: EnvParams):
        state = EnvState(free=jnp.int32(params.num_servers),
                         priority=priority_index(noise[1], len(params.priorities)), time=0)
        return self.get_obs(state, params), state

    def get_obs(self, state: EnvState, params: EnvParams | None = None, key=None):
        priorities = jnp.asarray((params or self.default_params).priorities, jnp.float32)
        return jnp.stack([state.free.astype(jnp.float32), priorities[state.priority]])

    def is_terminated(self, state, params):
        return jnp.bool_(False)

    @property
    def name(self) -> str:
        return "AccessControl"

    @property
    def num_actions(self) -> int:
        return 2

    def action_space(self, params=None):
        return spaces.Discrete(2)

    def observation_space(self, params: EnvParams):
        high = jnp.array([params.num_servers, max(params.priorities)], jnp.float32)
        return spaces.Box(jnp.zeros((2,), jnp.float32), high, (2,), jnp.float32)


def features(params: EnvParams | None = None) -> FeatureMap:
    """One-hot (tabular) features of an observation: index ``free * P + priority index``.

    ``(k + 1) * P`` features (44 for the book's task), one active; with
    :func:`rlfa.features.state_action` and two actions, the tabular action values
    of Figure 10.5. An observation's priority is matched to the nearest of
    ``params.priorities``.
    """
    params = params or EnvParams()
    priorities = jnp.asarray(params.priorities, jnp.float32)
    num_p = len(params.priorities)

    def fn(obs: jax.Array) -> Features:
        free = jnp.clip(jnp.round(obs[0]), 0, params.num_servers).astype(jnp.int32)
        index = jnp.argmin(jnp.abs(priorities - obs[1])).astype(jnp.int32)
        return Features((free * num_p + index)[None], jnp.ones((1,), jnp.float32))

    return FeatureMap((params.num_servers + 1) * num_p, 1, fn, "access_control_one_hot")


def policy_average_reward(accept: np.ndarray, params: EnvParams | None = None) -> float:
    """r(pi) (S&B eq. 10.6) of the policy ``accept``, exactly, float64.

    The number of free servers is a Markov chain (priorities are i.i.d.), so r(pi) =
    sum_f mu(f) * mean_i r(f, i) with mu its stationary distribution.

    Args:
      accept: ``[k + 1, P]`` over (free servers f, priority index i): bool for a
        deterministic policy, or the probability of accepting (e.g. an epsilon-greedy
        policy's ``(1 - epsilon) * greedy + epsilon / 2``).
      params: the task (its ``free_prob`` a Python number).

    Raises:
      ValueError: for ``accept`` of another shape, or probabilities outside [0, 1].
    """
    params = params or EnvParams()
    k, pr = params.num_servers, np.asarray(params.priorities, np.float64)
    accept = np.asarray(accept, np.float64)
    if accept.shape != (k + 1, len(pr)):
        raise ValueError(f"accept has shape {accept.shape}: must be {(k + 1, len(pr))}.")
    if not ((accept >= 0) & (accept <= 1)).all():
        raise ValueError("accept is invalid: its probabilities must lie in [0, 1].")
    p = float(params.free_prob)
    taken = accept * (np.arange(k + 1)[:, None] > 0)  # [k+1, P]: P(a server is occupied)
    transition = np.zeros((k + 1, k + 1))
    for f in range(k + 1):
        for i in range(len(pr)):
            for after, prob in ((f - 1, taken[f, i]), (f, 1.0 - taken[f, i])):
                busy = k - after
                for j in range(busy + 1) if prob > 0 else ():
                    pmf = math.comb(busy, j) * p**j * (1 - p) ** (busy - j)
                    transition[f, after + j] += prob * pmf / len(pr)
    # mu = mu P, sum mu = 1: the least-squares solve of the stacked system.
    a = np.vstack([transition.T - np.eye(k + 1), np.ones((1, k + 1))])
    mu = np.linalg.lstsq(a, np.append(np.zeros(k + 1), 1.0), rcond=None)[0]
    return float(mu @ (taken * pr).mean(axis=1))


def _make() -> AccessControl:
    return AccessControl()


register("AccessControl", _make)
