"""Every study and benchmark as a user types it: ``python -m experiments.NAME`` and
``python -m benchmarks.NAME``.

Each runs in a subprocess from a fresh temporary working directory, with the
default relative ``--out runs`` (no ``--out``), so what these tests see is what a
user sees on a fresh machine: a main job once trained for minutes and then lost
its results to a relative checkpoint path while every test that passed an
absolute ``tmp_path`` stayed green.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import time
import typing
from pathlib import Path

import numpy as np
import pytest

# Each test runs the product in a subprocess, as a user types it: the full suite's tests,
# not the inner loop's.
pytestmark = pytest.mark.slow

# Module (as ``python -m`` takes it) -> its config class.
STUDIES = {
    "experiments.dqn": "ExperimentConfig",
    "experiments.dqn_ladder": "LadderConfig",
    "experiments.random_walk": "RandomWalkConfig",
    "experiments.mountain_car": "MountainCarConfig",
    "experiments.baird": "BairdConfig",
    "experiments.universal_approximation": "UniversalApproximationConfig",
    "experiments.coarse_coding": "CoarseCodingConfig",
    "experiments.access_control": "AccessControlConfig",
    "experiments.n_step_sarsa": "NStepSarsaConfig",
    "experiments.n_step_td": "NStepTDConfig",
    "experiments.minatar": "MinAtarConfig",
    "experiments.pqn": "ExperimentConfig",
    "experiments.atari": "AtariConfig",
}
BENCHMARKS = {
    "benchmarks.random_walk": "BenchmarkConfig",
    "benchmarks.mountain_car": "BenchmarkConfig",
    "benchmarks.backprop": "BenchmarkConfig",
    "benchmarks.dqn": "BenchmarkConfig",
    "benchmarks.scaling": "ScalingConfig",
    "benchmarks.book_figures": "BenchmarkConfig",
    "benchmarks.minatar": "BenchmarkConfig",
    "benchmarks.pqn": "BenchmarkConfig",
    "benchmarks.atari": "BenchmarkConfig",
}
MODULES = {**STUDIES, **BENCHMARKS}
RESULT_FILES = ("config.json", "metrics.csv", "summary.json", "figure.png")


def run_name(module: str) -> str:
    """The directory under ``runs/`` a module writes to: a study's own name
    (``experiments.dqn`` -> ``dqn``), a benchmark's with ``benchmark_`` before it
    (``benchmarks.dqn`` -> ``benchmark_dqn``)."""
    package, name = module.split(".")
    return f"benchmark_{name}" if package == "benchmarks" else name


def python_m(module: str, *args: str, cwd: Path, timeout: float = 600,
             env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m <module> args...`` in ``cwd``, as a shell would run it."""
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def results_dir(stdout: str) -> Path:
    """The directory a run printed on its ``results: DIR`` line."""
    found = re.findall(r"^results: (.+)$", stdout, flags=re.MULTILINE)
    assert len(found) == 1, f"no single 'results:' line in:\n{stdout[-3000:]}"
    return Path(found[0])


def failure(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-5000:]}"


@pytest.mark.parametrize("module", list(MODULES))
def test_quick_run_from_a_fresh_directory_writes_its_results(module, tmp_path):
    proc = python_m(module, "--quick", cwd=tmp_path)
    assert proc.returncode == 0, failure(proc)
    path = results_dir(proc.stdout)
    assert path.is_absolute() and path.parent == tmp_path / "runs" / run_name(module)
    for name in RESULT_FILES:
        assert (path / name).is_file() and (path / name).stat().st_size > 0, name
    assert json.loads((path / "config.json").read_text())["out"] == str(tmp_path / "runs")
    if module in STUDIES:
        check_headlines(path)
        check_redraw(module, path)
    if module in CONTENT_CHECKS:
        CONTENT_CHECKS[module](path)


