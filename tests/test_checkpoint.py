"""Checkpoints (rlfa/checkpoint.py) and the runner's save / interrupt / resume path."""

import importlib.util
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from absl import logging as absl_logging

from rlfa import checkpoint as ckpt
from rlfa import runner
from rlfa.runner import Checkpoints

WORKER = Path(__file__).with_name("_resume_worker.py")
_spec = importlib.util.spec_from_file_location("_resume_worker", WORKER)
worker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(worker)


def tree_snapshot(root: Path) -> dict:
    """Every path under root with its size and modification time: 'nothing changed on disk'."""
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))}


def small_carry():
    return {"w": jnp.arange(12.0, dtype=jnp.float32).reshape(4, 3),
            "key": jax.random.split(jax.random.key(3), 4),
            "count": jnp.arange(4, dtype=jnp.int32)}


COMPONENTS = {"arguments": {"seed": 1}, "config": {"alpha": 0.5}}


@pytest.fixture
def saved(tmp_path):
    carry = small_carry()
    components = {**COMPONENTS, "carry": ckpt.carry_spec(carry)}
    metrics = {"err": np.arange(6.0).reshape(3, 2)}
    ckpt.save(tmp_path, 2, carry, metrics, components, num_runs=3, info={"run_s": 1.5})
    return tmp_path, carry, components


def test_round_trip_keeps_keys_drops_padding(saved):
    root, carry, components = saved
    restored = ckpt.restore(root, components, carry)
    assert restored.chunks_done == 2 and restored.info == {"run_s": 1.5}
    assert restored.path == root / "chunk_000002"
    np.testing.assert_array_equal(restored.carry["w"], np.asarray(carry["w"])[:3])
    np.testing.assert_array_equal(restored.carry["count"], [0, 1, 2])
    assert jax.dtypes.issubdtype(restored.carry["key"].dtype, jax.dtypes.prng_key)
    np.testing.assert_array_equal(jax.random.key_data(restored.carry["key"]),
                                  jax.random.key_data(carry["key"][:3]))
    np.testing.assert_array_equal(restored.metrics["err"], np.arange(6.0).reshape(3, 2))


def test_keeps_the_newest_checkpoints(saved):
    root, carry, components = saved
    for done in (3, 4, 5):
        ckpt.save(root, done, carry, {"err": np.zeros((3, done))}, components, num_runs=3)
    assert [p.name for p in ckpt.chunk_dirs(root)] == ["chunk_000004", "chunk_000005"]
    assert not [p for p in root.iterdir() if p.name.startswith(".")]
    assert ckpt.restore(root, components, carry).chunks_done == 5


def test_failed_save_leaves_no_partial_directory(saved, monkeypatch):
    root, carry, components = saved
    before = tree_snapshot(root)

    def fail(_):
        raise OSError("disk full")

    monkeypatch.setattr(ckpt, "_file_table", fail)
    with pytest.raises(OSError, match="disk full"):
        ckpt.save(root, 3, carry, {"err": np.zeros((3, 3))}, components, num_runs=3)
    assert tree_snapshot(root) == before


def test_other_configuration_is_refused_naming_the_difference(saved):
    root, carry, components = saved
    before = tree_snapshot(root)
    other = {**components, "config": {"alpha": 0.25}}
    with pytest.raises(ValueError, match=r"another configuration.*config\.alpha"):
        ckpt.restore(root, other, carry)
    assert tree_snapshot(root) == before


def _state_files(root: Path) -> list[Path]:
    return sorted((p for p in (root / "chunk_000002" / ckpt.STATE_NAME).rglob("*")
                   if p.is_file()), key=lambda p: -p.stat().st_size)


def test_truncated_file_is_refused(saved):
    root, carry, components = saved
    victim = _state_files(root)[0]
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    before = tree_snapshot(root)
    with pytest.raises(ValueError, match="truncated"):
        ckpt.restore(root, components, carry)
    assert tree_snapshot(root) == before


def test_flipped_byte_is_refused(saved):
    root, carry, components = saved
    victim = _state_files(root)[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="corrupt"):
        ckpt.restore(root, components, carry)


def test_corrupt_metadata_is_refused(saved):
    root, carry, components = saved
    (root / "chunk_000002" / ckpt.META_NAME).write_text('{"format": 1, "chunks')
    with pytest.raises(ValueError, match="corrupt"):
        ckpt.restore(root / "chunk_000002", components, carry)


def test_missing_checkpoint_and_unwritable_directory(tmp_path):
    with pytest.raises(ValueError, match="resume=.*no rlfa checkpoint"):
        ckpt.restore(tmp_path, COMPONENTS, small_carry())
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match="checkpoint_dir=.*cannot create"):
        ckpt.save(blocker / "ckpt", 1, small_carry(), {}, COMPONENTS, num_runs=3)
    assert blocker.read_text() == "x" and sorted(tmp_path.iterdir()) == [blocker]


