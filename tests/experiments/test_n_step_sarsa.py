"""experiments.n_step_sarsa: the quick run's files, the Figure 10.4 grid and its sweeps, runs
that hit the cap or diverge flagged (never averaged in), bad configs named."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from experiments import n_step_sarsa as study
from rlfa.book import mountain_car_figures as mc
from rlfa.control import NStepSarsaHParams
from rlfa.study import redraw
from rlfa.sweep import Sweep

SWEEP = Sweep[NStepSarsaHParams]


def check_quick_run_writes_both_figures(path):
    """Run by tests/test_cli.py on the ``--quick`` run it starts as a user types it."""
    for name in ("config.json", "metrics.csv", "summary.json", "figure.png", "metrics.npz"):
        assert (path / name).is_file()
    summary = json.loads((path / "summary.json").read_text())
    fig_10_3, fig_10_4 = summary["figures"]["10.3"], summary["figures"]["10.4"]
    assert list(fig_10_3["per_point"]) == ["n=1, alpha=0.5/8", "n=8, alpha=0.3/8"]
    for key, entry in fig_10_3["per_point"].items():
        assert entry["steps_episode_1"]["n"] == 2 and entry["capped_episodes"] == 0
        mean = summary["headlines"][f"Fig 10.3: {key}"]["mean"]["value"]
        assert mean > 100  # the book's floor is ~100
    assert list(fig_10_4["per_point"]) == [f"n={n}, alpha={a}/8" for n in (1, 4)
                                           for a in (0.4, 0.8)]
    assert fig_10_4["flagged_points"] == {}
    for key, entry in fig_10_4["per_point"].items():
        assert entry["valid"] and summary["headlines"][f"Fig 10.4: {key}"]["n"] == 2
    assert set(summary["headlines"]) == {f"Fig 10.3: {k}" for k in fig_10_3["per_point"]} | {
        f"Fig 10.4: {k}" for k in fig_10_4["per_point"]}
    arrays = np.load(path / "metrics.npz")
    assert arrays["steps_10.3"].shape == (2, 2, 20) and (arrays["steps_10.3"] > 0).all()
    assert arrays["steps_10.4"].shape == (4, 2, 5) and not arrays["flagged_10_4"].any()
    np.testing.assert_array_equal(arrays["n_10_4"], [1, 1, 4, 4])
    (path / "figure.png").unlink()
    assert redraw(path) == path / "figure.png" and (path / "figure.png").is_file()


def test_figure_10_4_grid_and_sweeps():
    labels, points = study.grid(study.NStepSarsaConfig(ns_10_4=(1, 4), alphas_10_4=(0.4, 0.8)),
                                "10.4")
    assert labels == [{"n": n, "alpha": a} for n in (1, 4) for a in (0.4, 0.8)]
    assert [(float(p.n), p.step_size) for p in points] == [
        (n, a / 8) for n in (1.0, 4.0) for a in (0.4, 0.8)]
    assert mc.max_n(points) == 4
    # --sweep.n replaces ns_10_4; the alphas stay, crossed with it.
    config = study.NStepSarsaConfig(alphas_10_4=(0.5,), sweep=SWEEP(n=("2", "16")))
    labels, points = study.grid(config, "10.4")
    assert labels == [{"n": 2, "alpha": 0.5}, {"n": 16, "alpha": 0.5}]
    assert mc.max_n(points) == 16
    labels, _ = study.grid(config, "10.3")  # Figure 10.3 keeps the book's two settings
    assert labels == [{"n": 1, "alpha": 0.5}, {"n": 8, "alpha": 0.3}]


def test_capped_and_diverged_runs_are_flagged_and_left_out():
    # 2 points x 3 seeds x 4 episodes: point 0 clean; point 1 has a capped run (seed 0),
    # a diverged run (seed 1, non-finite weights) and one over its step budget (seed 2).
    config = study.NStepSarsaConfig(figure="10.4", ns_10_4=(1,), alphas_10_4=(0.5, 1.7),
                                    num_seeds=3, num_episodes_10_4=4, max_run_steps_10_4=900)
    labels, points = study.grid(config, "10.4")
    lengths = np.full((2, 3, 4), 200, np.int32)
    lengths[1, 0, 2], lengths[1, 2] = 10_000, [300, 300, 300, 0]
    truncated = lengths == 10_000
    w = np.zeros((2, 3, 5), np.float32)
    w[1, 1, 3] = np.nan
    episodes = np.full((2, 3), 4)
    episodes[1, 2] = 3
    steps = lengths.sum(-1)
    steps[1, 2] = 900  # 3 episodes of 300 steps: the budget spent, the 4th not finished
    final = SimpleNamespace(lengths=lengths, truncated=truncated, steps=steps,
                            episodes=episodes, agent=SimpleNamespace(w=w))
    results = SimpleNamespace(final=final, diverged_at=np.full((2, 3), -1), run_s=1.0,
                              compile_s=1.0, num_devices=1)
    job = SimpleNamespace(name="Fig 10.4 n=1", info="10.4", grid_labels=labels, hparams=points,
                          num_seeds=3)
    rec = study.record(config, job, results)
    per_point = rec.summary["figures"]["10.4"]["per_point"]
    clean, bad = per_point["n=1, alpha=0.5/8"], per_point["n=1, alpha=1.7/8"]
    assert clean["valid"] and rec.headlines["Fig 10.4: n=1, alpha=0.5/8"]["mean"]["value"] == 200
    assert not bad["valid"]
    assert (bad["capped_runs"], bad["diverged_runs"], bad["over_budget_runs"],
            bad["incomplete_runs"]) == (1, 1, 1, 1)
    assert bad["flagged_seeds"] == [0, 1, 2]
    assert list(rec.headlines) == ["Fig 10.4: n=1, alpha=0.5/8"]
    assert list(rec.summary["figures"]["10.4"]["flagged_points"]) == ["n=1, alpha=1.7/8"]
    np.testing.assert_array_equal(rec.grid_arrays["flagged_10_4"],
                                  [[False] * 3, [True] * 3])


@pytest.mark.parametrize("kwargs, field", [
    ({"figure": "10.2"}, "figure"),
    ({"epsilon": 1.5}, "epsilon"),
    ({"gamma": -0.1}, "gamma"),
    ({"ns_10_4": (1, 0)}, "ns_10_4"),
    ({"alphas_10_4": (0.5, -0.1)}, "alphas_10_4"),
    ({"settings_10_3": ((0, 0.5),)}, "settings_10_3"),
    ({"max_episode_steps": 0}, "max_episode_steps"),
    ({"max_run_steps_10_4": 0}, "max_run_steps_10_4"),
    ({"sweep": SWEEP(n=("2", "2.5"))}, "n="),
    ({"sweep": SWEEP(n=("0",))}, "n="),
    ({"sweep": SWEEP(step_size=("-0.1",))}, "step_size"),
])
def test_bad_config_names_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        study.NStepSarsaConfig(**kwargs)
