"""Benchmark: the hand-written backward pass vs ``jax.grad`` on the same network and batch.

    python -m benchmarks.backprop           # several networks and batch sizes
    python -m benchmarks.backprop --quick   # seconds, to check it runs

For each network and batch size, jit-compiles :func:`rlfa.backprop.risk_and_grad`
(forward pass + delta recursion) and ``jax.value_and_grad`` of
:func:`rlfa.backprop.risk` (the same forward pass, differentiated by JAX), checks that
they agree, and times both: compile time apart, then the median time per gradient
over ``repeats`` samples, the two taken in alternation so a busy machine slows both
alike. The target: the hand-written gradient takes at most 1.5 times as long as
``jax.grad``'s. Writes ``runs/benchmark_backprop/<timestamp>/``: ``config.json``,
``summary.json``, ``metrics.csv`` (one row per network and batch size: both
median times, their ratio, both compile times, the gradients' difference) and
``figure.png`` (the ratio per network and batch size, with the target line).
Like every benchmark this module calls ``jax.jit`` itself; it is not a study.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks import harness
from benchmarks.harness import Column
from rlfa import backprop as bp
from rlfa import config as cfg
from rlfa import report
from rlfa.study import cli

TARGET_RATIO = 1.5


@dataclasses.dataclass(frozen=True)
class BenchmarkConfig(harness.BenchmarkOptions):
    """Time hand-written backpropagation against jax.grad.

    --quick: one small network, one batch size, 10 samples: runs in seconds.
    """

    networks: tuple[str, ...] = ("1-64-1", "16-128-128-4", "64-256-256-256-10", "784-512-512-10")
    """Layer widths d0-d1-...-dL of each network."""
    batch_sizes: tuple[int, ...] = (32, 256)
    """Examples per gradient."""
    hidden: str = "tanh"
    """Hidden activation (the output is linear)."""
    repeats: int = 30
    """Timed samples per case and method (the median is reported)."""
    min_sample_s: float = 0.005
    """Each sample repeats the gradient until it lasts at least this long."""
    seed: int = 0
    """Seed of the random weights and data."""

    def __post_init__(self):
        super().__post_init__()
        cfg.check_nonempty("networks", self.networks)
        cfg.check_nonempty("batch_sizes", self.batch_sizes)
        for text in self.networks:
            parse_network(text, self.hidden)
        self.check_counts("batch_sizes", "repeats")
        cfg.check_positive("min_sample_s", self.min_sample_s)

    def effective(self) -> BenchmarkConfig:
        """The settings actually run: ``--quick`` shrinks the workload."""
        if not self.quick:
            return self
        return dataclasses.replace(
            self,
            quick=False,
            networks=("4-16-16-2",),
            batch_sizes=(8,),
            repeats=10,
            min_sample_s=1e-3,
        )


def parse_network(text: str, hidden: str) -> bp.Architecture:
    """``"16-128-4"`` -> an architecture with ``hidden`` hidden layers and a linear output."""
    try:
        sizes = tuple(int(part) for part in text.split("-"))
    except ValueError:
        raise ValueError(
            f"networks entry {text!r} is invalid: must be widths joined by '-', e.g. 16-128-4."
        ) from None
    return bp.architecture(sizes, hidden=hidden)


def _time_per_call(fn, args, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        out = fn(*args)
    jax.block_until_ready(out)
    return (time.perf_counter() - start) / calls


def _calls_for(fn, args, min_sample_s: float) -> int:
    """How many calls make one sample last ``min_sample_s``."""
    calls = 1
    while _time_per_call(fn, args, calls) * calls < min_sample_s and calls < 1 << 20:
        calls *= 2
    return calls


def time_case(arch: bp.Architecture, batch: int, config: BenchmarkConfig) -> dict:
    """Compile and time both gradients for one network and batch size."""
    key = jax.random.key(config.seed)
    params_key, x_key, y_key = jax.random.split(key, 3)
    params = bp.init_params(params_key, arch, bias_scale=0.1)
    x = jax.random.normal(x_key, (batch, arch.sizes[0]))
    y = jax.random.normal(y_key, (batch, arch.sizes[-1]))
    fns = {
        "hand": jax.jit(lambda p, x, y: bp.risk_and_grad(arch, p, x, y)),
        "autodiff": jax.jit(jax.value_and_grad(lambda p, x, y: bp.risk(arch, p, x, y))),
    }
    compiled, compile_s = {}, {}
    for name, fn in fns.items():
        start = time.perf_counter()
        compiled[name] = fn.lower(params, x, y).compile()
        compile_s[name] = time.perf_counter() - start
    args = (params, x, y)
    (value, grads), (auto_value, auto_grads) = (compiled[n](*args) for n in fns)
    worst = max(
        float(jnp.linalg.norm(g - a) / jnp.maximum(jnp.linalg.norm(a), 1e-30))
        for g, a in zip(jax.tree.leaves(grads), jax.tree.leaves(auto_grads))
    )
    calls = max(_calls_for(compiled[n], args, config.min_sample_s) for n in fns)
    samples = {name: [] for name in fns}
    for _ in range(config.repeats):
        for name in fns:  # alternate, so drifting load hits both methods alike
            samples[name].append(_time_per_call(compiled[name], args, calls))
    median_us = {name: 1e6 * float(np.median(s)) for name, s in samples.items()}
    return {
        "network": "-".join(map(str, arch.sizes)),
        "batch": batch,
        "num_weights": sum(int(np.prod(w.shape)) for w in jax.tree.leaves(params)),
        "hand_us": median_us["hand"],
        "autodiff_us": median_us["autodiff"],
        "ratio": median_us["hand"] / median_us["autodiff"],
        "hand_compile_s": compile_s["hand"],
        "autodiff_compile_s": compile_s["autodiff"],
        "calls_per_sample": calls,
        "max_relative_grad_difference": worst,
        "risk_difference": float(abs(value - auto_value)),
    }


COLUMNS = (
    Column("network", 20, "network", align="<"), Column("batch", 6, "batch"),
    Column("hand µs", 10, "hand_us", ".1f"), Column("jax.grad µs", 13, "autodiff_us", ".1f"),
    Column("ratio", 7, "ratio", ".2f"),
    Column("compile s (hand/grad)", 23,
           lambda r: f"{r['hand_compile_s']:.2f} / {r['autodiff_compile_s']:.2f}"),
    Column("max rel diff", 14, "max_relative_grad_difference", ".1e"))


def main(config: BenchmarkConfig) -> Path:
    """Run every case, print a table, write the results, return the run directory."""
    settings = config.effective()
    rows = [
        time_case(parse_network(text, settings.hidden), batch, settings)
        for text in settings.networks
        for batch in settings.batch_sizes
    ]
    ratios = [row["ratio"] for row in rows]
    summary = {
        "target_ratio": TARGET_RATIO,
        "max_ratio": max(ratios),
        "median_ratio": float(np.median(ratios)),
        "meets_target": max(ratios) <= TARGET_RATIO,
        "hidden": settings.hidden,
        "dtype": "float32",
        "backend": jax.default_backend(),
        "cpu_count": os.cpu_count(),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "cases": rows,
    }
    figure = report.bar_figure(
        [f"{r['network']}, batch {r['batch']}" for r in rows],
        {"hand-written / jax.grad": ratios},
        "time per gradient, ratio",
        f"Backpropagation: hand-written vs jax.grad ({settings.hidden}, float32, median)",
        target=TARGET_RATIO, target_label=f"target: ratio <= {TARGET_RATIO:g}")
    print(harness.table(rows, COLUMNS))
    print(f"max ratio {summary['max_ratio']:.2f} (target <= {TARGET_RATIO})")
    return harness.write_results("backprop", config, summary, rows, figure)


if __name__ == "__main__":
    cli(BenchmarkConfig, main)