# --- the runner: a tiny program compiles in well under a second --------------------------


class Rate(NamedTuple):
    rate: jax.Array


def counter_program():
    """A random walk of a scalar; its carry holds a typed key, as real studies do."""

    def init(key, hp):
        return {"x": jnp.float32(0.0), "key": key}

    def step(carry, hp):
        key, sub = jax.random.split(carry["key"])
        return {"x": carry["x"] + hp.rate * jax.random.normal(sub), "key": key}

    return runner.Program(init, step, lambda c, hp: {"x": c["x"]}, weights=lambda c: c["x"])


def run_counter(**kwargs):
    hparams = runner.stack_hparams([Rate(1.0), Rate(0.5)])
    return runner.run(counter_program(), hparams, **{
        "seed": 3, "num_seeds": 2, "num_logs": 6, "steps_per_log": 4, "logs_per_chunk": 2,
        "progress": False, **kwargs})


def assert_same_results(a, b):
    assert a.metrics.keys() == b.metrics.keys()
    for k in a.metrics:
        np.testing.assert_array_equal(a.metrics[k], b.metrics[k])
    np.testing.assert_array_equal(a.diverged_at, b.diverged_at)
    np.testing.assert_array_equal(a.final["x"], b.final["x"])
    np.testing.assert_array_equal(jax.random.key_data(a.final["key"]),
                                  jax.random.key_data(b.final["key"]))


def test_sigint_saves_then_resume_continues_bit_for_bit(tmp_path, capsys):
    whole = run_counter()
    handler = signal.getsignal(signal.SIGINT)  # Python's default; ignored in a background job

    def interrupt(chunks_done, carry):
        if chunks_done == 1:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(runner.Interrupted) as stop:
        run_counter(checkpoints=Checkpoints(tmp_path), on_chunk=interrupt)
    assert stop.value.code == 128 + signal.SIGINT and stop.value.chunks_done == 1
    assert f"--resume {tmp_path}" in capsys.readouterr().err
    assert [p.name for p in ckpt.chunk_dirs(tmp_path)] == ["chunk_000001"]
    assert signal.getsignal(signal.SIGINT) is handler  # the runner put it back
    resumed = run_counter(checkpoints=Checkpoints(resume=tmp_path))
    assert_same_results(resumed, whole)
    assert [p.name for p in ckpt.chunk_dirs(tmp_path)] == ["chunk_000001", "chunk_000003"]
    # A finished run resumes to the same results without running a chunk.
    assert_same_results(run_counter(checkpoints=Checkpoints(resume=tmp_path)), whole)


def test_saves_every_k_chunks(tmp_path):
    run_counter(checkpoints=Checkpoints(tmp_path, every=1))
    assert [p.name for p in ckpt.chunk_dirs(tmp_path)] == ["chunk_000002", "chunk_000003"]


@pytest.mark.parametrize("change, field", [
    ({"seed": 4}, "arguments.seed"),
    ({"steps_per_log": 2}, "arguments.steps_per_log"),
    ({"fingerprint": {"figure": "9.5"}}, "config"),
    ({"hparams": runner.stack_hparams([Rate(1.0), Rate(0.25)])}, "hparams"),
])
def test_resume_refuses_another_configuration(tmp_path, change, field):
    run_counter(checkpoints=Checkpoints(tmp_path, fingerprint={"figure": "9.2"}))
    before = tree_snapshot(tmp_path)
    kwargs = {"fingerprint": {"figure": "9.2"}, **change}
    hparams = kwargs.pop("hparams", None)
    checkpoints = Checkpoints(resume=tmp_path, fingerprint=kwargs.pop("fingerprint"))
    with pytest.raises(ValueError, match=f"another configuration.*{field}"):
        if hparams is None:
            run_counter(checkpoints=checkpoints, **kwargs)
        else:
            runner.run(counter_program(), hparams, seed=3, num_seeds=2, num_logs=6,
                       steps_per_log=4, logs_per_chunk=2, progress=False,
                       checkpoints=checkpoints, **kwargs)
    assert tree_snapshot(tmp_path) == before


def test_resume_from_nothing_is_refused(tmp_path):
    with pytest.raises(ValueError, match="resume=.*no such directory"):
        run_counter(checkpoints=Checkpoints(resume=tmp_path / "missing"))
    with pytest.raises(ValueError, match="resume=.*no rlfa checkpoint"):
        run_counter(checkpoints=Checkpoints(resume=tmp_path))


