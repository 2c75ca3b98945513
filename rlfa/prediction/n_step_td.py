"""n-step semi-gradient TD (Sutton & Barto §9.4), with n a traced hyperparameter.

The update for time ``tau`` (eq. 9.15) waits until ``R_{tau+n}`` and
``S_{tau+n}`` are known:

    G_{tau:tau+n} = R_{tau+1} + gamma R_{tau+2} + ... + gamma^{n-1} R_{tau+n}
                    + gamma^n v(S_{tau+n}, w)                      (eqs. 7.1, 9.16)
    w <- w + alpha [G_{tau:tau+n} - v(S_tau, w)] grad v(S_tau, w)  (eq. 9.15)

with the return cut at the episode's end (fewer rewards, no bootstrap after a
termination). The agent is driven one transition at a time, like
:func:`~rlfa.prediction.td.semi_gradient_td0` in
:func:`~rlfa.prediction.episodes.episodic_prediction`: its state keeps the last
``max_n`` observations ``S_t`` and rewards ``R_{t+1}`` in a ring buffer, and
``update`` makes the one update that became possible (``tau = t - n + 1``) or,
on the episode's last transition, every update still pending, oldest first,
each seeing the weights the one before left (the book's box, whose loop runs on
to ``tau = T - 1`` after the episode has ended). No call from the loop is needed
at the end of an episode: the flush happens inside ``update``.

``n`` is a leaf of :class:`NStepHParams`, so every n up to the structural
``max_n`` (the buffer's length) and every step size of a sweep run in one
compiled program; the return is a masked sum over the ``max_n`` buffered rewards.

:func:`n_step_td_by_episode` makes the same updates from a whole recorded
episode (an :class:`~rlfa.prediction.gradient_mc.Episode`, as gradient Monte
Carlo takes it): the update for ``tau`` reads only ``w`` as the update for
``tau - 1`` left it, so deferring every update to the episode's end changes
nothing a logged point (between episodes) sees. :func:`n_step_td_program` runs
it one episode per program step, recording each episode a block of steps at a
time (:func:`record_episode`). Vmapped runs turn a while loop's carry into a
select every iteration, so an episode or ring buffer carried step by step is
copied whole at every step; the whole-episode form carries neither, which makes
Figure 9.2 (right)'s 23,000 runs dozens of times faster than the per-transition agent
(``python -m benchmarks.book_figures --figures 9.2-right`` times it).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from rlfa import hparams as hp
from rlfa import targets
from rlfa.config import check_positive_int
from rlfa.envs.noise import NoiseDynamics
from rlfa.features import FeatureMap, add_scaled, linear_value
from rlfa.hparams import Count, Positive, ZeroToOne
from rlfa.prediction.base import LinearState, evaluate_only, zero_weights
from rlfa.prediction.episodes import EpisodicCarry
from rlfa.prediction.gradient_mc import Episode
from rlfa.types import Agent, Program, Transition


class NStepHParams(NamedTuple):
    """n-step semi-gradient TD's traced hyperparameters (S&B §9.4, eq. 9.15)."""

    step_size: Positive
    """Step size alpha > 0."""
    gamma: ZeroToOne = 1.0
    """Discount factor in [0, 1]."""
    n: Count = 1.0
    """Steps before bootstrapping, an integer >= 1 (<= max_n for the per-transition agent, whose
    buffer holds max_n steps), fixed within an episode."""


class NStepState(NamedTuple):
    """Weights and the pending part of the current episode.

    Attributes:
      w: weights float32 ``[num_features]`` of ``v(s) = w . phi(s)``.
      obs: ring buffer of observations ``S_t``, ``[max_n, *obs_shape]``.
      rewards: ring buffer of rewards, float32 ``[max_n]``; ``rewards[i]`` is the
        ``R_{t+1}`` that followed ``obs[i]``.
      head: int32 ``[]``, the slot the next transition is written to.
      pending: int32 ``[]`` in ``[0, n - 1]``, transitions of the current episode
        whose update has not been made yet (the newest ones in the buffer).
    """

    w: jax.Array
    obs: jax.Array
    rewards: jax.Array
    head: jax.Array
    pending: jax.Array


