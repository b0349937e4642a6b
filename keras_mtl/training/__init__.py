"""The multi-task model class and its losses."""

from keras_mtl.training.multi_task_model import MultiTaskModel

__all__ = ["MultiTaskModel"]
from keras_mtl.training.roc_auc import roc_auc

__all__ += ["roc_auc"]
