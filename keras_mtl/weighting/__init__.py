"""Loss-balancing strategies: per-task losses in, task weights out."""

from keras_mtl.weighting.fixed_weights import FixedWeights
from keras_mtl.weighting.weighting_strategy import WeightingStrategy

__all__ = ["FixedWeights", "WeightingStrategy"]
