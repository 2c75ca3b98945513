"""experiments.access_control: Figure 10.5's policy, values and R_bar written; bad input refused."""

import json

import numpy as np
import pytest

from experiments import access_control as study
from rlfa.book import access_control_figure as ac
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
    check_book_comparison(summary, r_bar[0], behaviour_r[0])


def check_book_comparison(summary, r_bar, behaviour_r):
    """The statement about the book's 2.31 is made of the run's own per-seed numbers."""
    book = summary["points"]["Fig 10.5"]["book_comparison"]
    late = r_bar[:, 10:]  # the second half: the last 10,000 of 20,000 steps
    assert book["late_steps"] == 10_000
    np.testing.assert_allclose(book["late_r_bar_sd_per_seed"], late.std(axis=1, ddof=1))
    assert book["late_r_bar_range"] == [float(late.min()), float(late.max())]
    assert book["final_r_bar_range"] == [min(summary["headlines"]["Fig 10.5: R_bar"]["per_seed"]),
                                         max(summary["headlines"]["Fig 10.5: R_bar"]["per_seed"])]
    assert book["late_runs_at_or_below_book"] == int((late <= 2.31).any(axis=1).sum())
    assert book["late_share_at_or_below_book"] == pytest.approx((late <= 2.31).mean())
    assert book["epsilon_greedy_r_pi_range"] == [behaviour_r.min(), behaviour_r.max()]
    statement = book["statement"]
    assert summary["notes"] == [f"Fig 10.5: {statement}"]
    low, high = book["late_r_bar_range"]
    assert f"between {low:.3g} and {high:.3g}" in statement
    assert f"{'within' if low <= 2.31 <= high else 'outside'} what one run reaches" in statement
    assert f"{behaviour_r.min():.4g} to {behaviour_r.max():.4g}" in statement
    assert f"{book['late_runs_at_or_below_book']} of 2 runs" in statement


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


@pytest.mark.parametrize("late_values, r_pi, words", [
    ((2.2, 2.4), (2.6, 2.7), ("is within what one run reaches", "2.31 is below")),
    ((2.5, 2.9), (2.6, 2.7), ("is outside what one run reaches", "2.31 is below")),
    ((2.2, 2.4), (2.0, 2.5), ("is within what one run reaches", "2.31 is within")),
    ((2.5, 2.9), (2.0, 2.2), ("is outside", "2.31 is above")),
])
def test_the_book_comparison_says_where_2_31_falls(late_values, r_pi, words):
    # Two runs logged 4 times: the first half is left out, the second is each run's wander.
    r_bar = np.array([[0.0, 9.0, late_values[0], late_values[1]],
                      [0.0, 9.0, late_values[1], late_values[0]]])
    book = ac.book_comparison(r_bar, np.array([10, 20, 30, 40]), np.array(r_pi))
    assert book["late_steps"] == 20
    np.testing.assert_allclose(book["late_r_bar_sd_per_seed"],
                               [abs(late_values[1] - late_values[0]) / np.sqrt(2)] * 2)
    assert book["late_r_bar_range"] == list(late_values)
    assert book["final_r_bar_range"] == sorted(late_values)
    assert book["late_runs_at_or_below_book"] == (2 if late_values[0] <= 2.31 else 0)
    assert book["late_share_at_or_below_book"] == (0.5 if late_values[0] <= 2.31 else 0.0)
    for word in words:
        assert word in book["statement"]
