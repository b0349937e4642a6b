"""Independent dense layers, one per branch of a stacked input, in one pass."""

from collections.abc import Callable
from typing import Any
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.layers import _precision
from keras_mtl.layers import _stacked
from keras_mtl.layers import _validation


@keras_mtl_export
class BranchDense(tf.keras.layers.Layer):
    """`N` dense layers, each applied to its own branch: `y_n = act(x_n W_n + b_n)`.

    The input stacks N branches `(batch, N, d)` (PLE experts reading their
    own task's input, SNR sub-networks, cross-stitch columns). The kernels are
    stacked `(N, d, units)` and applied in one batched matmul, with no Python
    loop over branches. Each branch's kernel is drawn with its own seed, so no
    two branches start equal.

    Args:
        units: output width of every branch.
        activation: activation after the affine map.
        dropout: dropout rate after the activation, in [0, 1).
        kernel_initializer: initializer of one branch's kernel (fans are those
            of a single branch).
        bias_initializer: initializer of the biases.
        kernel_regularizer: regularizer of the kernels.

    Input shape: `(batch, N, d)`.
    Output shape: `(batch, N, units)`.

    Call arguments:
        inputs: the stacked branches.
        training: whether dropout runs.

    Example:
    >>> layer = BranchDense(units=4)
    >>> tuple(layer(tf.ones((2, 3, 5))).shape)
    (2, 3, 4)
    """

    def __init__(
        self,
        units: int,
        activation: Union[str, Callable] = "relu",
        dropout: float = 0.0,
        kernel_initializer: Union[str, tf.keras.initializers.Initializer] = "glorot_uniform",
        bias_initializer: Union[str, tf.keras.initializers.Initializer] = "zeros",
        kernel_regularizer: Optional[Union[str, tf.keras.regularizers.Regularizer]] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = _validation.positive_int("units", units)
        (
            self.activation,
            self.kernel_initializer,
            self.bias_initializer,
            self.kernel_regularizer,
        ) = _stacked.dense_arguments(
            activation, kernel_initializer, bias_initializer, kernel_regularizer
        )
        self.dropout = _validation.rate("dropout", dropout)

    def _check_shape(self, input_shape):
        return _stacked.stacked_shape(self, input_shape, "stacked branches", "branches")

    def build(self, input_shape):
        _, branches, input_dim = self._check_shape(input_shape)
        self.kernel = self.add_weight(
            name="kernel",
            shape=(int(branches), int(input_dim), self.units),
            initializer=_stacked.per_copy_initializer(self.kernel_initializer, 1),
            regularizer=self.kernel_regularizer,
        )
        self.bias = self.add_weight(
            name="bias",
            shape=(int(branches), self.units),
            initializer=self.bias_initializer,
        )
        self.dropout_layer = None
        if self.dropout > 0:
            self.dropout_layer = tf.keras.layers.Dropout(self.dropout, name="dropout")
        super().build(input_shape)

    def call(self, inputs: tf.Tensor, training: Optional[bool] = None) -> tf.Tensor:
        branches = tf.unstack(inputs, axis=1)  # N x (B, d)
        return tf.stack(self.per_branch(branches, training=training), axis=1)

    def per_branch(self, branches, training=None):
        """The layer on one `(batch, d)` tensor per branch -> one `(batch, units)` per branch.

        Branch n is a 2-D matmul by its slice of the stacked kernel, with no
        transposes: on CPU this trained faster than one batched matmul over
        branch-major input (`benchmarks/expert_formulations.py`). A stack of
        these layers (PLE's, AdaTT's and STEM's experts) keeps the list from
        layer to layer and stacks once at the end.
        """
        if len(branches) != self.kernel.shape[0]:
            raise ValueError(
                f"Layer '{self.name}': expected one input per branch "
                f"({self.kernel.shape[0]}). Received {len(branches)}."
            )
        outputs = []
        for x, kernel, bias in zip(branches, tf.unstack(self.kernel), tf.unstack(self.bias)):
            # bias_add, not +: its gradient is one op (a matmul under 16-bit policies)
            x = self.activation(_precision.bias_add(tf.matmul(x, kernel), bias))
            if self.dropout_layer is not None:
                x = self.dropout_layer(x, training=training)
            outputs.append(x)
        return outputs

    def branch_major(self, x, training=None):
        """The layer on branch-major input `(N, batch, d)` -> `(N, batch, units)`.

        A plain batched matmul with no transposes, for stacks that keep their
        activations branch-major (HoME's experts, `FeatureGate`).
        """
        x = tf.matmul(x, self.kernel) + self.bias[:, None, :]  # (N, B, units)
        x = self.activation(x)
        if self.dropout_layer is not None:
            x = self.dropout_layer(x, training=training)
        return x

    def compute_output_shape(self, input_shape):
        batch, branches, _ = self._check_shape(input_shape)
        return (batch, branches, self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "dropout": self.dropout,
            **_stacked.dense_config(self),
        }