# --- N chunks at once == N/2, save, new process, N/2 --------------------------------------


def _worker(*args):
    return subprocess.run([sys.executable, str(WORKER), *map(str, args)], check=False,
                          env=dict(os.environ), capture_output=True, text=True, timeout=300)


@pytest.mark.slow  # a new process per resume
@pytest.mark.parametrize("kind, devices", [("linear", 1), ("replay", 2)])
def test_resume_in_a_new_process_is_bit_identical(tmp_path, kind, devices):
    """The replay case saves from two sharded devices and resumes on one."""
    whole = worker.flat_results(worker.run_kind(kind))
    half = _worker(kind, tmp_path / "ckpt", tmp_path / "half.npz", "--stop-at", 2,
                   "--devices", devices)
    assert half.returncode == 128 + signal.SIGTERM, half.stderr[-2000:]
    assert f"--resume {tmp_path / 'ckpt'}" in half.stderr
    assert not (tmp_path / "half.npz").exists()
    rest = _worker(kind, tmp_path / "ckpt", tmp_path / "rest.npz", "--resume")
    assert rest.returncode == 0, rest.stderr[-2000:]
    resumed = dict(np.load(tmp_path / "rest.npz"))
    assert resumed.keys() == whole.keys()
    for name in whole:
        np.testing.assert_array_equal(resumed[name], whole[name], err_msg=name)


@pytest.mark.slow
def test_random_walk_experiment_resumes_to_the_same_metrics(tmp_path):
    """One study resumed mid-way, the next never started: metrics.csv is unchanged."""
    import shutil

    from experiments import random_walk as exp

    ckpt_dir = tmp_path / "ckpt"
    flags = {"figure": "9.2", "quick": True, "num_episodes": 200, "progress": False,
             "out": str(tmp_path / "runs")}
    first = exp.STUDY.run(exp.RandomWalkConfig(**flags, checkpoint_dir=str(ckpt_dir),
                                               checkpoint_every=4))
    td0, residual = sorted(ckpt_dir.iterdir(), key=lambda p: "residual" in p.name)
    shutil.rmtree(residual)
    shutil.rmtree(ckpt.chunk_dirs(td0)[-1])  # back to chunk 8 of 10
    again = exp.STUDY.run(exp.RandomWalkConfig(**flags, resume=str(ckpt_dir)))
    assert again != first
    assert (again / "metrics.csv").read_text() == (first / "metrics.csv").read_text()
    with pytest.raises(ValueError, match="resume="):
        exp.RandomWalkConfig(**flags, resume=str(tmp_path / "missing"))


# --- paths as users type them, and errors that say what failed ----------------------------


def test_relative_paths_save_restore_and_resume(tmp_path, monkeypatch):
    """orbax refuses relative paths; users type them (the default is runs/checkpoints/...)."""
    monkeypatch.chdir(tmp_path)
    carry = small_carry()
    components = {**COMPONENTS, "carry": ckpt.carry_spec(carry)}
    ckpt.save("rel", 1, carry, {}, components, num_runs=4)
    assert ckpt.restore("rel", components, carry).chunks_done == 1
    whole = run_counter()
    with pytest.raises(runner.Interrupted):
        run_counter(checkpoints=Checkpoints("ckpt"),
                    on_chunk=lambda done, _: done == 1 and os.kill(os.getpid(), signal.SIGINT))
    assert_same_results(run_counter(checkpoints=Checkpoints(resume="ckpt")), whole)


def test_study_options_make_every_path_absolute(tmp_path, monkeypatch):
    from rlfa.study import StudyOptions

    monkeypatch.chdir(tmp_path)
    (tmp_path / "old").mkdir()
    options = StudyOptions(checkpoint_dir="ck", resume="old")
    assert options.out == str(tmp_path / "runs")
    assert options.checkpoint_dir == str(tmp_path / "ck")
    assert options.resume == str(tmp_path / "old")
    assert StudyOptions(out="~/x").out == str(Path.home() / "x")


def test_unreadable_metadata_is_not_called_corrupt(saved, monkeypatch):
    root, carry, components = saved
    real = Path.read_text

    def denied(self, *args, **kwargs):
        if self.name == ckpt.META_NAME:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", denied)
    with pytest.raises(ValueError, match="cannot be read.*Permission denied") as err:
        ckpt.restore(root, components, carry)
    assert "corrupt" not in str(err.value)


def test_other_format_version_is_named(saved):
    root, carry, components = saved
    meta_file = root / "chunk_000002" / ckpt.META_NAME
    meta_file.write_text(meta_file.read_text().replace('"format": 1', '"format": 99'))
    with pytest.raises(ValueError, match="format 99, this rlfa reads format 1") as err:
        ckpt.restore(root, components, carry)
    assert "corrupt" not in str(err.value)


