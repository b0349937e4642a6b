"""A softmax gate that mixes expert outputs."""

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.layers import _precision
from keras_mtl.layers import _validation
from keras_mtl.layers import gate_group
from keras_mtl.layers.mlp import MLP


@keras_mtl_export
class GateLayer(tf.keras.layers.Layer):
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
        return_weights: also return the gate weights `(batch, E)` (kept for
            older code; `gate_weights` gives them without it).

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

    def _check_shapes(self, input_shape):
        gate_shape, expert_shape = _validation.input_pair(
            "GateLayer", "gate_input, experts", input_shape
        )
        if len(expert_shape) != 3 or expert_shape[1] != self.num_experts:
            raise ValueError(
                f"GateLayer expected experts of shape (batch, {self.num_experts}, "
                f"units). Received: {expert_shape}"
            )
        return gate_shape, expert_shape

    def build(self, input_shape):
        gate_shape, _ = self._check_shapes(input_shape)
        shape = gate_shape
        self.hidden = None
        if self.hidden_units:
            self.hidden = MLP(
                self.hidden_units,
                activation=self.activation,
                kernel_initializer=self.kernel_initializer,
                kernel_regularizer=self.kernel_regularizer,
                name="hidden",
            )
            # Own name scopes keep variable names unique on tf_keras 2 (see MLP).
            with tf.name_scope(self.hidden.name):
                self.hidden.build(shape)
            shape = self.hidden.compute_output_shape(shape)
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

    def gate_weights(self, inputs, task_names=None, training=False):
        """`[GateGroup]`: this gate's weights `(batch, 1, E)` for `inputs`.

        Args:
            inputs: `[gate_input, experts]`, as for `call` (the weights do
                not depend on the experts).
            task_names: the model's task names, to label the row (see the
                class docstring); None labels it `"<name> (all tasks)"`.
            training: passed to the hidden MLP.
        """
        if not self.built:
            self(inputs)
        prefix = "gate_"
        task = self.name[len(prefix) :] if self.name.startswith(prefix) else None
        row = task if task in (task_names or ()) else f"{self.name} (all tasks)"
        weights = self.mixture_weights(inputs[0], training=training)  # (B, E)
        return [
            gate_group.GateGroup(
                "gates", [row], gate_group.numbered("expert", self.num_experts), weights[:, None, :]
            )
        ]  # (B, 1, E)

    def call(self, inputs, training=None):
        gate_input, experts = inputs
        weights = self.mixture_weights(gate_input, training=training)  # (B, E)
        # (B, 1, E) x (B, E, units) -> (B, units): a batched product, not an
        # einsum (which transposes around it, forward and backward)
        mixing = _precision.like(weights[:, None, :], experts)  # (B, 1, E)
        mixture = tf.squeeze(tf.matmul(mixing, experts), axis=1)
        if self.return_weights:
            return mixture, weights
        return mixture

    def compute_output_shape(self, input_shape):
        _, expert_shape = self._check_shapes(input_shape)
        mixture = (expert_shape[0], expert_shape[2])
        if self.return_weights:
            return mixture, (expert_shape[0], self.num_experts)
        return mixture

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
