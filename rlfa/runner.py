"""The runner: the only place in rlfa that jit-compiles, vmaps and shards.

A study hands the runner a :class:`Program` (pure functions for ONE seed at ONE
hyperparameter point) and a grid of hyperparameters. The runner

* derives seed k's key as ``fold_in(key(seed), k)``, so seed k's result does not
  depend on how many other seeds run beside it, and is shared by every grid
  point (paired comparisons across step sizes);
* flattens the ``[grid, seed]`` runs into one axis, vmaps the program over it and
  lays that axis over a mesh of devices with ``jax.shard_map`` (one host device
  per core on CPU, see :func:`rlfa.devices.use_all_cpu_cores`): runs never communicate, so a
  sharded run equals the unsharded one;
* compiles ONE chunk function, ``lax.scan`` over ``logs_per_chunk`` logged points
  of ``lax.scan`` over ``steps_per_log`` program steps, and drives it from a
  Python loop with a tqdm bar, so there is no callback in the hot loop and
  metrics grow with logged points, not steps; between chunks, on the host, the
  bar counts in the study's unit (``log_x``, ``unit``) with a headline metric
  (``postfix``), and an optional ``logger`` records the new logged points;
* compiles ``jax.random``'s hash on CPU as the call's ``threefry`` option says, unrolled
  or as JAX's loop (:func:`rlfa.devices.threefry_lowering`: the same bits either way);
* flags, per run, the first logged point at which any weight is non-finite or
  exceeds ``divergence_bound``, without touching the other runs;
* with ``checkpoint_dir``, saves the whole carry every ``checkpoint_every``
  chunks, at the end, and when SIGINT/SIGTERM arrives (after finishing the
  chunk in flight, then it exits non-zero); ``resume`` continues a saved run,
  bit for bit (see :mod:`rlfa.checkpoint`).

Hyperparameters are traced array leaves: a sweep of any size compiles once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from tqdm import tqdm

from rlfa import checkpoint as ckpt
from rlfa.devices import threefry_lowering
from rlfa.types import Program, Results

PyTree = Any
RUN_AXIS = "runs"


class Interrupted(SystemExit):
    """SIGINT/SIGTERM stopped a checkpointed run after a chunk; exit status 128 + signal.

    Attributes:
      checkpoint_dir: the directory to resume from (``resume=``, ``--resume``).
      chunks_done: chunks saved.
    """

    def __init__(self, signum: int, chunks_done: int, num_chunks: int, checkpoint_dir: Path,
                 save_error: str | None = None):
        super().__init__(128 + signum)
        self.checkpoint_dir, self.chunks_done = checkpoint_dir, chunks_done
        stopped = (f"rlfa: interrupted by {signal.Signals(signum).name} after chunk "
                   f"{chunks_done} of {num_chunks}; ")
        if save_error is None:
            self.message = (stopped + f"checkpoint saved in {checkpoint_dir}. Resume with "
                            f"--resume {checkpoint_dir} (runner.run(..., resume=...)).")
        else:
            self.message = (stopped + f"the checkpoint could NOT be saved in {checkpoint_dir} "
                            f"({save_error}); an earlier checkpoint there, if any, can still "
                            f"be resumed with --resume {checkpoint_dir}.")

    def __str__(self) -> str:
        return self.message


class _StopRequests:
    """Turns SIGINT/SIGTERM into a flag read between chunks (main thread only).

    A second signal gets the previous handler, so it stops the run at once.
    """

    def __init__(self, enabled: bool):
        self.enabled = enabled and threading.current_thread() is threading.main_thread()
        self.signum: int | None = None
        self._previous: dict = {}

    def _handle(self, signum, frame):
        self.signum = signum
        self._restore()
        print("rlfa: finishing the current chunk, then saving a checkpoint "
              "(signal again to stop at once).", file=sys.stderr, flush=True)

    def _restore(self):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}

    def __enter__(self):
        if self.enabled:
            self._previous = {s: signal.signal(s, self._handle)
                              for s in (signal.SIGINT, signal.SIGTERM)}
        return self

    def __exit__(self, *exc):
        self._restore()


def seed_keys(seed: int, num_seeds: int) -> jax.Array:
    """Keys ``[num_seeds]``: key k is ``fold_in(key(seed), k)``, whatever num_seeds is."""
    base = jax.random.key(seed)
    return jax.vmap(lambda k: jax.random.fold_in(base, k))(jnp.arange(num_seeds))


def stack_hparams(points: list[PyTree], dtype: Any = jnp.float32) -> PyTree:
    """Stack a list of hyperparameter NamedTuples into one with a leading grid axis.

    ``dtype``: float32, or float64 for :func:`run` with ``x64=True``; float64 leaves are
    stacked on the host as numpy arrays (JAX makes float64 arrays only in its 64-bit
    mode), so a point given as Python floats keeps every digit.
    """
    if not points:
        raise ValueError("the hyperparameter grid is empty: give at least one point.")
    if np.dtype(dtype) == np.float64:
        return jax.tree.map(lambda *xs: np.stack([np.asarray(x, np.float64) for x in xs]),
                            *points)
    return jax.tree.map(lambda *xs: jnp.stack([jnp.asarray(x, dtype) for x in xs]), *points)


def grid_size(hparams: PyTree) -> int:
    """Number of grid points: the common leading axis of every hyperparameter leaf."""
    sizes = {np.shape(x)[0] for x in jax.tree.leaves(hparams)}
    if len(sizes) != 1:
        raise ValueError(f"hyperparameter leaves disagree on the grid size: {sorted(sizes)}.")
    return sizes.pop()


def _largest_divisor_at_most(n: int, k: int) -> int:
    return max(d for d in range(1, min(n, k) + 1) if n % d == 0)


def _diverged(weights: PyTree, bound: float) -> jax.Array:
    leaves = jax.tree.leaves(weights)
    if not leaves:
        return jnp.bool_(False)
    bad = [jnp.any(~jnp.isfinite(x) | (jnp.abs(x) > bound)) for x in leaves]
    return jnp.any(jnp.stack(bad))


def _make_chunk(program: Program, steps_per_log: int, logs_per_chunk: int, bound: float,
                batched: Callable[[Callable], Callable]) -> Callable:
    """The chunk of a batch of runs: ``logs_per_chunk`` logged points of ``steps_per_log``
    steps; ``batched`` makes a one-run function the batch's (``jax.vmap``, or the identity
    for a batch of one run). A batch whose runs have all finished (``program.finished``)
    skips its steps: by that contract they would change nothing it logs."""
    steps = batched(lambda c, hparams: jax.lax.fori_loop(
        0, steps_per_log, lambda _, c: program.step(c, hparams), c))

    def log_one(c, hparams):
        metrics = dict(program.log(c, hparams))
        if program.weights is not None:
            metrics["diverged"] = _diverged(program.weights(c), bound)
        return metrics

    log = batched(log_one)
    finished = batched(program.finished) if program.finished is not None else None

    def run_chunk(carry, hparams):
        def one_log(c, _):
            if finished is None:
                c = steps(c, hparams)
            else:
                c = jax.lax.cond(jnp.all(finished(c)), lambda c: c,
                                 lambda c: steps(c, hparams), c)
            return c, log(c, hparams)

        carry, metrics = jax.lax.scan(one_log, carry, None, length=logs_per_chunk)
        if batched is not _one_run:  # [logs, runs, ...] -> [runs, logs, ...]
            metrics = jax.tree.map(lambda m: jnp.moveaxis(m, 0, 1), metrics)
        return carry, metrics

    return run_chunk


def _one_run(fn: Callable) -> Callable:
    return fn


def _in_groups(fn: Callable, group: int) -> Callable:
    """``fn`` of a batch, applied to consecutive groups of ``group`` runs one after another."""
    def grouped(*args):
        split = jax.tree.map(lambda x: x.reshape((-1, group) + x.shape[1:]), args)
        out = jax.lax.map(lambda one_group: fn(*one_group), split)
        return jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), out)

    return grouped


def _over_runs(one_run: Callable, batch: Callable, vectorize: bool,
               group: int | None, carried: bool = False) -> Callable:
    """A device's runs (the leading axis of the arguments and results): ``batch`` (a function
    of a vmapped batch) over all of them or over groups of ``group``, one group after
    another; or, without ``vectorize``, ``one_run`` for one run after another (each run is
    the unbatched program). ``carried``: ``one_run`` maps ``(carry, ...)`` to ``(carry,
    ...)``, and the runs' carries are updated in place (:func:`_one_after_another`)."""
    if not vectorize:
        if carried:
            return _one_after_another(one_run)
        return lambda *args: jax.lax.map(lambda run: one_run(*run), args)
    return batch if group is None else _in_groups(batch, group)


