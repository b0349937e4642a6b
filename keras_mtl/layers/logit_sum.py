"""A task output from several logits: their sum, through the task's link."""

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.task_types import TASK_TYPES


@keras_mtl_export
class LogitSum(tf.keras.layers.Layer):
    """`sigmoid(s_1 + s_2 + ...)` for a binary task, the plain sum for regression.

    STAR adds its auxiliary network's logit to the main network's logit before
    the sigmoid: `ŷ = sigmoid(s_m + s_a)`. The layer has no weights and
    computes in float32 unless given another `dtype` (it ends a model, whose
    outputs are float32 under mixed precision policies too).

    Args:
        task_type: "binary" or "regression".

    Input shape: a list of tensors of one shape, e.g. `(batch, 1)` each.
    Output shape: that shape.

    Call arguments:
        inputs: the logits.

    Example:
    >>> LogitSum("binary")([tf.constant([[1.0]]), tf.constant([[-1.0]])]).numpy()
    array([[0.5]], dtype=float32)
    """

    def __init__(self, task_type="binary", **kwargs):
        # a model output: float32 under mixed precision policies too
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if task_type not in TASK_TYPES:
            raise ValueError(
                f"expected task_type in {TASK_TYPES}. Received: task_type={task_type!r}"
            )
        self.task_type = task_type

    def _check(self, input_shape):
        if (
            not isinstance(input_shape, (list, tuple))
            or not input_shape
            or not all(isinstance(s, (list, tuple, tf.TensorShape)) for s in input_shape)
        ):
            raise ValueError(
                f"LogitSum expected a non-empty list of logits. Received: input_shape={input_shape}"
            )
        shapes = [tuple(s) for s in input_shape]
        if any(s[1:] != shapes[0][1:] for s in shapes):
            raise ValueError(f"LogitSum expected logits of one shape. Received: {shapes}")
        return shapes[0]

    def build(self, input_shape):
        self._check(input_shape)
        super().build(input_shape)

    def call(self, inputs):
        logit = tf.add_n(list(inputs))  # (B, 1)
        if self.task_type == "binary":
            return tf.sigmoid(logit)
        return logit

    def compute_output_shape(self, input_shape):
        return self._check(input_shape)

    def get_config(self):
        return {**super().get_config(), "task_type": self.task_type}
