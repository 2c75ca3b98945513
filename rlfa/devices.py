"""The devices a run uses: one XLA device per CPU core, and several processes (hosts).

Both must be set up before JAX starts its backend, which importing gymnax does;
:func:`start` does it from a study's command line (``experiments/__init__.py``
and ``benchmarks/__init__.py`` call it first), :func:`configure_cpu` from a
notebook or script.

CPU: XLA's CPU backend runs one small program on about one core, so rlfa
exposes one host device per core (:func:`use_all_cpu_cores`) and caps XLA's
instruction set so that a seed's floats do not depend on its batch
(:func:`configure_cpu`).

Processes: rlfa adds nothing to JAX's own machinery: :func:`initialize` starts
``jax.distributed`` from flags or environment variables, after which
``jax.devices()`` spans every process and :func:`rlfa.runner.run` lays the runs
over all of them (each process computes its own share; the small per-run
metrics are gathered to every process, and only process 0 writes result files).

Environment variables, used where a flag is not given:
``JAX_COORDINATOR_ADDRESS`` (host:port of process 0), ``RLFA_NUM_PROCESSES``,
``RLFA_PROCESS_ID``. On CPU the processes talk through gloo.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import time
from typing import Any

import jax

from rlfa import config as cfg


@dataclasses.dataclass(frozen=True)
class DistributedConfig:
    """How this process joins a multi-process run (all unset: a single process)."""

    coordinator_address: str | None = None
    """host:port of process 0 (default: $JAX_COORDINATOR_ADDRESS)."""
    num_processes: int | None = None
    """Processes in the run (default: $RLFA_NUM_PROCESSES, else 1)."""
    process_id: int | None = None
    """This process's index in [0, num_processes) (default: $RLFA_PROCESS_ID)."""
    timeout_s: int = 60
    """Seconds to wait for every process to reach the coordinator before failing."""

    def __post_init__(self):
        cfg.check_positive_int("timeout_s", self.timeout_s)
        if self.num_processes is not None:
            cfg.check_positive_int("num_processes", self.num_processes)
        if self.process_id is not None:
            cfg.check_nonnegative_int("process_id", self.process_id)

    def resolved(self) -> tuple[str | None, int, int]:
        """(coordinator address, process count, process id) from flags, then environment."""
        address = self.coordinator_address or os.environ.get("JAX_COORDINATOR_ADDRESS")
        count = self.num_processes or int(os.environ.get("RLFA_NUM_PROCESSES", "1"))
        pid = self.process_id if self.process_id is not None \
            else int(os.environ.get("RLFA_PROCESS_ID", "0"))
        if count > 1 and not address:
            raise ValueError(f"num_processes={count} needs a coordinator_address (host:port of "
                             "process 0), by flag or $JAX_COORDINATOR_ADDRESS.")
        if not 0 <= pid < count:
            raise ValueError(f"process_id={pid} is invalid: must be in [0, {count}).")
        return address, count, pid


def initialize(config: DistributedConfig) -> int:
    """Join the multi-process run described by ``config``; call before JAX computes.

    Returns the number of processes (1: nothing was started).

    Raises:
      ValueError: an inconsistent config.
      RuntimeError: the coordinator could not be reached within ``timeout_s``.
    """
    address, count, pid = config.resolved()
    if count == 1:
        return 1
    if pid != 0:  # JAX aborts the process on an unreachable coordinator: check first
        _wait_for_coordinator(address, pid, count, config.timeout_s)
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    try:
        jax.distributed.initialize(address, count, pid,
                                   initialization_timeout=config.timeout_s)
    except Exception as err:
        raise RuntimeError(
            f"process {pid} of {count} could not join the run at coordinator {address!r} "
            f"within timeout_s={config.timeout_s}: {err}") from err
    return count


def _wait_for_coordinator(address: str, pid: int, count: int, timeout_s: int) -> None:
    host, _, port = address.rpartition(":")
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((host or "127.0.0.1", int(port)), timeout=1.0):
                return
        except (OSError, ValueError) as err:
            if time.monotonic() >= deadline:
                raise RuntimeError(
                    f"process {pid} of {count} could not join the run at coordinator "
                    f"{address!r} within timeout_s={timeout_s}: {err}. Is process 0 running "
                    "and listening there?") from None
            time.sleep(0.2)


DETERMINISTIC_CPU_FLAG = "--xla_cpu_max_isa=AVX"


def configure_cpu(num_devices: int | None = None, deterministic: bool = True) -> int:
    """Set up XLA's CPU backend for rlfa; call before JAX computes anything.

    * One host device per core (:func:`use_all_cpu_cores`).
    * ``deterministic``: caps XLA's CPU instruction set at AVX. With FMA available,
      XLA contracts ``w + a * x`` into a fused multiply-add in vectorised loops
      but not in their scalar remainders, so a run's floats changed (by 1 ulp)
      with the number of runs batched beside it. Without FMA, seed k is
      bit-identical alone, among 64 seeds, and sharded over devices. Set
      ``RLFA_CPU_FAST=1`` to keep XLA's default instruction set instead.

    ``jax.random``'s hash is lowered per program, not here: :func:`rlfa.runner.run`
    compiles each program with the lowering its ``threefry`` option names
    (:func:`threefry_lowering`); elsewhere JAX's own applies.

    Returns what :func:`use_all_cpu_cores` returns.
    """
    if deterministic and not os.environ.get("RLFA_CPU_FAST"):
        deterministic_cpu_math()
    return use_all_cpu_cores(num_devices)