def _one_after_another(one_run: Callable) -> Callable:
    """``one_run: (carry, *rest) -> (carry, out)`` over the leading (run) axis, one run after
    another, each run's carry written back into the stacked carry it was read from.

    ``lax.map`` would hold its stacked inputs and outputs both, twice the carries' memory
    (two 7 GB replays for one Atari seed); here a donated carry is updated in place, with
    one run's carry in flight beside it (``tests/test_runner.py`` measures the peak)."""
    def mapped(carry, *rest):
        num_runs = jax.tree.leaves(carry)[0].shape[0]
        if num_runs == 1:  # indexing a run of one and re-adding the axis are free
            new, out = one_run(*jax.tree.map(lambda x: x[0], (carry, *rest)))
            return jax.tree.map(lambda x: x[None], (new, out))
        out_shape = jax.eval_shape(one_run, *jax.tree.map(lambda x: x[0], (carry, *rest)))[1]
        outs = jax.tree.map(lambda s: jnp.zeros((num_runs, *s.shape), s.dtype), out_shape)
        # Typed keys travel as their raw data (wrapped again for the run): a key read and
        # written back by index is a use jax.debug_key_reuse cannot follow.
        impls = jax.tree.map(lambda x: jax.random.key_impl(x) if ckpt.is_key(x) else None,
                             carry)

        def wrap(tree):
            return jax.tree.map(lambda x, impl: x if impl is None else
                                jax.random.wrap_key_data(x, impl=impl), tree, impls,
                                is_leaf=lambda x: x is None)

        def unwrap(tree):
            return jax.tree.map(lambda x: jax.random.key_data(x) if ckpt.is_key(x) else x, tree)

        raw = unwrap(carry)

        def body(i, state):
            raw, outs = state
            new, out = one_run(wrap(jax.tree.map(lambda x: x[i], raw)),
                               *jax.tree.map(lambda x: x[i], rest))
            write = functools.partial(jax.tree.map, lambda xs, x: xs.at[i].set(x))
            return write(raw, unwrap(new)), write(outs, out)

        raw, outs = jax.lax.fori_loop(0, num_runs, body, (raw, outs))
        return wrap(raw), outs

    return mapped


