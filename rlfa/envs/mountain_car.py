"""Mountain Car (Sutton & Barto Example 10.1): gymnax's MountainCar-v0, noise-driven.

The dynamics are gymnax's own ``step_env`` (deterministic); only the start
position, uniform on [-0.6, -0.4), is drawn from a given uniform instead of a
key (see :mod:`rlfa.envs.noise`). The time limit ``max_steps_in_episode``
(gymnax's default 200) truncates; the book's experiments have none, so rlfa's
studies set it to a generous cap.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from gymnax.environments.classic_control import mountain_car

from rlfa.envs.registry import register

EnvParams = mountain_car.EnvParams
EnvState = mountain_car.EnvState
START_LOW, START_HIGH = -0.6, -0.4


class MountainCar(mountain_car.MountainCar):
    """gymnax's MountainCar-v0 plus :mod:`rlfa.envs.noise`'s noise-driven step and reset."""

    noise_size = 1

    def step_from_noise(self, state: EnvState, action, noise: jax.Array, params: EnvParams):
        del noise  # the dynamics are deterministic and step_env ignores its key
        return self.step_env(None, state, action, params)

    def reset_from_noise(self, noise: jax.Array, params: EnvParams):
        position = START_LOW + (START_HIGH - START_LOW) * noise[0]
        state = EnvState(position=jnp.asarray(position, jnp.float32), velocity=jnp.float32(0.0),
                         time=0)
        return self.get_obs(state), state


def _make() -> MountainCar:
    return MountainCar()


register("MountainCar", _make)
