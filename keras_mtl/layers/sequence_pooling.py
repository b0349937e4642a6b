"""Pooling of a variable-length sequence of embeddings."""

from collections.abc import Sequence
from typing import Any
from typing import Literal
from typing import Union

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export

MODES = ("mean", "sum", "max")


@keras_mtl_export
class SequencePooling(tf.keras.layers.Layer):
    """Pools `(batch, maxlen, dim)` embeddings over the non-padded positions.

    A position is padding where the raw value equals `pad_value` (`""` or `0`).
    "sum" adds the (optionally weighted) embeddings, "mean" divides that sum by
    the number of non-padded positions, "max" takes the element-wise maximum.
    A row with no values pools to zeros (never NaN or -inf).

    Args:
        mode: "mean", "sum" or "max".
        pad_value: the raw value that marks padding.

    Input shape: a list `[embeddings (batch, maxlen, dim), values (batch,
        maxlen)]`, optionally with `weights (batch, maxlen)` third.
    Output shape: `(batch, dim)`.

    Call arguments:
        inputs: the list above.

    Example:
    >>> pool = SequencePooling("mean", pad_value=0)
    >>> emb = tf.constant([[[1.0], [3.0], [9.0]]])
    >>> pool([emb, tf.constant([[4, 5, 0]])]).numpy().tolist()
    [[2.0]]
    """

    def __init__(
        self,
        mode: Literal["mean", "sum", "max"] = "mean",
        pad_value: Union[str, int] = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if mode not in MODES:
            raise ValueError(f"expected mode in {MODES}. Received: mode={mode!r}")
        if not isinstance(pad_value, (str, int)):
            raise ValueError(f"expected a string or integer pad_value. Received: {pad_value!r}")
        self.mode = mode
        self.pad_value = pad_value

    def build(self, input_shape):
        if len(input_shape) not in (2, 3):
            raise ValueError(
                "SequencePooling expected [embeddings, values] or "
                f"[embeddings, values, weights]. Received: {input_shape}"
            )
        super().build(input_shape)

    def call(self, inputs: Sequence[tf.Tensor]) -> tf.Tensor:
        embeddings, values = inputs[0], inputs[1]
        mask = tf.cast(tf.not_equal(values, self.pad_value), embeddings.dtype)
        mask = tf.expand_dims(mask, -1)  # (B, L, 1)
        if self.mode == "max":
            masked = tf.where(mask > 0, embeddings, tf.float32.min)  # (B, L, D)
            pooled = tf.reduce_max(masked, axis=1)  # (B, D)
            has_values = tf.reduce_max(mask, axis=1) > 0  # (B, 1)
            return tf.where(has_values, pooled, tf.zeros_like(pooled))
        weights = mask
        if len(inputs) == 3:
            weights = mask * tf.expand_dims(tf.cast(inputs[2], embeddings.dtype), -1)
        pooled = tf.reduce_sum(embeddings * weights, axis=1)  # (B, D)
        if self.mode == "mean":
            pooled = tf.math.divide_no_nan(pooled, tf.reduce_sum(mask, axis=1))
        return pooled

    def compute_output_shape(self, input_shape):
        embeddings = input_shape[0]
        return (embeddings[0], embeddings[2])

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "pad_value": self.pad_value}
