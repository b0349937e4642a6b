"""SNR-Avg: sub-network connections that are gated sums."""

from typing import Any
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.layers import _stacked
from keras_mtl.layers import _validation
from keras_mtl.layers.hard_concrete_gate import checked_l0_and_seed


@keras_mtl_export
class SNRAvgLayer(tf.keras.layers.Layer):
    """Inputs of upper sub-networks as gated sums of the lower ones' outputs.

    `v_i = Σ_j z_ij · u_j` for the `num_outputs` upper sub-networks i and the
    N lower ones j, with a `HardConcreteGate` `z_ij` per connection (sampled
    in training, deterministic at inference; its expected-L0 penalty goes to
    the layer's losses). Unlike `SNRTransLayer` a connection has no weight
    matrix: the upper sub-networks (`BranchDense` in the `SNR` builder)
    transform their input themselves. One einsum, no Python loop.

    Args:
        num_outputs: number of upper sub-networks (or task towers) M.
        l0_coefficient: λ of the gates' expected-L0 penalty.
        log_alpha_initializer: initializer of the gates' `log α`.
        seed: seed of the gates' training noise.

    Input shape: `(batch, N, d)`, the lower sub-networks' outputs.
    Output shape: `(batch, num_outputs, d)`.

    Call arguments:
        inputs: the lower sub-networks' outputs.
        training: whether the gates are sampled.

    Example:
    >>> layer = SNRAvgLayer(num_outputs=2, log_alpha_initializer="zeros")
    >>> layer(tf.ones((1, 3, 1))).numpy().tolist()  # z = 0.5 at inference
    [[[1.5], [1.5]]]

    References:
        Ma et al., "SNR: Sub-Network Routing for Flexible Parameter Sharing
        in Multi-Task Learning", AAAI 2019.
    """

    def __init__(
        self,
        num_outputs: int,
        l0_coefficient: float = 1e-3,
        log_alpha_initializer: Union[str, tf.keras.initializers.Initializer] = "zeros",
        seed: Optional[int] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.num_outputs = _validation.positive_int("num_outputs", num_outputs)
        self.l0_coefficient, self.seed = checked_l0_and_seed(l0_coefficient, seed)
        self.log_alpha_initializer = tf.keras.initializers.get(log_alpha_initializer)

    def _check_shape(self, input_shape):
        return _stacked.stacked_shape(
            self,
            input_shape,
            "the lower sub-networks' outputs",
            "sub_networks",
            features_known=False,
        )

    def build(self, input_shape):
        _, lower, _ = self._check_shape(input_shape)
        self.gate = _stacked.connection_gate(self, lower, input_shape)
        super().build(input_shape)

    def call(self, inputs: tf.Tensor, training: Optional[bool] = None) -> tf.Tensor:
        z = tf.cast(self.gate(inputs, training=training), inputs.dtype)  # (B, M, N)
        return tf.einsum("bij,bjd->bid", z, inputs)  # Σ_j z_ij u_j: (B, M, d)

    def compute_output_shape(self, input_shape):
        batch, _, features = self._check_shape(input_shape)
        return (batch, self.num_outputs, features)

    def get_config(self):
        return {
            **super().get_config(),
            "num_outputs": self.num_outputs,
            "l0_coefficient": self.l0_coefficient,
            "log_alpha_initializer": tf.keras.initializers.serialize(self.log_alpha_initializer),
            "seed": self.seed,
        }