def n_step_return(rewards: jax.Array, powers: jax.Array, first: jax.Array,
                     num_rewards: jax.Array, discount_t: jax.Array, v_next: jax.Array):
    """``G = sum_{i<m} gamma^i R_{tau+1+i} + gamma^{m-1} discount_t v(S_{tau+m})``, float ``[]``

    The n-step return (eq. 7.1) from the ``m = num_rewards`` rewards in ring-buffer
    slots ``first, first + 1, ...`` (mod ``max_n``); ``m = n`` mid-episode, fewer at
    its end. ``discount_t = gamma (1 - terminated)`` makes the bootstrap
    ``gamma^m v(S_{tau+m})``, or nothing after a termination.

    Args:
      rewards: the ring buffer, float ``[max_n]``.
      powers: ``gamma^i`` for ``i < max_n``, float ``[max_n]``.
      first: slot of ``R_{tau+1}``, int ``[]``.
      num_rewards: m in ``[1, max_n]``, int ``[]``.
      discount_t: the last transition's discount, float ``[]``.
      v_next: ``v(S_{tau+m})``, float ``[]``.
    """
    max_n = rewards.shape[0]
    slots = jnp.arange(max_n)
    g = jnp.sum(jnp.where(slots < num_rewards, powers * rewards[(first + slots) % max_n], 0.0))
    return targets.td_target(g, powers[num_rewards - 1] * discount_t, v_next)


def n_step_semi_gradient_td(feature_map: FeatureMap, max_n: int) -> Agent:
    """n-step semi-gradient TD (S&B §9.4, eq. 9.15) for every ``n <= max_n``.

    ``update(state, hparams, tr)`` takes one :class:`~rlfa.types.Transition`
    ``(S_t, R_{t+1}, S_{t+1})`` and returns ``(state, metrics)``; metrics hold
    ``updates`` (int32, how many weight updates it made: 0 or 1 mid-episode, all
    pending ones on the episode's last transition) and ``td_error``
    (``G - v(S_tau)`` of the last of them, 0 when none). A termination ends the
    returns without bootstrapping (eq. 7.1's ``G = G_t`` when ``t + n >= T``); a
    time-limit truncation ends the episode too, but its pending returns
    bootstrap from the last observation, ``gamma^m v(S_{t+1})`` after ``m``
    rewards (as :mod:`rlfa.targets` treats truncation). With ``n = 1`` this is
    :func:`~rlfa.prediction.td.semi_gradient_td0`; with ``n`` at least the
    episode's length, every-visit gradient Monte Carlo.

    Args:
      feature_map: phi.
      max_n: the largest n the agent will be run with (the buffer's length),
        an int >= 1; structural, so one value per compiled program.

    Raises:
      ValueError: naming the field, for a bad ``max_n``, or (in ``update``, when
        the values are concrete) a hyperparameter outside its declared bounds or
        an ``n > max_n`` (:func:`rlfa.hparams.check`).
    """
    check_positive_int("max_n", max_n)

    def init(key: jax.Array, obs_example: jax.Array) -> NStepState:
        del key  # zero weights, as in the book
        obs_example = jnp.asarray(obs_example)
        return NStepState(
            w=jnp.zeros((feature_map.num_features,), jnp.float32),
            obs=jnp.zeros((max_n,) + obs_example.shape, obs_example.dtype),
            rewards=jnp.zeros((max_n,), jnp.float32),
            head=jnp.int32(0), pending=jnp.int32(0))

    def one_update(w, hparams, powers, obs, rewards, first, num_rewards, discount_t, obs_next):
        """The update for the S_tau in slot ``first``, from the ``num_rewards`` rewards after it."""
        g = n_step_return(rewards, powers, first, num_rewards, discount_t,
                             linear_value(w, feature_map(obs_next)))
        phi = feature_map(obs[first])
        delta = g - linear_value(w, phi)
        return add_scaled(w, phi, hparams.step_size * delta), delta

    def update(state: NStepState, hparams: NStepHParams, tr: Transition):
        hp.check(hparams, at_most={"n": ("max_n", max_n)})
        n = jnp.round(jnp.asarray(hparams.n)).astype(jnp.int32)
        obs = state.obs.at[state.head].set(tr.obs_tm1)
        rewards = state.rewards.at[state.head].set(tr.r_t)
        pending = state.pending + 1
        episode_over = jnp.logical_or(tr.terminated_t, tr.truncated_t)
        # Mid-episode the oldest pending tau (= t - n + 1) is updated once it has n rewards;
        # at the end every pending tau is, oldest first, each with the rewards up to R_{T}.
        num_updates = jnp.where(episode_over, pending, (pending >= n).astype(jnp.int32))
        oldest = (state.head - pending + 1 + max_n) % max_n
        discount_t = targets.discount(hparams.gamma, tr.terminated_t)
        # gamma^i by repeated products, so gamma^0 = 1 and gamma^1 = gamma exactly (n = 1 is TD(0)).
        gamma = jnp.asarray(hparams.gamma, jnp.float32)
        powers = jnp.concatenate([jnp.ones((1,), jnp.float32),
                                  jnp.cumprod(jnp.full((max_n - 1,), gamma))])

        def body(j, carry):
            w, _ = carry
            return one_update(w, hparams, powers, obs, rewards, (oldest + j) % max_n, pending - j,
                              discount_t, tr.obs_t)

        # A traced trip count: a while loop, so a step costs one update, not max_n.
        w, delta = jax.lax.fori_loop(0, num_updates, body, (state.w, jnp.float32(0.0)))
        new = NStepState(w, obs, rewards, (state.head + 1) % max_n, pending - num_updates)
        return new, {"td_error": delta, "updates": num_updates}

    return Agent(init=init, act=evaluate_only, update=update)