def check_headlines(path: Path) -> None:
    """Every study's headline: mean, IQM and median with bootstrap CIs inside the seeds' range."""
    headlines = json.loads((path / "summary.json").read_text())["headlines"]
    assert headlines
    for label, head in headlines.items():
        scores = [v for v in head["per_seed"] if v is not None]
        assert head["n"] == len(scores) and {"metric", "task", "higher_is_better"} <= set(head)
        for name in ("mean", "iqm", "median"):
            if scores:
                low, high = head[name]["ci95"]
                assert min(scores) <= low <= head[name]["value"] <= high <= max(scores), label


def check_redraw(module: str, path: Path) -> None:
    """The figure is drawn from the written files alone: redrawing it needs no rerun."""
    assert json.loads((path / "summary.json").read_text())["study"] == module
    (path / "figure.png").unlink()
    if module == "experiments.baird":  # the command, as a user types it, for one study
        proc = python_m("rlfa", "redraw", str(path), cwd=path.parent, timeout=300)
        assert proc.returncode == 0 and f"figure: {path / 'figure.png'}" in proc.stdout, \
            failure(proc)
    else:
        from rlfa import study
        study.redraw(path)
    assert (path / "figure.png").stat().st_size > 0


def check_ladder_summary(path: Path) -> None:
    from experiments import dqn_ladder as ladder

    summary = json.loads((path / "summary.json").read_text())
    assert list(summary["envs"]) == ["CartPole-v1"]  # --quick: the first environment
    for env, rungs in summary["envs"].items():
        assert list(rungs) == list(ladder.RUNGS)
        for name, r in rungs.items():
            # PQN's budget in whole rollouts of 4 environments x 8 steps: 19, logged after each
            assert r["env_steps_per_seed"] == (608 if name.startswith("PQN") else 600)
            if env == "CartPole-v1":  # quick greedy episodes end within CartPole's 500 steps
                assert summary["headlines"][f"{env}: {name}"]["n"] == 2
    assert (path / "figure.png").stat().st_size > 0
    assert len((path / "metrics.csv").read_text().splitlines()) == 1 + 4 * 2 * 2 + 2 * 2 * 19


def _content_checks() -> dict:
    from tests.experiments import test_baird, test_dqn, test_mountain_car
    from tests.experiments import test_universal_approximation as test_ua
    from tests.experiments import test_access_control, test_coarse_coding
    from tests.experiments import test_n_step_sarsa, test_n_step_td
    from tests.benchmarks import test_minatar as test_minatar_benchmark
    from tests.benchmarks import test_random_walk as test_random_walk_benchmark
    from tests.benchmarks import test_dqn as test_dqn_benchmark
    from tests.benchmarks import test_scaling as test_scaling_benchmark
    from tests.experiments import test_minatar
    from tests.experiments import test_pqn
    from tests.experiments import test_atari
    from tests.benchmarks import test_atari as test_atari_benchmark
    from tests.benchmarks import test_pqn as test_pqn_benchmark

    return {"experiments.dqn_ladder": check_ladder_summary,
            "experiments.baird": test_baird.check_quick_run_diverges_under_semi_gradient_only,
            "experiments.dqn": test_dqn.check_quick_run_writes_results,
            "experiments.mountain_car": test_mountain_car.check_quick_run_writes_both_figures,
            "experiments.universal_approximation":
                test_ua.check_quick_run_writes_results_and_error_falls_with_width,
            "experiments.coarse_coding":
                test_coarse_coding.check_quick_run_error_falls_and_broad_features_generalize_early,
            "experiments.access_control": test_access_control.check_quick_run_writes_results,
            "experiments.n_step_sarsa": test_n_step_sarsa.check_quick_run_writes_both_figures,
            "experiments.n_step_td": test_n_step_td.check_quick_run_grid_flags_and_lstd_beats_td,
            "experiments.minatar": test_minatar.check_quick_run_writes_results,
            "experiments.pqn": test_pqn.check_quick_run_writes_results,
            "experiments.atari": test_atari.check_quick_run_writes_results,
            "benchmarks.atari": test_atari_benchmark.check_quick_run_measures_rlfa_only,
            "benchmarks.pqn": test_pqn_benchmark.check_quick_run_measures_rlfa_only,
            "benchmarks.minatar": test_minatar_benchmark.check_quick_run_measures_rlfa_only,
            "benchmarks.random_walk": test_random_walk_benchmark.check_quick_run_writes_its_table,
            "benchmarks.scaling": test_scaling_benchmark.check_quick_run_writes_table_and_figure,
            "benchmarks.dqn": test_dqn_benchmark.check_quick_run_times_one_setting}