def _distribute(fn: Callable, mesh: Mesh | None) -> Callable:
    """``fn`` over the run axis laid over the mesh (no communication between devices)."""
    if mesh is None:
        return fn
    spec = PartitionSpec(RUN_AXIS)
    # Runs never communicate, so replication checks over the run axis are moot;
    # they would reject loop carries that start as unsharded constants.
    return jax.shard_map(fn, mesh=mesh, in_specs=spec, out_specs=spec, check_vma=False)


@dataclasses.dataclass(frozen=True)
class Checkpoints:
    """Where and when :func:`run` saves its whole state, and what it resumes from.

    Attributes:
      directory: save in ``directory/name`` (default: ``resume``'s directory when
        resuming, else no checkpoints): every ``every`` chunks, after the last
        chunk, and on SIGINT/SIGTERM, which then raise :class:`Interrupted`
        (exit 128 + signal).
      every: chunks between saves; 0 saves only at the end and on a signal.
      resume: continue from the newest checkpoint in ``resume/name`` (written
        with the same arguments, hyperparameters, carry structure and
        ``fingerprint``). A study with no checkpoint there yet starts afresh, as
        long as ``resume`` holds some checkpoint.
      name: subdirectory of this call, for studies that call ``run`` several
        times under one checkpoint directory.
      fingerprint: JSON-able description of the caller's config, stored in the
        checkpoint and compared on resume.
    """

    directory: str | Path | None = None
    every: int = 0
    resume: str | Path | None = None
    name: str = ""
    fingerprint: Any = None


def run(
    program: Program,
    hparams: PyTree,
    *,
    seed: int,
    num_seeds: int,
    num_logs: int,
    steps_per_log: int,
    logs_per_chunk: int = 10,
    num_devices: int | None = None,
    vectorize: bool = True,
    divergence_bound: float = 1e6,
    progress: bool | str = True,
    on_chunk: Callable[[int, PyTree], None] | None = None,
    checkpoints: Checkpoints | None = None,
    log_x: np.ndarray | None = None,
    unit: str | None = None,
    postfix: Callable[[dict[str, np.ndarray]], dict[str, float]] | None = None,
    derive: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]] | None = None,
    logger: Callable[..., None] | None = None,
    x64: bool = False,
    threefry: str = "unrolled",
) -> Results:
    """Run ``program`` for every (grid point, seed) in one compiled program.

    Args:
      program: the study, for one seed and one hyperparameter point.
      hparams: NamedTuple of float arrays, each ``[grid, ...]``.
      seed: the user's seed; every key is derived from it.
      num_seeds, num_logs, steps_per_log: runs per grid point; logged points;
        program steps between them (``num_logs * steps_per_log`` steps in all).
      logs_per_chunk: logged points per compiled call (rounded down to a divisor
        of ``num_logs`` so every chunk has the same shape and compiles once).
      num_devices: local devices to lay the runs over (default: all, or one per
        run); the runs are padded to a multiple of it (and, vmapped on a CPU, of 8 per
        device: see :func:`_lay_out`), the padding dropped after.
      vectorize: vmap the runs a device holds (the default), or run them one after
        another (``lax.map``), each as the unbatched program. On a CPU, where one
        run of a large network already keeps a core busy, one after another is as
        fast, and one run per device avoids XLA's slower CPU code for a vmapped
        batch of one (``python -m benchmarks.minatar --profile 1`` times both ways);
        and each run is then the same unbatched program whatever else the device
        holds, so its numbers are exactly those of the run alone.
      divergence_bound: a weight beyond this magnitude counts as diverged.
      progress: show a tqdm bar (a string is used as its description).
      on_chunk: called as ``on_chunk(chunks_done, carry)`` between chunks.
      checkpoints: saving and resuming (:class:`Checkpoints`); None: neither.
      log_x, unit, postfix, derive, logger: what the bar and the live logger
        show between chunks, see :class:`_Reporter`.
      x64: compile and run in JAX's 64-bit mode (``jax.enable_x64``, for this call
        only): the floats the program makes without naming a dtype are float64, and
        so are the hyperparameters when stacked as float64 (:func:`stack_hparams`).
        For deterministic iterations whose answer float32 round-off would limit.
      threefry: how the compiled program computes ``jax.random``'s hash on CPU, one of
        :data:`~rlfa.devices.THREEFRY_LOWERINGS` (:func:`~rlfa.devices.threefry_lowering`):
        "unrolled" (the default: a draw inside a step costs no loop) or "rolled"
        (JAX's own loop). The same bits either way, so only the speed differs.

    Returns:
      :class:`Results` with arrays laid out ``[grid, seed, ...]``.
    """
    with jax.enable_x64(True) if x64 else contextlib.nullcontext():
        _check_counts(num_seeds=num_seeds, num_logs=num_logs, steps_per_log=steps_per_log,
                      logs_per_chunk=logs_per_chunk)
        num_grid = grid_size(hparams)
        x_values = _log_x(log_x, unit, num_logs, steps_per_log)
        checkpoints = checkpoints or Checkpoints()
        layout = _lay_out(num_grid * num_seeds, num_devices, checkpointed=checkpoints.directory
                          is not None or checkpoints.resume is not None, vectorize=vectorize)
        lowering = threefry_lowering(threefry, layout.devices[0].platform)
        saver = _Saver.create(checkpoints)
        keys, flat_hparams = _flat_inputs(seed, num_seeds, num_grid, hparams, layout)
        logs_per_chunk = _largest_divisor_at_most(num_logs, logs_per_chunk)
        num_chunks = num_logs // logs_per_chunk
        counts = dict(seed=seed, num_seeds=num_seeds, num_grid=num_grid, num_logs=num_logs,
                      steps_per_log=steps_per_log, logs_per_chunk=logs_per_chunk,
                      divergence_bound=divergence_bound, vectorize=vectorize)
        state, compiled, compile_s = _compile(program, hparams, keys, flat_hparams, layout,
                                              saver, checkpoints.fingerprint, num_chunks, counts,
                                              lowering)
        reporter = _Reporter(progress, num_chunks, logs_per_chunk, state.chunks_done, x_values,
                             unit, steps_per_log, (num_grid, num_seeds), postfix, derive, logger)
        _chunk_loop(state, compiled, flat_hparams, layout, saver, reporter, num_chunks,
                    logs_per_chunk, on_chunk, compile_s)
        return _results(state, layout, num_grid, num_seeds, num_logs, compile_s,
                        saver.errors if saver is not None else [])


