"""Moved: the per-task evaluation and its table live in `keras_mtl.evaluation` now."""

from keras_mtl.evaluation.results_table import COLUMNS
from keras_mtl.evaluation.results_table import results_table as table
from keras_mtl.evaluation.task_evaluation import evaluate_task as task_metrics
from keras_mtl.evaluation.task_evaluation import evaluate_tasks as evaluate

__all__ = ["COLUMNS", "evaluate", "table", "task_metrics"]