THREEFRY_LOWERINGS = ("unrolled", "rolled")
"""How a compiled program computes ``jax.random``'s threefry hash on CPU (the same bits
either way): its 20 rounds written out ("unrolled", as JAX does on GPU), or JAX's own CPU
lowering, a loop of 5 iterations of 4 rounds ("rolled")."""


def threefry_lowering(threefry: str, platform: str) -> Any:
    """Lowering parameters that compile ``jax.random``'s hash as ``threefry`` names it.

    For ``jitted.trace(*args).lower(_private_parameters=...)``; they override the hash's
    lowering rule in that one lowering only, so a process may compile one program each
    way, and JAX's lowering caches, keyed on these parameters, keep the two apart. Which
    is faster depends on the program: a loop's every iteration is a few XLA kernels, so
    a draw or split inside a training step costs about five times as much rolled
    (``python -m benchmarks.dqn --settings purejaxrl --seeds 1 --devices one`` shows the
    train step against its bare update), yet some programs run faster with the loop
    (Figure 9.5's: :data:`rlfa.book.random_walk_figures.ROLLED_THREEFRY_FIGURES`). Only
    CPU has the choice: elsewhere, and where a JAX version lacks the internals used
    here, returns None (JAX's own lowering).

    Raises:
      ValueError: ``threefry`` is not one of :data:`THREEFRY_LOWERINGS`.
    """
    cfg.check_choice("threefry", threefry, THREEFRY_LOWERINGS)
    if platform != "cpu":
        return None
    try:
        from jax._src.interpreters import mlir
        from jax._src.random import threefry2x32 as hash_module
        rule = (hash_module._threefry2x32_lowering_rule if threefry == "unrolled"
                else hash_module._threefry2x32_cpu_lowering_rule)
        return mlir.LoweringParameters(
            override_lowering_rules=((hash_module.threefry2x32_p, rule),))
    except (ImportError, AttributeError, TypeError):
        return None


def unrolled_threefry_on_cpu() -> bool:
    """Lower ``jax.random``'s threefry hash on CPU unrolled in every later compile of
    this process, as on GPU (:data:`THREEFRY_LOWERINGS`); a global setting for code
    that compiles outside :func:`rlfa.runner.run`, whose ``threefry`` option chooses
    per program and overrides this. Same hash, same bits: only the loop goes.
    Idempotent; call before compiling. Uses JAX's internal lowering rules, so where a
    JAX version lacks them it changes nothing and returns False.
    """
    try:
        from jax._src.interpreters import mlir
        from jax._src.random import threefry2x32 as threefry
        rule, primitive = threefry._threefry2x32_lowering_rule, threefry.threefry2x32_p
    except (ImportError, AttributeError):
        return False
    mlir.register_lowering(primitive, rule, platform="cpu")
    return True


def deterministic_cpu_math() -> None:
    """Add ``--xla_cpu_max_isa=AVX`` to ``XLA_FLAGS`` unless an ISA cap is already set."""
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_max_isa" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {DETERMINISTIC_CPU_FLAG}".strip()


def use_all_cpu_cores(num_devices: int | None = None) -> int:
    """Expose one XLA host device per CPU core; call before JAX computes anything.

    XLA's CPU backend runs one small program on about one core, so seeds spread
    over one device per core use every core. Has no effect on GPU/TPU, nor once
    JAX's backends are initialised. Set ``RLFA_CPU_DEVICES`` to override the count.

    Returns the CPU device count asked for, or -1 if the backends were already
    initialised (nothing changed). Initialises nothing itself, so
    :func:`initialize` may follow.
    """
    wanted = num_devices or int(os.environ.get("RLFA_CPU_DEVICES", os.cpu_count() or 1))
    try:
        jax.config.update("jax_num_cpu_devices", wanted)
    except RuntimeError:  # backends already initialised: keep what is there
        return -1
    return wanted


def is_main_process() -> bool:
    """True on the process that writes result files (process 0)."""
    return jax.process_index() == 0


def start(argv: list[str]) -> None:
    """Set up devices and processes from a study's command line, before JAX starts.

    Importing gymnax starts JAX's backend (one of its modules builds an array at
    import time), after which neither the CPU device count nor
    ``jax.distributed`` can change; ``experiments/__init__.py`` and
    ``benchmarks/__init__.py`` therefore call this first. Reads ``--distributed.*`` flags
    (the same ones the study's tyro config documents) and the environment variables above.
    """
    import argparse

    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    for flag, kind in (("coordinator-address", str), ("num-processes", int),
                       ("process-id", int), ("timeout-s", int)):
        dest = flag.replace("-", "_")
        parser.add_argument(f"--distributed.{flag}", f"--distributed.{dest}", dest=dest,
                            type=kind, default=None)
    known, _ = parser.parse_known_args(argv)
    configure_cpu()
    fields = {k: v for k, v in vars(known).items() if v is not None}
    initialize(DistributedConfig(**fields))
