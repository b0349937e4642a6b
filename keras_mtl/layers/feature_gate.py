"""HoME's feature gates: one low-rank, per-expert view of the input."""

from typing import Any
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.layers import _stacked
from keras_mtl.layers import _validation


@keras_mtl_export
class FeatureGate(tf.keras.layers.Layer):
    """`n` gated copies of the input: `v_i = v ⊙ 2·sigmoid(v · B_i · A_i)`.

    Each copy i has a low-rank gate (`B_i` of shape `(d, rank)`, `A_i` of
    `(rank, d)`, no bias, as in the paper's formula), so every expert reading
    copy i sees its own weighting of the features; the factor 2 lets a gate
    amplify a feature as well as damp it. `A` starts at zero (our choice, as
    LoRA does), so every gate starts at `2·sigmoid(0) = 1`: the identity. All
    copies are computed in one matmul and one batched matmul.

    Args:
        num_gates: number of copies n.
        rank: inner width of every gate.
        kernel_initializer: initializer of `B` (each copy its own seed).
        kernel_regularizer: regularizer of `B` and `A`.

    Input shape: `(batch, d)`.
    Output shape: `(batch, n, d)`.

    Call arguments:
        inputs: the input v.

    Example:
    >>> gates = FeatureGate(num_gates=3, rank=2)
    >>> out = gates(tf.ones((2, 5)))
    >>> tuple(out.shape), float(tf.reduce_max(tf.abs(out - 1.0)))  # A = 0: identity
    ((2, 3, 5), 0.0)

    References:
        Wang et al., "HoME: Hierarchy of Multi-Gate Experts for Multi-Task
        Learning at Kuaishou", arXiv 2408.05430 (2024), §3.4 (feature-gate).
    """

    def __init__(
        self,
        num_gates: Optional[int],
        rank: int = 8,
        kernel_initializer: Union[str, tf.keras.initializers.Initializer] = "glorot_uniform",
        kernel_regularizer: Optional[Union[str, tf.keras.regularizers.Regularizer]] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.num_gates = _validation.positive_int("num_gates", num_gates)
        self.rank = _validation.positive_int("rank", rank)
        self.kernel_initializer = tf.keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = tf.keras.regularizers.get(kernel_regularizer)

    def build(self, input_shape):
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(
                "FeatureGate expected an input of shape (batch, features). "
                f"Received: input_shape={tuple(input_shape)}"
            )
        d, n, r = int(input_shape[-1]), self.num_gates, self.rank
        self.down = self.add_weight(  # B: (n, d, r)
            name="down",
            shape=(n, d, r),
            initializer=_stacked.per_copy_initializer(self.kernel_initializer, 1),
            regularizer=self.kernel_regularizer,
        )
        self.up = self.add_weight(  # A: (n, r, d)
            name="up", shape=(n, r, d), initializer="zeros", regularizer=self.kernel_regularizer
        )
        super().build(input_shape)

    def branch_major(self, inputs):
        """The gated copies expert-major: `(n, batch, d)`."""
        x = inputs[None]  # (1, B, d): broadcast over the n gates
        logits = tf.matmul(tf.matmul(x, self.down), self.up)  # (n, B, r) -> (n, B, d)
        return x * (2.0 * tf.sigmoid(logits))  # (n, B, d)

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        return tf.transpose(self.branch_major(inputs), (1, 0, 2))  # (B, n, d)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_gates, input_shape[-1])

    def get_config(self):
        return {
            **super().get_config(),
            "num_gates": self.num_gates,
            "rank": self.rank,
            "kernel_initializer": tf.keras.initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": _validation.regularizer_config(self.kernel_regularizer),
        }
