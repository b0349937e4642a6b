"""In-graph preprocessing of numeric features."""

import math
from collections.abc import Sequence
from typing import Any
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export

#: Outputs are clipped to [-CLIP, CLIP], so no finite input gives inf or NaN.
CLIP = 1e6
#: The largest float16, the clip bound under `mixed_float16`.
FLOAT16_MAX = 65504.0


@keras_mtl_export
class NumericTransform(tf.keras.layers.Layer):
    """Optional signed log1p, then standardisation, of numeric inputs.

    `y = (t(x) - mean) / sqrt(variance)` with `t(x) = sign(x)·log(1 + |x|)`
    when `log1p=True` and `t(x) = x` otherwise; without statistics the
    standardisation is skipped. Outputs are clipped to ±1e6 (a documented
    fallback: no finite input, however large, overflows the model). A zero variance divides
    by 1 (a constant column
    becomes 0, not NaN). A scalar input `(batch,)` becomes `(batch, 1)`.
    The transform runs in float32 under every dtype policy; the output has
    the compute dtype (clipped to ±65504 for float16).

    Args:
        log1p: apply the signed log1p first.
        mean: mean of t(x), or None.
        variance: variance of t(x), or None.

    Input shape: `(batch,)` or `(batch, dim)`.
    Output shape: `(batch, 1)` or `(batch, dim)`.

    Call arguments:
        inputs: the raw numeric values.

    Example:
    >>> NumericTransform(mean=1.0, variance=4.0)(tf.constant([5.0])).numpy().tolist()
    [[2.0]]
    """

    def __init__(
        self,
        log1p: bool = False,
        mean: Optional[Union[float, Sequence[float]]] = None,
        variance: Optional[Union[float, Sequence[float]]] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (mean is None) != (variance is None):
            raise ValueError(
                "expected both mean and variance or neither. "
                f"Received: mean={mean!r}, variance={variance!r}"
            )
        if variance is not None and (not math.isfinite(variance) or variance < 0):
            raise ValueError(f"expected a finite variance >= 0. Received: variance={variance!r}")
        self.log1p = bool(log1p)
        self.mean = None if mean is None else float(mean)
        self.variance = None if variance is None else float(variance)

    def build(self, input_shape):
        super().build(input_shape)

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        x = tf.cast(inputs, tf.float32)  # float32 also under mixed precision
        if len(x.shape) == 1:
            x = tf.expand_dims(x, -1)  # (B,) -> (B, 1)
        if self.log1p:
            x = tf.sign(x) * tf.math.log1p(tf.abs(x))
        if self.mean is not None:
            scale = math.sqrt(self.variance) if self.variance > 0 else 1.0
            x = (x - self.mean) / scale
        # extreme inputs (e.g. 3e38) would overflow later layers into inf/NaN;
        # float16 (mixed_float16) holds at most 65504
        bound = FLOAT16_MAX if self.compute_dtype == "float16" else CLIP
        return tf.cast(tf.clip_by_value(x, -bound, bound), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        if len(input_shape) == 1:
            return (input_shape[0], 1)
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "log1p": self.log1p,
            "mean": self.mean,
            "variance": self.variance,
        }