def discounted_returns(rewards: jax.Array, length: jax.Array, gamma: jax.Array,
                       block: int = 128) -> jax.Array:
    """``H_t = R_{t+1} + gamma H_{t+1}`` for ``t < length`` (``H_length = 0``), and 0 from
    ``length`` on, float32 ``[T + 1]`` for ``rewards`` ``[T]`` (``R_1..R_T``, padded).

    Backwards a block of ``block`` steps at a time, from the block holding the episode's
    end: vmapped, the loop's ``[T + 1]`` carry is copied once a block, and only as many
    blocks run as the longest episode of the batch needs.
    """
    horizon = rewards.shape[0]
    num_blocks = -(-horizon // block)
    r = jnp.zeros((num_blocks * block,), jnp.float32).at[:horizon].set(rewards)
    r = jnp.where(jnp.arange(num_blocks * block) < length, r, 0.0)

    def backward(h, r_t):
        h = r_t + gamma * h
        return h, h

    def one_block(carry):
        b, h, returns = carry
        h, block_returns = jax.lax.scan(
            backward, h, jax.lax.dynamic_slice_in_dim(r, b * block, block), reverse=True)
        return b - 1, h, jax.lax.dynamic_update_slice_in_dim(returns, block_returns, b * block, 0)

    start = (length + block - 1) // block - 1
    _, _, returns = jax.lax.while_loop(
        lambda c: c[0] >= 0, one_block,
        (start, jnp.float32(0.0), jnp.zeros((num_blocks * block + 1,), jnp.float32)))
    return returns[:horizon + 1]


def n_step_td_by_episode(feature_map: FeatureMap) -> Agent:
    """n-step semi-gradient TD (S&B §9.4) applied to a whole finished episode.

    ``update(state, hparams, episode)`` takes an
    :class:`~rlfa.prediction.gradient_mc.Episode` (``S_0..S_{T-1}``,
    ``R_1..R_T``, ``T``) and makes the book box's updates for ``tau = 0..T-1`` in
    order, each seeing the weights the one before left:

        G = R_{tau+1} + ... + gamma^{m-1} R_{tau+m} + [tau + n < T] gamma^n v(S_{tau+n}, w),
        m = min(n, T - tau),   w <- w + alpha [G - v(S_tau, w)] grad v(S_tau, w),

    which are exactly :func:`n_step_semi_gradient_td`'s on a terminating
    episode (see the module doc), for any integer ``n >= 1`` (no ``max_n``).
    The reward sums come from the discounted returns ``H_t = R_{t+1} + gamma
    H_{t+1}`` (``H_T = 0``) as ``H_tau - gamma^m H_{tau+m}``, one backward pass.
    An Episode does not say how it ended, so its end is a termination (nothing is
    bootstrapped after ``S_{T-1}``): where time-limit truncations matter, use the
    per-transition agent. State: :class:`~rlfa.prediction.base.LinearState`;
    metrics: ``{"return": H_0}``.

    Raises:
      ValueError: in ``update``, when the values are concrete, for a hyperparameter
        outside its declared bounds (:func:`rlfa.hparams.check`; n has no upper bound).
    """

    def update(state: LinearState, hparams: NStepHParams, episode: Episode):
        hp.check(hparams)
        horizon, length = episode.r.shape[0], episode.length
        n = jnp.round(jnp.asarray(hparams.n)).astype(jnp.int32)
        gamma = jnp.asarray(hparams.gamma, jnp.float32)

        returns = discounted_returns(episode.r, length, gamma)

        def forward(tau, w):
            m = jnp.minimum(n, length - tau)
            bootstrap = jnp.where(tau + n < length, gamma ** n * linear_value(
                w, feature_map(episode.obs[jnp.minimum(tau + n, horizon - 1)])), 0.0)
            g = returns[tau] - gamma ** m * returns[tau + m] + bootstrap
            phi = feature_map(episode.obs[tau])
            return add_scaled(w, phi, hparams.step_size * (g - linear_value(w, phi)))

        w = jax.lax.fori_loop(0, length, forward, state.w)  # carries w alone
        return LinearState(w), {"return": returns[0]}

    return Agent(init=zero_weights(feature_map), act=evaluate_only, update=update)



def record_episode(dynamics: NoiseDynamics, key: jax.Array, max_steps: int, block: int = 128):
    """One episode as an :class:`~rlfa.prediction.gradient_mc.Episode` padded to ``max_steps``
    rounded up to a multiple of ``block``, and whether it was truncated (no termination
    within ``max_steps`` steps), bool ``[]``.

    A while loop over blocks of ``block`` steps, each a scan over its noise (drawn at once,
    as :func:`~rlfa.prediction.episodes.rollout` draws it) written into the episode's
    arrays: vmapped runs copy those arrays once a block, not once a step, and only as many
    blocks run as the longest episode of the batch needs.
    """
    check_positive_int("block", block)
    num_blocks = -(-max_steps // block)
    key_reset, key_noise = jax.random.split(key)
    start = dynamics.reset(key_reset)
    obs_start = dynamics.observe(start)

    def step(carry, noise_t):
        state, over, t = carry
        obs = dynamics.observe(state)
        state, _, r_t, terminated = dynamics.transition(state, noise_t)
        live = ~over & (t < max_steps)
        return (state, over | (live & terminated), t + 1), (obs, r_t, live)

    def one_block(carry):
        b, state, over, obs, r, length = carry
        noise = dynamics.sample_noise(jax.random.fold_in(key_noise, b), block)
        (state, over, _), (obs_b, r_b, live) = jax.lax.scan(step, (state, over, b * block), noise)
        obs = jax.lax.dynamic_update_slice_in_dim(obs, obs_b, b * block, 0)
        r = jax.lax.dynamic_update_slice_in_dim(r, r_b, b * block, 0)
        return b + 1, state, over, obs, r, length + jnp.sum(live, dtype=jnp.int32)

    horizon = num_blocks * block
    init = (jnp.int32(0), start, jnp.bool_(False),
            jnp.zeros((horizon,) + obs_start.shape, obs_start.dtype),
            jnp.zeros((horizon,), jnp.float32), jnp.int32(0))
    _, _, over, obs, r, length = jax.lax.while_loop(
        lambda c: (c[0] < num_blocks) & ~c[2], one_block, init)
    return Episode(obs, r, length), ~over


def n_step_td_program(dynamics: NoiseDynamics, feature_map: FeatureMap, *,
                      max_episode_steps: int, log, obs_example: jax.Array) -> Program:
    """n-step semi-gradient TD (:func:`n_step_td_by_episode`) evaluating ``dynamics``' policy,
    one episode per program step, as a runner Program over :class:`NStepHParams`.

    Like :func:`~rlfa.prediction.episodes.episodic_prediction` (the same carry and
    logged ``episodes``, ``steps``, ``truncated_episodes`` beside ``log(agent_state)``,
    e.g. :func:`~rlfa.prediction.value_error.rms_value_error_fn`), but each episode
    is recorded by :func:`record_episode` and learned from at its end. A truncated
    episode (``max_episode_steps`` without termination) is learned from as if it had
    terminated, and counted.
    """
    check_positive_int("max_episode_steps", max_episode_steps)
    agent = n_step_td_by_episode(feature_map)

    def init(key, hparams):
        del hparams
        key_agent, key_run = jax.random.split(key)
        zero = jnp.int32(0)
        return EpisodicCarry(agent.init(key_agent, obs_example), key_run, zero, zero, zero)

    def step(carry: EpisodicCarry, hparams: NStepHParams) -> EpisodicCarry:
        key, key_episode = jax.random.split(carry.key)
        episode, truncated = record_episode(dynamics, key_episode, max_episode_steps)
        agent_state, _ = agent.update(carry.agent, hparams, episode)
        return EpisodicCarry(agent_state, key, carry.episodes + 1, carry.steps + episode.length,
                             carry.truncated + truncated.astype(jnp.int32))

    def log_metrics(carry: EpisodicCarry, hparams):
        del hparams
        return {**log(carry.agent), "episodes": carry.episodes, "steps": carry.steps,
                "truncated_episodes": carry.truncated}

    return Program(init=init, step=step, log=log_metrics, weights=lambda c: c.agent.w)