def _compile(program: Program, hparams, keys, flat_hparams, layout: _Layout,
             saver: _Saver | None, fingerprint, num_chunks: int, counts: dict,
             lowering=None):
    """Start (or restore) the runs and compile the chunk: ``(state, compiled, compile_s)``.

    ``compiled`` is ``(chunk, all_finished)``, both None when nothing is left to run.
    Every function is compiled with ``lowering``'s parameters (:func:`_lower`).
    """
    vectorize = counts["vectorize"]
    init_fn = jax.jit(_distribute(_over_runs(program.init, jax.vmap(program.init), vectorize,
                                             None), layout.mesh))
    chunk = functools.partial(_make_chunk, program, counts["steps_per_log"],
                              counts["logs_per_chunk"], counts["divergence_bound"])
    chunk_fn = jax.jit(_distribute(_over_runs(chunk(_one_run), chunk(jax.vmap), vectorize,
                                              layout.group, carried=True), layout.mesh),
                       donate_argnums=0)
    t0 = time.perf_counter()
    restored = None
    if saver is not None:  # what a checkpoint of this call must agree on
        carry_shape = jax.eval_shape(init_fn, keys, flat_hparams)
        saver.components = _fingerprint(program, hparams, carry_shape, fingerprint, **counts)
        restored = saver.restore(carry_shape)
    state = _start(init_fn, keys, flat_hparams, layout, restored, lowering)
    chunk_compiled, all_finished = None, None
    if state.chunks_done < num_chunks:
        chunk_compiled = _lower(chunk_fn, lowering, state.carry, flat_hparams).compile()
        if program.finished is not None:
            # Per-run flags reduced on the host: a reduction across devices would be a
            # collective, whose rendezvous XLA's CPU backend aborts after 40 s under load.
            all_finished = _lower(jax.jit(jax.vmap(program.finished)), lowering,
                                  state.carry).compile()
    jax.block_until_ready(state.carry)
    return state, (chunk_compiled, all_finished), time.perf_counter() - t0


