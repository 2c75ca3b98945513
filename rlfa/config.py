"""Validation helpers for frozen config dataclasses, and named settings with given fields on top.

Every config validates itself in ``__post_init__`` with these helpers, so a bad
value fails when the config is built, before anything is compiled or written,
with a ``ValueError`` naming the field, the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence


def _fail(field: str, value, allowed: str):
    raise ValueError(f"{field}={value!r} is invalid: must be {allowed}.")


def _values(field: str, value) -> list:
    """The numbers to check: a sequence's entries, an array's (see :func:`entries`), or
    ``value`` itself."""
    if isinstance(value, (list, tuple)):
        return list(value)
    return entries(field, value) if hasattr(value, "shape") else [value]


def check_positive(field: str, value) -> None:
    """Raise unless ``value`` is a finite number > 0 (or every entry of a sequence or array is;
    a traced array passes, see :func:`entries`)."""
    for v in _values(field, value):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            _fail(field, value, "a finite number > 0")


def check_positive_int(field: str, value) -> None:
    """Raise unless ``value`` is an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        _fail(field, value, "an integer >= 1")


def check_nonnegative_int(field: str, value) -> None:
    """Raise unless ``value`` is an int >= 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        _fail(field, value, "an integer >= 0")


def check_in_range(field: str, value, low: float, high: float) -> None:
    """Raise unless ``low <= value <= high`` (each entry, for a sequence or array)."""
    for v in _values(field, value):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not (low <= v <= high):
            _fail(field, value, f"a number in [{low}, {high}]")


def entries(field: str, value) -> list[float]:
    """A number, or every entry of an array of them (a sweep's grid of hyperparameters), as
    floats to check one by one with the helpers here.

    A traced value (inside ``jit``/``vmap``) cannot be read and gives ``[]``: check a
    sweep's points before compiling.
    """
    import jax
    import numpy as np

    if isinstance(value, jax.core.Tracer):
        return []
    try:
        return [float(v) for v in np.asarray(value, np.float64).ravel()]
    except (TypeError, ValueError):
        _fail(field, value, "a number")


def check_choice(field: str, value, choices: Iterable) -> None:
    """Raise unless ``value`` is one of ``choices``; the message lists them."""
    choices = list(choices)
    if value not in choices:
        _fail(field, value, f"one of {choices}")


def check_nonempty(field: str, value: Sequence) -> None:
    """Raise if a sequence field is empty."""
    if len(value) == 0:
        _fail(field, value, "a non-empty sequence")


def overlay(base, changed, default):
    """``base`` (named settings: a paper's, a protocol) with every field that ``changed`` (the
    parsed flags) sets away from ``default`` (the flags' defaults), field by field into nested
    dataclasses and NamedTuples, so ``--dqn.learning-rate`` changes one hyperparameter of
    ``base``, not all of them. A flag given at its default value cannot be told from none."""
    if dataclasses.is_dataclass(base):
        names, replace = [f.name for f in dataclasses.fields(base)], dataclasses.replace
    else:
        names, replace = base._fields, type(base)._replace
    updates = {}
    for name in names:
        given, unset = getattr(changed, name), getattr(default, name)
        if given != unset:
            inner = getattr(base, name)
            nested = dataclasses.is_dataclass(inner) or hasattr(inner, "_fields")
            updates[name] = overlay(inner, given, unset) if nested else given
    return replace(base, **updates)
