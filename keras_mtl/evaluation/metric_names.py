"""Which metrics each task type is scored with, written once.

`keras_mtl.evaluation.task_metrics` builds the Keras metrics reported during
training from this table, and `keras_mtl.evaluation.task_evaluation` the NumPy
values computed on predictions, so both are named alike: `<task>_auc` in a
training log, "auc" in an evaluation.
"""

#: `{task type: metric names}`.
METRICS_BY_TASK_TYPE = {"binary": ("auc", "logloss"), "regression": ("mse", "mae")}


def metric_names(task_type: str) -> tuple[str, ...]:
    """The names of the metrics a task of `task_type` is scored with.

    Args:
        task_type: "binary" or "regression".

    Returns:
        A tuple of metric names, as in `METRICS_BY_TASK_TYPE`.

    Example:
    >>> metric_names("binary")
    ('auc', 'logloss')
    """
    if task_type not in METRICS_BY_TASK_TYPE:
        raise ValueError(
            f"expected a task type in {tuple(METRICS_BY_TASK_TYPE)}. "
            f"Received: task_type={task_type!r}"
        )
    return METRICS_BY_TASK_TYPE[task_type]