def test_orbax_failure_on_intact_files_is_not_called_corrupt(saved, monkeypatch):
    import orbax.checkpoint as ocp

    root, carry, components = saved

    def refuse(self, *args, **kwargs):
        raise RuntimeError("unknown layout")

    monkeypatch.setattr(ocp.StandardCheckpointer, "restore", refuse)
    with pytest.raises(ValueError, match=r"could not read .*unknown layout.*intact") as err:
        ckpt.restore(root, components, carry)
    assert "corrupt" not in str(err.value)


def _failing_save(*args, **kwargs):
    raise OSError(28, "No space left on device")


def test_a_failed_save_keeps_the_run_and_reports_it(tmp_path, monkeypatch, capsys):
    whole = run_counter()
    monkeypatch.setattr(ckpt, "save", _failing_save)
    results = run_counter(checkpoints=Checkpoints(tmp_path / "ck", every=1))
    assert_same_results(results, whole)
    assert len(results.checkpoint_errors) == 3
    assert str(tmp_path / "ck") in results.checkpoint_errors[0]
    assert "No space left" in capsys.readouterr().err


def test_a_failed_save_on_interrupt_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(ckpt, "save", _failing_save)
    with pytest.raises(runner.Interrupted) as stop:
        run_counter(checkpoints=Checkpoints(tmp_path),
                    on_chunk=lambda done, _: done == 1 and os.kill(os.getpid(), signal.SIGINT))
    assert stop.value.code == 128 + signal.SIGINT
    assert "could NOT be saved" in str(stop.value) and "No space left" in str(stop.value)


@pytest.mark.slow
def test_a_study_writes_its_results_before_failing_on_a_save(tmp_path, monkeypatch, capsys):
    from experiments import baird

    monkeypatch.setattr(ckpt, "save", _failing_save)
    with pytest.raises(SystemExit) as stop:
        baird.STUDY.run(baird.BairdConfig(quick=True, progress=False, out=str(tmp_path / "runs")))
    assert stop.value.code == 1
    summaries = list((tmp_path / "runs" / "baird").glob("*/summary.json"))
    assert len(summaries) == 1
    captured = capsys.readouterr()
    assert f"results: {summaries[0].parent}" in captured.out
    assert "checkpoint save(s) failed" in captured.err
    assert str(tmp_path / "runs" / "checkpoints" / "baird") in captured.err


# --- what orbax's background threads report while a save runs ------------------------------

CLOSED_LOOP = SimpleNamespace(object=None, exc_value=RuntimeError("Event loop is closed"))


@pytest.fixture
def reports(monkeypatch):
    """What reaches absl's logger and ``sys.unraisablehook``, as text (the hook restored after)."""
    seen = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    logging.getLogger("absl").addHandler(handler)
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(str(u.exc_value)))
    yield seen
    logging.getLogger("absl").removeHandler(handler)


def report_from_a_thread():
    """What orbax's threads do when a write fails: log it, and leave a write in flight."""
    def work():
        absl_logging.error("write failed")
        sys.unraisablehook(SimpleNamespace(object=None, exc_value=RuntimeError("in flight")))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()


def test_a_failed_save_holds_back_what_its_threads_report(reports, monkeypatch):
    monkeypatch.delenv("RLFA_TRACEBACK", raising=False)
    with pytest.raises(OSError), ckpt._background_reports_held():
        report_from_a_thread()
        raise OSError(28, "No space left on device")
    assert reports == []
    # Writes that end later report a closed event loop: dropped; anything else is not.
    sys.unraisablehook(CLOSED_LOOP)
    sys.unraisablehook(SimpleNamespace(object=None, exc_value=RuntimeError("other")))
    assert reports == ["other"]


def test_a_save_that_succeeds_passes_on_what_its_threads_report(reports, monkeypatch):
    monkeypatch.delenv("RLFA_TRACEBACK", raising=False)
    with ckpt._background_reports_held():
        report_from_a_thread()
        assert reports == []
    assert reports == ["write failed", "in flight"]
    sys.unraisablehook(CLOSED_LOOP)
    assert reports[-1] == "Event loop is closed"


def test_rlfa_traceback_shows_what_a_failed_save_reports(reports, monkeypatch):
    monkeypatch.setenv("RLFA_TRACEBACK", "1")
    with pytest.raises(OSError), ckpt._background_reports_held():
        report_from_a_thread()
        raise OSError(28, "No space left on device")
    sys.unraisablehook(CLOSED_LOOP)
    assert reports == ["write failed", "in flight", "Event loop is closed"]