# What a module's own test file would otherwise check in a second run of the same workload:
# its checks run on the --quick run above (a study's own test file holds them).
CONTENT_CHECKS = _content_checks()


# --- --help documents every field -------------------------------------------------------


def leaf_fields(config_type: type, prefix: str = "") -> list[tuple[str, str]]:
    """``(dotted name, field name)`` of every leaf option of a (nested) config dataclass; the
    fields of a ``Flat`` hyperparameter NamedTuple are options without the field's own name
    (``dqn.learning_rate`` for ``dqn.hparams.learning_rate``)."""
    from rlfa.hparams import Flat

    hints = typing.get_type_hints(config_type, include_extras=True)
    out = []
    for field in dataclasses.fields(config_type):
        hint = hints[field.name]
        kind = typing.get_args(hint)[0] if typing.get_origin(hint) is typing.Annotated else hint
        if dataclasses.is_dataclass(kind):
            out += leaf_fields(kind, f"{prefix}{field.name}.")
        elif Flat.__metadata__[0] in getattr(hint, "__metadata__", ()):
            out += [(f"{prefix}{name}", name) for name in kind._fields]
        else:
            out.append((f"{prefix}{field.name}", field.name))
    return out


def help_lines(text: str) -> dict[str, str]:
    """Flag -> its description, from tyro's help (a long flag has it on the next line)."""
    # With many options tyro sets its panels side by side, in columns of fixed width (each
    # panel's top border ends "╮" where the next column's begins "╭"): read column by column.
    text_lines = text.splitlines()
    top = next((line for line in text_lines if line.startswith("╭")), "")
    cuts = [0, *(m.start() + 1 for m in re.finditer("╮╭", top)), None]
    rows = [re.sub(r"^[│ ]+|[│ ]+$", "", line[start:end])
            for start, end in zip(cuts, cuts[1:]) for line in text_lines]
    lines = {}
    for i, row in enumerate(rows):
        if not row.startswith("-"):
            continue
        flags, description = (re.split(r"\s{2,}", row, maxsplit=1) + [""])[:2]
        if not description and i + 1 < len(rows) and not rows[i + 1].startswith("-"):
            description = rows[i + 1]
        for flag in re.findall(r"--[\w.-]+", flags):
            lines[flag] = description
    return lines


@pytest.mark.parametrize("module", list(MODULES))
def test_help_documents_every_field(module, tmp_path):
    import importlib

    proc = python_m(module, "--help", cwd=tmp_path, env={"COLUMNS": "400"}, timeout=120)
    assert proc.returncode == 0, failure(proc)
    described = help_lines(proc.stdout)
    config_type = getattr(importlib.import_module(module), MODULES[module])
    if module in STUDIES:  # every study sweeps its continuous hyperparameters the same way
        assert any(flag.startswith("--sweep.") for flag in described), module
        assert "--sweep-mode" in described, module
    for dotted, name in leaf_fields(config_type):
        # a field named after a Python keyword (lambda_) is flagged without its underscore
        dotted, name = (".".join(p.removesuffix("_") for p in dotted.split(".")),
                        name.removesuffix("_"))
        flags = [f"--{dotted.replace('_', '-')}", f"--{name.replace('_', '-')}"]
        flag = next((f for f in flags if f in described), None)
        assert flag is not None, f"{module}: no flag for field {dotted} in --help"
        assert not re.match(r"^\((default|required|fixed)", described[flag]), \
            f"{module}: {flag} has no description: {described[flag]!r}"


