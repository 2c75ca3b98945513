"""Checkpoints of the runner's whole training state, with orbax, for bit-identical resume.

A checkpoint directory holds one subdirectory per save, ``chunk_000004/`` after
four chunks, each with

* ``state/``: an orbax checkpoint of the carry's leaves (every run's training
  state: weights, optimizer state, replay buffer, environment state, keys,
  counters) and of the metrics gathered so far, as host arrays laid out
  ``[runs, ...]`` without the runner's device padding, so a checkpoint does not
  depend on how many devices wrote or read it. Typed PRNG keys are stored as
  their raw ``key_data`` and re-wrapped on restore.
* ``rlfa_checkpoint.json``: chunks done, timings, the *components* of the run's
  fingerprint (run arguments, hyperparameters, the carry's structure, shapes and
  dtypes, the caller's config), and the size and SHA-256 of every file in
  ``state/``.

A save is written to a hidden temporary directory and renamed into place only
when complete, so a reader sees whole checkpoints or none; the newest ``keep``
are kept. :func:`restore` only reads: a checkpoint from another configuration,
a truncated or corrupt file, or a missing checkpoint raise ``ValueError`` and
leave the disk as it was. See purejaxrl issues #13 and #22 for why the whole
training state must be one pytree.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np

from rlfa import files

PyTree = Any
FORMAT_VERSION = 1
META_NAME = "rlfa_checkpoint.json"
STATE_NAME = "state"
_CHUNK_DIR = re.compile(r"^chunk_(\d{6,})$")


class Checkpoint(NamedTuple):
    """A restored checkpoint.

    Attributes:
      path: the ``chunk_*`` directory it was read from.
      chunks_done: chunks the run had finished when it was saved.
      carry: the carry's leaves on the host, ``[runs, ...]`` numpy arrays in the
        structure of the template given to :func:`restore`; typed keys are
        re-wrapped (as host-side JAX key arrays).
      metrics: name -> ``[runs, logs_done, ...]`` numpy arrays.
      info: the JSON-able extras given to :func:`save` (timings, ...).
    """

    path: Path
    chunks_done: int
    carry: PyTree
    metrics: dict[str, np.ndarray]
    info: dict[str, Any]


def is_key(x) -> bool:
    """Whether ``x`` is a typed key array (``jax.random.key``)."""
    return jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)


def _treedef_text(tree: PyTree) -> str:
    # Static fields of flax dataclasses may hold functions, printed with their
    # address; the address changes between processes, the structure does not.
    return re.sub(r" at 0x[0-9a-fA-F]+", "", str(jax.tree.structure(tree)))


def carry_spec(carry: PyTree) -> dict[str, Any]:
    """What must match for a carry to be restored into: structure, per-run shapes, dtypes.

    Args:
      carry: arrays or ``jax.ShapeDtypeStruct`` leaves, each ``[runs, ...]``.
    """
    leaves = jax.tree.leaves(carry)
    return {"treedef": _treedef_text(carry),
            "shapes": [list(x.shape[1:]) for x in leaves],
            "dtypes": [str(x.dtype) for x in leaves]}


def array_digest(tree: PyTree) -> str:
    """SHA-256 of a pytree of arrays' shapes, dtypes and bytes (for fingerprints)."""
    h = hashlib.sha256()
    for x in jax.tree.leaves(tree):
        x = np.asarray(x)
        h.update(f"{x.shape}{x.dtype}".encode())
        h.update(np.ascontiguousarray(x).tobytes())
    return h.hexdigest()


def jsonable(obj: Any) -> Any:
    """``obj`` as plain JSON values, exactly as it reads back from a checkpoint's metadata."""
    text = json.dumps(files.jsonable(obj), sort_keys=True,
                      default=lambda o: re.sub(r" at 0x[0-9a-fA-F]+", "", repr(o)))
    return json.loads(text)


def check_writable(directory: str | Path, field: str = "checkpoint_dir") -> Path:
    """Create ``directory`` if needed and make sure files can be written in it.

    Raises:
      ValueError naming ``field`` when it cannot be created or written, before
      any compute is spent.
    """
    path = Path(directory)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(f"{field}={str(path)!r} is invalid: cannot create it ({err}).") from err
    if not path.is_dir() or not os.access(path, os.W_OK | os.X_OK):
        raise ValueError(f"{field}={str(path)!r} is invalid: must be a writable directory.")
    return path


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _file_table(root: Path) -> dict[str, list]:
    return {str(p.relative_to(root)): [p.stat().st_size, _sha256(p)]
            for p in sorted(root.rglob("*")) if p.is_file()}