def _chunk_loop(state: _State, compiled, flat_hparams, layout: _Layout, saver: _Saver | None,
                reporter: _Reporter, num_chunks: int, logs_per_chunk: int, on_chunk,
                compile_s: float) -> None:
    """Run the remaining chunks, saving when due; a signal stops after a chunk's save."""
    if state.gathered:  # resumed: the postfix shows the restored points, not logged again
        reporter.restored(state.gathered[0])
    with _StopRequests(saver is not None) as stop, reporter:
        for _ in range(state.chunks_done, num_chunks):
            finished = _one_chunk(state, compiled[0], flat_hparams, compiled[1], layout,
                                  num_chunks, logs_per_chunk, on_chunk)
            save_error = None
            if saver is not None and saver.due(state.chunks_done, num_chunks, stop.signum):
                save_error = saver.save(state, layout.num_runs, compile_s)
            reporter.chunk_done(_concat(state.new), state.chunks_done)  # after the save: a
            if finished:                                                # failing logger cannot
                break                                                   # cost the chunk
            if stop.signum is not None and state.chunks_done < num_chunks:
                error = Interrupted(stop.signum, state.chunks_done, num_chunks, saver.root,
                                    save_error)
                print(error.message, file=sys.stderr, flush=True)
                raise error


def _check_counts(**counts: int) -> None:
    """Every count is an integer >= 1 (``checkpoint_every`` is checked by :class:`_Saver`)."""
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}={value!r} is invalid: must be an integer >= 1.")


class _Layout(NamedTuple):
    """How the flattened ``[grid * seed]`` runs lie over the devices."""

    devices: list
    mesh: Mesh | None
    placement: Any  # a NamedSharding over the mesh, or the single device
    num_runs: int  # real runs (grid points x seeds)
    padded: int  # runs after padding (see _lay_out)
    group: int | None = None  # runs a device vmaps together, one group after another


# Float32 lanes of the widest vector rlfa's capped CPU instruction set (AVX) has.
CPU_LANES = 8
# The most runs a CPU device vmaps together: a larger batch's state falls out of the cache
# (a step of 552 runs of n-step SARSA on Mountain Car costs about 1.5 times 4 groups of 138
# per run: ``python -m benchmarks.book_figures --figures 10.4`` times the figure).
CPU_GROUP = 128


def _lay_out(num_runs: int, num_devices: int | None, checkpointed: bool,
             vectorize: bool = True) -> _Layout:
    """The devices (and mesh) the runs are laid over, and the padded run count.

    The runs are padded to a multiple of the devices and, where a CPU device vmaps more
    than :data:`CPU_LANES`, to a multiple of it per device: XLA's CPU code computes a
    vmapped batch's runs in vector lanes and a remainder of fewer runs otherwise (its
    sums over a run's features in another order), so without the padding a run's floats
    would depend on how many ran beside it. A batch of fewer runs than lanes is left as it
    is (padding would cost up to 8 times its work), so there a run's floats may differ in
    the last bits from a larger batch's. A CPU device with more than :data:`CPU_GROUP`
    runs vmaps them in equal groups of whole lanes, one group after another; a group
    whose runs have all finished skips its steps (:func:`_make_chunk`).
    """
    multi_process = jax.process_count() > 1
    # Several processes (rlfa.devices): the mesh spans every process's devices.
    devices = jax.devices() if multi_process else jax.local_devices()
    if num_devices is not None:
        if not 1 <= num_devices <= len(devices) or (multi_process and num_devices != len(devices)):
            allowed = f"{len(devices)} (every device of every process)" if multi_process \
                else f"in [1, {len(devices)}] (the local devices present)"
            raise ValueError(f"num_devices={num_devices} is invalid: must be {allowed}.")
        devices = devices[:num_devices]
    if multi_process and checkpointed:
        raise ValueError("checkpoint_dir/resume are not supported across several processes yet: "
                         "run one process per host without them, or a single process.")
    if not multi_process and num_devices is None:
        devices = devices[:num_runs]  # a device with only padding would just duplicate work
    per_device, group = math.ceil(num_runs / len(devices)), None
    if vectorize and per_device > CPU_LANES and devices[0].platform == "cpu":
        groups = math.ceil(per_device / CPU_GROUP)
        per_group = math.ceil(per_device / groups / CPU_LANES) * CPU_LANES
        per_device, group = groups * per_group, per_group if groups > 1 else None
    padded = per_device * len(devices)
    mesh = Mesh(np.array(devices), (RUN_AXIS,)) if len(devices) > 1 else None
    placement = NamedSharding(mesh, PartitionSpec(RUN_AXIS)) if mesh is not None else devices[0]
    return _Layout(devices, mesh, placement, num_runs, padded, group)


def _pad(x: jax.Array, layout: _Layout) -> jax.Array:
    """Pad the run axis to ``layout.padded`` by repeating the last run."""
    return jnp.concatenate([x, jnp.repeat(x[-1:], layout.padded - layout.num_runs, axis=0)])


def _flat_inputs(seed: int, num_seeds: int, num_grid: int, hparams: PyTree,
                 layout: _Layout) -> tuple[jax.Array, PyTree]:
    """Keys ``[padded]`` and hyperparameters ``[padded, ...]``, runs grid-major, placed.

    Grid points share seed k's key (paired comparisons) and padding repeats the last
    run: deliberate copies, made on the raw key data so jax.debug_key_reuse stays quiet.
    """
    base_keys = seed_keys(seed, num_seeds)
    key_data = jnp.tile(jax.random.key_data(base_keys), (num_grid, 1))
    keys = jax.random.wrap_key_data(_pad(key_data, layout), impl=jax.random.key_impl(base_keys))
    flat_hparams = jax.tree.map(
        lambda x: _pad(jnp.repeat(jnp.asarray(x), num_seeds, axis=0), layout), hparams)
    if layout.mesh is not None:
        keys, flat_hparams = _place((keys, flat_hparams), layout.placement)
    return keys, flat_hparams