# --- errors found after parsing reach the user as one line ------------------------------


@pytest.mark.parametrize("args, words", [
    (("--dqn.network", "cnn"), ("network", "CartPole-v1")),
    (("--dqn.env", "Pendulum-v1"), ("Pendulum-v1", "action")),
    (("--dqn.env", "RandomWalk1000"), ("RandomWalk1000", "action")),
])
def test_dqn_configuration_errors_are_one_clear_line(args, words, tmp_path):
    proc = python_m("experiments.dqn", "--quick", *args, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2, failure(proc)
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    for word in words:
        assert word in proc.stderr, proc.stderr[-3000:]
    assert not (tmp_path / "runs" / "dqn").exists()


def test_resuming_another_configuration_is_one_clear_line(tmp_path):
    first = python_m("experiments.baird", "--quick", "--checkpoint-dir", "ck", cwd=tmp_path)
    assert first.returncode == 0, failure(first)
    proc = python_m("experiments.baird", "--quick", "--seed", "1", "--resume", "ck",
                    cwd=tmp_path)
    assert proc.returncode == 2, failure(proc)
    assert "Traceback" not in proc.stderr
    error = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(error) == 1 and "another configuration" in error[0] and "seed" in error[0]
    assert str(tmp_path / "ck") in error[0]


# A sitecustomize that makes every checkpoint save write into a file-size limit of 4 kB,
# so orbax's background threads fail as on a full disk (EFBIG rather than ENOSPC).
FILE_SIZE_LIMIT = """
import resource
import signal

from rlfa import checkpoint

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails, not the process
_save = checkpoint.save


def save(*args, **kwargs):
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))
    try:
        return _save(*args, **kwargs)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


checkpoint.save = save
"""


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 300 kB tmpfs (skipped where mounting one is not allowed), unmounted after."""
    path = tmp_path / "small"
    path.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(path)]
    if sys.platform != "linux" or subprocess.run(mount, capture_output=True,
                                                 check=False).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield path
    subprocess.run(["umount", str(path)], check=True)


@pytest.mark.parametrize("full", ["tmpfs", "file size limit"])
def test_a_save_on_a_full_disk_is_rlfas_message_without_tracebacks(full, tmp_path, request):
    """DQN's replay buffer does not fit: the results are written in full, the run exits 1
    naming the failed save and its directory, and orbax's threads print nothing."""
    env = {}
    if full == "tmpfs":
        checkpoints = request.getfixturevalue("small_tmpfs") / "ck"
    else:
        checkpoints = tmp_path / "ck"
        (tmp_path / "inject").mkdir()
        (tmp_path / "inject" / "sitecustomize.py").write_text(FILE_SIZE_LIMIT)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(tmp_path / "inject"), os.environ.get("PYTHONPATH")) if p)
    proc = python_m("experiments.dqn", "--quick", "--checkpoint-dir", str(checkpoints),
                    "--checkpoint-every", "1", "--no-progress", cwd=tmp_path, env=env)
    assert proc.returncode == 1, failure(proc)
    assert (results_dir(proc.stdout) / "summary.json").is_file()
    assert "Traceback" not in proc.stderr and "absl" not in proc.stderr, proc.stderr[-5000:]
    lines = proc.stderr.splitlines()
    assert all(line.startswith(("rlfa: ", "  saving chunk")) for line in lines), lines
    assert any(line.startswith(f"rlfa: saving chunk 1 in {checkpoints / 'DQN'} failed")
               for line in lines), lines
    assert "checkpoint save(s) failed" in proc.stderr


# --- interrupt, then resume with the printed command -------------------------------------


def numbers(summary):
    """A summary without its timings: what must be identical across interrupt and resume."""
    if isinstance(summary, dict):
        return {k: numbers(v) for k, v in summary.items() if not k.endswith("_s")}
    if isinstance(summary, list):
        return [numbers(v) for v in summary]
    return summary


