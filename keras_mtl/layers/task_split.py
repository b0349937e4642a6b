"""Splits stacked per-task representations into one tensor per task."""

from typing import Any

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.layers import _validation


@keras_mtl_export
class TaskSplit(tf.keras.layers.Layer):
    """`(batch, T, units)` → T tensors `(batch, units)`, task order kept.

    Layers that compute every task's representation at once (`PLELayer`,
    the SNR connections, `CrossStitchUnit`) return them stacked on axis 1;
    this layer hands each task tower its own slice.

    Args:
        num_tasks: number of tasks T (the size of axis 1).

    Input shape: `(batch, num_tasks, units)`.
    Output shape: a list of `num_tasks` tensors `(batch, units)`.

    Call arguments:
        inputs: the stacked representations.

    Example:
    >>> first, second = TaskSplit(2)(tf.reshape(tf.range(6.0), (1, 2, 3)))
    >>> second.numpy().tolist()
    [[3.0, 4.0, 5.0]]
    """

    def __init__(self, num_tasks: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.num_tasks = _validation.positive_int("num_tasks", num_tasks)

    def _check_shape(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) != 3 or shape[1] != self.num_tasks:
            raise ValueError(
                f"TaskSplit expected inputs of shape (batch, {self.num_tasks}, "
                f"units). Received: input_shape={shape}"
            )
        return shape

    def build(self, input_shape):
        self._check_shape(input_shape)
        super().build(input_shape)

    def call(self, inputs: tf.Tensor) -> list[tf.Tensor]:
        return tf.unstack(inputs, num=self.num_tasks, axis=1)  # T × (B, units)

    def compute_output_shape(self, input_shape):
        batch, _, units = self._check_shape(input_shape)
        return [(batch, units)] * self.num_tasks

    def get_config(self):
        return {**super().get_config(), "num_tasks": self.num_tasks}
