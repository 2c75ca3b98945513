"""Traced hyperparameters, each declared once: name, bounds, default and help.

An algorithm's continuous hyperparameters are a NamedTuple whose fields carry
their bounds in the annotation and their help in a docstring below them::

    class ControlHParams(NamedTuple):
        step_size: Positive = 0.1
        \"\"\"alpha > 0, per weight.\"\"\"
        epsilon: ZeroToOne = 0.0
        \"\"\"Exploration probability in [0, 1].\"\"\"

Everything else derives from that declaration: :func:`check` validates a point
(or a stacked grid of them), :class:`rlfa.sweep.Sweep` builds the ``--sweep.*``
options with their help, a frozen config embeds the point with :data:`Flat` (its
fields become the config's own flags, ``--dqn.learning-rate``), and the runner
traces the leaves (float32 arrays), so a sweep over them compiles once.
"""

from __future__ import annotations

import ast
import functools
import inspect
import math
import textwrap
import typing
from collections.abc import Mapping
from typing import Annotated, Any, NamedTuple, TypeVar

import jax
import jax.numpy as jnp
import numpy as np
import tyro


class Bounds(NamedTuple):
    """What values a hyperparameter allows: ``low <= x <= high`` (``low < x`` if
    ``open_low``), finite, and integer-valued if ``integer``."""

    low: float = -math.inf
    high: float = math.inf
    open_low: bool = False
    integer: bool = False

    def allows(self, x: float) -> bool:
        above = x > self.low if self.open_low else x >= self.low
        return (math.isfinite(x) and above and x <= self.high
                and (not self.integer or x == round(x)))

    def describe(self, high: str | None = None) -> str:
        """What :meth:`allows`, in words: ``"a finite number > 0"``; ``high`` names the upper
        bound (``"max_n=6"``) where it comes from a static setting."""
        if self.integer:
            return f"an integer >= {self.low:g}" if self.high == math.inf else \
                f"an integer in [{self.low:g}, {high or f'{self.high:g}'}]"
        if self.high == math.inf:
            return f"a finite number {'>' if self.open_low else '>='} {self.low:g}"
        return f"a number in [{self.low}, {high or self.high}]"


Positive = Annotated[float, Bounds(0.0, math.inf, open_low=True)]
"""A finite number > 0: step sizes."""
ZeroToOne = Annotated[float, Bounds(0.0, 1.0)]
"""A number in [0, 1]: discounts, probabilities, mixing rates."""
Count = Annotated[float, Bounds(1.0, math.inf, integer=True)]
"""An integer >= 1 held as a float leaf, so it is swept with the others (n of n-step methods)."""

T = TypeVar("T")
Flat = Annotated[T, tyro.conf.arg(name="")]
"""A config field holding a hyperparameter point whose fields are the config's own flags:
``hparams: Flat[DQNHParams]`` in ``DQNConfig`` gives ``--dqn.learning-rate``."""


def flag(name: str) -> str:
    """A field's name as its flags and messages spell it: a trailing underscore, which
    only keeps a Python keyword (``lambda_``) a legal field name, dropped."""
    return name.removesuffix("_")


def declared(kind: type) -> dict[str, Bounds]:
    """Field -> :class:`Bounds` of a hyperparameter NamedTuple (every field must declare them)."""
    hints = typing.get_type_hints(kind, include_extras=True)
    out = {}
    for name in kind._fields:
        bounds = [m for m in getattr(hints.get(name), "__metadata__", ()) if isinstance(m, Bounds)]
        if not bounds:
            raise TypeError(f"{kind.__name__}.{name} declares no bounds: annotate it as "
                            "Positive, ZeroToOne, Count or Annotated[float, Bounds(...)].")
        out[name] = bounds[0]
    return out


@functools.cache
def docs(kind: type) -> dict[str, str]:
    """Field -> the docstring written below it in ``kind``'s source ("" if none)."""
    try:
        source = textwrap.dedent(inspect.getsource(kind))
    except (OSError, TypeError):
        return {}
    body = ast.parse(source).body[0].body
    out = {}
    for node, after in zip(body, body[1:]):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)):
            out[node.target.id] = " ".join(after.value.value.split())
    return out


def values(field: str, value: Any) -> list[float]:
    """A number, or every entry of an array of them (a stacked grid), as floats.

    A traced value (inside ``jit``/``vmap``) cannot be read and gives ``[]``:
    check a sweep's points before compiling.
    """
    if isinstance(value, jax.core.Tracer):
        return []
    try:
        return [float(v) for v in np.asarray(value, np.float64).ravel()]
    except (TypeError, ValueError):
        raise ValueError(f"{field}={value!r} is invalid: must be a number.") from None


def check(point: Any, prefix: str = "", *,
          at_most: Mapping[str, tuple[str, float]] | None = None) -> None:
    """Refuse a hyperparameter point (or a grid of them) outside its declared bounds.

    Args:
      point: a hyperparameter NamedTuple of numbers or arrays (a stacked grid).
      prefix: put before the field's name in the message (``"sweep."``).
      at_most: field -> ``(name, value)`` of a static upper bound beside the declared one:
        an n-step agent's buffer holds ``max_n`` steps, so ``{"n": ("max_n", 6)}``.

    Raises:
      ValueError: naming the field and the value, e.g. ``gamma=1.5 is invalid: must be
        a number in [0.0, 1.0].`` or ``n=7.0 is invalid: must be an integer in [1, max_n=6].``
    """
    for name, bounds in declared(type(point)).items():
        value, high = getattr(point, name), None
        if at_most and name in at_most:
            setting, limit = at_most[name]
            bounds, high = bounds._replace(high=min(bounds.high, limit)), f"{setting}={limit:g}"
        for v in values(f"{prefix}{flag(name)}", value):
            if not bounds.allows(v):
                raise ValueError(f"{prefix}{flag(name)}={v!r} is invalid: must be "
                                 f"{bounds.describe(high)}.")


def traced(point: T) -> T:
    """The point as float32 arrays: the leaves the runner vmaps and traces."""
    return jax.tree.map(jnp.float32, point)