def _host_leaves(carry: PyTree, num_runs: int) -> tuple[dict[str, np.ndarray], list]:
    """Leaves as host numpy ``[num_runs, ...]`` and, per leaf, its key impl or None."""
    arrays, impls = {}, []
    for i, x in enumerate(jax.tree.leaves(carry)):
        if is_key(x):
            impls.append(str(jax.random.key_impl(x)))
            x = jax.random.key_data(x)
        else:
            impls.append(None)
        arrays[f"{i:05d}"] = np.asarray(jax.device_get(x))[:num_runs]
    return arrays, impls


def chunk_dirs(directory: str | Path) -> list[Path]:
    """Complete checkpoints in ``directory``, oldest first."""
    path = Path(directory)
    if not path.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in path.iterdir()
             if (m := _CHUNK_DIR.match(p.name)) and (p / META_NAME).is_file()]
    return [p for _, p in sorted(found)]


def save(directory: str | Path, chunks_done: int, carry: PyTree,
         metrics: dict[str, np.ndarray], components: dict[str, Any], *, num_runs: int,
         info: dict[str, Any] | None = None, keep: int = 2) -> Path:
    """Save the runner's state after ``chunks_done`` chunks; returns the new directory.

    Args:
      directory: the checkpoint directory (created if missing).
      chunks_done: chunks finished.
      carry: the runner's carry, leaves ``[padded_runs, ...]``, possibly sharded
        over devices and holding typed keys; only the first ``num_runs`` are kept.
      metrics: name -> ``[runs, logs_done, ...]`` gathered so far.
      components: the run's fingerprint components (JSON-able), compared on restore.
      num_runs: real runs (grid points x seeds), padding excluded.
      info: JSON-able extras returned by :func:`restore`.
      keep: how many of the newest checkpoints to keep.

    Raises:
      the error of a failed write (a full disk: orbax's ``ValueError``), leaving no
      partial directory; what orbax's background threads report about it is not
      printed (``RLFA_TRACEBACK=1`` prints it).
    """
    import orbax.checkpoint as ocp

    root = check_writable(directory).absolute()  # orbax refuses relative paths
    final = root / f"chunk_{chunks_done:06d}"
    tmp = root / f".tmp-{final.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    arrays, impls = _host_leaves(carry, num_runs)
    tree = {"carry": arrays, "metrics": {k: np.asarray(v)[:num_runs] for k, v in metrics.items()}}
    try:
        tmp.mkdir()
        with _background_reports_held(), ocp.StandardCheckpointer() as checkpointer:
            checkpointer.save(tmp / STATE_NAME, tree)
            checkpointer.wait_until_finished()
        meta = {"format": FORMAT_VERSION, "chunks_done": chunks_done, "num_runs": num_runs,
                "key_impls": impls, "metric_names": sorted(tree["metrics"]),
                "components": components, "info": info or {},
                "files": _file_table(tmp / STATE_NAME)}
        (tmp / META_NAME).write_text(json.dumps(meta, indent=1))
        if final.exists():  # a re-run of the same chunk: replace the older save
            old = root / f".old-{final.name}-{os.getpid()}"
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for stale in chunk_dirs(root)[:-keep] if keep > 0 else []:
        shutil.rmtree(stale, ignore_errors=True)
    return final


