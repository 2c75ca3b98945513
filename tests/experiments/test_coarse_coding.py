"""experiments.coarse_coding: the quick run's content (run by tests/test_cli.py) and bad
configs."""

import csv
import json

import numpy as np
import pytest

from experiments import coarse_coding as exp
from rlfa.book.coarse_coding_figure import NUM_POINTS, HParams
from rlfa.sweep import Sweep


def check_quick_run_error_falls_and_broad_features_generalize_early(path):
    """Run by tests/test_cli.py on the ``--quick`` run it starts as a user types it."""
    quick = exp.CoarseCodingConfig(quick=True).effective()
    summary = json.loads((path / "summary.json").read_text())
    arrays = np.load(path / "metrics.npz")
    assert summary["curves"] == ["width 0.2", "width 0.4", "width 1"]
    with open(path / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(quick.widths) * quick.num_seeds * len(quick.example_counts)
    assert set(rows[0]) == {"width", "step_size", "seed", "examples", "rms_error"}
    assert len(summary["headlines"]) == len(quick.widths) * len(quick.example_counts)

    def rms(name, count):
        head = summary["headlines"][f"{name}, {count} examples"]
        assert head["n"] == quick.num_seeds
        return head["mean"]["value"]

    first, last = quick.example_counts[0], quick.example_counts[-1]
    for name in summary["curves"]:
        assert arrays[f"values {name}"].shape == (quick.num_seeds, len(quick.example_counts),
                                                   NUM_POINTS)
        assert rms(name, last) < 0.5 * rms(name, first), name  # error falls with examples
    # After 10 examples broad intervals have spread what they saw: a lower error, and
    # more of the learned function where the wave is 0 (generalization past its edges).
    assert rms("width 1", first) < rms("width 0.2", first)
    outside = (arrays["x_eval"] < 0.5) | (arrays["x_eval"] > 1.5)
    spread = {n: arrays[f"values {n}"][:, 0][:, outside].mean() for n in ("width 0.2", "width 1")}
    assert spread["width 1"] > 2 * spread["width 0.2"], spread
    # Later, narrow intervals leave a ragged function, broad ones a smooth one: total
    # variation (the square wave's is 2) in every seed.
    variation = {n: np.abs(np.diff(arrays[f"values {n}"][:, -1], axis=-1)).sum(-1)
                 for n in ("width 0.2", "width 1")}
    assert np.all(variation["width 1"] < 0.5 * variation["width 0.2"]), variation


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"widths": ()}, "widths"),
        ({"widths": (0.2, 0.0)}, "widths"),
        ({"widths": (3.0,)}, "width"),
        ({"num_features": 0}, "num_features"),
        ({"num_features": 5}, "num_features"),  # 5 intervals of 0.2 leave gaps in [0, 2]
        ({"step_size": 0.0}, "step_size"),
        ({"sweep": Sweep[HParams](step_size=("0.1", "-1"))}, "step_size"),
        ({"example_counts": (10, 0)}, "example_counts"),
        ({"example_counts": (40, 10)}, "example_counts"),
        ({"num_seeds": 0}, "num_seeds"),
    ],
)
def test_bad_config_names_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        exp.CoarseCodingConfig(**kwargs)
