"""The multi-task model class, its losses and evaluation helpers."""

from keras_mtl.training.focal_loss import FocalLoss
from keras_mtl.training.multi_task_model import MultiTaskModel
from keras_mtl.training.roc_auc import roc_auc
from keras_mtl.training.weighting_callback import WeightingCallback

__all__ = ["FocalLoss", "MultiTaskModel", "WeightingCallback", "roc_auc"]
