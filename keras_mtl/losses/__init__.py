"""Losses: per-task masked losses, focal loss, and auxiliary terms (AITM's
calibrator, ESCM²'s counterfactual CVR losses).

`masked` holds the functions every training step uses to turn a task's
per-row losses into the loss of the rows whose label is present.
"""

from keras_mtl.losses import masked
from keras_mtl.losses.auxiliary_loss import AuxiliaryLoss
from keras_mtl.losses.behavior_calibrator import BehaviorCalibrator
from keras_mtl.losses.doubly_robust_loss import DoublyRobustLoss
from keras_mtl.losses.focal_loss import FocalLoss
from keras_mtl.losses.imputation_loss import ImputationLoss
from keras_mtl.losses.inverse_propensity_loss import InversePropensityLoss
from keras_mtl.losses.load_balance_loss import LoadBalanceLoss

__all__ = [
    "AuxiliaryLoss",
    "BehaviorCalibrator",
    "DoublyRobustLoss",
    "FocalLoss",
    "ImputationLoss",
    "InversePropensityLoss",
    "LoadBalanceLoss",
    "masked",
]
