"""One fusion level of AdaTT: task-to-task gates plus a residual of the own experts."""

import math
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
from keras_mtl.layers.branch_dense import BranchDense
from keras_mtl.layers.expert_layer import ExpertLayer
from keras_mtl.layers.gate_layer import GateLayer


@keras_mtl_export
class AdaTTLayer(tf.keras.layers.Layer):
    """AdaTT's fusion level: each task mixes every expert and adds its own.

    Task t owns m experts `E_{t,j}` reading its branch input x_t; with
    `num_shared_experts = m_s > 0` (AdaTT with shared experts) `m_s` shared
    experts read the shared branch x_s. All outputs are stacked as O, and

        f_t = softmax(W_t x_t) · O + Σ_j w_{t,j} E_{t,j}(x_t),

    the second term a residual of the task's own experts with learned,
    input-independent weights `w_{t,j}` (drawn from U(±sqrt(1/m))); when every
    module has one expert it is the plain sum, `f_t = g_t · O + E_t(x_t)`.
    `self_residual=False` drops it (the paper's ablation). With shared
    experts and `shared_gate=True` (every level but the last) the shared
    module's output f_s (its gate over all experts plus its own residual)
    becomes the next level's x_s. The gate and the residual add into one
    weight matrix `(batch, modules, E)` applied to O in one batched matmul.

    Experts run fused: on the first level (input `(batch, d)`, read by every
    expert) one `ExpertLayer`, on deeper levels one batched `BranchDense`
    stack. `gate_weights(inputs, task_names=None)` returns the softmax gates
    (without the residual) as a `GateGroup` "<name> experts".

    Args:
        num_tasks: number of tasks T.
        num_task_experts: experts m per task.
        num_shared_experts: shared experts `m_s` (0: AdaTT-sp, none).
        expert_units: widths of every expert's layers, e.g. `(256, 128)`.
        gate_units: hidden widths of every gate before its softmax (the
            paper's gates are linear: `()`).
        shared_gate: whether the level outputs the shared branch too (needs
            shared experts; every level but the last).
        self_residual: add the residual of the own experts.
        activation: activation of the expert and gate hidden layers.
        dropout: dropout rate after every expert layer, in [0, 1).
        kernel_initializer: initializer of one expert's (or gate's) kernel.
        bias_initializer: initializer of the expert biases.
        kernel_regularizer: regularizer of the expert and gate kernels.

    Input shape: `(batch, d)` on the first level, else the previous level's
        output `(batch, T (+ 1 with shared experts), d)`.
    Output shape: `(batch, T (+ 1 with shared_gate), expert_units[-1])`.

    Call arguments:
        inputs: the level input.
        training: passed to the experts and gates (dropout).

    Example:
    >>> level = AdaTTLayer(num_tasks=2, num_task_experts=2, expert_units=(4,))
    >>> tuple(level(tf.ones((3, 5))).shape)
    (3, 2, 4)
    >>> (group,) = level.gate_weights(tf.ones((3, 5)), task_names=("ctr", "cvr"))
    >>> group.rows, group.columns
    (['ctr', 'cvr'], ['ctr 0', 'ctr 1', 'cvr 0', 'cvr 1'])

    References:
        Li et al., "AdaTT: Adaptive Task-to-Task Fusion Network for Multitask
        Learning in Recommendations", KDD 2023.
    """

    def __init__(
        self,
        num_tasks: int,
        num_task_experts: int = 1,
        num_shared_experts: int = 0,
        expert_units: Sequence[int] = (64,),
        gate_units: Sequence[int] = (),
        shared_gate: bool = True,
        self_residual: bool = True,
        activation: Union[str, Callable] = "relu",
        dropout: float = 0.0,
        kernel_initializer: Union[str, tf.keras.initializers.Initializer] = "glorot_uniform",
        bias_initializer: Union[str, tf.keras.initializers.Initializer] = "zeros",
        kernel_regularizer: Optional[Union[str, tf.keras.regularizers.Regularizer]] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.num_tasks = _validation.positive_int("num_tasks", num_tasks)
        self.num_task_experts = _validation.positive_int("num_task_experts", num_task_experts)
        self.num_shared_experts = _validation.non_negative_int(
            "num_shared_experts", num_shared_experts
        )
        self.expert_units = _validation.positive_int_tuple(
            "expert_units", expert_units, allow_empty=False
        )
        self.gate_units = _validation.positive_int_tuple("gate_units", gate_units)
        self.shared_gate = bool(shared_gate)
        self.self_residual = bool(self_residual)
        (
            self.activation,
            self.kernel_initializer,
            self.bias_initializer,
            self.kernel_regularizer,
        ) = _stacked.dense_arguments(
            activation, kernel_initializer, bias_initializer, kernel_regularizer
        )
        self.dropout = _validation.rate("dropout", dropout)
        t, m = self.num_tasks, self.num_task_experts
        self.num_experts = t * m + num_shared_experts
        self._has_shared = num_shared_experts > 0
        # modules with a gate: the tasks, then the shared one (when it feeds a next level)
        self.num_modules = t + int(self._has_shared and self.shared_gate)
        # expert order: task 0's, ..., task T-1's, then the shared ones
        self._expert_branch = (
            tuple(k for k in range(t) for _ in range(m)) + (t,) * num_shared_experts
        )
        counts = [m] * t + [num_shared_experts] * (self.num_modules - t)
        # the residual's (module, own expert) slots of the (modules, E) weight matrix
        self._own_slots = [
            [k, e]
            for k in range(self.num_modules)
            for e, b in enumerate(self._expert_branch)
            if b == k
        ]
        self._residual_scale = [math.sqrt(1.0 / c) for c in counts]
        # as the reference code: unit weights only when every task and the
        # shared module (on every level) have one expert each
        self._learned_residual = m != 1 or num_shared_experts > 1

    def _check_shape(self, input_shape):
        shape = tuple(input_shape)
        branches = self.num_tasks + int(self._has_shared)
        if (len(shape) == 2 or (len(shape) == 3 and shape[1] == branches)) and shape[-1]:
            return shape
        raise ValueError(
            "AdaTTLayer expected the shared input (batch, features) on the first level "
            f"or the previous level's branches (batch, {branches}, features) = the "
            f"tasks' (then the shared one). Received: input_shape={shape}"
        )

    def _build_child(self, layer, shape):
        with tf.name_scope(layer.name):  # unique variable names on tf_keras 2
            layer.build(shape)
        return layer

    def _residual_initializer(self, shape, dtype=None):
        """w_{k,j} ~ U(±sqrt(1/m_k)), one draw per own slot."""
        scales = tf.constant([self._residual_scale[k] for k, _ in self._own_slots])
        seed = self.kernel_initializer.get_config().get("seed")
        uniform = tf.keras.initializers.RandomUniform(-1.0, 1.0, seed=seed)
        return uniform(shape, dtype=dtype) * tf.cast(scales, dtype or tf.float32)

    def build(self, input_shape):
        shape = self._check_shape(input_shape)
        batch, input_dim = shape[0], shape[-1]
        e = self.num_experts
        self.first_level = len(shape) == 2
        args = dict(
            activation=self.activation,
            dropout=self.dropout,
            bias_initializer=self.bias_initializer,
            kernel_regularizer=self.kernel_regularizer,
        )
        if self.first_level:  # every expert reads x
            self.expert_layers = [
                self._build_child(
                    ExpertLayer(
                        e,
                        self.expert_units,
                        kernel_initializer=self.kernel_initializer,
                        name="experts",
                        **args,
                    ),
                    shape,
                )
            ]
        else:
            self.expert_layers, width = [], input_dim
            for i, units in enumerate(self.expert_units):
                self.expert_layers.append(
                    self._build_child(
                        BranchDense(
                            units,
                            kernel_initializer=_validation.clone_initializer(
                                self.kernel_initializer, i * e
                            ),
                            name=f"experts_{i}",
                            **args,
                        ),
                        (batch, e, width),
                    )
                )
                width = units
        offset = len(self.expert_units) * e
        self.gates = []
        for k in range(self.num_modules):
            name = f"task_gate_{k}" if k < self.num_tasks else "shared_gate"
            self.gates.append(
                self._build_child(
                    GateLayer(
                        e,
                        hidden_units=self.gate_units,
                        activation=self.activation,
                        kernel_initializer=_validation.clone_initializer(
                            self.kernel_initializer, offset
                        ),
                        kernel_regularizer=self.kernel_regularizer,
                        name=name,
                    ),
                    [(batch, input_dim), (batch, e, self.expert_units[-1])],
                )
            )
            offset += len(self.gate_units) + 1
        self.residual_weights = None
        if self.self_residual and self._learned_residual:
            self.residual_weights = self.add_weight(
                name="residual_weights",
                shape=(len(self._own_slots),),
                initializer=self._residual_initializer,
            )
        super().build(input_shape)

    def _branches(self, inputs):
        """The gate input `(B, d)` of every module."""
        if self.first_level:
            return [inputs] * self.num_modules
        return tf.unstack(inputs, axis=1)[: self.num_modules]

    def _residual(self):
        """`(modules, E)`: w_{k,j} on module k's own experts, zero elsewhere."""
        if self.residual_weights is None:
            values = tf.ones((len(self._own_slots),))
        else:
            values = tf.cast(self.residual_weights, tf.float32)
        return tf.scatter_nd(self._own_slots, values, (self.num_modules, self.num_experts))

    def gate_weights(self, inputs, task_names=None, training=False):
        """The level's softmax gates: `[GateGroup]`, `(batch, modules, E)`."""
        if not self.built:
            self(inputs)
        tasks = gate_group.task_labels(task_names, self.num_tasks)
        weights = [
            gate.mixture_weights(x, training=training)  # (B, E) each
            for gate, x in zip(self.gates, self._branches(inputs))
        ]
        rows = tasks + ["shared gate"] * (self.num_modules - self.num_tasks)
        columns = [f"{task} {i}" for task in tasks for i in range(self.num_task_experts)]
        columns += gate_group.numbered("shared", self.num_shared_experts)
        return [
            gate_group.GateGroup(f"{self.name} experts", rows, columns, tf.stack(weights, axis=1))
        ]  # (B, modules, E)

    def call(self, inputs: tf.Tensor, training: Optional[bool] = None) -> tf.Tensor:
        if self.first_level:
            experts = self.expert_layers[0](inputs, training=training)  # (B, E, units)
        else:
            # each expert reads its own branch: one (B, d) tensor per expert
            branches = tf.unstack(inputs, axis=1)
            experts = [branches[b] for b in self._expert_branch]
            for layer in self.expert_layers:
                experts = layer.per_branch(experts, training=training)  # E x (B, units_i)
            experts = tf.stack(experts, axis=1)  # (B, E, units)
        gates = tf.stack(
            [
                gate.mixture_weights(x, training=training)  # (B, E), float32
                for gate, x in zip(self.gates, self._branches(inputs))
            ],
            axis=1,
        )
        if self.self_residual:
            gates = gates + self._residual()[None]  # (B, modules, E)
        # (B, modules, E) x (B, E, units) -> (B, modules, units)
        return tf.matmul(_precision.like(gates, experts), experts)

    def compute_output_shape(self, input_shape):
        shape = self._check_shape(input_shape)
        return (shape[0], self.num_modules, self.expert_units[-1])

    def get_config(self):
        return {
            **super().get_config(),
            "num_tasks": self.num_tasks,
            "num_task_experts": self.num_task_experts,
            "num_shared_experts": self.num_shared_experts,
            "expert_units": list(self.expert_units),
            "gate_units": list(self.gate_units),
            "shared_gate": self.shared_gate,
            "self_residual": self.self_residual,
            "dropout": self.dropout,
            **_stacked.dense_config(self),
        }