@contextlib.contextmanager
def _background_reports_held():
    """Hold back what orbax's background threads report while a save runs.

    A write that fails (a full disk) is logged with its traceback by each of orbax's
    threads (absl's logger), and tensorstore reports each write still in flight as an
    unraisable "Event loop is closed": tracebacks that all say what the exception
    :func:`save` raises says, which its caller reports in one line. They are dropped if
    the save fails and passed on if it succeeds; with ``RLFA_TRACEBACK=1`` nothing is
    held back.
    """
    if os.environ.get("RLFA_TRACEBACK"):
        yield
        return
    absl_logger, records, unraisables = logging.getLogger("absl"), [], []

    def hold(record: logging.LogRecord) -> bool:
        records.append(record)
        return False

    previous_hook = sys.unraisablehook
    absl_logger.addFilter(hold)
    sys.unraisablehook = unraisables.append
    try:
        yield
    except BaseException:
        # Writes still in flight when orbax gave up end after it closed its event loop,
        # some once the save has returned: their reports are dropped from now on.
        sys.unraisablehook = _ClosedLoopReportsDropped.around(previous_hook)
        raise
    else:
        sys.unraisablehook = previous_hook
    finally:
        absl_logger.removeFilter(hold)
    for record in records:  # the save succeeded: what it reported is not in an error
        absl_logger.handle(record)
    for unraisable in unraisables:
        previous_hook(unraisable)


class _ClosedLoopReportsDropped:
    """A ``sys.unraisablehook`` that drops tensorstore's reports of a write ending after
    a failed save closed orbax's event loop (``RuntimeError: Event loop is closed``, of
    no object) and passes every other report to the hook it wraps."""

    def __init__(self, previous: Callable):
        self.previous = previous

    @classmethod
    def around(cls, hook: Callable) -> Callable:
        return hook if isinstance(hook, cls) else cls(hook)

    def __call__(self, unraisable) -> None:
        if not (unraisable.object is None and isinstance(unraisable.exc_value, RuntimeError)
                and str(unraisable.exc_value) == "Event loop is closed"):
            self.previous(unraisable)


def locate(path: str | Path) -> Path | None:
    """The checkpoint at ``path``: itself if it is one, else its newest ``chunk_*``, else None."""
    path = Path(path)
    if (path / META_NAME).is_file():
        return path
    found = chunk_dirs(path)
    return found[-1] if found else None


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _differences(saved: Any, wanted: Any, prefix: str = "") -> list[str]:
    if isinstance(saved, dict) and isinstance(wanted, dict):
        out = []
        for k in sorted(set(saved) | set(wanted), key=str):
            name = f"{prefix}.{k}" if prefix else str(k)
            if k not in saved or k not in wanted:
                out.append(f"{name} (present in only one)")
            else:
                out += _differences(saved[k], wanted[k], name)
        return out
    if saved != wanted:
        return [f"{prefix}: checkpoint has {_short(saved)}, this run has {_short(wanted)}"]
    return []


def _read_meta(path: Path) -> dict[str, Any]:
    file = path / META_NAME
    try:
        text = file.read_text()
    except OSError as err:  # permissions, a vanished file: nothing to say about its bytes
        raise ValueError(f"checkpoint {path} cannot be read: {file} could not be opened "
                         f"({type(err).__name__}: {err.strerror or err}).") from err
    try:
        meta = json.loads(text)
    except ValueError as err:
        raise ValueError(f"checkpoint {path} is corrupt: {file} is not valid JSON "
                         f"({err}).") from err
    version = meta.get("format") if isinstance(meta, dict) else None
    if version != FORMAT_VERSION:
        raise ValueError(f"checkpoint {path} has format {version!r}, this rlfa reads format "
                         f"{FORMAT_VERSION}: it was written by another version of rlfa, or "
                         f"{META_NAME} is not an rlfa checkpoint's.")
    return meta


def _verify_files(path: Path, meta: dict[str, Any]) -> None:
    state = path / STATE_NAME
    listed = meta.get("files") or {}
    present = {str(p.relative_to(state)) for p in state.rglob("*") if p.is_file()}
    if not listed or set(listed) != present:
        missing = sorted(set(listed) - present)[:3]
        raise ValueError(f"checkpoint {path} is truncated or corrupt: its files do not match "
                         f"its manifest (missing {missing}).")
    for name, (size, digest) in listed.items():
        file = state / name
        if file.stat().st_size != size:
            raise ValueError(f"checkpoint {path} is truncated: {name} has "
                             f"{file.stat().st_size} bytes, {size} were written.")
        if _sha256(file) != digest:
            raise ValueError(f"checkpoint {path} is corrupt: {name} fails its SHA-256 check.")


