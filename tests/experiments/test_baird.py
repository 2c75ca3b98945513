"""experiments.baird: semi-gradient TD diverges, residual gradient does not; files written."""

import json

import pytest

from experiments import baird


def check_quick_run_diverges_under_semi_gradient_only(path):
    """Run by tests/test_cli.py on the ``--quick`` run it starts as a user types it."""
    for name in ("config.json", "metrics.csv", "summary.json", "figure.png", "metrics.npz"):
        assert (path / name).is_file()
    summary = json.loads((path / "summary.json").read_text())
    semi, residual = summary["methods"]["semi_gradient_td"], summary["methods"]["residual_gradient_td"]
    assert semi["diverged_seeds"] == [0, 1]
    assert all(s["diverged_at_step"] > 0 for s in semi["per_seed"])
    assert residual["diverged_seeds"] == []
    assert all(s["final_weights_finite"] for s in residual["per_seed"])
    # True values are 0: residual gradient heads there, semi-gradient TD runs away.
    assert residual["final_rms_ve"]["mean"] < 5.0 < semi["final_rms_ve"]["mean"]


@pytest.mark.parametrize("kwargs, field", [
    ({"step_size": 0.0}, "step_size"),
    ({"gamma": 1.5}, "gamma"),
    ({"num_steps": 0}, "num_steps"),
    ({"num_steps": 105, "log_every": 10}, "num_steps"),
])
def test_bad_config_names_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        baird.BairdConfig(**kwargs)


def test_a_sweep_runs_every_point_in_one_program_and_labels_it(tmp_path):
    path = baird.STUDY.run(baird.BairdConfig(
        quick=True, out=str(tmp_path), progress=False,
        sweep=baird.prediction.PredictionSweep(step_size=("0.01", "0.005"))))
    summary = json.loads((path / "summary.json").read_text())
    assert len(summary["timings"]) == 2  # one program per method, the grid inside it
    labels = set(summary["headlines"])
    assert "residual_gradient_td (alpha=0.005, gamma=0.99)" in labels and len(labels) == 4
    # The book's point in a sweep is the same run as alone (seeds are shared by grid points).
    alone = json.loads((baird.STUDY.run(baird.BairdConfig(
        quick=True, out=str(tmp_path), progress=False)) / "summary.json").read_text())
    assert summary["methods"]["semi_gradient_td (alpha=0.01, gamma=0.99)"]["per_seed"] == \
        alone["methods"]["semi_gradient_td"]["per_seed"]
