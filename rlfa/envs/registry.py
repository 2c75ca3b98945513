"""The environment registry: rlfa's environments by name, beside gymnax's.

Each of rlfa's environment modules registers its factories here when imported;
:mod:`rlfa.envs` imports them all, so :func:`make` knows every one.
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
