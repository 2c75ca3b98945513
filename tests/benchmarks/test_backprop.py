"""benchmarks.backprop runs on quick settings and refuses bad input (no timing asserts)."""

import json

import pytest

from benchmarks import backprop as bench


def test_quick_benchmark_writes_results(tmp_path):
    path = bench.main(bench.BenchmarkConfig(quick=True, out=str(tmp_path)))
    summary = json.loads((path / "summary.json").read_text())
    (case,) = summary["cases"]
    assert case["network"] == "4-16-16-2" and case["batch"] == 8
    assert case["hand_us"] > 0 and case["autodiff_us"] > 0 and case["hand_compile_s"] > 0
    assert case["max_relative_grad_difference"] <= 1e-5
    assert summary["max_ratio"] == pytest.approx(case["hand_us"] / case["autodiff_us"])
    assert (path / "metrics.csv").read_text().startswith("network,batch,")
    assert (path / "config.json").is_file() and (path / "figure.png").is_file()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"networks": ("16-x-4",)}, "16-x-4"),
        ({"networks": ("16-0-4",)}, r"sizes\[1\]=0"),
        ({"hidden": "swish"}, "swish"),
        ({"batch_sizes": (0,)}, "batch_sizes"),
        ({"repeats": 0}, "repeats"),
    ],
)
def test_bad_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        bench.BenchmarkConfig(**kwargs)
