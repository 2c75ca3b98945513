"""Shared types: transitions, agents, and the runner's contracts (programs, results).

Time-index suffixes follow rlax: ``obs_tm1`` is the observation the action was
taken in, ``obs_t`` the one that followed, ``discount_t`` is ``gamma`` times
``1 - terminated`` (never a ``done`` flag: a time-limit truncation keeps
bootstrapping).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import numpy as np

Array = jax.Array
PyTree = Any


class Transition(NamedTuple):
    """One environment transition (or a batch of them, leading axes first).

    Attributes:
      obs_tm1: observation the action was taken in, ``[*obs_shape]``.
      a_tm1: action taken, int ``[]`` (or ``[]`` float for prediction, unused).
      r_t: reward received, float ``[]``.
      terminated_t: True if ``obs_t`` is terminal (no bootstrapping), bool ``[]``.
      truncated_t: True if the episode was cut by a time limit at ``obs_t``;
        targets still bootstrap from ``obs_t``, bool ``[]``.
      obs_t: the observation that followed, BEFORE any automatic reset
        (gymnax's ``info["final_observation"]``), ``[*obs_shape]``.
    """

    obs_tm1: Array
    a_tm1: Array
    r_t: Array
    terminated_t: Array
    truncated_t: Array
    obs_t: Array


class Agent(NamedTuple):
    """An agent is a NamedTuple of pure functions over an explicit state pytree.

    ``init(key, obs_example) -> state``
    ``act(state, hparams, obs, key) -> action``
    ``update(state, hparams, transition_or_batch) -> (state, metrics)``

    ``hparams`` is a NamedTuple of float arrays (traced, so a vmapped sweep
    compiles once); everything that changes shapes is closed over when the
    agent is built.
    """

    init: Callable[..., PyTree]
    act: Callable[..., Array]
    update: Callable[..., tuple[PyTree, dict[str, Array]]]


class Program(NamedTuple):
    """What the runner runs, written for one seed and one hyperparameter point.

    Attributes:
      init: ``(key, hparams) -> carry``; the carry is the WHOLE training state
        (agent state, environment state, keys, counters) as one pytree.
      step: ``(carry, hparams) -> carry``: one unit of training (an episode, an
        environment step, an update), whatever the study counts in.
      log: ``(carry, hparams) -> dict[str, Array]``: metrics at a logged point,
        each of a fixed shape.
      weights: ``carry -> pytree`` of the weights to watch for divergence, or None.
      finished: ``carry -> bool []``, or None: True once a run's remaining steps
        change nothing ``log`` or ``weights`` report (e.g. it has run all its
        episodes). When every run is finished after a chunk the runner stops
        early and repeats the last logged point for the rest, which is exactly
        what running on would have logged.
    """

    init: Callable[[jax.Array, PyTree], PyTree]
    step: Callable[[PyTree, PyTree], PyTree]
    log: Callable[[PyTree, PyTree], dict[str, jax.Array]]
    weights: Callable[[PyTree], PyTree] | None = None
    finished: Callable[[PyTree], jax.Array] | None = None


class Results(NamedTuple):
    """What a run returns; every array is laid out ``[grid, seed, ...]``.

    Attributes:
      metrics: name -> ``[grid, seed, num_logs, ...]`` numpy arrays.
      diverged_at: int ``[grid, seed]``: first logged point at which a weight was
        non-finite or beyond the bound; -1 where it never was.
      final: the final carry, leaves ``[grid, seed, ...]``.
      compile_s: seconds spent compiling (init and chunk functions).
      run_s: seconds spent running, compile excluded.
      num_devices: devices the runs were laid over.
      checkpoint_errors: one line per checkpoint save that failed (the run went
        on without it); empty when every save succeeded or none was asked for.
    """

    metrics: dict[str, np.ndarray]
    diverged_at: np.ndarray
    final: PyTree
    compile_s: float
    run_s: float
    num_devices: int
    checkpoint_errors: tuple[str, ...] = ()
