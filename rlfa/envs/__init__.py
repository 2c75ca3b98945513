"""Environments behind gymnax's API, gymnax's own and rlfa's, made by name.

Every environment follows gymnax 1.0: ``reset(key, params) -> (obs, state)`` and
``step(key, state, action, params) -> (obs, state, reward, terminated, truncated,
info)``, where ``obs`` is already reset at an episode's end and
``info["final_observation"]`` holds the observation the episode ended in, so
targets can bootstrap through a time-limit truncation.
"""

# Importing each environment module registers its environments (make finds them by name).
from rlfa.envs import (  # noqa: F401
    access_control,
    baird,
    chain,
    minatar,
    mountain_car,
    random_walk,
)
from rlfa.envs.registry import make, names, register

__all__ = ["make", "names", "register"]
