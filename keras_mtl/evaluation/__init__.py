"""Evaluation: exact AUC, per-task metrics on predictions, the Keras metrics
reported during training, and AUC per domain.

Which metrics a task type is scored with is written once, in
`METRICS_BY_TASK_TYPE`: binary tasks get AUC and log loss, regression tasks
MSE and MAE, both in training logs (`<task>_auc`, ...) and in `evaluate_tasks`.
"""

from keras_mtl.evaluation import expert_health
from keras_mtl.evaluation.domain_evaluation import evaluate_by_domain
from keras_mtl.evaluation.metric_names import METRICS_BY_TASK_TYPE
from keras_mtl.evaluation.metric_names import metric_names
from keras_mtl.evaluation.results_table import results_table
from keras_mtl.evaluation.roc_auc import roc_auc
from keras_mtl.evaluation.task_evaluation import evaluate_task
from keras_mtl.evaluation.task_evaluation import evaluate_tasks
from keras_mtl.evaluation.task_metrics import default_task_metrics
from keras_mtl.evaluation.task_metrics import user_task_metrics

__all__ = [
    "METRICS_BY_TASK_TYPE",
    "default_task_metrics",
    "evaluate_by_domain",
    "evaluate_task",
    "evaluate_tasks",
    "expert_health",
    "metric_names",
    "results_table",
    "roc_auc",
    "user_task_metrics",
]
