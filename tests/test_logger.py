"""Live logging (rlfa.logger, StudyOptions.log): the numbers logged are the metrics.csv numbers.

The end-to-end tests run ``python -m experiments.dqn --quick --log ...`` as a user types
it, from a fresh working directory, then read the logs back: TensorBoard's event files
with tensorboardX's own protobufs (a TFRecord reader of a dozen lines, CRCs checked), and
an offline W&B run's ``.wandb`` file with wandb's protobufs.
"""

from __future__ import annotations

import csv
import json
import math
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import trim_mean

from rlfa import logger as live
from rlfa.study import StudyOptions

# --- summaries over seeds, tags, validation ----------------------------------------------


def test_seed_summaries_skip_non_finite_seeds():
    values = np.array([[1.0, np.nan, 5.0], [3.0, np.nan, np.inf], [2.0, np.nan, 7.0],
                       [10.0, np.nan, 6.0]])  # [seed, log]
    out = live.seed_summaries(values)
    np.testing.assert_array_equal(out["seed_1"], values[1])
    assert out["mean"][0] == 4.0 and out["iqm"][0] == trim_mean([1.0, 3.0, 2.0, 10.0], 0.25)
    assert math.isnan(out["mean"][1]) and math.isnan(out["iqm"][1])  # no finite seed
    assert out["mean"][2] == 6.0 and out["iqm"][2] == trim_mean([5.0, 7.0, 6.0], 0.25)


def test_scalar_series_tags_and_only_scalar_metrics():
    metrics = {"loss": np.ones((2, 3, 4)), "w": np.ones((2, 3, 4, 5))}  # [grid, seed, log, ...]
    tags = live.scalar_series("Fig 9.2", [{"alpha": 0.1}, {"alpha": 0.2}], metrics)
    assert "Fig_9.2/alpha=0.1/loss/seed_2" in tags and "Fig_9.2/alpha=0.2/loss/iqm" in tags
    assert not any("/w/" in t for t in tags) and len(tags) == 2 * (3 + 2)
    single = live.scalar_series("DQN", None, {"loss": np.ones((1, 2, 4))})
    assert sorted(single) == ["DQN/loss/iqm", "DQN/loss/mean", "DQN/loss/seed_0",
                              "DQN/loss/seed_1"]
    assert all(v.shape == (4,) for v in single.values())
    assert "P/grid_1/loss/mean" in live.scalar_series("P", None, {"loss": np.ones((2, 1, 3))})


def test_unknown_backend_is_refused_and_duplicates_dropped():
    with pytest.raises(ValueError, match=r"log='tb' is invalid: must be one of \['tensorboard', "
                                         r"'wandb'\]"):
        StudyOptions(log=("tb",))
    assert StudyOptions(log=("wandb", "wandb")).log == ("wandb",)


def test_missing_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "wandb", None)  # import wandb now raises ImportError
    with pytest.raises(ValueError, match=r'^--log wandb needs the wandb package.*: '
                                         r'pip install "rlfa\[wandb\]"$'):
        live.require(["wandb"])


