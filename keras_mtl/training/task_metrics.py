"""Moved: the per-task Keras metrics live in `keras_mtl.evaluation.task_metrics` now."""

from keras_mtl.evaluation.task_metrics import default_task_metrics
from keras_mtl.evaluation.task_metrics import user_task_metrics

__all__ = ["default_task_metrics", "user_task_metrics"]