class _State:
    """The chunk loop's host-side state.

    Attributes:
      carry: the sharded ``[padded, ...]`` training state.
      chunks_done: chunks finished (restored ones included).
      gathered: blocks of metrics, name -> ``[runs, logs, ...]`` (padding dropped).
      new: the blocks the last chunk added (for the progress bar and logger).
      run_s: seconds spent running chunks, restored runs' included.
    """

    def __init__(self, carry, chunks_done: int, gathered: list, run_s: float):
        self.carry, self.chunks_done, self.gathered, self.run_s = (carry, chunks_done, gathered,
                                                                    run_s)
        self.new: list = []


def _lower(jitted, lowering, *args) -> jax.stages.Lowered:
    """``jitted.lower(*args)`` with ``lowering``'s parameters (None: JAX's defaults)."""
    if lowering is None:
        return jitted.lower(*args)
    return jitted.trace(*args).lower(_private_parameters=lowering)


def _start(init_fn, keys, flat_hparams, layout: _Layout, restored, lowering=None) -> _State:
    """A fresh state (compiling ``init`` with ``lowering``, see :func:`_lower`), or the
    restored checkpoint laid over the devices."""
    if restored is None:
        compiled = _lower(init_fn, lowering, keys, flat_hparams).compile()
        return _State(compiled(keys, flat_hparams), 0, [], 0.0)
    carry = jax.tree.map(lambda x: jax.device_put(_pad(x, layout), layout.placement),
                         restored.carry)
    return _State(carry, restored.chunks_done, [restored.metrics],
                  float(restored.info.get("run_s", 0.0)))


def _one_chunk(state: _State, chunk_compiled, flat_hparams, all_finished, layout: _Layout,
               num_chunks: int, logs_per_chunk: int, on_chunk) -> bool:
    """Run one chunk and gather its metrics; True if every run has finished early.

    A finished run's remaining logged points are what running on would log: its
    last logged point, repeated (the state then counts every chunk as done).
    """
    t = time.perf_counter()
    state.carry, metrics = chunk_compiled(state.carry, flat_hparams)
    metrics = _fetch(metrics)
    state.run_s += time.perf_counter() - t
    state.gathered.append({k: v[:layout.num_runs] for k, v in metrics.items()})
    state.new = [state.gathered[-1]]
    state.chunks_done += 1
    if on_chunk is not None:
        on_chunk(state.chunks_done, state.carry)
    finished = (all_finished is not None and state.chunks_done < num_chunks
                and bool(np.all(_fetch(all_finished(state.carry)))))
    if finished:
        rest = (num_chunks - state.chunks_done) * logs_per_chunk
        state.gathered.append({k: np.repeat(v[:layout.num_runs, -1:], rest, axis=1)
                               for k, v in metrics.items()})
        state.new.append(state.gathered[-1])
        state.chunks_done = num_chunks
    return finished


class _Saver:
    """Where and when a run saves checkpoints, and the saves that failed."""

    def __init__(self, root: Path, directory: Path, name: str, every: int,
                 resume: Path | None):
        self.root, self.directory, self.name, self.every = root, directory, name, every
        self.resume = resume
        self.components: dict[str, Any] = {}
        self.errors: list[str] = []

    @classmethod
    def create(cls, checkpoints: Checkpoints) -> _Saver | None:
        """Check the arguments (before compiling); None when nothing is saved or resumed."""
        checkpoint_dir, resume = checkpoints.directory, checkpoints.resume
        name, every = checkpoints.name, checkpoints.every
        if isinstance(every, bool) or not isinstance(every, int) or every < 0:
            raise ValueError(f"checkpoint_every={every!r} is invalid: must be an "
                             f"integer >= 0 (chunks between checkpoints; 0: only at the end).")
        if resume is not None and not Path(resume).is_dir():
            raise ValueError(f"resume={str(resume)!r} is invalid: no such directory.")
        # Absolute from here on: orbax refuses relative paths, and the printed
        # --resume DIR must work from any working directory.
        resume = None if resume is None else Path(resume).absolute()
        checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir).absolute()
        root = checkpoint_dir if checkpoint_dir is not None else resume
        if root is None:
            return None
        directory = ckpt.check_writable(
            root / name, "checkpoint_dir" if checkpoint_dir is not None else "resume")
        return cls(root, directory, name, every, resume)

    def restore(self, carry_shape: PyTree):
        """The checkpoint to continue from, or None to start afresh."""
        if self.resume is None:
            return None
        return _find_checkpoint(self.resume, self.name, self.components, carry_shape)

    def due(self, chunks_done: int, num_chunks: int, signum: int | None) -> bool:
        """A save after the last chunk, on a signal, and every ``every`` chunks."""
        return chunks_done == num_chunks or signum is not None or bool(
            self.every and chunks_done % self.every == 0)

    def save(self, state: _State, num_runs: int, compile_s: float) -> str | None:
        """Save the state; a failure is reported and returned, never fatal to the run."""
        state.gathered[:] = [_concat(state.gathered)]  # one block: saves stay linear in time
        try:
            ckpt.save(self.directory, state.chunks_done, state.carry, state.gathered[0],
                      self.components, num_runs=num_runs,
                      info={"run_s": state.run_s, "compile_s": compile_s})
        except Exception as err:  # a full disk must not cost the run its results
            error = (f"saving chunk {state.chunks_done} in {self.directory} failed: "
                     f"{type(err).__name__}: {err}")
            print(f"rlfa: {error}; the run goes on without this checkpoint.",
                  file=sys.stderr, flush=True)
            self.errors.append(error)
            return error
        return None