def test_wandb_is_offline_unless_the_user_is_logged_in_or_says_otherwise(tmp_path,
                                                                       monkeypatch):
    for name in ("WANDB_MODE", "WANDB_API_KEY", "WANDB_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert live.wandb_mode() == "offline"  # no ~/.netrc
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine api.wandb.ai\n  login user\n  password abc\n")
    netrc.chmod(0o600)
    assert live.wandb_mode() is None  # logged in: wandb decides (online)
    monkeypatch.setenv("WANDB_BASE_URL", "https://wandb.example.org")
    assert live.wandb_mode() == "offline"  # logged in elsewhere only
    monkeypatch.setenv("WANDB_MODE", "online")
    assert live.wandb_mode() is None


def test_log_does_not_change_what_resume_must_match(tmp_path):
    plain = StudyOptions(out=str(tmp_path)).run_options(None, "P")
    logged = StudyOptions(out=str(tmp_path), log=("tensorboard",)).run_options(None, "P")
    fingerprint = plain["checkpoints"].fingerprint
    assert fingerprint == logged["checkpoints"].fingerprint and "log" not in fingerprint
    assert "logger" not in plain  # without a logger the runner's arguments are as before


def test_without_log_nothing_is_opened(tmp_path):
    with StudyOptions(out=str(tmp_path)).logging("x", tmp_path / "ck") as logger:
        assert logger is None
    assert not (tmp_path / "logs").exists()


def test_a_resumed_run_logs_into_the_directory_it_started_in(tmp_path, capsys):
    pytest.importorskip("tensorboardX", reason="tensorboardX is not installed "
                                               '(pip install "rlfa[tensorboard]")')
    options = StudyOptions(out=str(tmp_path), log=("tensorboard",))
    for step in (5, 10):  # a run, then its resume (same checkpoint directory), in 1 s
        with options.logging("exp", tmp_path / "checkpoints" / "exp" / "stamp") as logger:
            log = options.run_options(None, "P", logger=logger)["logger"]
            log(np.array([step]), {"loss": np.full((1, 2, 1), step / 10)}, "env steps")
    directory = tmp_path / "logs" / "exp" / "stamp"
    assert f"logs: {directory} (tensorboard)" in capsys.readouterr().out
    scalars, _ = read_tensorboard(directory)
    assert scalars["P/loss/seed_1"] == {5: 0.5, 10: 1.0} and len(scalars) == 4


# --- end to end: the logs hold the metrics.csv numbers ------------------------------------


def python_m(module: str, *args: str, cwd: Path, env: dict | None = None):
    return subprocess.run([sys.executable, "-m", f"experiments.{module}", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600, check=False,
                          env={**os.environ, **(env or {})})


def failure(proc) -> str:
    return f"exit {proc.returncode}\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-5000:]}"


def printed_dir(stdout: str, prefix: str) -> Path:
    (line,) = [x for x in stdout.splitlines() if x.startswith(prefix)]
    return Path(line[len(prefix):].split(" (")[0])


def csv_rows(results: Path) -> list[dict[str, float]]:
    """metrics.csv as numbers (an empty cell, a NaN written as null, is NaN)."""
    with open(results / "metrics.csv") as f:
        return [{k: (float(v) if v else math.nan) for k, v in row.items() if k != "env"}
                for row in csv.DictReader(f)]


def check_against_csv(rows, logged, stored=float) -> None:
    """``logged``: tag -> {step: value}; ``stored`` rounds as the backend stores numbers."""
    def same(a, b):
        return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-6)

    columns = [k for k in rows[0] if k not in ("seed", "env_steps")] + ["env_steps"]
    steps = sorted({int(r["env_steps"]) for r in rows})
    for name in columns:
        for step in steps:
            at = [r for r in rows if int(r["env_steps"]) == step]
            for r in at:
                assert same(logged[f"DQN/{name}/seed_{int(r['seed'])}"][step], stored(r[name]))
            finite = [r[name] for r in at if math.isfinite(r[name])]
            mean = float(np.mean(finite)) if finite else math.nan
            iqm = float(trim_mean(finite, 0.25)) if finite else math.nan
            assert same(logged[f"DQN/{name}/mean"][step], stored(mean)), (name, step)
            assert same(logged[f"DQN/{name}/iqm"][step], stored(iqm)), (name, step)
    assert "DQN/greedy_return/mean" in logged and len(steps) == 2


def read_tensorboard(directory: Path):
    """Scalars (tag -> {step: value}) and text/hparams summaries of every event file."""
    from tensorboardX.proto.event_pb2 import Event
    from tensorboardX.record_writer import masked_crc32c

    scalars, other = {}, {}
    for path in sorted(directory.glob("events.out.tfevents.*")):
        data, i = path.read_bytes(), 0
        while i < len(data):  # TFRecord: length, its CRC, the record, its CRC
            header = data[i:i + 8]
            (n,) = struct.unpack("<Q", header)
            assert struct.unpack("<I", data[i + 8:i + 12])[0] == masked_crc32c(header)
            record = data[i + 12:i + 12 + n]
            assert struct.unpack("<I", data[i + 12 + n:i + 16 + n])[0] == masked_crc32c(record)
            i += 16 + n
            event = Event.FromString(record)
            for value in event.summary.value:
                if value.HasField("simple_value"):
                    steps = scalars.setdefault(value.tag, {})
                    assert event.step not in steps, f"{value.tag} logged twice at {event.step}"
                    steps[event.step] = value.simple_value
                else:
                    other[value.tag] = value
    return scalars, other


@pytest.mark.slow
def test_tensorboard_logs_hold_the_metrics_csv_numbers(tmp_path):
    pytest.importorskip("tensorboardX", reason="tensorboardX is not installed "
                                               '(pip install "rlfa[tensorboard]")')
    from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData

    proc = python_m("dqn", "--quick", "--log", "tensorboard", cwd=tmp_path)
    assert proc.returncode == 0, failure(proc)
    logs = printed_dir(proc.stdout, "logs: ")
    assert logs.parent == tmp_path / "runs" / "logs" / "dqn"
    scalars, other = read_tensorboard(logs)
    check_against_csv(csv_rows(printed_dir(proc.stdout, "results: ")), scalars,
                      stored=lambda v: float(np.float32(v)))  # TensorBoard keeps float32
    config = json.loads(other["config/text_summary"].tensor.string_val[0].decode())
    assert config["num_seeds"] == 2 and config["log"] == ["tensorboard"]
    start = HParamsPluginData.FromString(
        other["_hparams_/session_start_info"].metadata.plugin_data.content)
    assert start.session_start_info.hparams["dqn/batch_size"].number_value == 16
    assert "_hparams_/session_end_info" in other  # closed as a finished run


def wandb_records(path: Path):
    """The records of a ``.wandb`` file (a LevelDB-style log of 32 KiB blocks)."""
    data, i, pending = path.read_bytes(), 7, b""  # after the ':W&B' header
    assert data[:4] == b":W&B"
    while i + 7 <= len(data):
        if 32768 - i % 32768 < 7:  # a block's tail too short for a header is padding
            i += 32768 - i % 32768
            continue
        _, n, kind = struct.unpack("<IHB", data[i:i + 7])
        pending, i = pending + data[i + 7:i + 7 + n], i + 7 + n
        if kind in (1, 4):  # a full record, or the last piece of one
            yield pending
            pending = b""


def test_wandb_offline_run_holds_the_metrics_csv_numbers(tmp_path):
    pytest.importorskip("wandb", reason='wandb is not installed (pip install "rlfa[wandb]"; '
                                        "about 100 MB with its dependencies)")
    from wandb.proto import wandb_internal_pb2 as pb

    proc = python_m("dqn", "--quick", "--log", "wandb", cwd=tmp_path,
                    env={"WANDB_MODE": "offline", "WANDB_DIR": str(tmp_path / "wandb"),
                         "WANDB_SILENT": "true"})
    assert proc.returncode == 0, failure(proc)
    (run_file,) = printed_dir(proc.stdout, "logs: ").glob("wandb/offline-run-*/run-*.wandb")
    logged, config = {}, {}
    for data in wandb_records(run_file):
        record = pb.Record.FromString(data)
        if record.WhichOneof("record_type") == "history":
            items = {i.key or "/".join(i.nested_key): json.loads(i.value_json)
                     for i in record.history.item}
            if "DQN/env_steps" not in items:  # wandb's own rows (run time...)
                continue
            for tag, value in items.items():
                if tag.count("/") == 2:
                    steps = logged.setdefault(tag, {})
                    assert int(items["DQN/env_steps"]) not in steps, f"{tag} logged twice"
                    steps[int(items["DQN/env_steps"])] = float(value)
        elif record.WhichOneof("record_type") == "run":
            config = {u.key or "/".join(u.nested_key): json.loads(u.value_json)
                      for u in record.run.config.update}
    check_against_csv(csv_rows(printed_dir(proc.stdout, "results: ")), logged)
    assert config["num_seeds"] == 2 and config["dqn"]["batch_size"] == 16


def test_missing_package_is_one_line_before_anything_is_written(tmp_path):
    hidden = tmp_path / "hidden" / "tensorboardX"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ImportError('No module named tensorboardX')\n")
    path = os.pathsep.join(filter(None, [str(hidden.parent), os.environ.get("PYTHONPATH")]))
    proc = python_m("dqn", "--quick", "--log", "tensorboard", cwd=tmp_path,
                    env={"PYTHONPATH": path})
    assert proc.returncode == 2, failure(proc)
    expected = ('error: --log tensorboard needs the tensorboardX package, which cannot be '
                'imported (No module named tensorboardX): pip install "rlfa[tensorboard]"')
    assert proc.stderr.strip().splitlines() == [expected], failure(proc)
    # checkpoint_root, which every study calls before compiling, refused: nothing written
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_a_linear_study_logs_its_metrics_csv_numbers(tmp_path):
    """Every study passes its logger on: Baird's sqrt(VE) per seed and step, as in metrics.csv."""
    pytest.importorskip("tensorboardX", reason="tensorboardX is not installed "
                                               '(pip install "rlfa[tensorboard]")')
    proc = python_m("baird", "--quick", "--figure", "11.2", "--log", "tensorboard", cwd=tmp_path)
    assert proc.returncode == 0, failure(proc)
    scalars, _ = read_tensorboard(printed_dir(proc.stdout, "logs: "))
    with open(printed_dir(proc.stdout, "results: ") / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert {r["method"] for r in rows} == {"semi_gradient_td", "residual_gradient_td"}
    for r in rows:
        logged = scalars[f"Baird_{r['method']}/rms_ve/seed_{r['seed']}"][int(r["step"])]
        assert logged == pytest.approx(float(np.float32(float(r["rms_ve"]))), rel=1e-6)
