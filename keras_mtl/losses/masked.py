"""Per-task losses with missing labels masked out."""

import tensorflow as tf

DEFAULT_LOSSES = {"binary": "binary_crossentropy", "regression": "mean_squared_error"}


def resolve_loss(task, task_type, loss):
    """A function `(y_true, y_pred) -> per-row loss (batch,)` for one task.

    `loss` may be None (the task type's default), a Keras loss name, a Keras
    `Loss` instance (its unreduced `call` is used) or a function of
    `(y_true, y_pred)` returning per-row losses.
    """
    if loss is None:
        loss = DEFAULT_LOSSES[task_type]
    if isinstance(loss, str):
        try:
            return tf.keras.losses.get(loss)
        except ValueError as error:
            raise ValueError(
                f"Task '{task}': unknown loss {loss!r}. Expected a Keras loss "
                "name, a tf.keras.losses.Loss or a function (y_true, y_pred)."
            ) from error
    if isinstance(loss, tf.keras.losses.Loss):
        return loss.call
    if callable(loss):
        return loss
    raise TypeError(
        f"Task '{task}': expected a loss name, a tf.keras.losses.Loss or a "
        f"callable. Received: {loss!r}"
    )


def label_mask(y_true, y_pred, sample_weight=None):
    """Labels shaped like `y_pred` with NaN replaced by 0, and row weights.

    Returns `(labels, weights)`: `weights` is `(batch,)`, 0 where the label is
    missing (NaN), else the row's sample weight (1 without one).
    """
    labels = tf.reshape(tf.cast(y_true, y_pred.dtype), tf.shape(y_pred))
    present = tf.logical_not(tf.math.is_nan(labels))
    labels = tf.where(present, labels, tf.zeros_like(labels))
    weights = tf.cast(present, y_pred.dtype)  # (B, 1)
    weights = tf.reshape(weights, (tf.shape(y_pred)[0], -1))[:, 0]  # (B,)
    if sample_weight is not None:
        weights = weights * tf.reshape(tf.cast(sample_weight, y_pred.dtype), (-1,))
    return labels, weights


def masked_loss(loss_fn, labels, y_pred, weights, replicas=1, total_weight=None):
    """`Σ_i w_i · l_i / Σ_i w_i` (0 when the batch has no labelled row).

    With `replicas` > 1 (inside a `tf.distribute` replica), the denominator is
    the weight summed over all replicas and the result is multiplied by
    `replicas`: the mean of the replicas' values is then the global batch's
    loss, whatever share of the labelled rows each replica holds.
    `total_weight` is that denominator where the caller already has it
    (`global_sum(Σ weights, replicas)`), saving a second all-reduce.
    """
    per_row = loss_fn(labels, y_pred)  # (B,)
    per_row = tf.reshape(per_row, (tf.shape(y_pred)[0], -1))
    per_row = tf.reduce_mean(per_row, axis=-1)  # (B,)
    numerator = tf.reduce_sum(per_row * weights)
    denominator = total_weight
    if denominator is None:
        denominator = global_sum(tf.reduce_sum(weights), replicas)
    if replicas > 1:
        numerator = numerator * replicas
    return tf.math.divide_no_nan(numerator, denominator)


def global_sum(value, replicas=1):
    """`value` summed over the replicas (inside a replica context), or as is for one."""
    if replicas == 1:
        return value
    return tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, value)


def global_rows(batch, replicas=1):
    """Rows of a batch (any tensor whose first axis is the batch), summed over the replicas."""
    return global_sum(tf.cast(tf.shape(batch)[0], tf.float32), replicas)


def labels_by_task(y, task_names):
    """Labels as `{task: tensor}`; a lone tensor is allowed for one task."""
    if not isinstance(y, dict):
        if len(task_names) == 1:
            return {task_names[0]: y}
        raise ValueError(
            f"expected labels as a dict keyed by task name {list(task_names)}. "
            f"Received: {type(y).__name__}"
        )
    missing = [t for t in task_names if t not in y]
    if missing:
        raise KeyError(
            f"Labels for tasks {missing} are missing. Received label keys "
            f"{sorted(y)}; expected {list(task_names)} (use NaN for a missing "
            "label, which is masked out)."
        )
    return y


def as_float32(value):
    """`value` in float32 if it is a 16-bit float tensor (mixed precision), else as is.

    Losses, loss weights and logs are float32 under every dtype policy; a
    model whose outputs or layer losses are bfloat16 / float16 still trains.
    """
    value = tf.convert_to_tensor(value)
    if value.dtype in (tf.bfloat16, tf.float16):
        return tf.cast(value, tf.float32)
    return value


def scale_gradient(grad, factor):
    """`factor · grad` for dense gradients and IndexedSlices (embeddings) alike."""
    if isinstance(grad, tf.IndexedSlices):
        return tf.IndexedSlices(grad.values * factor, grad.indices, grad.dense_shape)
    return grad * factor
