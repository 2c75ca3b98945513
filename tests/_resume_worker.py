"""Small runner programs for the checkpoint tests, and a worker that runs them in a new process.

    python tests/_resume_worker.py KIND CHECKPOINT_DIR OUT_NPZ [--stop-at K] [--resume] [--devices D]

``KIND`` is ``linear`` (semi-gradient TD(0) on the 1000-state random walk with
state aggregation) or ``replay`` (a DQN-shaped carry: parameters, Adam state,
target parameters, a flashbax replay buffer, keys and counters, on a linear
regression task). ``--stop-at K`` sends this process SIGTERM after chunk K, so
the runner saves and exits with status 128 + 15.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

NUM_LOGS, LOGS_PER_CHUNK = 8, 2  # four chunks


class RegressionHParams(NamedTuple):
    step_size: jax.Array


class ReplayCarry(NamedTuple):
    params: jax.Array
    opt_state: tuple
    target: jax.Array
    buffer: object
    key: jax.Array
    steps: jax.Array


def linear_program(params=None):
    from rlfa import prediction
    from rlfa.envs import random_walk as rw
    from rlfa.features.base import linear_value
    from rlfa.features.state_aggregation import state_aggregation

    params = params or rw.EnvParams()
    features = state_aggregation(params.num_states, 10)
    obs = rw.all_observations(params)

    def log(state):
        # No reduction over states here: XLA may sum in a different order for another
        # batch size, and these programs are compared bit for bit across batch sizes.
        return {"w": state.w, "v_start": linear_value(state.w, features(obs[499]))}

    return prediction.episodic_prediction(
        rw.dynamics(params), prediction.semi_gradient_td0(features), monte_carlo=False,
        max_episode_steps=1000, log=log, obs_example=obs[0])


def replay_program():
    """Noisy linear regression learnt from a replay buffer with Adam and a target copy."""
    import optax

    from rlfa import replay
    from rlfa.runner import Program

    buffer = replay.make(capacity=32, batch_size=4, implementation="flashbax")
    optimizer = optax.adam(1.0)  # the step size enters as a traced hyperparameter below
    w_true = jnp.array([1.0, -2.0, 0.5], jnp.float32)
    example = {"x": jnp.zeros(3, jnp.float32), "y": jnp.zeros((), jnp.float32)}

    def init(key, hparams):
        key_params, key = jax.random.split(key)
        w = 0.1 * jax.random.normal(key_params, (3,))
        return ReplayCarry(w, optimizer.init(w), w, buffer.init(example), key, jnp.int32(0))

    def step(carry, hparams):
        key, key_x, key_noise, key_sample = jax.random.split(carry.key, 4)
        x = jax.random.normal(key_x, (2, 3))
        y = x @ w_true + 0.1 * jax.random.normal(key_noise, (2,))
        state = buffer.add_batch(carry.buffer, {"x": x, "y": y})
        batch = buffer.sample(state, key_sample)
        grad = jax.grad(lambda w: jnp.mean((batch["x"] @ w - batch["y"]
                                            + 0.1 * batch["x"] @ carry.target) ** 2))(carry.params)
        updates, opt_state = optimizer.update(grad, carry.opt_state)
        params = optax.apply_updates(carry.params, jax.tree.map(
            lambda u: hparams.step_size * u, updates))
        target = jnp.where(carry.steps % 5 == 4, params, carry.target)
        return ReplayCarry(params, opt_state, target, state, key, carry.steps + 1)

    def log(carry, hparams):
        return {"error": jnp.sum((carry.params - w_true) ** 2), "steps": carry.steps}

    return Program(init, step, log, weights=lambda c: c.params)


def run_kind(kind: str, **kwargs):
    from rlfa import prediction, runner

    if kind == "linear":
        program = linear_program()
        hparams = runner.stack_hparams([prediction.PredictionHParams(a, 1.0) for a in (0.1, 0.02)])
        steps_per_log = 3
    else:
        program = replay_program()
        hparams = runner.stack_hparams([RegressionHParams(a) for a in (0.05, 0.01)])
        steps_per_log = 5
    return runner.run(program, hparams, seed=7, num_seeds=3, num_logs=NUM_LOGS,
                      steps_per_log=steps_per_log, logs_per_chunk=LOGS_PER_CHUNK,
                      progress=False, **kwargs)


def flat_results(results) -> dict[str, np.ndarray]:
    """Metrics, divergence flags and every final-carry leaf (keys as raw data), as numpy."""
    out = {f"metric/{k}": np.asarray(v) for k, v in results.metrics.items()}
    out["diverged_at"] = results.diverged_at
    for i, x in enumerate(jax.tree.leaves(results.final)):
        if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
            x = jax.random.key_data(x)
        out[f"final/{i}"] = np.asarray(x)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=("linear", "replay"))
    parser.add_argument("checkpoint_dir")
    parser.add_argument("out")
    parser.add_argument("--stop-at", type=int, default=0)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--devices", type=int, default=1)
    args = parser.parse_args()
    from rlfa import devices, runner

    devices.configure_cpu(args.devices)

    def stop(chunks_done, carry):
        if chunks_done == args.stop_at:
            os.kill(os.getpid(), signal.SIGTERM)

    results = run_kind(args.kind, on_chunk=stop, checkpoints=runner.Checkpoints(
        args.checkpoint_dir, resume=args.checkpoint_dir if args.resume else None))
    np.savez(Path(args.out), **flat_results(results))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
