"""Sutton & Barto's Figure 10.5: differential semi-gradient SARSA on the access-control
queuing task (§10.3, Example 10.2).

:func:`sarsa_program` builds one run of Figure 10.5's agent as a runner Program:
the one-hot features over (free servers, priority), differential SARSA
(:mod:`rlfa.control.differential_sarsa`) in the episode loop
(:func:`~rlfa.control.episodes.episodic_control`) with SARSA's reused ``A'``.
The task is continuing: a run is one episode that never ends, run for as many
program steps as the runner gives it, and its log reports R_bar and the steps
taken. :func:`greedy_tables` reads the learned policy and the value of its best
action off the weights, :func:`learned_policies` adds the exact average reward of the
greedy and epsilon-greedy policies, and :func:`plot_policy` draws the figure's left panel.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rlfa.control.differential_sarsa import differential_sarsa
from rlfa.control.episodes import episodic_control
from rlfa.control.linear_values import linear_q, precomputed
from rlfa.control.sarsa import sarsa_actions
from rlfa.envs.access_control import AccessControl, EnvParams, features, policy_average_reward
from rlfa.types import Program

NUM_ACTIONS = 2  # REJECT, ACCEPT


def sarsa_program(params: EnvParams | None = None, block_steps: int = 100) -> Program:
    """One run of differential semi-gradient SARSA on the access-control task.

    Args:
      params: the task (default: the book's 10 servers, p = 0.06).
      block_steps: environment steps per program step (one bulk draw of noise).

    Returns:
      A :class:`~rlfa.types.Program` over hyperparameters
      :class:`~rlfa.control.differential_sarsa.DifferentialHParams`, whose log
      reports ``r_bar`` (the average-reward estimate) and ``steps`` (environment
      steps so far); its final carry's ``agent`` holds the weights ``w`` and R_bar.
    """
    params = params or EnvParams()
    phi = features(params)
    one_hot = precomputed(phi)  # the features run once per observation, cached in the carry
    program = episodic_control(
        AccessControl(), params, differential_sarsa(one_hot, NUM_ACTIONS),
        linear_q(one_hot, NUM_ACTIONS), NUM_ACTIONS, num_episodes=1,  # never ends
        actions=sarsa_actions("reuse"), block_steps=block_steps, observe=phi)

    def log(carry, hparams):
        del hparams
        return {"r_bar": carry.agent.r_bar, "steps": carry.steps}

    return program._replace(log=log, finished=None)


def greedy_tables(w: np.ndarray, params: EnvParams | None = None,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The greedy policy and the value of its best action from weights ``w`` ``[..., 2 * d]``.

    Returns:
      ``(accept, best_value, tied)``, each ``[..., k + 1, P]`` over (free servers,
      priority index): ``accept`` is bool, True where ``q(accept) > q(reject)`` (a tie
      rejects); ``best_value`` is ``max_a q``; ``tied`` is bool, True where
      ``q(accept) == q(reject)``, as for a state whose actions were never tried.
    """
    params = params or EnvParams()
    w = np.asarray(w, np.float64)
    q = w.reshape(w.shape[:-1] + (NUM_ACTIONS, params.num_servers + 1, len(params.priorities)))
    reject, accept = q[..., 0, :, :], q[..., 1, :, :]
    return accept > reject, q.max(axis=-3), accept == reject


class LearnedPolicies(NamedTuple):
    """What runs learned, read off their weights; leading dims ``[...]`` are the runs'.

    Attributes:
      accept: bool ``[..., k + 1, P]``, the greedy policy (see :func:`greedy_tables`).
      best_value: float64 ``[..., k + 1, P]``, ``max_a q``.
      tied: bool ``[..., k + 1, P]``, ``q(accept) == q(reject)``.
      greedy_reward: float64 ``[...]``, the exact r(pi) of the greedy policy.
      behaviour_reward: float64 ``[...]``, the exact r(pi) of the epsilon-greedy policy
        the run followed at its end: what its R_bar estimates.
    """

    accept: np.ndarray
    best_value: np.ndarray
    tied: np.ndarray
    greedy_reward: np.ndarray
    behaviour_reward: np.ndarray


def learned_policies(w: np.ndarray, epsilon: np.ndarray, params: EnvParams | None = None,
                     ) -> LearnedPolicies:
    """:class:`LearnedPolicies` of weights ``w`` ``[..., 2 * d]`` learned with exploration
    ``epsilon`` (broadcast to ``w.shape[:-1]``)."""
    params = params or EnvParams()
    accept, best, tied = greedy_tables(w, params)
    eps = np.broadcast_to(np.asarray(epsilon, np.float64), accept.shape[:-2])
    greedy = np.vectorize(lambda *i: policy_average_reward(accept[i], params))
    behaviour = np.vectorize(lambda *i: policy_average_reward(
        (1 - eps[i]) * accept[i] + eps[i] / NUM_ACTIONS, params))
    index = np.indices(eps.shape)
    return LearnedPolicies(accept, best, tied, np.asarray(greedy(*index), np.float64),
                           np.asarray(behaviour(*index), np.float64))




def plot_policy(ax, accept_share: np.ndarray, tied: np.ndarray, priorities,
                num_seeds: int) -> None:
    """Figure 10.5 (left): the greedy policy over (free servers, priority).

    Args:
      ax: a matplotlib axis.
      accept_share: ``[k + 1, P]``, the share of seeds whose greedy policy accepts.
      tied: bool ``[k + 1, P]``, where most seeds never told the actions apart.
      priorities: the P priorities, for the rows' labels.
      num_seeds: for the title.
    """
    # Rows: priorities, highest on top; columns: 1..k free servers (none free: no choice).
    share, tied, k = accept_share.T[::-1, 1:], tied.T[::-1, 1:], accept_share.shape[0] - 1
    num_p = len(priorities)
    ax.imshow(share, cmap="Greys", vmin=0, vmax=1, aspect="auto",
              extent=(0.5, k + 0.5, -0.5, num_p - 0.5))
    for (row, f), frac in np.ndenumerate(share):
        ax.text(f + 1, num_p - 1 - row, "?" if tied[row, f] else "A" if frac > 0.5 else "R",
                ha="center", va="center", color="white" if frac > 0.5 else "black")
    ax.set(xticks=range(1, k + 1), yticks=range(num_p), xlabel="number of free servers",
           yticklabels=[f"{p:g}" for p in priorities], ylabel="priority",
           title=f"Policy: A(ccept)/R(eject), majority of {num_seeds} seeds\n"
           "(shade: share of seeds accepting; ?: untried, rejected)")


__all__ = ["NUM_ACTIONS", "LearnedPolicies", "greedy_tables", "learned_policies",
           "plot_policy", "sarsa_program"]
