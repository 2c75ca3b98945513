"""rlfa.book.random_walk_figures: the book's chapter 9 curves and workloads, and what it
refuses."""

import pytest

from rlfa.book import random_walk_figures as rwf
from rlfa.features.state_aggregation import state_aggregation


def test_the_books_workloads_and_curves():
    assert rwf.book_workload("9.1") == (1, 100_000, 1000)  # 100 logged points
    assert rwf.book_workload("9.10") == (30, 5000, 10)  # 500 logged points
    assert rwf.book_workload("9.5", quick=True, num_seeds=2) == (2, 200, 1)
    assert rwf.book_workload("9.2", num_episodes=150) == (1, 150, 1)
    assert [(c.label, c.step_size) for c in rwf.book_curves("9.10")] == \
        [("1 tiling", 1e-4), ("50 tilings", 1e-4 / 50)]
    assert len(rwf.book_curves("9.5")) == 6


def test_an_unknown_figure_or_method_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="9.10"):
        rwf.book_curves("9.3")
    with pytest.raises(ValueError, match="residual_gradient_td"):
        rwf.random_walk_program("sarsa", state_aggregation(1000, 100))
