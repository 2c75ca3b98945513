"""experiments.universal_approximation end to end on quick settings, a sweep, and bad inputs."""

import csv
import json

import numpy as np
import pytest

from experiments import universal_approximation as exp
from rlfa.backprop import universal_approximation as ua
from rlfa.sweep import Sweep


def check_quick_run_writes_results_and_error_falls_with_width(path):
    """Run by tests/test_cli.py on the ``--quick`` run it starts as a user types it."""
    config = exp.UniversalApproximationConfig(quick=True)
    for name in ("config.json", "metrics.csv", "summary.json", "figure.png", "metrics.npz"):
        assert (path / name).stat().st_size > 0
    summary = json.loads((path / "summary.json").read_text())
    quick = config.effective()
    assert summary["widths"] == list(quick.widths)
    for method in ua.METHODS:
        heads = [summary["headlines"][f"N={n}: {ua.LABELS[method]}"] for n in quick.widths]
        risks = [head["mean"]["value"] for head in heads]
        assert all(r > 0 for r in risks)
        # Loosely: the widest network fits better than a single sigmoid.
        assert risks[-1] < 0.5 * risks[0], (method, risks)
        assert heads[0]["n"] == quick.num_seeds
    assert all(seeds == [] for seeds in summary["diverged_seeds"].values())
    with open(path / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(quick.widths) * quick.num_seeds * quick.num_logs
    assert set(rows[0]) == {"width", "seed", "update", "test_risk_sgd", "test_risk_adam"}
    curves = np.load(path / "metrics.npz")
    assert curves["curve_sgd_N16"].shape == (quick.num_seeds, quick.num_test)


@pytest.mark.slow
def test_a_sweep_gives_one_headline_per_point_and_method(tmp_path):
    config = exp.UniversalApproximationConfig(
        widths=(1,), num_seeds=1, num_updates=200, num_logs=1, progress=False,
        out=str(tmp_path), sweep=Sweep[ua.HParams](adam_learning_rate=("0.003", "0.03")))
    summary = json.loads((exp.STUDY.run(config) / "summary.json").read_text())
    assert sorted(summary["headlines"]) == sorted(
        f"N=1: {ua.LABELS[m]} (SGD lr=0.1, Adam lr={lr})"
        for m in ua.METHODS for lr in ("0.003", "0.03"))


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"widths": ()}, "widths"),
        ({"widths": (4, 0)}, "widths"),
        ({"hparams": ua.HParams(sgd_learning_rate=0.0)}, "sgd_learning_rate"),
        ({"hparams": ua.HParams(adam_learning_rate=-1e-3)}, "adam_learning_rate"),
        ({"sweep": Sweep[ua.HParams](sgd_learning_rate=("0.1", "0"))}, "sgd_learning_rate"),
        ({"num_seeds": 0}, "num_seeds"),
        ({"num_updates": 1234}, "num_updates"),
        ({"bump_center": 2.0}, "bump_center"),
    ],
)
def test_bad_config_names_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        exp.UniversalApproximationConfig(**kwargs)