def _results(state: _State, layout: _Layout, num_grid: int, num_seeds: int, num_logs: int,
             compile_s: float, save_errors: list[str]) -> Results:
    """The gathered metrics and final state laid out ``[grid, seed, ...]``, padding dropped."""
    def unflatten(x):
        x = np.asarray(x)[:layout.num_runs]
        return x.reshape((num_grid, num_seeds) + x.shape[1:])

    metrics = {k: unflatten(v) for k, v in _concat(state.gathered).items()}
    diverged = metrics.pop("diverged", np.zeros((num_grid, num_seeds, num_logs), bool))
    diverged_at = np.where(diverged.any(-1), diverged.argmax(-1), -1)
    # To the host first: slicing and reshaping arrays sharded over devices would run
    # collectives (and across processes every process needs every run).
    final = jax.tree.map(
        lambda x: x[:layout.num_runs].reshape((num_grid, num_seeds) + x.shape[1:]),
        _fetch(state.carry))  # typed keys stay key arrays (no np.asarray)
    return Results(metrics, diverged_at, final, compile_s, state.run_s, len(layout.devices),
                   tuple(save_errors))


def _log_x(log_x, unit: str | None, num_logs: int, steps_per_log: int) -> np.ndarray | None:
    """The x value of each logged point, ``[num_logs]``, or None for a bar counting chunks."""
    if log_x is None:
        return None if unit is None else steps_per_log * np.arange(1, num_logs + 1)
    x = np.asarray(log_x)
    if x.shape != (num_logs,) or not np.issubdtype(x.dtype, np.number) \
            or not np.all(np.isfinite(x)) or np.any(np.diff(x) < 0):
        raise ValueError(f"log_x of shape {x.shape} is invalid: must be {num_logs} finite, "
                         f"non-decreasing numbers (one x value per logged point).")
    return x


