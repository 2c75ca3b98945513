"""The DQN training loop: probe environments with known Q, boundaries, evaluation, determinism."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import struct
from gymnax.environments import environment, spaces

from rlfa import envs, runner
from rlfa.control.dqn import DQNConfig, DQNHParams, make_program
from rlfa.dqn_study import plan
from rlfa.hparams import traced
from rlfa.control.evaluation import greedy_returns


@pytest.fixture(autouse=True, scope="module")
def key_reuse_checked():
    """Every test here, module fixtures included, traced under the key-reuse checker."""
    with jax.debug_key_reuse(True):
        yield


@struct.dataclass
class ProbeState(environment.EnvState):
    position: jax.Array
    time: int


@struct.dataclass
class ProbeParams(environment.EnvParams):
    length: int = 1
    final_reward: float = 1.0
    loop_probability: float = 0.0
    max_steps_in_episode: int = 100


class Probe(environment.Environment):
    """Probe environments (rejax-style) whose action values are known; actions are ignored.

    An episode starts, with probability ``1 - loop_probability``, at the start of a
    chain: positions ``0 .. length - 1``, observation ``[position]``, reward
    ``final_reward`` on the step that terminates and 0 before, so
    ``Q(position) = gamma**(length - 1 - position) * final_reward``. Otherwise it
    starts in the loop state (observation ``[-1]``): reward 1 every step, never
    terminates, cut by the time limit; bootstrapping through the truncation gives
    ``Q = 1 / (1 - gamma)``, treating it as terminal would give less.
    """

    def __init__(self, params: ProbeParams):
        super().__init__()
        self._params = params

    @property
    def default_params(self):
        return self._params

    def step_env(self, key, state, action, params):
        in_loop = state.position < 0
        position = jnp.where(in_loop, -1, state.position + 1)
        terminated = jnp.logical_and(~in_loop, position >= params.length)
        reward = jnp.where(in_loop, 1.0, terminated * params.final_reward)
        state = ProbeState(position=position, time=state.time + 1)
        return self.get_obs(state), state, reward.astype(jnp.float32), terminated, {}

    def reset_env(self, key, params):
        loop = jax.random.uniform(key) < params.loop_probability
        state = ProbeState(position=jnp.where(loop, -1, 0).astype(jnp.int32), time=0)
        return self.get_obs(state), state

    def get_obs(self, state, params=None, key=None):
        return jnp.asarray(state.position, jnp.float32)[None]

    @property
    def num_actions(self):
        return 2

    def action_space(self, params=None):
        return spaces.Discrete(2)

    def observation_space(self, params):
        return spaces.Box(-1, 10, (1,), jnp.float32)


# A two-step chain and a loop truncated after two steps (the chain's last step is then
# both terminated and truncated: termination wins). gamma = 0.5: Q(0) = 0.5, Q(1) = 1, Q(-1) = 2.
PROBES = {"ProbeMix-test": ProbeParams(length=2, loop_probability=0.5, max_steps_in_episode=2),
          "ProbeZero-test": ProbeParams(length=1, final_reward=0.0),
          "ProbeThreeSteps-test": ProbeParams(length=3)}
for _name, _params in PROBES.items():
    envs.register(_name, lambda p=_params: Probe(p))

# Two vectorised steps and two updates per train step: every loop path is exercised.
PROBE_CONFIG = DQNConfig(env="ProbeMix-test", hidden=(16,), num_envs=2, buffer_capacity=512,
                         batch_size=32, warmup_steps=64, train_frequency=4, gradient_steps=2,
                         target_period=50, epsilon_decay_steps=500, num_eval_episodes=2,
                         hparams=DQNHParams(learning_rate=3e-3, gamma=0.5, epsilon_start=1.0,
                                            epsilon_end=0.1))
PROBE_OBS, PROBE_Q = [[0.0], [1.0], [-1.0]], [0.5, 1.0, 2.0]


def _train(config, total_steps, num_seeds=1, num_logs=2, vectorize=True):
    built = make_program(config)
    steps_per_log, _ = plan(config, total_steps, num_logs)
    return built, runner.run(built.program, runner.stack_hparams([config.hparams]), seed=0,
                             num_seeds=num_seeds, num_logs=num_logs,
                             steps_per_log=steps_per_log, progress=False, num_devices=1,
                             vectorize=vectorize)


def _probe_q(built, results, seed=0):
    params = jax.tree.map(lambda x: x[0, seed], results.final.agent.params)
    return np.asarray(built.agent.q_values(params, jnp.array(PROBE_OBS)))


@pytest.fixture(scope="module")
def probe_run():
    return _train(PROBE_CONFIG, total_steps=3000)


@pytest.mark.slow
def test_probe_q_values_reach_known_values(probe_run):
    """One step to termination (Q = 1), bootstrapping (Q = gamma), and through truncation."""
    q = _probe_q(*probe_run)
    np.testing.assert_allclose(q, np.repeat(np.array(PROBE_Q)[:, None], 2, 1), atol=0.05)


def test_online_rung_learns_the_probe():
    config = dataclasses.replace(PROBE_CONFIG, replay=False, target_net=False, warmup_steps=0,
                                 num_eval_episodes=0)
    q = _probe_q(*_train(config, total_steps=3000))
    np.testing.assert_allclose(q, np.repeat(np.array(PROBE_Q)[:, None], 2, 1), atol=0.1)


@pytest.mark.slow
def test_same_seed_twice_identical_and_seed_alone_equals_seed_among_several(probe_run):
    _, first = probe_run
    _, again = _train(PROBE_CONFIG, total_steps=3000, num_seeds=1)
    _, among = _train(PROBE_CONFIG, total_steps=3000, num_seeds=3)
    assert set(first.metrics) >= {"eval_return", "eval_valid", "loss", "epsilon", "env_steps"}
    for name in first.metrics:
        np.testing.assert_array_equal(first.metrics[name], again.metrics[name])
        if name == "loss":
            # The reported loss of a train step with several updates can differ by an ulp
            # with the number of runs batched beside it (XLA's reduction order for that
            # value); the weights it came with are bit-identical, checked below.
            np.testing.assert_allclose(first.metrics[name][:, 0], among.metrics[name][:, 0],
                                       rtol=1e-6)
        else:
            np.testing.assert_array_equal(first.metrics[name][:, 0], among.metrics[name][:, 0])
    for alone, many in zip(jax.tree.leaves(first.final), jax.tree.leaves(among.final)):
        if jnp.issubdtype(alone.dtype, jax.dtypes.prng_key):
            alone, many = jax.random.key_data(alone), jax.random.key_data(many)
        np.testing.assert_array_equal(alone[:, 0], many[:, 0])
    kernels = jax.tree.leaves(among.final.agent.params)[1]
    assert not np.array_equal(kernels[0, 0], kernels[0, 1])  # different seeds differ


@pytest.mark.slow
def test_runs_one_after_another_a_seed_alone_equals_it_among_several(probe_run):
    """``vectorize=False``: every run is the unbatched program, so a seed's every number,
    the reported loss included, is the same alone and beside others; and close to the
    vmapped run's (the same computation, compiled batched)."""
    _, alone = _train(PROBE_CONFIG, total_steps=3000, num_seeds=1, vectorize=False)
    _, among = _train(PROBE_CONFIG, total_steps=3000, num_seeds=3, vectorize=False)
    for name in alone.metrics:
        np.testing.assert_array_equal(alone.metrics[name][:, 0], among.metrics[name][:, 0])
    for one, many in zip(jax.tree.leaves(alone.final.agent), jax.tree.leaves(among.final.agent)):
        np.testing.assert_array_equal(one[:, 0], many[:, 0])
    _, vmapped = probe_run
    for one, batched in zip(jax.tree.leaves(alone.final.agent.params),
                            jax.tree.leaves(vmapped.final.agent.params)):
        np.testing.assert_allclose(one, batched, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_target_updates_in_environment_steps_summed_over_environments():
    """2 environments x 2 vectorised steps per train step: the counter moves by 4, so a
    target due every 3 environment steps is mixed 1, 2, 1, 1, 2, 1 times per train step
    after the warm-up's 64, at its end, from the online network its gradient steps left."""
    tau = 0.3
    config = dataclasses.replace(PROBE_CONFIG, num_envs=2, warmup_steps=64, train_frequency=4,
                                 gradient_steps=2, target_period=3, num_eval_episodes=0,
                                 hparams=PROBE_CONFIG.hparams._replace(tau=tau))
    built = make_program(config)
    hp = traced(config.hparams)
    carry = jax.jit(built.program.init)(jax.random.key(2), hp)
    step = jax.jit(built.program.step)
    assert int(carry.agent.steps) == 64
    for updates_due in [1, 2, 1, 1, 2, 1]:  # (64, 68] holds 66, (68, 72] 69 and 72, ...
        old = carry.agent.target_params
        carry = step(carry, hp)
        keep = (1 - tau) ** updates_due
        leaves = map(jax.tree.leaves, (carry.agent.target_params, carry.agent.params, old))
        for got, online, before in zip(*leaves, strict=True):
            np.testing.assert_allclose(got, online + keep * (before - online), rtol=1e-5,
                                       atol=1e-7)
    assert int(carry.agent.steps) == 64 + 6 * 4


@pytest.mark.parametrize("replay_impl", ["flashbax", "rlfa"])
def test_stored_next_observation_is_the_final_one_at_boundaries(replay_impl):
    config = DQNConfig(num_envs=1, buffer_capacity=400, batch_size=32, warmup_steps=400,
                       train_frequency=1, num_eval_episodes=0, replay_impl=replay_impl)
    built = make_program(config)
    carry = jax.jit(built.program.init)(jax.random.key(7), traced(config.hparams))
    if replay_impl == "rlfa":
        items = jax.tree.map(np.asarray, carry.buffer.items)
    else:  # flashbax keeps an add-batch axis of one in front
        items = jax.tree.map(lambda x: np.asarray(x[0]), carry.buffer.experience)
    done = items.terminated_t | items.truncated_t
    assert done.sum() >= 5  # random CartPole episodes last about 22 steps
    continuing = ~done[:-1]
    # within an episode the next observation is the following transition's observation
    np.testing.assert_array_equal(items.obs_t[:-1][continuing], items.obs_tm1[1:][continuing])
    # at every termination the stored next observation is CartPole's terminal one (pole or
    # cart out of bounds), not the reset observation (all entries within +-0.05)
    final = items.obs_t[done]
    assert np.all((np.abs(final[:, 0]) > 2.4) | (np.abs(final[:, 2]) > 12 * np.pi / 180))
    np.testing.assert_array_less(np.abs(items.obs_tm1[1:][done[:-1]]), 0.05 + 1e-6)


def test_greedy_evaluation_validity_mask():
    policy = lambda obs: jnp.zeros(obs.shape[0], jnp.int32)
    zero_key, short_key, long_key = jax.random.split(jax.random.key(0), 3)
    # a genuine zero return counts
    env, params = envs.make("ProbeZero-test")
    returns, valid = greedy_returns(env, params, policy, zero_key, 3, max_steps=2)
    np.testing.assert_array_equal(returns, [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(valid, [True, True, True])
    # an episode still running when the budget ends does not count; only the first episode
    # of each copy is counted when there is budget for more
    env, params = envs.make("ProbeThreeSteps-test")
    _, valid = greedy_returns(env, params, policy, short_key, 2, max_steps=2)
    np.testing.assert_array_equal(valid, [False, False])
    returns, valid = greedy_returns(env, params, policy, long_key, 2, max_steps=7)
    np.testing.assert_array_equal(returns, [1.0, 1.0])
    np.testing.assert_array_equal(valid, [True, True])


@pytest.mark.slow
def test_cartpole_learns_beyond_random_in_a_short_budget():
    config = DQNConfig(num_envs=4, buffer_capacity=10_000, batch_size=64, warmup_steps=1000,
                       train_frequency=4, target_period=400, epsilon_decay_steps=10_000,
                       num_eval_episodes=8, hparams=DQNHParams(learning_rate=1e-3))
    _, results = _train(config, total_steps=25_000, num_seeds=2, num_logs=5)
    returns = results.metrics["eval_return"][0, :, -1]  # [seed, episode]
    assert results.metrics["eval_valid"][0, :, -1].all()
    assert returns.mean() > 100  # a random policy lasts about 22 steps


@pytest.mark.parametrize("num_runs", [None, 1])
def test_minatar_paper_step_writes_its_replay_in_place(num_runs):
    """The paper's train step (one frame written, then 32 sampled from 100,000) compiles
    with no copy of the replay: XLA once fused the one-frame write into the sampling
    gather and copied the 80 MB buffer twice a frame (4x the frame's time). ``None``: one
    run as the runner calls it one after another (no run axis); 1: vmapped over one run,
    where the copies were. Compiled only."""
    from rlfa.control.dqn.minatar_paper import paper_config

    config = paper_config("Breakout", num_eval_episodes=0)
    program, hp = make_program(config).program, traced(config.hparams)
    step, init = program.step, program.init
    key = jax.random.key(0)
    if num_runs is not None:
        step, init = jax.vmap(step, (0, None)), jax.vmap(init, (0, None))
        key = jax.random.split(key, num_runs)
    carry = jax.eval_shape(init, key, hp)  # shapes only: nothing is allocated
    loop = jax.jit(lambda c: jax.lax.fori_loop(0, 2, lambda _, c: step(c, hp), c),
                   donate_argnums=0)
    hlo = loop.lower(carry).compile().as_text()
    capacity = f",{config.buffer_capacity}"
    assert f"{config.buffer_capacity}" in hlo
    copies = [line.strip()[:100] for line in hlo.splitlines()
              if " copy(" in line and (capacity in line or f"[{config.buffer_capacity}" in line)]
    assert not copies, copies
