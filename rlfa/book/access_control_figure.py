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


# Figure 10.5's caption: "The value learned for R_bar was about 2.31."
BOOK_R_BAR = 2.31


def book_comparison(r_bar: np.ndarray, steps: np.ndarray,
                    behaviour_reward: np.ndarray) -> dict:
    """Where the book's R_bar (one run's) falls among this study's runs of one setting.

    Args:
      r_bar: logged R_bar, ``[seeds, logs]``, at ``steps`` ``[logs]``.
      behaviour_reward: ``[seeds]``, the exact r(pi) of each run's epsilon-greedy policy
        at its end: the long-run average reward its R_bar estimates.

    Returns:
      Over ``late_steps``, the second half of the run: ``late_r_bar_sd_per_seed`` (each
      run's standard deviation of R_bar over its logged points), ``late_r_bar_range``
      (every run's R_bar there, lowest and highest), ``late_runs_at_or_below_book`` and
      ``late_share_at_or_below_book`` (the runs, and the share of their logged points, at
      or below the book's value); ``final_r_bar_range``; ``epsilon_greedy_r_pi_range``
      and ``_mean``; and the ``statement`` they make.
    """
    r_bar, r_pi = np.asarray(r_bar, np.float64), np.asarray(behaviour_reward, np.float64)
    half = r_bar.shape[1] // 2
    late, final = r_bar[:, half:], r_bar[:, -1]
    late_steps = int(steps[-1] - (steps[half - 1] if half else 0))
    sd = late.std(axis=1, ddof=1) if late.shape[1] > 1 else np.zeros(len(late))
    below = late <= BOOK_R_BAR
    numbers = {
        "late_steps": late_steps, "late_r_bar_sd_per_seed": sd.tolist(),
        "late_r_bar_range": [float(late.min()), float(late.max())],
        "late_runs_at_or_below_book": int(below.any(axis=1).sum()),
        "late_share_at_or_below_book": float(below.mean()),
        "final_r_bar_range": [float(final.min()), float(final.max())],
        "epsilon_greedy_r_pi_range": [float(r_pi.min()), float(r_pi.max())],
        "epsilon_greedy_r_pi_mean": float(r_pi.mean())}
    (late_low, late_high), (low, high) = numbers["late_r_bar_range"], numbers["final_r_bar_range"]
    expectation = ("below" if BOOK_R_BAR < r_pi.min() else
                   "above" if BOOK_R_BAR > r_pi.max() else "within")
    numbers["statement"] = (
        f"the book's R_bar of about {BOOK_R_BAR} comes from one run and is "
        f"{'within' if late_low <= BOOK_R_BAR <= late_high else 'outside'} what one run "
        f"reaches here: over its last {late_steps:,} steps each run's R_bar varies with "
        f"standard deviation {sd.min():.2g} to {sd.max():.2g} (median {np.median(sd):.2g}), "
        f"between {late_low:.3g} and {late_high:.3g} in all, and "
        f"{numbers['late_runs_at_or_below_book']} of {len(late)} runs are at or below "
        f"{BOOK_R_BAR} at some logged point ({100 * below.mean():.2g}% of the points); the "
        f"runs end between {low:.3g} and {high:.3g}. As a long-run expectation {BOOK_R_BAR} "
        f"is {expectation} the exact r(pi) of the epsilon-greedy policies learned, "
        f"{r_pi.min():.4g} to {r_pi.max():.4g} (mean {r_pi.mean():.4g}).")
    return numbers
