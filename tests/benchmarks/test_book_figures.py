"""benchmarks.book_figures: each figure timed through its study; bad input refused."""

import json

import pytest

from benchmarks import book_figures as bench


@pytest.mark.slow
def test_two_quick_figures_are_timed_and_written(tmp_path):
    path = bench.main(bench.BenchmarkConfig(quick=True, figures=("11.5", "11.6"),
                                            out=str(tmp_path)))
    summary = json.loads((path / "summary.json").read_text())
    assert list(summary["benchmarks"]) == ["11.5", "11.6"]
    for figure, headlines in (("11.5", 4), ("11.6", 1)):  # TDC: sampled and expected, 2 each
        t = summary["benchmarks"][figure]
        assert t["study"] == "experiments.baird" and t["headlines"] == headlines
        assert 0 < t["run_s_median"] and 0 < t["compile_s_median"] < t["wall_s_median"]
    assert len((path / "metrics.csv").read_text().splitlines()) == 1 + 2
    assert not list(tmp_path.glob("baird"))  # the studies' own files went elsewhere


@pytest.mark.parametrize("kwargs, match", [
    ({"figures": ("9.3",)}, "figures"),
    ({"repeats": 0}, "repeats"),
])
def test_bad_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        bench.BenchmarkConfig(**kwargs)


def test_quick_defaults_to_one_figure_and_full_to_all():
    assert bench.BenchmarkConfig(quick=True).chosen() == ("11.6",)
    assert bench.BenchmarkConfig().chosen() == tuple(bench.FIGURES)
