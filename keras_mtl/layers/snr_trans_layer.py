"""SNR-Trans: sub-network connections with a weight matrix and a gate each."""

from collections.abc import Callable
from typing import Any
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.layers import _stacked
from keras_mtl.layers import _validation
from keras_mtl.layers.hard_concrete_gate import checked_l0_and_seed


@keras_mtl_export
class SNRTransLayer(tf.keras.layers.Layer):
    """Upper sub-networks from gated, transformed lower ones.

    `v_i = act(Σ_j z_ij · W_ij u_j + b_i)` for the `num_outputs` upper
    sub-networks i and the N lower ones j: every connection has its own
    `(d, units)` matrix `W_ij` and a `HardConcreteGate` `z_ij` (sampled in
    training, deterministic at inference; its expected-L0 penalty goes to the
    layer's losses). All connections are one contraction over (j, d) per
    upper sub-network, with no Python loop.

    Args:
        num_outputs: number of upper sub-networks (or task towers) M.
        units: width of every upper sub-network's output.
        activation: activation of `v_i` (None: the formula as it is).
        use_bias: add a bias `b_i` per upper sub-network.
        l0_coefficient: λ of the gates' expected-L0 penalty.
        log_alpha_initializer: initializer of the gates' `log α`.
        seed: seed of the gates' training noise.
        kernel_initializer: initializer of one `W_ij` (fans of one matrix).
        bias_initializer: initializer of the biases.
        kernel_regularizer: regularizer of the matrices.

    Input shape: `(batch, N, d)`, the lower sub-networks' outputs.
    Output shape: `(batch, num_outputs, units)`.

    Call arguments:
        inputs: the lower sub-networks' outputs.
        training: whether the gates are sampled.

    Example:
    >>> layer = SNRTransLayer(num_outputs=2, units=4)
    >>> tuple(layer(tf.ones((3, 5, 6))).shape)
    (3, 2, 4)

    References:
        Ma et al., "SNR: Sub-Network Routing for Flexible Parameter Sharing
        in Multi-Task Learning", AAAI 2019.
    """

    def __init__(
        self,
        num_outputs: int,
        units: int,
        activation: Optional[Union[str, Callable]] = None,
        use_bias: bool = True,
        l0_coefficient: float = 1e-3,
        log_alpha_initializer: Union[str, tf.keras.initializers.Initializer] = "zeros",
        seed: Optional[int] = None,
        kernel_initializer: Union[str, tf.keras.initializers.Initializer] = "glorot_uniform",
        bias_initializer: Union[str, tf.keras.initializers.Initializer] = "zeros",
        kernel_regularizer: Optional[Union[str, tf.keras.regularizers.Regularizer]] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.num_outputs = _validation.positive_int("num_outputs", num_outputs)
        self.units = _validation.positive_int("units", units)
        self.use_bias = bool(use_bias)
        self.l0_coefficient, self.seed = checked_l0_and_seed(l0_coefficient, seed)
        self.log_alpha_initializer = tf.keras.initializers.get(log_alpha_initializer)
        (
            self.activation,
            self.kernel_initializer,
            self.bias_initializer,
            self.kernel_regularizer,
        ) = _stacked.dense_arguments(
            activation, kernel_initializer, bias_initializer, kernel_regularizer
        )

    def _check_shape(self, input_shape):
        return _stacked.stacked_shape(
            self, input_shape, "the lower sub-networks' outputs", "sub_networks"
        )

    def build(self, input_shape):
        _, lower, input_dim = self._check_shape(input_shape)
        self.kernel = self.add_weight(
            name="kernel",
            shape=(self.num_outputs, int(lower), int(input_dim), self.units),
            initializer=_stacked.per_copy_initializer(self.kernel_initializer, 2),
            regularizer=self.kernel_regularizer,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.num_outputs, self.units),
                initializer=self.bias_initializer,
            )
        self.gate = _stacked.connection_gate(self, lower, input_shape)
        super().build(input_shape)

    def call(self, inputs: tf.Tensor, training: Optional[bool] = None) -> tf.Tensor:
        z = tf.cast(self.gate(inputs, training=training), inputs.dtype)  # (B, M, N)
        gated = tf.einsum("bij,bjd->bijd", z, inputs)  # z_ij · u_j: (B, M, N, d)
        # Σ_j W_ij (z_ij u_j): (B, M, N, d) x (M, N, d, units) -> (B, M, units)
        v = tf.einsum("bijd,ijdu->biu", gated, self.kernel)
        if self.bias is not None:
            v = v + self.bias
        return self.activation(v)

    def compute_output_shape(self, input_shape):
        return (self._check_shape(input_shape)[0], self.num_outputs, self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "num_outputs": self.num_outputs,
            "units": self.units,
            "use_bias": self.use_bias,
            "l0_coefficient": self.l0_coefficient,
            "log_alpha_initializer": tf.keras.initializers.serialize(self.log_alpha_initializer),
            "seed": self.seed,
            **_stacked.dense_config(self),
        }
