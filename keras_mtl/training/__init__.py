"""The multi-task model class, its losses, training procedures and evaluation helpers."""

from keras_mtl.training.auxiliary_loss import AuxiliaryLoss
from keras_mtl.training.behavior_calibrator import BehaviorCalibrator
from keras_mtl.training.domain_evaluation import evaluate_by_domain
from keras_mtl.training.focal_loss import FocalLoss
from keras_mtl.training.mamdr import MAMDR
from keras_mtl.training.mamdr import declared_domain_variables
from keras_mtl.training.meta_learning_step import MetaLearningStep
from keras_mtl.training.multi_task_model import MultiTaskModel
from keras_mtl.training.roc_auc import roc_auc
from keras_mtl.training.training_procedure import TrainingProcedure
from keras_mtl.training.weighting_callback import WeightingCallback

__all__ = [
    "AuxiliaryLoss",
    "BehaviorCalibrator",
    "FocalLoss",
    "MAMDR",
    "MetaLearningStep",
    "MultiTaskModel",
    "TrainingProcedure",
    "WeightingCallback",
    "declared_domain_variables",
    "evaluate_by_domain",
    "roc_auc",
]
