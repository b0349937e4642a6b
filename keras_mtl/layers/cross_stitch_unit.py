"""A cross-stitch unit: trainable linear mixing of the task columns."""

from typing import Any
from typing import Optional
from typing import Union

import numpy as np
import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.layers import _validation


@keras_mtl_export
class CrossStitchUnit(tf.keras.layers.Layer):
    """Mixes the activations of T task columns: `x̃_k = Σ_j α_kj · x_j`.

    `α` is a trainable T×T matrix, initialised near the identity:
    `self_weight` on the diagonal and `(1 − self_weight) / (T − 1)` elsewhere,
    so every row sums to 1 and each column starts mostly itself. One einsum
    over the stacked columns.

    Args:
        self_weight: initial diagonal of α, in (0, 1].
        kernel_regularizer: regularizer of α.

    Input shape: `(batch, T, units)`, the columns stacked in task order
        (T >= 2).
    Output shape: `(batch, T, units)`.

    Call arguments:
        inputs: the stacked task columns.

    Example:
    >>> unit = CrossStitchUnit(self_weight=0.75)
    >>> unit(tf.constant([[[1.0], [5.0]]])).numpy().tolist()
    [[[2.0], [4.0]]]

    References:
        Misra et al., "Cross-stitch Networks for Multi-task Learning",
        CVPR 2016.
    """

    def __init__(
        self,
        self_weight: float = 0.9,
        kernel_regularizer: Optional[Union[str, tf.keras.regularizers.Regularizer]] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (
            isinstance(self_weight, bool)
            or not isinstance(self_weight, (int, float))
            or not 0 < self_weight <= 1
        ):
            raise ValueError(f"expected a number in (0, 1]. Received: self_weight={self_weight!r}")
        self.self_weight = float(self_weight)
        self.kernel_regularizer = tf.keras.regularizers.get(kernel_regularizer)

    def _check_shape(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) != 3 or shape[1] is None or shape[1] < 2:
            raise ValueError(
                "CrossStitchUnit expected stacked task columns of shape (batch, "
                f"tasks >= 2, units). Received: input_shape={shape}"
            )
        return shape

    def _near_identity(self, shape, dtype=None):
        tasks = int(shape[0])
        other = (1.0 - self.self_weight) / (tasks - 1)
        value = np.full((tasks, tasks), other, dtype="float32")
        np.fill_diagonal(value, self.self_weight)
        return tf.constant(value, dtype=dtype or "float32")

    def build(self, input_shape):
        tasks = int(self._check_shape(input_shape)[1])
        self.alpha = self.add_weight(
            name="alpha",
            shape=(tasks, tasks),
            initializer=self._near_identity,
            regularizer=self.kernel_regularizer,
        )
        super().build(input_shape)

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        # (T, T) x (B, T, units) -> (B, T, units): row k mixes every column j
        return tf.einsum("kj,bju->bku", self.alpha, inputs)

    def compute_output_shape(self, input_shape):
        return self._check_shape(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "self_weight": self.self_weight,
            "kernel_regularizer": _validation.regularizer_config(self.kernel_regularizer),
        }
