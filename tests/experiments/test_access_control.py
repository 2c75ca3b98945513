"""experiments.access_control: Figure 10.5's policy, values and R_bar written; bad input refused."""

import json

import numpy as np
import pytest

from experiments import access_control as study
from rlfa.control.differential_sarsa import DifferentialHParams
from rlfa.envs.access_control import policy_average_reward
from rlfa.sweep import Sweep

BOOK = study.AccessControlConfig.hparams  # alpha, beta, epsilon: 0.01, 0.01, 0.1


def check_quick_run_writes_results(path):
    """Run by tests/test_cli.py on the ``--quick`` run it starts as a user types it."""
    for name in ("config.json", "metrics.csv", "summary.json", "figure.png", "metrics.npz"):
        assert (path / name).is_file()
    summary = json.loads((path / "summary.json").read_text())
    assert set(summary["headlines"]) == {"Fig 10.5: R_bar", "Fig 10.5: r(greedy)",
                                         "Fig 10.5: r(epsilon-greedy)"}
    with np.load(path / "metrics.npz") as npz:
        accept, values, r_bar = npz["accept"], npz["best_value"], npz["r_bar"]
        policy_r, behaviour_r, steps = npz["greedy_reward"], npz["behaviour_reward"], npz["steps"]
    assert accept.shape == values.shape == (1, 2, 11, 4) and accept.dtype == bool
    assert r_bar.shape == (1, 2, 20) and steps[-1] == 20_000 and np.isfinite(values).all()
    point = summary["points"]["Fig 10.5"]
    assert point["diverged_seeds"] == [] and len(point["majority_accept"]) == 4
    # Even 20,000 steps learn a policy better than accepting everyone, and none beats
    # the optimum (2.7476, relative value iteration on the book's task).
    accept_all = policy_average_reward(np.ones((11, 4), bool))
    assert (accept_all < policy_r).all() and (policy_r <= 2.7477).all()
    # Exploring costs: the epsilon-greedy policy earns less than its greedy one.
    assert (behaviour_r < policy_r).all()
    assert 0.0 < summary["headlines"]["Fig 10.5: R_bar"]["mean"]["value"] < 8.0
    assert len((path / "metrics.csv").read_text().splitlines()) == 1 + 2 * 20


@pytest.mark.parametrize("kwargs, field", [
    ({"hparams": BOOK._replace(step_size=0.0)}, "step_size"),
    ({"hparams": BOOK._replace(beta=-0.1)}, "beta"),
    ({"hparams": BOOK._replace(epsilon=1.5)}, "epsilon"),
    ({"sweep": Sweep[DifferentialHParams](beta=("0.01", "0"))}, "beta"),
    ({"num_servers": 0}, "num_servers"),
    ({"free_prob": 1.2}, "free_prob"),
    ({"num_steps": 30_000, "log_every": 20_000}, "num_steps"),
    ({"log_every": 150, "block_steps": 100}, "log_every"),
])
def test_bad_config_names_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        study.AccessControlConfig(**kwargs)


@pytest.mark.slow
def test_a_sweep_runs_every_point_in_one_program_and_labels_it(tmp_path):
    path = study.STUDY.run(study.AccessControlConfig(
        quick=True, out=str(tmp_path), progress=False,
        sweep=Sweep[DifferentialHParams](beta=("0.01", "0.1"))))
    summary = json.loads((path / "summary.json").read_text())
    assert len(summary["timings"]) == 1
    name = "Fig 10.5 (step_size=0.01, beta=0.1, epsilon=0.1)"
    assert f"{name}: R_bar" in summary["headlines"] and len(summary["headlines"]) == 6
    assert summary["points"][name]["beta"] == 0.1
