"""A softmax gate that mixes expert outputs."""

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.layers import _precision
from keras_mtl.layers import _validation
from keras_mtl.layers._mixture_gate import MixtureGate


@keras_mtl_export
class GateLayer(MixtureGate):
    """Mixes experts with softmax weights computed from a gate input.

    `g(x) = softmax(W_g · h(x) + b_g) ∈ R^E`, where `h` is an optional MLP
    (`hidden_units`), and the output is `Σ_i g_i(x) · f_i(x)`. Under a mixed
    precision policy the softmax runs in float32 (the weights it returns are
    float32) and the mixture in the compute dtype.

    `gate_weights(inputs, task_names=None)` returns `g(x)` as one `GateGroup`
    "gates" with one row: the task `t` when the layer is named `gate_<t>` for
    a `t` in `task_names` (MMoE's per-task gates), else `"<name> (all tasks)"`
    (OMoE's one gate, named `gate`).

    Args:
        num_experts: number of experts E the gate weighs.
        hidden_units: widths of hidden layers before the softmax (may be empty).
        activation: activation of the hidden layers.
        kernel_initializer: initializer of the gate kernels.
        kernel_regularizer: regularizer of the gate kernels.
        return_weights: also return the gate weights `(batch, E)` (the
            load-balance loss of MMoE and OMoE reads them).

    Input shape: a list `[gate_input (batch, d), experts (batch, E, units)]`.
    Output shape: `(batch, units)`, and `(batch, E)` weights when
        `return_weights=True`.

    Call arguments:
        inputs: `[gate_input, experts]`.
        training: passed to the hidden MLP.

    Example:
    >>> gate = GateLayer(num_experts=3, name="gate_ctr")
    >>> tuple(gate([tf.ones((2, 5)), tf.ones((2, 3, 4))]).shape)
    (2, 4)
    >>> (group,) = gate.gate_weights([tf.ones((2, 5)), tf.ones((2, 3, 4))],
    ...                              task_names=("ctr", "cvr"))
    >>> group.rows, group.columns, tuple(group.weights.shape)
    (['ctr'], ['expert 0', 'expert 1', 'expert 2'], (2, 1, 3))

    References:
        Ma et al., "Modeling Task Relationships in Multi-task Learning with
        Multi-gate Mixture-of-Experts", KDD 2018.
    """

    def __init__(
        self,
        num_experts,
        hidden_units=(),
        activation="relu",
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        return_weights=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_experts = _validation.positive_int("num_experts", num_experts)
        self.hidden_units = _validation.positive_int_tuple("hidden_units", hidden_units)
        self.activation = tf.keras.activations.get(activation)
        self.kernel_initializer = tf.keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = tf.keras.regularizers.get(kernel_regularizer)
        self.return_weights = bool(return_weights)

    def build(self, input_shape):
        gate_shape, _ = self._check_shapes(input_shape)
        shape = self.build_hidden(gate_shape, self.kernel_initializer)
        self.logits = tf.keras.layers.Dense(
            self.num_experts,
            kernel_initializer=_validation.clone_initializer(
                self.kernel_initializer, offset=len(self.hidden_units)
            ),
            kernel_regularizer=self.kernel_regularizer,
            name="logits",
        )
        with tf.name_scope(self.logits.name):
            self.logits.build(shape)
        super().build(input_shape)

    def mixture_weights(self, gate_input, training=None):
        """The softmax weights `g(x)`, `(batch, E)` float32, for a gate input."""
        h = gate_input
        if self.hidden is not None:
            h = self.hidden(h, training=training)
        return _precision.softmax(self.logits(h), axis=-1)  # (B, E), float32

    def call(self, inputs, training=None):
        gate_input, experts = inputs
        return self.mix(self.mixture_weights(gate_input, training=training), experts)

    def get_config(self):
        return {
            **super().get_config(),
            "num_experts": self.num_experts,
            "hidden_units": list(self.hidden_units),
            "activation": tf.keras.activations.serialize(self.activation),
            "kernel_initializer": tf.keras.initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": _validation.regularizer_config(self.kernel_regularizer),
            "return_weights": self.return_weights,
        }
