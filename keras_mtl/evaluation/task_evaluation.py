"""Per-task evaluation of predictions in NumPy: AUC / log loss, MSE / MAE."""

from collections.abc import Mapping
from typing import Optional
from typing import Union

import numpy as np

from keras_mtl._types import ArrayLike
from keras_mtl.evaluation._rows import labelled_rows
from keras_mtl.evaluation._rows import space_labels
from keras_mtl.evaluation.metric_names import metric_names
from keras_mtl.evaluation.roc_auc import roc_auc

#: Predictions are clipped to [eps, 1 - eps] for the log loss (Keras'
#: `BinaryCrossentropy` clips with its backend epsilon, also 1e-7).
LOGLOSS_EPSILON = 1e-7


def _auc(labels, predictions):
    if len(np.unique(labels)) < 2:
        return float("nan")  # one class only: AUC undefined
    return roc_auc(labels, predictions)


def _logloss(labels, predictions):
    q = np.clip(predictions, LOGLOSS_EPSILON, 1 - LOGLOSS_EPSILON)
    return float(-np.mean(labels * np.log(q) + (1 - labels) * np.log(1 - q)))


def _mse(labels, predictions):
    return float(np.mean((predictions - labels) ** 2))


def _mae(labels, predictions):
    return float(np.mean(np.abs(predictions - labels)))


#: `{metric name: fn(labels, predictions)}` for every name in `METRICS_BY_TASK_TYPE`.
_NUMPY_METRICS = {"auc": _auc, "logloss": _logloss, "mse": _mse, "mae": _mae}


def evaluate_task(
    task_type: str, labels: ArrayLike, predictions: ArrayLike
) -> dict[str, Union[int, float]]:
    """`{metric: value}` for one task over the rows with a label (NaN = none).

    The metrics are those of `METRICS_BY_TASK_TYPE[task_type]`. Binary: "auc"
    (exact, NaN when the labelled rows hold one class only) and "logloss"
    (predictions clipped to [1e-7, 1 - 1e-7]); regression: "mse" and "mae".
    "rows" counts the labelled rows; with none, it is the only key.

    Args:
        task_type: "binary" or "regression".
        labels: the task's labels, any shape (NaN = missing).
        predictions: the task's predictions, as many as labels.

    Returns:
        A dict: "rows", then the task type's metrics as floats.

    Example:
    >>> evaluate_task("binary", [0, 1, 1, np.nan], [0.2, 0.6, 0.4, 0.9])["auc"]
    1.0
    >>> evaluate_task("regression", [1.0, 3.0], [2.0, 3.0])
    {'rows': 2, 'mse': 0.5, 'mae': 0.5}
    """
    names = metric_names(task_type)
    y, p = labelled_rows(labels, predictions)
    out = {"rows": int(y.size)}
    if not out["rows"]:
        return out
    for name in names:
        out[name] = _NUMPY_METRICS[name](y, p)
    return out


def evaluate_tasks(
    task_types: Mapping[str, str],
    labels: Mapping[str, ArrayLike],
    predictions: Mapping[str, ArrayLike],
    sample_spaces: Optional[Mapping[str, Union[str, ArrayLike]]] = None,
) -> dict[str, dict[str, Union[str, int, float]]]:
    """`{task: {"type": ..., "rows": ..., metric: value}}` for every task.

    Args:
        task_types: `{task: "binary" | "regression"}`, the tasks to score.
        labels: `{task: labels}` (NaN = missing); may hold other columns
            that `sample_spaces` names.
        predictions: `{task: predictions}`, e.g. `model.predict(...)`.
        sample_spaces: `{task: indicator}` as in `compile(sample_spaces=...)`:
            the task is scored on the rows where the indicator (a key of
            `labels`, or an array) is 1; "rows" counts them.

    Returns:
        `{task: {"type": task_type, **evaluate_task(...)}}`, in `task_types` order.

    Example:
    >>> evaluate_tasks({"ctr": "binary"}, {"ctr": [0, 1]}, {"ctr": [0.5, 0.5]})
    {'ctr': {'type': 'binary', 'rows': 2, 'auc': 0.5, 'logloss': 0.6931471805599453}}
    >>> labels = {"ctr": [1, 1, 0, 1], "cvr": [1, 0, 1, 0]}
    >>> scores = {"ctr": [0.9, 0.6, 0.2, 0.7], "cvr": [0.8, 0.3, 0.1, 0.4]}
    >>> out = evaluate_tasks({"ctr": "binary", "cvr": "binary"}, labels, scores,
    ...                      sample_spaces={"cvr": "ctr"})
    >>> out["cvr"]["rows"], out["cvr"]["auc"]  # row 2 is not a click: left out
    (3, 1.0)
    """
    spaces = dict(sample_spaces or {})
    out = {}
    for task, kind in task_types.items():
        truth = labels[task]
        if task in spaces:
            truth = space_labels(task, truth, spaces[task], labels)
        out[task] = {"type": kind, **evaluate_task(kind, truth, predictions[task])}
    return out
