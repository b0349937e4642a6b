"""The metrics reported for each task."""

import tensorflow as tf


def default_task_metrics(task, task_type):
    """AUC and log loss for binary tasks, MSE and MAE for regression."""
    if task_type == "binary":
        return [
            tf.keras.metrics.AUC(name=f"{task}_auc"),
            tf.keras.metrics.BinaryCrossentropy(name=f"{task}_logloss"),
        ]
    return [
        tf.keras.metrics.MeanSquaredError(name=f"{task}_mse"),
        tf.keras.metrics.MeanAbsoluteError(name=f"{task}_mae"),
    ]


#: Names that mean a different metric for probabilities, as in Keras' compile.
_BINARY_ALIASES = {"accuracy": "binary_accuracy", "acc": "binary_accuracy"}


def user_task_metrics(task, task_type, metrics):
    """Extra metrics a user asked for, named `<task>_<name>` when given by name."""
    out = []
    for metric in metrics or ():
        if isinstance(metric, str):
            name = metric
            if task_type == "binary":
                name = _BINARY_ALIASES.get(metric, metric)
            instance = tf.keras.metrics.get(name)
            if not isinstance(instance, tf.keras.metrics.Metric):
                instance = tf.keras.metrics.MeanMetricWrapper(
                    instance, name=f"{task}_{metric}"
                )
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
