"""Experience replay: one interface, two implementations.

:func:`make` returns a :class:`Replay` of pure functions with the capacity and
batch size closed over; its state is a pytree that vmaps over seeds.
``"flashbax"`` (flashbax's item buffer) is the default DQN uses; ``"rlfa"``
(:mod:`rlfa.replay.uniform`) is a 100-line circular buffer with the same
contract. At PureJaxRL's CartPole settings the two cost the same per train step
(``python -m benchmarks.dqn --replays rlfa flashbax``), so the library follows
flashbax there. The MinAtar paper's agent (:mod:`rlfa.control.dqn.minatar_paper`)
takes ``"rlfa"``: with one environment, sampling right after a one-item write, XLA
copies flashbax's whole 100,000-frame buffer on every write, while rlfa's write stays
in place (tests/control/dqn/test_train.py finds no copy in the compiled step).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

from rlfa.config import check_choice, check_positive_int
from rlfa.replay import flashbax_buffer, uniform

IMPLEMENTATIONS = ("rlfa", "flashbax")


class Replay(NamedTuple):
    """A uniform replay buffer as pure functions.

    Attributes:
      init: ``item_example -> state``, the empty buffer.
      add_batch: ``(state, items [n, ...]) -> state``.
      sample: ``(state, key) -> items [batch_size, ...]``, uniform with replacement
        over the filled slots.
      nbytes: ``item_example -> int``, bytes of storage, known before allocation.
      capacity: slots.
      batch_size: items per sample.
    """

    init: Callable[[Any], Any]
    add_batch: Callable[[Any, Any], Any]
    sample: Callable[[Any, Any], Any]
    nbytes: Callable[[Any], int]
    capacity: int
    batch_size: int


def make(capacity: int, batch_size: int, implementation: str = "flashbax") -> Replay:
    """A uniform replay of ``capacity`` items sampling ``batch_size`` at a time.

    Raises:
      ValueError: non-positive sizes, ``batch_size > capacity``, unknown implementation.
    """
    check_positive_int("capacity", capacity)
    check_positive_int("batch_size", batch_size)
    check_choice("replay implementation", implementation, IMPLEMENTATIONS)
    if batch_size > capacity:
        raise ValueError(f"batch_size={batch_size} is invalid: must be <= the replay capacity"
                         f" ({capacity}).")
    def nbytes(example) -> int:
        return uniform.nbytes(example, capacity)

    if implementation == "rlfa":
        return Replay(init=lambda example: uniform.init(example, capacity),
                      add_batch=uniform.add_batch,
                      sample=lambda state, key: uniform.sample(state, key, batch_size),
                      nbytes=nbytes, capacity=capacity, batch_size=batch_size)
    buffer = flashbax_buffer.make_item_buffer(capacity, batch_size)
    return Replay(init=functools.partial(flashbax_buffer.init, buffer),
                  add_batch=functools.partial(flashbax_buffer.add_batch, buffer),
                  sample=functools.partial(flashbax_buffer.sample, buffer),
                  nbytes=nbytes, capacity=capacity, batch_size=batch_size)


__all__ = ["IMPLEMENTATIONS", "Replay", "flashbax_buffer", "make", "uniform"]