def restore(path: str | Path, components: dict[str, Any], like: PyTree) -> Checkpoint:
    """Read the checkpoint at ``path`` (a ``chunk_*`` directory or its parent: the newest).

    Args:
      path: where to look.
      components: this run's fingerprint components; they must equal the saved ones.
      like: the carry's structure (arrays or ``jax.ShapeDtypeStruct``, ``[runs, ...]``).

    Raises:
      ValueError: no checkpoint there; it was written by another configuration
        (the message lists what differs); a file is truncated or corrupt.
    """
    import orbax.checkpoint as ocp

    found = locate(Path(path).absolute())  # orbax refuses relative paths
    if found is None:
        raise ValueError(f"resume={str(path)!r} is invalid: no rlfa checkpoint there "
                         f"(expected {META_NAME} or chunk_* directories).")
    meta = _read_meta(found)
    diffs = _differences(meta.get("components"), components)
    if diffs:
        raise ValueError(f"checkpoint {found} was written by another configuration; "
                         f"it differs in: " + "; ".join(diffs[:8]))
    _verify_files(found, meta)
    try:
        with ocp.StandardCheckpointer() as checkpointer:
            tree = checkpointer.restore(found / STATE_NAME)
    except OSError as err:
        raise ValueError(f"checkpoint {found} cannot be read: {type(err).__name__}: "
                         f"{err}.") from err
    except Exception as err:  # orbax/tensorstore raise many types
        # The bytes passed their SHA-256 check, so they are as written: not corruption.
        raise ValueError(
            f"checkpoint {found}: orbax-checkpoint {ocp.__version__} could not read "
            f"{found / STATE_NAME} ({type(err).__name__}: {err}). Its files match the "
            f"SHA-256 manifest written with them, so they are intact; an orbax version "
            f"that cannot read this layout is the likely cause.") from err
    num_runs = meta["num_runs"]
    leaves = []
    for i, (x, impl) in enumerate(zip(jax.tree.leaves(like), meta["key_impls"])):
        data = np.asarray(tree["carry"][f"{i:05d}"])
        value = jax.random.wrap_key_data(data, impl=impl) if impl else data
        if value.shape != (num_runs,) + tuple(x.shape[1:]) or str(value.dtype) != str(x.dtype):
            raise ValueError(f"checkpoint {found} is corrupt: leaf {i} is {value.dtype}"
                             f"{list(value.shape)}, expected {x.dtype}{[num_runs, *x.shape[1:]]}.")
        leaves.append(value)
    carry = jax.tree.unflatten(jax.tree.structure(like), leaves)
    metrics = {k: np.asarray(v) for k, v in (tree.get("metrics") or {}).items()}
    return Checkpoint(found, int(meta["chunks_done"]), carry, metrics, meta.get("info", {}))


# --- experiments: the flags --checkpoint-every, --checkpoint-dir, --resume ----------------

RUN_ONLY_FIELDS = ("resume", "checkpoint_dir", "checkpoint_every", "out", "progress",
                   "num_devices", "distributed", "log")
"""Config fields that change where or how a run is shown or laid out, not its results."""


def check_resume(field: str, value: str | None) -> None:
    """Config validation: ``value`` is None or an existing directory."""
    if value is not None and not Path(value).is_dir():
        raise ValueError(f"{field}={value!r} is invalid: must be an existing checkpoint "
                         f"directory (printed by the interrupted run).")


def config_fingerprint(config: Any) -> dict[str, Any]:
    """A frozen config as JSON, without :data:`RUN_ONLY_FIELDS`: what resume must match."""
    return {k: v for k, v in jsonable(config).items() if k not in RUN_ONLY_FIELDS}


def experiment_dir(experiment: str, config: Any) -> Path:
    """Checkpoint directory of an experiment run.

    ``config.resume`` when resuming, else ``config.checkpoint_dir``, else a fresh
    ``<config.out>/checkpoints/<experiment>/<timestamp>/``; checked writable.
    """
    if config.resume is not None:
        return check_writable(config.resume, "resume")
    if config.checkpoint_dir is not None:
        return check_writable(config.checkpoint_dir, "checkpoint_dir")
    return files.new_run_dir(experiment, Path(config.out) / "checkpoints")


def study_name(*parts: Any) -> str:
    """A directory name for one runner call of a multi-study experiment."""
    return re.sub(r"[^A-Za-z0-9.]+", "-", "-".join(map(str, parts))).strip("-")
