"""What the expert gates share: the mixture of experts by their weights."""

import tensorflow as tf

from keras_mtl.layers import _precision
from keras_mtl.layers import _validation
from keras_mtl.layers import gate_group
from keras_mtl.layers.mlp import MLP


class MixtureGate(tf.keras.layers.Layer):
    """Base of the gates that mix E experts with weights from a gate input.

    `GateLayer` (softmax) and `DSelectKGate` derive from it. A subclass sets
    `num_experts`, `return_weights`, `hidden_units`, `activation` and
    `kernel_regularizer` in `__init__`, builds its hidden MLP with
    `build_hidden`, implements
    `mixture_weights(gate_input, training)` (`(batch, E)` float32) and
    returns `self.mix(weights, experts)` from `call`; the input checks,
    `gate_weights` and `compute_output_shape` are shared.

    Input shape: a list `[gate_input (batch, d), experts (batch, E, units)]`.
    Output shape: `(batch, units)`, and `(batch, E)` weights when
        `return_weights=True`.
    """

    def _check_shapes(self, input_shape):
        layer = type(self).__name__
        gate_shape, expert_shape = _validation.input_pair(layer, "gate_input, experts", input_shape)
        if len(expert_shape) != 3 or expert_shape[1] != self.num_experts:
            raise ValueError(
                f"{layer} expected experts of shape (batch, {self.num_experts}, "
                f"units). Received: {expert_shape}"
            )
        return gate_shape, expert_shape

    def build_hidden(self, shape, kernel_initializer="glorot_uniform"):
        """Builds `hidden`, an `MLP` of `hidden_units` (None without any);
        returns the shape it gives `shape` (its input)."""
        self.hidden = None
        if not self.hidden_units:
            return shape
        self.hidden = MLP(
            self.hidden_units,
            activation=self.activation,
            kernel_initializer=kernel_initializer,
            kernel_regularizer=self.kernel_regularizer,
            name="hidden",
        )
        # Own name scopes keep variable names unique on tf_keras 2 (see MLP).
        with tf.name_scope(self.hidden.name):
            self.hidden.build(shape)
        return self.hidden.compute_output_shape(shape)

    def mixture_weights(self, gate_input, training=None):
        """The weights `(batch, E)`, float32, for a gate input."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement mixture_weights(gate_input, training)."
        )

    def gate_weights(self, inputs, task_names=None, training=False):
        """`[GateGroup]`: this gate's weights `(batch, 1, E)` for `inputs`.

        One group "gates" with one row: the task `t` when the layer is named
        `gate_<t>` for a `t` in `task_names` (MMoE's per-task gates), else
        `"<name> (all tasks)"` (OMoE's one gate, named `gate`).

        Args:
            inputs: `[gate_input, experts]`, as for `call` (the weights do
                not depend on the experts).
            task_names: the model's task names, to label the row; None
                labels it `"<name> (all tasks)"`.
            training: passed to `mixture_weights`.
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

    def mix(self, weights, experts):
        """`Σ_e weights_e · experts_e` `(batch, units)` (and the weights with
        `return_weights`), in the experts' dtype."""
        # (B, 1, E) x (B, E, units) -> (B, units): a batched product, not an
        # einsum (which transposes around it, forward and backward)
        mixing = _precision.like(weights[:, None, :], experts)  # (B, 1, E)
        mixture = tf.squeeze(tf.matmul(mixing, experts), axis=1)  # (B, units)
        if self.return_weights:
            return mixture, weights
        return mixture

    def compute_output_shape(self, input_shape):
        _, expert_shape = self._check_shapes(input_shape)
        mixture = (expert_shape[0], expert_shape[2])
        if self.return_weights:
            return mixture, (expert_shape[0], self.num_experts)
        return mixture
