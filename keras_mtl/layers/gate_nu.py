"""PEPNet's gate neural unit: a two-layer MLP ending in a scaled sigmoid."""

from typing import Any
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.layers import _stacked
from keras_mtl.layers import _validation


def check_gamma(gamma):
    """`gamma` as a float if it is a number > 0, else a ValueError."""
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or gamma <= 0:
        raise ValueError(f"expected a number > 0. Received: gamma={gamma!r}")
    return float(gamma)


@keras_mtl_export
class GateNU(tf.keras.layers.Layer):
    """`g(x) = γ · sigmoid(W₂ · ReLU(W₁ x + b₁) + b₂)`, element-wise scales in (0, γ).

    With γ = 2 (the paper's value) a gate at its midpoint leaves the gated
    tensor unchanged (`2 · sigmoid(0) = 1`), and it can amplify a signal as
    well as damp it. With `num_gates=G` the layer holds G independent gates
    reading the same input, computed in one pass: the first layer is one
    matmul `(d, G·h)`, the second a batched matmul `(G, h, units)`.

    Args:
        units: width of the gate output (the width of the gated tensor).
        hidden_units: width h of the hidden ReLU layer; None uses `units`.
        num_gates: None for one gate with output `(batch, units)`, or G for
            G gates with output `(batch, G, units)`.
        gamma: the scale γ > 0 of the sigmoid.
        kernel_initializer: initializer of one gate's kernels (each gate and
            layer draws with its own seed).
        bias_initializer: initializer of the biases.
        kernel_regularizer: regularizer of the kernels.

    Input shape: `(batch, d)`.
    Output shape: `(batch, units)`, or `(batch, num_gates, units)`.

    Call arguments:
        inputs: the gate input x.

    Example:
    >>> gate = GateNU(units=4, kernel_initializer="zeros")
    >>> gate(tf.ones((2, 3))).numpy().tolist()[0]  # 2 · sigmoid(0)
    [1.0, 1.0, 1.0, 1.0]
    >>> tuple(GateNU(units=4, num_gates=3)(tf.ones((2, 3))).shape)
    (2, 3, 4)

    References:
        Chang et al., "PEPNet: Parameter and Embedding Personalized Network
        for Infusing with Personalized Prior Information", KDD 2023.
    """

    def __init__(
        self,
        units: int,
        hidden_units: Optional[int] = None,
        num_gates: Optional[int] = None,
        gamma: float = 2.0,
        kernel_initializer: Union[str, tf.keras.initializers.Initializer] = "glorot_uniform",
        bias_initializer: Union[str, tf.keras.initializers.Initializer] = "zeros",
        kernel_regularizer: Optional[Union[str, tf.keras.regularizers.Regularizer]] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = _validation.positive_int("units", units)
        self.hidden_units = (
            self.units
            if hidden_units is None
            else _validation.positive_int("hidden_units", hidden_units)
        )
        self.num_gates = (
            None if num_gates is None else _validation.positive_int("num_gates", num_gates)
        )
        self.gamma = check_gamma(gamma)
        (_, self.kernel_initializer, self.bias_initializer, self.kernel_regularizer) = (
            _stacked.dense_arguments(None, kernel_initializer, bias_initializer, kernel_regularizer)
        )

    def _first_kernel(self, gates, input_dim):
        """G first-layer kernels `(d, h)` side by side: `(d, G·h)`."""
        stacked = _stacked.per_copy_initializer(self.kernel_initializer, 1)

        def initializer(shape, dtype=None):
            kernels = stacked((gates, input_dim, self.hidden_units), dtype)  # (G, d, h)
            return tf.reshape(tf.transpose(kernels, (1, 0, 2)), shape)  # (d, G·h)

        return initializer

    def build(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) != 2 or shape[-1] is None:
            raise ValueError(
                f"GateNU expected an input of shape (batch, d) with a known d. "
                f"Received: input_shape={shape}"
            )
        gates, input_dim = self.num_gates or 1, int(shape[-1])
        self.kernel_0 = self.add_weight(
            name="kernel_0",
            shape=(input_dim, gates * self.hidden_units),
            initializer=self._first_kernel(gates, input_dim),
            regularizer=self.kernel_regularizer,
        )
        self.bias_0 = self.add_weight(
            name="bias_0", shape=(gates * self.hidden_units,), initializer=self.bias_initializer
        )
        self.kernel_1 = self.add_weight(
            name="kernel_1",
            shape=(gates, self.hidden_units, self.units),
            initializer=_stacked.per_copy_initializer(self.kernel_initializer, 1, offset=gates),
            regularizer=self.kernel_regularizer,
        )
        self.bias_1 = self.add_weight(
            name="bias_1", shape=(gates, self.units), initializer=self.bias_initializer
        )
        super().build(input_shape)

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        gates = self.num_gates or 1
        hidden = tf.nn.relu(tf.matmul(inputs, self.kernel_0) + self.bias_0)  # (B, G·h)
        hidden = tf.reshape(hidden, (-1, gates, self.hidden_units))  # (B, G, h)
        # (G, B, h) x (G, h, units) -> (G, B, units)
        logits = tf.matmul(tf.transpose(hidden, (1, 0, 2)), self.kernel_1)
        logits = tf.transpose(logits, (1, 0, 2)) + self.bias_1  # (B, G, units)
        gate = self.gamma * tf.sigmoid(logits)
        if self.num_gates is None:
            return gate[:, 0]  # (B, units)
        return gate

    def compute_output_shape(self, input_shape):
        if self.num_gates is None:
            return (input_shape[0], self.units)
        return (input_shape[0], self.num_gates, self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "hidden_units": self.hidden_units,
            "num_gates": self.num_gates,
            "gamma": self.gamma,
            "kernel_initializer": tf.keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": tf.keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": _validation.regularizer_config(self.kernel_regularizer),
        }
