"""Linear feature maps: each returns :class:`Features` (active indices and values)."""

from rlfa.features.base import (
    FeatureMap,
    Features,
    add_scaled,
    dense,
    linear_value,
)
from rlfa.features.coarse_coding import coarse_coding_1d, interval_features, normalized_sgd_step
from rlfa.features.fourier import fourier_basis
from rlfa.features.one_hot import one_hot
from rlfa.features.polynomial import polynomial_basis
from rlfa.features.state_action import all_actions, q_values, state_action
from rlfa.features.state_aggregation import state_aggregation
from rlfa.features.tile_coding import asymmetric_offsets, tile_coding, tile_coding_1d_widths

__all__ = [
    "FeatureMap",
    "Features",
    "add_scaled",
    "all_actions",
    "asymmetric_offsets",
    "coarse_coding_1d",
    "dense",
    "fourier_basis",
    "interval_features",
    "linear_value",
    "normalized_sgd_step",
    "one_hot",
    "polynomial_basis",
    "q_values",
    "state_action",
    "state_aggregation",
    "tile_coding",
    "tile_coding_1d_widths",
]
