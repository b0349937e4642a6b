"""Loss-balancing strategies: per-task losses in, task weights out."""

from keras_mtl.weighting.dwa import DWA
from keras_mtl.weighting.fixed_weights import FixedWeights
from keras_mtl.weighting.grad_norm import GradNorm
from keras_mtl.weighting.mgda import MGDA
from keras_mtl.weighting.pcgrad import PCGrad
from keras_mtl.weighting.uncertainty_weighting import UncertaintyWeighting
from keras_mtl.weighting.weighting_strategy import WeightingStrategy

__all__ = [
    "DWA",
    "FixedWeights",
    "GradNorm",
    "MGDA",
    "PCGrad",
    "UncertaintyWeighting",
    "WeightingStrategy",
]
