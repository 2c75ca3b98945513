"""Key hygiene of the whole DQN program: every loop path traced under jax.debug_key_reuse.

The runner vmaps the program over seeds; a ``lax.scan`` over an array of split
keys is then transposed, which the checker counts as a use. Each variant below
takes one of the scans (warm-up, vectorised environment steps, several gradient
steps, greedy evaluation) with as little else as the config allows, so a
regression names the path it is in.
"""

import jax
import numpy as np
import pytest

from rlfa import runner
from rlfa.control.dqn import DQNConfig, make_program

TINY = {"env": "CartPole-v1", "hidden": (8,), "buffer_capacity": 32, "batch_size": 4,
        "target_period": 4, "epsilon_decay_steps": 40, "num_eval_episodes": 0}
# No warm-up needs no replay (warmup_steps >= batch_size), hence the online rung there.
ONLINE = {"replay": False, "target_net": False, "warmup_steps": 0}

VARIANTS = {
    "warm-up": {"num_envs": 1, "warmup_steps": 8, "train_frequency": 1, "replay_impl": "rlfa"},
    "num_envs>1": {**ONLINE, "num_envs": 2, "train_frequency": 4},
    # with replay: without, the updates take the newest transitions and no key
    "gradient_steps>1": {"num_envs": 1, "warmup_steps": 4, "train_frequency": 1,
                         "gradient_steps": 3},
    "evaluation": {**ONLINE, "num_envs": 1, "train_frequency": 1, "num_eval_episodes": 2,
                   "eval_max_steps": 5},
    "all at once": {"num_envs": 2, "warmup_steps": 8, "train_frequency": 4, "gradient_steps": 2,
                    "double": True, "num_eval_episodes": 2, "eval_max_steps": 5},
}


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS)
def test_full_program_passes_the_key_reuse_checker(variant):
    config = DQNConfig(**{**TINY, **VARIANTS[variant]})
    built = make_program(config)
    with jax.debug_key_reuse(True):
        results = runner.run(built.program, runner.stack_hparams([config.hparams]), seed=3,
                             num_seeds=2, num_logs=2, steps_per_log=2, logs_per_chunk=1,
                             num_devices=1, progress=False)
    assert np.all(results.metrics["env_steps"][0] == config.warmup_steps
                  + config.train_frequency * np.array([2, 4]))
