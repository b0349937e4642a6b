"""AITM's adaptive information transfer between consecutive funnel tasks."""

import math
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.layers import _precision
from keras_mtl.layers import _validation
from keras_mtl.layers.mlp import MLP


@keras_mtl_export
class AITModule(tf.keras.layers.Layer):
    """Fuses what the previous task transfers with the task's own tower output.

    With `z_{t−1}` the previous task's fused representation and `q_t` this
    task's tower output, the transfer MLP gives `p_{t−1} = g(z_{t−1})` (as
    wide as `q_t`); then over the two candidates `u ∈ {p_{t−1}, q_t}`:

        w_u = softmax_u(⟨h2(u), h3(u)⟩ / sqrt(k)),   z_t = Σ_u w_u · h1(u)

    where h1, h2, h3 are dense layers of width k = `units` without
    activation. Both candidates go through h1, h2, h3 in one call (stacked on
    an axis of size 2).

    Args:
        units: k, the width of h1, h2, h3 and of the output.
        transfer_units: hidden widths of the transfer MLP g before its last
            layer (whose width is that of `q_t`); may be empty.
        activation: activation of the transfer MLP's layers.
        kernel_initializer: initializer of every kernel.
        kernel_regularizer: regularizer of every kernel.
        return_attention: also return the weights `(w_p, w_q)`.

    Input shape: a list `[previous (batch, d_z), own (batch, d_q)]`.
    Output shape: `(batch, units)`, and `(batch, 2)` attention weights
        (transferred, own) when `return_attention=True`.

    Call arguments:
        inputs: `[previous, own]`.
        training: passed to the transfer MLP.

    Example:
    >>> ait = AITModule(units=4, return_attention=True)
    >>> z, weights = ait([tf.ones((2, 3)), tf.ones((2, 5))])
    >>> tuple(z.shape), weights.numpy().sum(axis=1).round(6).tolist()
    ((2, 4), [1.0, 1.0])

    References:
        Xi et al., "Modeling the Sequential Dependence among Audience
        Multi-step Conversions with Multi-task Learning in Targeted Display
        Advertising", KDD 2021.
    """

    def __init__(
        self,
        units: int = 32,
        transfer_units: Sequence[int] = (),
        activation: Union[str, Callable] = "relu",
        kernel_initializer: Union[str, tf.keras.initializers.Initializer] = "glorot_uniform",
        kernel_regularizer: Optional[Union[str, tf.keras.regularizers.Regularizer]] = None,
        return_attention: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = _validation.positive_int("units", units)
        self.transfer_units = _validation.positive_int_tuple("transfer_units", transfer_units)
        self.activation = tf.keras.activations.get(activation)
        self.kernel_initializer = tf.keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = tf.keras.regularizers.get(kernel_regularizer)
        self.return_attention = bool(return_attention)

    def _check_shapes(self, input_shape):
        previous, own = _validation.input_pair("AITModule", "previous, own", input_shape)
        if len(previous) != 2 or len(own) != 2 or own[-1] is None or previous[-1] is None:
            raise ValueError(
                "AITModule expected inputs of shapes (batch, d_z) and (batch, d_q). "
                f"Received: {previous} and {own}"
            )
        return previous, own

    def build(self, input_shape):
        previous, own = self._check_shapes(input_shape)
        width = int(own[-1])
        self.transfer = MLP(
            self.transfer_units + (width,),
            activation=self.activation,
            kernel_initializer=self.kernel_initializer,
            kernel_regularizer=self.kernel_regularizer,
            name="transfer",
        )
        # Own name scopes keep variable names unique on tf_keras 2 (see MLP).
        with tf.name_scope(self.transfer.name):
            self.transfer.build(previous)
        self.projections = []
        for i, name in enumerate(("h1", "h2", "h3")):
            dense = tf.keras.layers.Dense(
                self.units,
                kernel_initializer=_validation.clone_initializer(
                    self.kernel_initializer, offset=len(self.transfer_units) + 1 + i
                ),
                kernel_regularizer=self.kernel_regularizer,
                name=name,
            )
            with tf.name_scope(dense.name):
                dense.build((own[0], 2, width))
            self.projections.append(dense)
        super().build(input_shape)

    def call(
        self,
        inputs: Sequence[tf.Tensor],
        training: Optional[bool] = None,
    ) -> Union[tf.Tensor, tuple[tf.Tensor, tf.Tensor]]:
        previous, own = inputs
        transferred = self.transfer(previous, training=training)  # (B, d_q)
        candidates = tf.stack([transferred, own], axis=1)  # (B, 2, d_q)
        h1, h2, h3 = (dense(candidates) for dense in self.projections)  # (B, 2, k)
        scores = tf.reduce_sum(h2 * h3, axis=-1) / math.sqrt(self.units)  # (B, 2)
        weights = _precision.softmax(scores, axis=-1)  # (B, 2), float32
        fused = tf.einsum("bu,buk->bk", _precision.like(weights, h1), h1)  # (B, k)
        if self.return_attention:
            return fused, weights
        return fused

    def compute_output_shape(self, input_shape):
        _, own = self._check_shapes(input_shape)
        fused = (own[0], self.units)
        if self.return_attention:
            return fused, (own[0], 2)
        return fused

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "transfer_units": list(self.transfer_units),
            "activation": tf.keras.activations.serialize(self.activation),
            "kernel_initializer": tf.keras.initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": _validation.regularizer_config(self.kernel_regularizer),
            "return_attention": self.return_attention,
        }
