"""The last layer of a task tower: a logit and the task's output."""

import tensorflow as tf

from keras_mtl import task_types
from keras_mtl.api_export import keras_mtl_export
from keras_mtl.layers import _validation


@keras_mtl_export
class TaskHead(tf.keras.layers.Layer):
    """Maps a tower's output to the task's prediction.

    `logit = h · w + b`; a binary task returns `sigmoid(logit)` (a
    probability), a regression task returns the logit itself (a value). The
    output is float32 under every dtype policy (`h · w` runs in the compute
    dtype, e.g. bfloat16 under `mixed_bfloat16`).

    Args:
        task_type: "binary" or "regression".
        kernel_initializer: initializer of `w`.
        kernel_regularizer: regularizer of `w`.

    Input shape: `(batch, units)`.
    Output shape: `(batch, 1)`.

    Call arguments:
        inputs: the tower output.

    Example:
    >>> head = TaskHead("binary", kernel_initializer="zeros")
    >>> float(head(tf.ones((1, 3)))[0, 0])
    0.5
    """

    def __init__(
        self,
        task_type="binary",
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if task_type not in task_types.TASK_TYPES:
            raise ValueError(
                f"expected task_type in {task_types.TASK_TYPES}. Received: task_type={task_type!r}"
            )
        self.task_type = task_type
        self.kernel_initializer = tf.keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = tf.keras.regularizers.get(kernel_regularizer)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel",
            shape=(int(input_shape[-1]), 1),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.bias = self.add_weight(name="bias", shape=(1,), initializer="zeros")
        super().build(input_shape)

    def call(self, inputs):
        logit = tf.matmul(inputs, self.kernel) + self.bias  # (B, 1)
        # under a mixed precision policy the product runs in the compute
        # dtype; the prediction (what losses, metrics and exports see) is float32
        logit = tf.cast(logit, tf.float32)
        if self.task_type == "binary":
            return tf.sigmoid(logit)
        return logit

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1)

    def get_config(self):
        return {
            **super().get_config(),
            "task_type": self.task_type,
            "kernel_initializer": tf.keras.initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": _validation.regularizer_config(self.kernel_regularizer),
        }
