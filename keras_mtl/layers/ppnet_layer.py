"""PEPNet's PPNet: task towers whose hidden layers are gated by personal priors."""

from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.layers import _stacked
from keras_mtl.layers import _validation
from keras_mtl.layers import gate_nu
from keras_mtl.layers.gate_nu import GateNU


@keras_mtl_export
class PPNetLayer(tf.keras.layers.Layer):
    """T task towers; every hidden layer is scaled by a `GateNU` of the priors.

    For task t and hidden layer l (h_0 = E', the layer's first input):

        h_{t,l+1} = act(h_{t,l} W_{t,l} + b_{t,l}) ⊙ g_{t,l}([P ; stop_gradient(E')])

    P are the personal-prior embeddings (user / item / author ids in the
    paper). The gates' input holds E' under stop-gradient, so the gates send
    no gradient into E'. The T towers run fused: the first layer is one
    matmul `(d, T·u_0)`, deeper layers batched matmuls `(T, u, u')`, and the
    T gates of a layer are one `GateNU` with `num_gates=T`; no Python loop
    over tasks runs in `call`.

    Args:
        num_tasks: number of task towers T.
        units: widths of every tower's hidden layers, e.g. `(64, 32)`.
        gate_hidden_units: hidden width of every gate; None uses the width of
            the layer it gates.
        gamma: the gates' scale γ (2 in the paper).
        activation: activation of the tower layers.
        dropout: dropout rate after every gated layer, in [0, 1).
        kernel_initializer: initializer of one tower's (or gate's) kernel.
        bias_initializer: initializer of the biases.
        kernel_regularizer: regularizer of the tower and gate kernels.

    Input shape: a list `[embeddings E' (batch, d), priors P (batch, p)]`.
    Output shape: `(batch, num_tasks, units[-1])`.

    Call arguments:
        inputs: `[embeddings, priors]`.
        training: whether dropout runs.

    Example:
    >>> ppnet = PPNetLayer(num_tasks=2, units=(4, 3))
    >>> tuple(ppnet([tf.ones((5, 6)), tf.ones((5, 2))]).shape)
    (5, 2, 3)

    References:
        Chang et al., "PEPNet: Parameter and Embedding Personalized Network
        for Infusing with Personalized Prior Information", KDD 2023.
    """

    def __init__(
        self,
        num_tasks: int,
        units: Sequence[int],
        gate_hidden_units: Optional[int] = None,
        gamma: float = 2.0,
        activation: Union[str, Callable] = "relu",
        dropout: float = 0.0,
        kernel_initializer: Union[str, tf.keras.initializers.Initializer] = "glorot_uniform",
        bias_initializer: Union[str, tf.keras.initializers.Initializer] = "zeros",
        kernel_regularizer: Optional[Union[str, tf.keras.regularizers.Regularizer]] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.num_tasks = _validation.positive_int("num_tasks", num_tasks)
        self.units = _validation.positive_int_tuple("units", units, allow_empty=False)
        self.gate_hidden_units = (
            None
            if gate_hidden_units is None
            else (_validation.positive_int("gate_hidden_units", gate_hidden_units))
        )
        self.gamma = gate_nu.check_gamma(gamma)
        (
            self.activation,
            self.kernel_initializer,
            self.bias_initializer,
            self.kernel_regularizer,
        ) = _stacked.dense_arguments(
            activation, kernel_initializer, bias_initializer, kernel_regularizer
        )
        self.dropout = _validation.rate("dropout", dropout)

    def _check_shapes(self, input_shape):
        shapes = _validation.input_pair("PPNetLayer", "embeddings, priors", input_shape)
        if any(len(s) != 2 or s[-1] is None for s in shapes):
            raise ValueError(
                "PPNetLayer expected inputs [embeddings (batch, d), priors (batch, p)] "
                f"with known widths. Received: input_shape={input_shape}"
            )
        return shapes

    def _tower_kernel(self, layer_index, fan_in, fan_out, first):
        """T kernels `(fan_in, fan_out)`: side by side on the first layer, else stacked."""
        stacked = _stacked.per_copy_initializer(
            self.kernel_initializer, 1, offset=layer_index * self.num_tasks
        )

        def initializer(shape, dtype=None):
            kernels = stacked((self.num_tasks, fan_in, fan_out), dtype)  # (T, in, out)
            if not first:
                return kernels
            return tf.reshape(tf.transpose(kernels, (1, 0, 2)), shape)  # (in, T·out)

        return initializer

    def build(self, input_shape):
        (batch, input_dim), (_, prior_dim) = self._check_shapes(input_shape)
        t = self.num_tasks
        self.kernels, self.biases, self.gates, self.dropout_layers = [], [], [], []
        fan_in = input_dim
        depth = len(self.units)
        for i, width in enumerate(self.units):
            first = i == 0
            self.kernels.append(
                self.add_weight(
                    name=f"kernel_{i}",
                    shape=(input_dim, t * width) if first else (t, fan_in, width),
                    initializer=self._tower_kernel(i, fan_in, width, first),
                    regularizer=self.kernel_regularizer,
                )
            )
            self.biases.append(
                self.add_weight(
                    name=f"bias_{i}",
                    shape=(t * width,) if first else (t, width),
                    initializer=self.bias_initializer,
                )
            )
            gate = GateNU(
                width,
                hidden_units=self.gate_hidden_units,
                num_gates=t,
                gamma=self.gamma,
                kernel_initializer=_validation.clone_initializer(
                    self.kernel_initializer, offset=(depth + 2 * i) * t
                ),
                bias_initializer=self.bias_initializer,
                kernel_regularizer=self.kernel_regularizer,
                name=f"gate_{i}",
            )
            with tf.name_scope(gate.name):  # unique variable names on tf_keras 2
                gate.build((batch, prior_dim + input_dim))
            self.gates.append(gate)
            if self.dropout > 0:
                self.dropout_layers.append(
                    tf.keras.layers.Dropout(self.dropout, name=f"dropout_{i}")
                )
            fan_in = width
        super().build(input_shape)

    def call(self, inputs: Sequence[tf.Tensor], training: Optional[bool] = None) -> tf.Tensor:
        embeddings, priors = inputs
        gate_input = tf.concat([priors, tf.stop_gradient(embeddings)], axis=-1)  # (B, p + d)
        t = self.num_tasks
        h = tf.matmul(embeddings, self.kernels[0]) + self.biases[0]  # (B, T·u0)
        h = tf.reshape(h, (-1, t, self.units[0]))  # (B, T, u0)
        for i in range(len(self.units)):
            if i > 0:
                # (T, B, u_{i-1}) x (T, u_{i-1}, u_i) -> (T, B, u_i)
                h = tf.matmul(tf.transpose(h, (1, 0, 2)), self.kernels[i])
                h = tf.transpose(h, (1, 0, 2)) + self.biases[i]  # (B, T, u_i)
            h = self.activation(h) * self.gates[i](gate_input)  # (B, T, u_i)
            if self.dropout > 0:
                h = self.dropout_layers[i](h, training=training)
        return h

    def compute_output_shape(self, input_shape):
        (batch, _), _ = self._check_shapes(input_shape)
        return (batch, self.num_tasks, self.units[-1])

    def get_config(self):
        return {
            **super().get_config(),
            "num_tasks": self.num_tasks,
            "units": list(self.units),
            "gate_hidden_units": self.gate_hidden_units,
            "gamma": self.gamma,
            "dropout": self.dropout,
            **_stacked.dense_config(self),
        }
