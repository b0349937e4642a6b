"""The Keras metrics reported for each task during training."""

from collections.abc import Sequence
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl.evaluation.metric_names import metric_names

#: The Keras metric of each name in `METRICS_BY_TASK_TYPE`.
_KERAS_METRICS = {
    "auc": tf.keras.metrics.AUC,
    "logloss": tf.keras.metrics.BinaryCrossentropy,
    "mse": tf.keras.metrics.MeanSquaredError,
    "mae": tf.keras.metrics.MeanAbsoluteError,
}


def default_task_metrics(task: str, task_type: str) -> list[tf.keras.metrics.Metric]:
    """The metrics of `METRICS_BY_TASK_TYPE[task_type]`, named `<task>_<metric>`.

    Binary: AUC (Keras' interpolated one) and log loss; regression: MSE and
    MAE, the metrics `evaluate_task` computes exactly on predictions.

    Example:
    >>> [m.name for m in default_task_metrics("ctr", "binary")]
    ['ctr_auc', 'ctr_logloss']
    """
    return [_KERAS_METRICS[name](name=f"{task}_{name}") for name in metric_names(task_type)]


#: Names that mean a different metric for probabilities, as in Keras' compile.
_BINARY_ALIASES = {"accuracy": "binary_accuracy", "acc": "binary_accuracy"}


def user_task_metrics(
    task: str,
    task_type: str,
    metrics: Optional[Sequence[Union[str, tf.keras.metrics.Metric]]],
) -> list[tf.keras.metrics.Metric]:
    """Extra metrics a user asked for, named `<task>_<name>` when given by name.

    Example:
    >>> [m.name for m in user_task_metrics("ctr", "binary", ["accuracy"])]
    ['ctr_accuracy']
    """
    out = []
    for metric in metrics or ():
        if isinstance(metric, str):
            name = metric
            if task_type == "binary":
                name = _BINARY_ALIASES.get(metric, metric)
            instance = tf.keras.metrics.get(name)
            if not isinstance(instance, tf.keras.metrics.Metric):
                instance = tf.keras.metrics.MeanMetricWrapper(instance, name=f"{task}_{metric}")
            else:
                instance = instance.__class__.from_config(
                    {**instance.get_config(), "name": f"{task}_{metric}"}
                )
            metric = instance
        if not isinstance(metric, tf.keras.metrics.Metric):
            raise TypeError(
                f"Task '{task}': expected metric names or tf.keras.metrics.Metric "
                f"instances. Received: {metric!r}"
            )
        out.append(metric)
    return out
