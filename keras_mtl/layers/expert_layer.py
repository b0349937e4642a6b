"""A bank of identical MLP experts computed in one fused pass."""

from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.layers import _precision
from keras_mtl.layers import _stacked
from keras_mtl.layers import _validation


@keras_mtl_export
class ExpertLayer(tf.keras.layers.Layer):
    """`num_experts` MLP experts `f_i(x)` evaluated together.

    The variables are stacked, one per layer: kernel 0 is `[W_1 | ... | W_E]`
    of shape `(d, E·u_0)`, later kernels `(E, u, u')`. In `call` each expert
    runs as a chain of 2-D matmuls on its own slices of them (no transposes;
    on CPU, with and without XLA, this trained faster than one wide matmul
    followed by batched matmuls over `(E, batch, u)`; see
    `benchmarks/expert_formulations.py`). Each expert's kernels are drawn with
    their own seed, so experts start different (MMoE needs that; see
    `clone_initializer`).

    Args:
        num_experts: number of experts E.
        units: widths of every expert's layers, e.g. `(256, 128)`.
        activation: activation after every layer.
        dropout: dropout rate after every layer, in [0, 1).
        kernel_initializer: initializer of one expert's kernel (fans are those
            of a single expert).
        bias_initializer: initializer of the biases.
        kernel_regularizer: regularizer of the kernels.

    Input shape: `(batch, input_dim)`.
    Output shape: `(batch, num_experts, units[-1])`.

    Call arguments:
        inputs: the shared input x.
        training: whether dropout runs.

    Example:
    >>> experts = ExpertLayer(num_experts=3, units=(8, 4))
    >>> tuple(experts(tf.ones((2, 5))).shape)
    (2, 3, 4)

    References:
        Ma et al., "Modeling Task Relationships in Multi-task Learning with
        Multi-gate Mixture-of-Experts", KDD 2018.
    """

    def __init__(
        self,
        num_experts: int,
        units: Sequence[int],
        activation: Union[str, Callable] = "relu",
        dropout: float = 0.0,
        kernel_initializer: Union[str, tf.keras.initializers.Initializer] = "glorot_uniform",
        bias_initializer: Union[str, tf.keras.initializers.Initializer] = "zeros",
        kernel_regularizer: Optional[Union[str, tf.keras.regularizers.Regularizer]] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.num_experts = _validation.positive_int("num_experts", num_experts)
        self.units = _validation.positive_int_tuple("units", units, allow_empty=False)
        (
            self.activation,
            self.kernel_initializer,
            self.bias_initializer,
            self.kernel_regularizer,
        ) = _stacked.dense_arguments(
            activation, kernel_initializer, bias_initializer, kernel_regularizer
        )
        self.dropout = _validation.rate("dropout", dropout)

    def _expert_kernels(self, layer_index, fan_in, fan_out, concat_axis):
        """Initial value builder: E kernels of one expert's shape, stacked."""

        def initializer(shape, dtype=None):
            kernels = [
                _validation.clone_initializer(
                    self.kernel_initializer,
                    offset=layer_index * self.num_experts + expert,
                )((fan_in, fan_out), dtype=dtype)
                for expert in range(self.num_experts)
            ]
            if concat_axis is None:
                return tf.stack(kernels, axis=0)  # (E, fan_in, fan_out)
            return tf.concat(kernels, axis=concat_axis)  # (fan_in, E·fan_out)

        return initializer

    def build(self, input_shape):
        input_dim = int(input_shape[-1])
        e, first = self.num_experts, self.units[0]
        self.kernels = [
            self.add_weight(
                name="kernel_0",
                shape=(input_dim, e * first),
                initializer=self._expert_kernels(0, input_dim, first, 1),
                regularizer=self.kernel_regularizer,
            )
        ]
        self.biases = [
            self.add_weight(name="bias_0", shape=(e * first,), initializer=self.bias_initializer)
        ]
        for i in range(1, len(self.units)):
            fan_in, fan_out = self.units[i - 1], self.units[i]
            self.kernels.append(
                self.add_weight(
                    name=f"kernel_{i}",
                    shape=(e, fan_in, fan_out),
                    initializer=self._expert_kernels(i, fan_in, fan_out, None),
                    regularizer=self.kernel_regularizer,
                )
            )
            self.biases.append(
                self.add_weight(
                    name=f"bias_{i}",
                    shape=(e, fan_out),
                    initializer=self.bias_initializer,
                )
            )
        self.dropout_layers = [
            tf.keras.layers.Dropout(self.dropout, name=f"dropout_{i}")
            for i in range(len(self.units))
            if self.dropout > 0
        ]
        super().build(input_shape)

    def call(self, inputs: tf.Tensor, training: Optional[bool] = None) -> tf.Tensor:
        e = self.num_experts
        # Expert k runs as its own chain of 2-D matmuls on its slices of the
        # stacked variables (column block k of kernel_0, slice k of the later
        # kernels): no transposes and no split of activations, forward or
        # backward. On CPU this trained faster per CPU-second than one
        # (B, d) x (d, E·u0) matmul followed by batched matmuls over
        # (E, B, u), with XLA by ~1.3x (benchmarks/expert_formulations.py).
        # The variables stay stacked: slices are views, not E Dense layers.
        kernels = [tf.split(self.kernels[0], e, axis=1)]  # E x (d, u0)
        biases = [tf.split(self.biases[0], e)]
        for i in range(1, len(self.units)):
            kernels.append(tf.unstack(self.kernels[i]))  # E x (u_{i-1}, u_i)
            biases.append(tf.unstack(self.biases[i]))
        outputs = []
        for k in range(e):
            x = inputs
            for i in range(len(self.units)):
                # bias_add, not +: its gradient is one op (a matmul under 16-bit policies)
                x = self.activation(_precision.bias_add(tf.matmul(x, kernels[i][k]), biases[i][k]))
                if self.dropout > 0:
                    x = self.dropout_layers[i](x, training=training)
            outputs.append(x)
        return tf.stack(outputs, axis=1)  # (B, E, u_last)

    def expert_outputs(self, inputs, task_names=None, training=False):
        """`[(title, columns, (batch, E, units))]`: the experts' outputs (the
        expert-health protocol, see `keras_mtl.evaluation.expert_health`)."""
        return [
            (
                f"{self.name}",
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
            "dropout": self.dropout,
            **_stacked.dense_config(self),
        }
