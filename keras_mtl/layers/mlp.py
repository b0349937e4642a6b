"""A stack of fully connected layers."""

from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.layers import _batch_norm
from keras_mtl.layers import _validation


@keras_mtl_export
class MLP(tf.keras.layers.Layer):
    """Fully connected layers `x -> act(x W_i + b_i)`, one per entry of `units`.

    Each hidden layer is Dense → (BatchNormalization) → activation →
    (Dropout). Towers, shared bottoms and gate hidden layers use it.

    Args:
        units: widths of the layers, e.g. `(256, 128)`.
        activation: activation of every layer (a name or callable).
        dropout: dropout rate after each layer, in [0, 1).
        use_batch_norm: add BatchNormalization before each activation
            (statistics of the global batch under a distribution strategy).
        kernel_initializer: initializer of the Dense kernels.
        kernel_regularizer: regularizer of the Dense kernels.

    Input shape: `(batch, ..., input_dim)`.
    Output shape: `(batch, ..., units[-1])`.

    Call arguments:
        inputs: the input tensor.
        training: whether dropout and batch normalisation run in training mode.

    Example:
    >>> mlp = MLP(units=(4, 2))
    >>> tuple(mlp(tf.ones((3, 5))).shape)
    (3, 2)
    """

    def __init__(
        self,
        units: Sequence[int],
        activation: Union[str, Callable] = "relu",
        dropout: float = 0.0,
        use_batch_norm: bool = False,
        kernel_initializer: Union[str, tf.keras.initializers.Initializer] = "glorot_uniform",
        kernel_regularizer: Optional[Union[str, tf.keras.regularizers.Regularizer]] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = _validation.positive_int_tuple("units", units, allow_empty=False)
        self.activation = tf.keras.activations.get(activation)
        self.dropout = _validation.rate("dropout", dropout)
        self.use_batch_norm = bool(use_batch_norm)
        self.kernel_initializer = tf.keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = tf.keras.regularizers.get(kernel_regularizer)

    def build(self, input_shape):
        self.dense_layers = []
        self.norm_layers = []
        self.dropout_layers = []
        shape = tuple(input_shape)
        for i, width in enumerate(self.units):
            dense = tf.keras.layers.Dense(
                width,
                kernel_initializer=_validation.clone_initializer(self.kernel_initializer, offset=i),
                kernel_regularizer=self.kernel_regularizer,
                name=f"dense_{i}",
            )
            # Own name scope: tf_keras 2 would name every kernel "<mlp>/kernel"
            # (Keras 3 scopes child builds itself), breaking HDF5 weight files.
            with tf.name_scope(dense.name):
                dense.build(shape)
            shape = shape[:-1] + (width,)
            self.dense_layers.append(dense)
            if self.use_batch_norm:
                self.norm_layers.append(
                    _batch_norm.built_batch_normalization(f"batch_norm_{i}", shape)
                )
            if self.dropout > 0:
                self.dropout_layers.append(
                    tf.keras.layers.Dropout(self.dropout, name=f"dropout_{i}")
                )
        super().build(input_shape)

    def call(self, inputs: tf.Tensor, training: Optional[bool] = None) -> tf.Tensor:
        x = inputs
        for i, dense in enumerate(self.dense_layers):
            x = dense(x)
            if self.use_batch_norm:
                x = self.norm_layers[i](x, training=training)
            x = self.activation(x)
            if self.dropout > 0:
                x = self.dropout_layers[i](x, training=training)
        return x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:-1] + (self.units[-1],)

    def get_config(self):
        return {
            **super().get_config(),
            "units": list(self.units),
            "activation": tf.keras.activations.serialize(self.activation),
            "dropout": self.dropout,
            "use_batch_norm": self.use_batch_norm,
            "kernel_initializer": tf.keras.initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": _validation.regularizer_config(self.kernel_regularizer),
        }
