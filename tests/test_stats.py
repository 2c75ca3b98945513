"""rlfa.stats: rliable's estimates over seeds and bootstrap bands, against closed forms."""

import numpy as np
import pytest
from scipy import stats as scipy_stats

from rlfa import stats


def test_point_estimates_are_the_closed_forms_and_intervals_stay_in_the_data():
    x = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0])
    est = stats.interval_estimates(x)
    assert est["mean"]["value"] == pytest.approx(x.mean())
    assert est["iqm"]["value"] == pytest.approx(scipy_stats.trim_mean(x, 0.25))
    assert est["median"]["value"] == pytest.approx(np.median(x))
    for name in stats.AGGREGATES:
        low, high = est[name]["ci95"]
        assert x.min() <= low <= est[name]["value"] <= high <= x.max()
    assert est == stats.interval_estimates(x)  # seeded resampling: reproducible
    assert est["n"] == 8 and est["n_nonfinite"] == 0


def test_two_cartpole_seeds_stay_within_the_feasible_returns():
    """A t interval over 2 seeds reached from -800 to +1400 on returns in [0, 500]."""
    curves = np.array([[10.0, 120.0, 500.0], [9.0, 480.0, 20.0]])
    half = scipy_stats.t.ppf(0.975, df=1) * curves.std(0, ddof=1) / np.sqrt(2)
    mean = curves.mean(0)
    assert (mean - half < 0).any() and (mean + half > 500).any()  # a Student-t band would
    mean, low, high = stats.bootstrap_band(curves)
    np.testing.assert_allclose(mean, curves.mean(0))
    assert (low >= curves.min(0)).all() and (high <= curves.max(0)).all()
    assert (low <= mean).all() and (mean <= high).all()
    est = stats.interval_estimates(curves[:, -1])
    assert 20.0 <= est["mean"]["ci95"][0] and est["mean"]["ci95"][1] <= 500.0


def test_non_finite_runs_are_left_out_and_counted():
    head = stats.headline("final return", [1.0, np.nan, 3.0, np.inf], higher_is_better=True,
                          task="t")
    assert head["per_seed"] == [1.0, None, 3.0, None]
    assert (head["n"], head["n_nonfinite"]) == (2, 2) and head["mean"]["value"] == 2.0
    assert stats.interval_estimates([np.nan])["mean"]["value"] is None
    one = stats.interval_estimates([7.0])
    assert one["iqm"] == {"value": 7.0, "ci95": [7.0, 7.0]}
    band = stats.bootstrap_band(np.array([[1.0, np.nan], [3.0, np.nan]]))
    assert band[0][0] == 2.0 and np.isnan(band[0][1]) and np.isnan(band[1][1])


def test_probability_of_improvement_direction_and_ties():
    rng = np.random.default_rng(0)
    better, worse = rng.normal(100, 5, 16), rng.normal(50, 5, 16)
    p = stats.probability_of_improvement(better, worse)
    assert p["value"] == 1.0 and p["ci95"][0] > 0.9
    assert stats.probability_of_improvement(worse, better)["value"] == 0.0
    same = stats.probability_of_improvement(better, better.copy())
    assert same["value"] == 0.5 and same["ci95"][0] <= 0.5 <= same["ci95"][1]


def test_episode_summary_reports_chosen_episodes_and_capped_ones():
    lengths = np.array([[200.0, 150.0, 120.0], [400.0, 130.0, 110.0]])  # [seeds, episodes]
    truncated = np.array([[False, False, False], [True, False, False]])
    summary = stats.episode_summary(lengths, truncated, (1, 3, 10))  # 10 was never run
    assert set(summary) == {"steps_episode_1", "steps_episode_3", "capped_episodes",
                            "runs_with_capped_episodes"}
    assert summary["steps_episode_1"] == stats.interval_estimates([200.0, 400.0])
    assert summary["steps_episode_3"]["mean"]["value"] == 115.0
    assert summary["steps_episode_3"]["n"] == 2
    assert (summary["capped_episodes"], summary["runs_with_capped_episodes"]) == (1, 1)


def test_describe_reads_like_the_summary():
    text = stats.describe(stats.interval_estimates([1.0, 2.0, 3.0, 4.0]))
    assert text.startswith("mean 2.5 [") and "IQM 2.5 [" in text and "(4 seeds)" in text
