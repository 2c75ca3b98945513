"""Environments behind gymnax's API, gymnax's own and rlfa's, made by name.

Every environment follows gymnax 1.0: ``reset(key, params) -> (obs, state)`` and
``step(key, state, action, params) -> (obs, state, reward, terminated, truncated,
info)``, where ``obs`` is already reset at an episode's end and
``info["final_observation"]`` holds the observation the episode ended in, so
targets can bootstrap through a time-limit truncation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import gymnax

_RLFA_ENVS: dict[str, Callable[[], Any]] = {}


def register(name: str, factory: Callable[[], Any]) -> None:
    """Register one of rlfa's environments: ``factory() -> Environment``."""
    _RLFA_ENVS[name] = factory


def names() -> list[str]:
    """Every environment name :func:`make` accepts."""
    return sorted(_RLFA_ENVS) + list(gymnax.registered_envs)


def make(name: str, **param_overrides) -> tuple[Any, Any]:
    """Build an environment and its params by name, overriding params fields.

    Args:
      name: an rlfa environment (e.g. ``"RandomWalk1000"``) or any gymnax one
        (``"CartPole-v1"``, ``"MountainCar-v0"``, ``"Breakout-MinAtar"``, ...).
      **param_overrides: fields of the environment's ``EnvParams``, e.g.
        ``max_steps_in_episode=1000``.

    Raises:
      ValueError: unknown name (lists the valid ones) or unknown params field.
    """
    if name in _RLFA_ENVS:
        env = _RLFA_ENVS[name]()
        params = env.default_params
    elif name in gymnax.registered_envs:
        env, params = gymnax.make(name)
    else:
        raise ValueError(f"env={name!r} is unknown: must be one of {names()}.")
    fields = {f.name for f in dataclasses.fields(params)}
    unknown = sorted(set(param_overrides) - fields)
    if unknown:
        raise ValueError(f"{name} has no parameter(s) {unknown}: valid ones are {sorted(fields)}.")
    return env, params.replace(**param_overrides)


from rlfa.envs import access_control as _access_control  # noqa: F401
from rlfa.envs import baird as _baird  # noqa: F401
from rlfa.envs import chain as _chain  # noqa: F401
from rlfa.envs import minatar as _minatar  # noqa: F401  (registers the MinAtar games)
from rlfa.envs import mountain_car as _mountain_car  # noqa: F401
from rlfa.envs import random_walk as _random_walk  # noqa: F401  (registers itself)
