"""MetaHeac's hybrid experts and critics, gated by task embeddings."""

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
from keras_mtl.layers import gate_group


@keras_mtl_export
class MetaHeacLayer(tf.keras.layers.Layer):
    """Task-conditioned mixtures of shared experts and of shared critics.

    Every task t has a trainable embedding `e_t` (width k). Over the input x
    and the experts `f_1..f_E(x)` (an `ExpertLayer`), for every task:

        a_t = softmax([x, e_t] · W_a + b_a)        expert gate, (E,)
        h_t = Σ_e a_{t,e} · f_e(x)                 task representation
        b_t = softmax([x, e_t] · W_b + b_b)        critic gate, (M,)
        s_t = Σ_m b_{t,m} · c_m(h_t)               task score (a logit)

    The critics `c_1..c_M` are MLPs ending in one unit, shared by all tasks;
    the gates are shared too and differ between tasks only through `e_t`.
    Every task, expert and critic is computed in one pass (batched matmuls
    over a task axis and a critic axis).

    `gate_weights(inputs, task_names=None)` returns the gates as two
    `GateGroup`s, "<name> expert gates" `a_t` (columns "expert e") and
    "<name> critic gates" `b_t` (columns "critic m"), one row per task.

    Args:
        num_tasks: number of tasks T.
        num_critics: number of critics M.
        critic_units: hidden widths of every critic before its output unit.
        task_embedding_dim: k, the width of the task embeddings.
        activation: activation of the critics' hidden layers.
        kernel_initializer: initializer of the kernels (each critic's kernels
            are drawn with their own seed) and of the task embeddings.
        kernel_regularizer: regularizer of the kernels.
        return_weights: also return the expert and critic gate weights.

    Input shape: a list `[x (batch, d), experts (batch, E, units)]`.
    Output shape: scores `(batch, T, 1)`; with `return_weights=True` also
        expert weights `(batch, T, E)` and critic weights `(batch, T, M)`.

    Call arguments:
        inputs: `[x, experts]`.

    Example:
    >>> layer = MetaHeacLayer(num_tasks=2, num_critics=3, critic_units=(4,))
    >>> tuple(layer([tf.ones((5, 6)), tf.ones((5, 4, 8))]).shape)
    (5, 2, 1)
    >>> experts, critics = layer.gate_weights([tf.ones((5, 6)), tf.ones((5, 4, 8))])
    >>> critics.rows, critics.columns, tuple(critics.weights.shape)
    (['task 0', 'task 1'], ['critic 0', 'critic 1', 'critic 2'], (5, 2, 3))

    References:
        Zhu et al., "Learning to Expand Audience via Meta Hybrid Experts and
        Critics for Recommendation and Advertising", KDD 2021.
    """

    def __init__(
        self,
        num_tasks: int,
        num_critics: int = 3,
        critic_units: Sequence[int] = (32,),
        task_embedding_dim: int = 8,
        activation: Union[str, Callable] = "relu",
        kernel_initializer: Union[str, tf.keras.initializers.Initializer] = "glorot_uniform",
        kernel_regularizer: Optional[Union[str, tf.keras.regularizers.Regularizer]] = None,
        return_weights: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.num_tasks = _validation.positive_int("num_tasks", num_tasks)
        self.num_critics = _validation.positive_int("num_critics", num_critics)
        self.critic_units = _validation.positive_int_tuple("critic_units", critic_units)
        self.task_embedding_dim = _validation.positive_int("task_embedding_dim", task_embedding_dim)
        self.activation = tf.keras.activations.get(activation)
        self.kernel_initializer = tf.keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = tf.keras.regularizers.get(kernel_regularizer)
        self.return_weights = bool(return_weights)

    def _check_shapes(self, input_shape):
        x_shape, expert_shape = _validation.input_pair("MetaHeacLayer", "x, experts", input_shape)
        if len(x_shape) != 2 or len(expert_shape) != 3 or None in expert_shape[1:]:
            raise ValueError(
                "MetaHeacLayer expected x (batch, d) and experts (batch, E, units). "
                f"Received: {x_shape} and {expert_shape}"
            )
        return x_shape, expert_shape

    def _gate(self, name, input_dim, width, offset):
        kernel = self.add_weight(
            name=f"{name}_kernel",
            shape=(input_dim + self.task_embedding_dim, width),
            initializer=_validation.clone_initializer(self.kernel_initializer, offset),
            regularizer=self.kernel_regularizer,
        )
        bias = self.add_weight(name=f"{name}_bias", shape=(width,), initializer="zeros")
        return kernel, bias

    def build(self, input_shape):
        x_shape, (_, num_experts, units) = self._check_shapes(input_shape)
        input_dim = int(x_shape[-1])
        self.task_embeddings = self.add_weight(
            name="task_embeddings",
            shape=(self.num_tasks, self.task_embedding_dim),
            initializer=_validation.clone_initializer(self.kernel_initializer, 0),
        )
        self.expert_gate = self._gate("expert_gate", input_dim, int(num_experts), 1)
        self.critic_gate = self._gate("critic_gate", input_dim, self.num_critics, 2)
        widths = (int(units),) + self.critic_units + (1,)
        self.critic_kernels, self.critic_biases = [], []
        for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
            self.critic_kernels.append(
                self.add_weight(
                    name=f"critic_kernel_{i}",
                    shape=(self.num_critics, fan_in, fan_out),
                    initializer=_stacked.per_copy_initializer(
                        self.kernel_initializer, 1, offset=3 + i * self.num_critics
                    ),
                    regularizer=self.kernel_regularizer,
                )
            )
            self.critic_biases.append(
                self.add_weight(
                    name=f"critic_bias_{i}",
                    shape=(self.num_critics, fan_out),
                    initializer="zeros",
                )
            )
        super().build(input_shape)

    def _gate_softmax(self, x, gate):
        """`softmax([x, e_t] · W + b)` for every task: (B, T, width)."""
        kernel, bias = gate
        d = int(x.shape[-1])
        from_x = tf.matmul(x, kernel[:d])  # (B, width)
        from_task = tf.matmul(self.task_embeddings, kernel[d:])  # (T, width)
        logits = from_x[:, None, :] + from_task[None, :, :] + bias  # (B, T, width)
        return _precision.softmax(logits, axis=-1)  # float32 under every policy

    def gate_weights(self, inputs, task_names=None, training=False):
        """The expert and critic gates for `inputs`: two `GateGroup`s.

        Args:
            inputs: `[x, experts]`, as for `call`.
            task_names: the model's task names, labelling the rows (None:
                "task t").
            training: unused (the gates have no dropout); for the protocol.

        Returns:
            `[expert gates (batch, T, E), critic gates (batch, T, M)]`.
        """
        del training
        if not self.built:
            self(inputs)
        x, experts = inputs
        rows = gate_group.task_labels(task_names, self.num_tasks)
        columns = gate_group.numbered("expert", int(experts.shape[1]))
        return [
            gate_group.GateGroup(
                f"{self.name} expert gates", rows, columns, self._gate_softmax(x, self.expert_gate)
            ),  # (B, T, E)
            gate_group.GateGroup(
                f"{self.name} critic gates",
                list(rows),
                gate_group.numbered("critic", self.num_critics),
                self._gate_softmax(x, self.critic_gate),
            ),  # (B, T, M)
        ]

    def call(
        self,
        inputs: Sequence[tf.Tensor],
    ) -> Union[tf.Tensor, tuple[tf.Tensor, tf.Tensor, tf.Tensor]]:
        x, experts = inputs
        expert_weights = self._gate_softmax(x, self.expert_gate)  # (B, T, E)
        mixed = tf.einsum(
            "bte,beu->btu", _precision.like(expert_weights, experts), experts
        )  # (B, T, units)
        # (B, T, units) x (M, units, c) -> (B, T, M, c): every critic on every task
        h = tf.einsum("btu,muc->btmc", mixed, self.critic_kernels[0]) + self.critic_biases[0]
        for kernel, bias in zip(self.critic_kernels[1:], self.critic_biases[1:]):
            h = self.activation(h)
            h = tf.einsum("btmc,mcd->btmd", h, kernel) + bias  # (B, T, M, d)
        critic_weights = self._gate_softmax(x, self.critic_gate)  # (B, T, M)
        scores = tf.reduce_sum(
            _precision.like(critic_weights, h)[..., None] * h, axis=2
        )  # (B, T, 1)
        if self.return_weights:
            return scores, expert_weights, critic_weights
        return scores

    def compute_output_shape(self, input_shape):
        x_shape, (_, num_experts, _) = self._check_shapes(input_shape)
        scores = (x_shape[0], self.num_tasks, 1)
        if self.return_weights:
            return (
                scores,
                (x_shape[0], self.num_tasks, num_experts),
                (x_shape[0], self.num_tasks, self.num_critics),
            )
        return scores

    def get_config(self):
        return {
            **super().get_config(),
            "num_tasks": self.num_tasks,
            "num_critics": self.num_critics,
            "critic_units": list(self.critic_units),
            "task_embedding_dim": self.task_embedding_dim,
            "activation": tf.keras.activations.serialize(self.activation),
            "kernel_initializer": tf.keras.initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": _validation.regularizer_config(self.kernel_regularizer),
            "return_weights": self.return_weights,
        }