class _Reporter:
    """The host side between chunks: the progress bar, its postfix and the live logger.

    Nothing here runs inside the compiled loop; it sees each chunk's metrics once
    they are on the host, as ``[runs, new_logs, ...]`` blocks (padding dropped).
    :func:`run`'s arguments for it:

    * ``log_x``: ``[num_logs]`` the x value of each logged point in the study's
      own unit (e.g. environment steps per seed). The bar then counts in that
      unit up to ``log_x[-1]`` (with its rate per second) and the logger gets
      these x values. Default: program steps when ``unit`` is given; with
      neither, the bar counts chunks.
    * ``unit``: what ``log_x`` counts ("env steps", "episodes"...): the bar's
      unit and the name of the logger's x axis.
    * ``postfix``: ``metrics -> {label: number}`` shown after the bar, recomputed
      after every chunk; ``metrics`` are those gathered so far, name ->
      ``[grid, seed, logs_so_far, ...]`` numpy (``derive``'s included,
      ``diverged`` left out, as in :class:`Results`).
    * ``derive``: ``metrics -> {name: array}``: extra metrics computed on the
      host from each chunk's new points (``[grid, seed, new_logs, ...]`` in and
      out; each logged point on its own), seen by ``postfix`` and ``logger`` but
      not returned in :class:`Results` (e.g. a mean greedy return).
    * ``logger``: called after each chunk as ``logger(x_values, metrics, unit)``
      with the chunk's new points only (as for ``postfix``). A resumed run logs
      only the points after its checkpoint. See :meth:`rlfa.logger.Logger.program`.
    """

    def __init__(self, progress: bool | str, num_chunks: int, logs_per_chunk: int, start: int,
                 x_values: np.ndarray | None, unit: str | None, steps_per_log: int,
                 grid_seed: tuple[int, int], postfix, derive, logger):
        self.x, self.unit, self.grid_seed = x_values, unit, grid_seed
        num_logs = num_chunks * logs_per_chunk
        # The logger's x axis: the study's unit, else program steps.
        self.logger_x = x_values if x_values is not None else steps_per_log * np.arange(
            1, num_logs + 1)
        self.postfix = postfix if progress else None  # nobody would see it
        self.derive, self.logger, self.shown = derive, logger, []
        self.logs_per_chunk = logs_per_chunk
        desc = progress if isinstance(progress, str) else None
        if x_values is None:  # no unit: one tick per chunk
            total, initial, bar_unit, scale = num_chunks, start, "it", False
        else:
            total, initial = self._position(num_logs), self._position(start * logs_per_chunk)
            # tqdm glues the unit to the rate ("1.2kenv steps/s"): a space keeps it readable;
            # 100k rather than 100000, but small counts exactly (tqdm would write 0.00).
            bar_unit, scale = " " + (unit or "steps").strip(), total >= 1000
        self.bar = tqdm(total=total, initial=initial, unit=bar_unit, unit_scale=scale,
                        desc=desc, disable=not progress, leave=False)

    def _position(self, logs_done: int):
        """The bar's count after ``logs_done`` logged points: in the study's unit, or chunks."""
        if self.x is None:
            return logs_done // self.logs_per_chunk
        value = self.x[logs_done - 1].item() if logs_done else 0
        return int(value) if float(value).is_integer() else float(value)

    def _host(self, block: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """``[runs, logs, ...]`` -> ``[grid, seed, logs, ...]``, ``derive``'s metrics added."""
        out = {k: v.reshape(self.grid_seed + v.shape[1:]) for k, v in block.items()
               if k != "diverged"}
        if self.derive is not None:
            out.update({k: np.asarray(v) for k, v in self.derive(out).items()})
        return out

    def restored(self, block: dict[str, np.ndarray]) -> None:
        if self.postfix is not None:
            self.shown.append(self._host(block))
            self._show()

    def chunk_done(self, block: dict[str, np.ndarray], chunks_done: int) -> None:
        """After a chunk: advance the bar, log the new points, update the postfix."""
        wanted = self.logger is not None or self.postfix is not None
        new = self._host(block) if wanted else {}
        logs_done = chunks_done * self.logs_per_chunk
        if self.logger is not None and block:
            num_new = next(iter(block.values())).shape[1]
            self.logger(self.logger_x[logs_done - num_new:logs_done], new,
                        self.unit or "steps")
        if self.postfix is not None:
            self.shown[:] = [_concat(self.shown + [new], axis=2)]
            self._show(refresh=False)
        # To the position after the chunk (all the way on an early stop).
        self.bar.update(self._position(logs_done) - self.bar.n)
        self.bar.refresh()  # chunks are seconds apart: show every one (tqdm might skip it)

    def _show(self, refresh: bool = True) -> None:
        values = self.postfix(self.shown[0])
        self.bar.set_postfix({k: float(v) for k, v in values.items()}, refresh=refresh)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.bar.close()


def _place(tree: PyTree, sharding: NamedSharding) -> PyTree:
    """Lay host values (the same on every process) over a possibly multi-process mesh."""
    if jax.process_count() == 1:
        return jax.device_put(tree, sharding)

    def place(x):
        if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
            data = place(jax.random.key_data(x))
            return jax.random.wrap_key_data(data, impl=jax.random.key_impl(x))
        host = np.asarray(x)
        return jax.make_array_from_callback(host.shape, sharding, lambda idx: host[idx])

    return jax.tree.map(place, tree)


def _fetch(tree: PyTree) -> PyTree:
    """Device arrays to numpy (typed keys to unsharded key arrays); across processes,
    every process gets every run."""
    from jax.experimental import multihost_utils

    def fetch(x):
        if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
            return jax.random.wrap_key_data(fetch(jax.random.key_data(x)),
                                            impl=jax.random.key_impl(x))
        if jax.process_count() == 1:
            return np.asarray(jax.device_get(x))
        return np.asarray(multihost_utils.process_allgather(x, tiled=True))

    return jax.tree.map(fetch, tree)


def _concat(gathered: list[dict[str, np.ndarray]], axis: int = 1) -> dict[str, np.ndarray]:
    if len(gathered) == 1:
        return gathered[0]
    return {k: np.concatenate([g[k] for g in gathered], axis=axis) for k in gathered[0]}


def _fingerprint(program: Program, hparams: PyTree, carry_shape: PyTree, config: Any,
                 **arguments) -> dict[str, Any]:
    """What a checkpoint must agree on to be resumed (see :func:`rlfa.checkpoint.restore`)."""
    names = [getattr(f, "__qualname__", type(f).__name__) for f in program if f is not None]
    return ckpt.jsonable({"arguments": arguments, "hparams": ckpt.array_digest(hparams),
                          "program": names, "carry": ckpt.carry_spec(carry_shape),
                          "config": config})


def _find_checkpoint(resume, name: str, components: dict, carry_shape: PyTree):
    """The checkpoint to resume this call from, or None for a study not yet started."""
    resume = Path(resume)
    if ckpt.locate(resume / name) is None:
        if name and any(ckpt.locate(p) for p in resume.iterdir() if p.is_dir()):
            return None  # an earlier study of the same run was saved; this one starts now
        raise ValueError(f"resume={str(resume)!r} is invalid: it holds no rlfa checkpoint.")
    return ckpt.restore(resume / name, components, carry_shape)
