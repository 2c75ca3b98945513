"""experiments.n_step_td: the quick run's content (run once, by tests/test_cli.py), the grid,
flagged non-finite runs, and bad inputs."""

import json

import numpy as np
import pytest

from experiments import n_step_td as exp
from rlfa.prediction import NStepHParams
from rlfa.study import RunFiles
from rlfa.sweep import Sweep

SWEEP = Sweep[NStepHParams]
from rlfa.types import Results


def check_quick_run_grid_flags_and_lstd_beats_td(path):
    """What ``python -m experiments.n_step_td --quick`` must write."""
    summary = json.loads((path / "summary.json").read_text())
    grid = summary["9.2-right"]["grid"]
    # The quick grid, n slowest: n in (1, 4, 512) x alpha in (0.1, 0.4, 1), 4 runs each.
    assert [(p["n"], p["step_size"]) for p in grid] == [
        (n, a) for n in (1.0, 4.0, 512.0) for a in (0.1, 0.4, 1.0)]
    with np.load(path / "metrics.npz") as arrays:
        scores = arrays["9.2-right scores"]
        assert scores.shape == (9, 4) and arrays["9.2-right n"].tolist()[::3] == [1, 4, 512]
        lstd = arrays["lstd LSTD (epsilon=0.01)"]
        tds = [arrays[f"lstd TD(0) (alpha={a})"] for a in (0.01, 0.05)]
    # alpha <= 1 with one active feature of value 1 keeps every w a convex mixture of +-1 and
    # other weights: nothing can blow up, so no run is flagged.
    assert np.isfinite(scores).all() and all(p["nonfinite_runs"] == 0 for p in grid)
    # From w = 0 (sqrt(VE) = 0.405...) n = 1 with a small alpha barely moves; Monte Carlo-like
    # n = 512 with alpha = 1 copies single returns into the weights and is far worse.
    assert 0.35 < grid[0]["mean"] < 0.41 and grid[8]["mean"] > 0.7
    assert set(summary["headlines"]) >= {f"9.2-right: n={n}, gamma=1 (best alpha={a})"
                                         for n, a in ((1, 0.4), (4, 0.4))}
    # LSTD's mean error after 50 episodes is below both TD(0)s' (its runs vary a lot this
    # early: one of them is still near 0.33, where TD(0) with alpha = 0.05 is in every run).
    for td in tds:
        assert lstd.shape == td.shape == (4, 10) and lstd[:, -1].mean() < td[:, -1].mean() - 0.1
    # The closed forms: sqrt(VE) at the TD fixed point above the best the 20 groups allow.
    fixed = summary["lstd"]["sqrt_ve"]
    assert fixed["td_fixed_point"] == pytest.approx(0.04823, abs=1e-4)
    assert fixed["best"] == pytest.approx(0.02732, abs=1e-4)


def test_default_grid_is_every_n_by_every_alpha_and_a_sweep_replaces_one_axis():
    points = exp.NStepTDConfig().points()
    assert len(points) == 10 * 23
    assert [float(p.n) for p in points[::23]] == [2.0 ** k for k in range(10)]
    alphas = [0.01, 0.02, 0.03, *(np.arange(1, 21) / 20)]
    assert [float(p.step_size) for p in points[:23]] == pytest.approx(alphas)
    swept = exp.NStepTDConfig(sweep=SWEEP(n=("1", "2**3"))).points()
    assert [(float(p.n), float(p.step_size)) for p in swept[22:24]] == [(1.0, 1.0), (8.0, 0.01)]
    listed = exp.NStepTDConfig(sweep=SWEEP(n=("2", "3"), step_size=("0.1", "0.2")),
                               sweep_mode="list").points()
    assert [(float(p.n), float(p.step_size)) for p in listed] == [(2.0, 0.1), (3.0, 0.2)]


def test_a_blown_up_run_is_flagged_kept_out_of_the_headline_and_drawn_as_such():
    config = exp.NStepTDConfig(figure="9.2-right", quick=True, sweep=SWEEP(n=("1",)))
    job = next(iter(exp.jobs(config)))  # n = 1 at alpha 0.1, 0.4, 1; no compiling here
    err = np.full((3, 4, 10), 0.3)
    err[1, :, -1] = 0.2  # alpha = 0.4 is best...
    err[1, 0, 5] = np.nan  # ...but one of its runs went non-finite
    diverged = np.full((3, 4), -1)
    diverged[2, 3] = 7  # and one at alpha = 1 passed the divergence bound
    results = Results({"rms_error": err}, diverged, None, 0.0, 0.0, 1)
    rec = exp.record(config, job, results)
    grid = rec.summary["9.2-right"]["grid"]
    assert [p["nonfinite_runs"] for p in grid] == [0, 1, 1]
    assert np.isnan(rec.arrays["9.2-right scores"][[1, 2], [0, 3]]).all()
    # The best alpha is among the points whose every run is finite.
    (label, head), = rec.headlines.items()
    assert label == "9.2-right: n=1, gamma=1 (best alpha=0.1)" and head["n_nonfinite"] == 0
    exp.figure(RunFiles(None, {}, {**rec.summary, "headlines": rec.headlines}, rec.arrays))


@pytest.mark.parametrize("kwargs, field", [
    ({"figure": "9.3"}, "figure"), ({"num_seeds": 0}, "num_seeds"),
    ({"num_episodes": -1}, "num_episodes"), ({"sweep": SWEEP(n=("2.5",))}, "sweep.n=2.5"),
    ({"sweep": SWEEP(n=("0",))}, "sweep.n=0"),
    ({"sweep": SWEEP(step_size=("-1",))}, "sweep.step_size"),
    ({"sweep": SWEEP(gamma=("1.5",))}, "sweep.gamma"), ({"lstd_epsilon": 0.0}, "lstd_epsilon"),
    ({"td_step_sizes": ()}, "td_step_sizes"), ({"max_episode_steps": 0}, "max_episode_steps"),
])
def test_bad_config_names_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        exp.NStepTDConfig(**kwargs)
