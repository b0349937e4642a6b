"""HoME's experts: every layer normalised, then Swish."""

from collections.abc import Sequence
from typing import Any
from typing import Literal
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.layers import _batch_norm
from keras_mtl.layers import _stacked
from keras_mtl.layers import _validation

NORMALIZATIONS = ("batch", "layer")


@keras_mtl_export
class NormalizedExperts(tf.keras.layers.Layer):
    """`E` MLP experts whose layers are `h ← swish(norm(h·W_e + b_e))`.

    Against expert collapse (HoME §3.2): ReLU experts whose outputs differ in
    scale, or are mostly zero, let one expert take all gate weight; after a
    normalisation every expert's outputs have comparable statistics, and
    Swish (`h·sigmoid(h)`) has no dead zone. `normalization="batch"` is batch
    normalisation per expert and unit (batch statistics in training, of the
    global batch under a distribution strategy; moving ones at inference,
    as the paper); "layer" normalises each expert's units
    per row (no state, our option). Kernels are stacked `(E, d, u)` and
    applied as batched matmuls, no Python loop over experts.

    Args:
        num_experts: number of experts E.
        units: widths of every expert's layers.
        normalization: "batch" or "layer".
        dropout: dropout rate after every layer, in [0, 1).
        kernel_initializer: initializer of one expert's kernel (own seed each).
        kernel_regularizer: regularizer of the kernels.

    Input shape: `(batch, d)` (every expert reads it) or `(batch, E, d)`
        (expert e reads row e).
    Output shape: `(batch, E, units[-1])`.

    Call arguments:
        inputs: the experts' input.
        training: batch statistics and dropout when True.

    Example:
    >>> experts = NormalizedExperts(num_experts=3, units=(4,), normalization="layer")
    >>> tuple(experts(tf.random.normal((5, 6))).shape)
    (5, 3, 4)

    References:
        Wang et al., "HoME: Hierarchy of Multi-Gate Experts for Multi-Task
        Learning at Kuaishou", arXiv 2408.05430 (2024), §3.2.
    """

    def __init__(
        self,
        num_experts: int,
        units: Sequence[int],
        normalization: Literal["batch", "layer"] = "batch",
        dropout: float = 0.0,
        kernel_initializer: Union[str, tf.keras.initializers.Initializer] = "glorot_uniform",
        kernel_regularizer: Optional[Union[str, tf.keras.regularizers.Regularizer]] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.num_experts = _validation.positive_int("num_experts", num_experts)
        self.units = _validation.positive_int_tuple("units", units, allow_empty=False)
        if normalization not in NORMALIZATIONS:
            raise ValueError(
                f"expected normalization in {NORMALIZATIONS}. "
                f"Received: normalization={normalization!r}"
            )
        self.normalization = normalization
        self.dropout = _validation.rate("dropout", dropout)
        self.kernel_initializer = tf.keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = tf.keras.regularizers.get(kernel_regularizer)

    def build(self, input_shape):
        shape = tuple(input_shape)
        if (
            len(shape) not in (2, 3)
            or shape[-1] is None
            or (len(shape) == 3 and shape[1] != self.num_experts)
        ):
            raise ValueError(
                f"NormalizedExperts expected (batch, d) or (batch, {self.num_experts}, d). "
                f"Received: input_shape={shape}"
            )
        e, width = self.num_experts, int(shape[-1])
        self.kernels, self.biases, self.norms, self.scales, self.offsets = [], [], [], [], []
        for i, units in enumerate(self.units):
            self.kernels.append(
                self.add_weight(
                    name=f"kernel_{i}",
                    shape=(e, width, units),
                    initializer=_stacked.per_copy_initializer(
                        self.kernel_initializer, 1, offset=i * e
                    ),
                    regularizer=self.kernel_regularizer,
                )
            )
            self.biases.append(
                self.add_weight(name=f"bias_{i}", shape=(e, units), initializer="zeros")
            )
            if self.normalization == "batch":
                self.norms.append(
                    _batch_norm.built_batch_normalization(f"norm_{i}", (shape[0], e * units))
                )
            else:
                self.scales.append(
                    self.add_weight(name=f"scale_{i}", shape=(e, units), initializer="ones")
                )
                self.offsets.append(
                    self.add_weight(name=f"offset_{i}", shape=(e, units), initializer="zeros")
                )
            width = units
        self.dropout_layer = (
            tf.keras.layers.Dropout(self.dropout, name="dropout") if self.dropout > 0 else None
        )
        super().build(input_shape)

    def _normalize(self, i, x, training):
        """Layer i's normalisation of expert-major `x` `(E, B, u)`."""
        if self.normalization == "layer":
            mean, variance = tf.nn.moments(x, axes=[2], keepdims=True)  # (E, B, 1)
            x = (x - mean) * tf.math.rsqrt(variance + 1e-3)
            return x * self.scales[i][:, None, :] + self.offsets[i][:, None, :]
        e, units = self.num_experts, self.units[i]
        flat = tf.reshape(tf.transpose(x, (1, 0, 2)), (-1, e * units))  # (B, E·u)
        flat = self.norms[i](flat, training=training)
        return tf.transpose(tf.reshape(flat, (-1, e, units)), (1, 0, 2))  # (E, B, u)

    def branch_major(self, x, training=None):
        """The experts on expert-major input `(E or 1, B, d)` -> `(E, B, u)`."""
        for i in range(len(self.units)):
            # (E or 1, B, d) x (E, d, u) -> (E, B, u); a leading 1 broadcasts
            x = tf.matmul(x, self.kernels[i]) + self.biases[i][:, None, :]
            x = tf.nn.silu(self._normalize(i, x, training))  # swish
            if self.dropout_layer is not None:
                x = self.dropout_layer(x, training=training)
        return x

    def call(self, inputs: tf.Tensor, training: Optional[bool] = None) -> tf.Tensor:
        if len(inputs.shape) == 2:
            x = inputs[None]  # (1, B, d): every expert reads it
        else:
            x = tf.transpose(inputs, (1, 0, 2))  # (E, B, d)
        return tf.transpose(self.branch_major(x, training=training), (1, 0, 2))  # (B, E, u)

    def expert_outputs(self, inputs, task_names=None, training=False):
        """`[(title, columns, (batch, E, units))]`: the experts' outputs (the
        expert-health protocol, see `keras_mtl.evaluation.expert_health`)."""
        return [
            (
                self.name,
                [f"expert {e}" for e in range(self.num_experts)],
                self(inputs, training=training),
            )
        ]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_experts, self.units[-1])

    def get_config(self):
        return {
            **super().get_config(),
            "num_experts": self.num_experts,
            "units": list(self.units),
            "normalization": self.normalization,
            "dropout": self.dropout,
            "kernel_initializer": tf.keras.initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": _validation.regularizer_config(self.kernel_regularizer),
        }
