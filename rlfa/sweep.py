"""Hyperparameter sweeps from the command line: lists, grids, and what may be swept.

A sweep only ever changes continuous hyperparameters, the float leaves of an
agent's hyperparameter NamedTuple, so every point runs in ONE compiled program
(:func:`rlfa.runner.run` vmaps over the grid axis). Settings that change array
shapes (tilings, widths, orders) are structural: they belong to the config and
run as separate programs.

A study's ``sweep`` field is :class:`Sweep` of the agent's hyperparameter
NamedTuple, ``Sweep[DQNHParams]``: a frozen dataclass with one ``tuple[str, ...]``
field per declared hyperparameter (so tyro gives ``--sweep.step-size 0.1/8 0.2/8``),
its help taken from the declaration (:mod:`rlfa.hparams`), its values checked
against the declared bounds by :func:`check_requested`. :func:`sweep_points` turns a
base point and the requested values into the grid. Values may be written as
``0.1/8``, ``5e-5`` or ``2**-3``.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import itertools
import math
import operator
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import tyro

from rlfa import hparams

_OPS = {ast.Div: operator.truediv, ast.Mult: operator.mul, ast.Pow: operator.pow,
        ast.Add: operator.add, ast.Sub: operator.sub}


def parse_value(field: str, text: str | float) -> float:
    """A number written as ``0.5``, ``5e-5``, ``0.1/8`` or ``2**-3``; finite, else ValueError."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        def evaluate(node):
            if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
                return float(node.value)
            if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
                return -evaluate(node.operand) if isinstance(node.op, ast.USub) \
                    else evaluate(node.operand)
            if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
                return _OPS[type(node.op)](evaluate(node.left), evaluate(node.right))
            raise ValueError
        try:
            value = evaluate(ast.parse(str(text).strip(), mode="eval").body)
        except (ValueError, SyntaxError, ZeroDivisionError, OverflowError):
            raise ValueError(f"sweep.{field} value {text!r} is invalid: must be a number such as "
                             "0.5, 5e-5 or 0.1/8.") from None
    if not math.isfinite(value):
        raise ValueError(f"sweep.{field} value {text!r} is invalid: must be finite.")
    return value


class Sweep:
    """``Sweep[HParams]``: the ``--sweep.*`` options of a hyperparameter NamedTuple.

    A frozen dataclass (made once per NamedTuple) with a ``tuple[str, ...]`` field per
    hyperparameter, empty by default, helped by the field's own docstring; its class
    attribute ``hparams`` is the NamedTuple.
    """

    def __class_getitem__(cls, kind: type) -> type:
        return _sweep_options(kind)


@functools.cache
def _sweep_options(kind: type) -> type:
    docs = hparams.docs(kind)
    fields = [(name, Annotated[tuple[str, ...], tyro.conf.arg(name=hparams.flag(name), help=(
        f"{docs.get(name, name)} Several values run side by side in one compiled program."))],
        dataclasses.field(default=())) for name in hparams.declared(kind)]
    options = dataclasses.make_dataclass(f"{kind.__name__}Sweep", fields, frozen=True)
    options.__doc__ = f"Values of {kind.__name__} to run instead, all in one compiled program."
    options.__module__ = kind.__module__
    options.hparams = kind
    return options


def check_requested(sweep: Any) -> None:
    """Refuse a requested value that is not a number or lies outside its declared bounds.

    Raises:
      ValueError: naming it, e.g. ``sweep.gamma=1.5 is invalid: must be a number in
        [0.0, 1.0].``
    """
    bounds = hparams.declared(type(sweep).hparams)
    for name, texts in requested(sweep).items():
        for text in texts:
            value = parse_value(hparams.flag(name), text)
            if not bounds[name].allows(value):
                raise ValueError(f"sweep.{hparams.flag(name)}={value!r} is invalid: must be "
                                 f"{bounds[name].describe()}.")


def requested(sweep: Any) -> dict[str, tuple[str, ...]]:
    """The non-empty fields of a sweep dataclass (or mapping), in declaration order."""
    items = dataclasses.asdict(sweep).items() if dataclasses.is_dataclass(sweep) \
        else dict(sweep).items()
    return {k: tuple(v) for k, v in items if v}


def sweep_points(
    base: Any,
    sweep: Mapping[str, Sequence[str | float]],
    *,
    mode: str = "grid",
    structural: Sequence[str] = (),
) -> list[Any]:
    """Hyperparameter points for a sweep around ``base``.

    Args:
      base: the default hyperparameters, a NamedTuple of floats.
      sweep: field name -> values to try; fields not named keep ``base``'s value.
      mode: ``"grid"`` (cartesian product, first field varying slowest) or
        ``"list"`` (the i-th values of every field together; equal lengths).
      structural: config fields that change shapes, named in the error if asked for.

    Returns:
      The points, ``[base]`` for an empty sweep.

    Raises:
      ValueError: an unknown or structural field (the message lists the
        sweepable ones), a field given no values, unequal list lengths, or a value
        that is not a finite number.
    """
    fields = list(base._fields)
    if mode not in ("grid", "list"):
        raise ValueError(f"sweep mode={mode!r} is invalid: must be one of ['grid', 'list'].")
    for name, values in sweep.items():
        if name in structural:
            raise ValueError(f"sweep.{name} is structural (it changes array shapes), so it cannot "
                             f"be swept in one program: run one config per value. Sweepable: "
                             f"{fields}.")
        if name not in fields:
            raise ValueError(f"sweep.{name} is unknown: sweepable fields are {fields}.")
        if len(values) == 0:
            raise ValueError(f"sweep.{name} is empty: give at least one value.")
    parsed = {name: [parse_value(name, v) for v in values] for name, values in sweep.items()}
    if not parsed:
        return [base]
    names = list(parsed)
    if mode == "grid":
        combos = list(itertools.product(*(parsed[n] for n in names)))
    else:
        lengths = {n: len(parsed[n]) for n in names}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"sweep mode='list' needs equally many values per field, got {lengths}.")
        combos = list(zip(*(parsed[n] for n in names)))
    return [base._replace(**dict(zip(names, combo))) for combo in combos]


def labels(points: Sequence[Any], varying: bool = False) -> list[dict[str, float]]:
    """One ``{field: value}`` dict per point (for tables and CSV columns); with ``varying``,
    only the fields whose value differs between the points."""
    values = [{k: float(v) for k, v in p._asdict().items()} for p in points]
    if varying:
        fields = [k for k in values[0] if len({v[k] for v in values}) > 1] if values else []
        values = [{k: v[k] for k in fields} for v in values]
    return values