def interrupt_after_a_chunk(module: str, args: list[str], cwd: Path, signum: int,
                            checkpoints: str) -> tuple[subprocess.CompletedProcess, Path]:
    """Start ``module``, send ``signum`` once a checkpoint exists; returns the run and the
    directory its ``Resume with --resume DIR`` message names."""
    proc = subprocess.Popen([sys.executable, "-m", module, *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not list(cwd.glob(checkpoints)):
        assert proc.poll() is None, failure(subprocess.CompletedProcess(
            proc.args, proc.returncode, *proc.communicate()))
        assert time.monotonic() < deadline, "no checkpoint after 300 s"
        time.sleep(0.02)
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=300)
    done = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    assert proc.returncode == 128 + signum, failure(done)
    printed = re.findall(r"Resume with --resume (\S+)", stderr)
    assert len(printed) == 1, stderr[-3000:]
    return done, Path(printed[0])


def whole_and_resumed(module: str, args: list[str], signum: int, tmp_path: Path,
                      resume_from: str) -> tuple[Path, Path, Path]:
    """Run ``module args`` once whole (in ``tmp_path/whole``) and once interrupted by
    ``signum`` (in ``tmp_path/cut``), then the printed resume from ``tmp_path/resume_from``.

    Returns the two results directories and the checkpoint directory resumed from; the
    two runs' ``summary.json`` numbers (timings aside) are checked equal here.
    """
    for name in ("whole", "cut"):
        (tmp_path / name).mkdir()
    whole = python_m(module, *args, cwd=tmp_path / "whole")
    assert whole.returncode == 0, failure(whole)
    name = run_name(module)
    _, resume = interrupt_after_a_chunk(module, args, tmp_path / "cut", signum,
                                        f"runs/checkpoints/{name}/*/*/chunk_*")
    assert not (tmp_path / "cut" / "runs" / name).exists()  # nothing half-written
    resumed = python_m(module, *args, "--resume", str(resume), cwd=tmp_path / resume_from)
    assert resumed.returncode == 0, failure(resumed)
    a, b = results_dir(whole.stdout), results_dir(resumed.stdout)
    assert numbers(json.loads((a / "summary.json").read_text())) == \
        numbers(json.loads((b / "summary.json").read_text()))
    return a, b, resume


def test_dqn_sigint_then_the_printed_resume_equals_an_uninterrupted_run(tmp_path):
    args = ["--quick", "--checkpoint-every", "1", "--logs-per-chunk", "1", "--num-logs", "30"]
    # The printed command, from another working directory: the path is absolute.
    a, b, resume = whole_and_resumed("experiments.dqn", args, signal.SIGINT, tmp_path,
                                     resume_from=".")
    assert resume.is_relative_to(tmp_path / "cut" / "runs" / "checkpoints" / "dqn")
    with np.load(a / "metrics.npz") as x, np.load(b / "metrics.npz") as y:
        assert sorted(x) == sorted(y)
        for name in x:
            np.testing.assert_array_equal(x[name], y[name], err_msg=name)


def test_random_walk_sigterm_then_the_printed_resume_equals_an_uninterrupted_run(tmp_path):
    args = ["--quick", "--figure", "9.2", "--checkpoint-every", "1", "--logs-per-chunk", "2"]
    a, b, _ = whole_and_resumed("experiments.random_walk", args, signal.SIGTERM, tmp_path,
                                resume_from="cut")
    assert (a / "metrics.csv").read_text() == (b / "metrics.csv").read_text()


def test_dqn_prints_the_devices_it_used(tmp_path):
    """--num-devices 1 on a machine laid out with more: the headline says 1, as summary.json."""
    proc = python_m("experiments.dqn", "--quick", "--num-devices", "1", cwd=tmp_path,
                    env={"RLFA_CPU_DEVICES": "2"})
    assert proc.returncode == 0, failure(proc)
    summary = json.loads((results_dir(proc.stdout) / "summary.json").read_text())
    assert summary["num_devices"] == 1
    assert re.search(r"\b1 devices\)", proc.stdout), proc.stdout[-2000:]
