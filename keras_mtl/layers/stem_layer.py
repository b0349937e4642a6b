"""One level of STEM-Net: shared and task-specific experts, all forward, own backward."""

from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.layers import _stacked
from keras_mtl.layers import _validation
from keras_mtl.layers import gate_group
from keras_mtl.layers.branch_dense import BranchDense
from keras_mtl.layers.gate_layer import GateLayer


@keras_mtl_export
class STEMLayer(tf.keras.layers.Layer):
    """STEM's experts and gates: every task sees all experts, trains only its own.

    The input has T + 1 branches: x_t for each task t (from task t's own
    embedding tables on the first level) and the shared x_s. Task t owns m
    specific experts reading x_t; `m_s` shared experts read x_s. Task t's gate

        y_t = Σ_i softmax(G_t(x_t + x_s))_i · ê_i,

    mixes *all* experts, where ê_i = e_i for task t's own and the shared
    experts and ê_i = stop_gradient(e_i) for every other task's specific
    experts ("all forward, task-specific backward"): task t's loss reaches no
    other task's experts or branch input through this level. Unless this is
    the last level (`shared_gate=False`), a shared gate `softmax(G_s(x_s))`
    mixes all experts without stop-gradient into the next level's x_s.

    All experts run as one batched `BranchDense` stack (each expert gathers
    its own branch); the gates are `GateLayer`s (one per task, then the
    shared one). `gate_weights(inputs, task_names=None)` returns them as one
    `GateGroup` "<name> experts" (rows: tasks, then "shared gate"; columns:
    "<task> i", then "shared i").

    Args:
        num_tasks: number of tasks T.
        num_specific_experts: experts m per task.
        num_shared_experts: shared experts `m_s`.
        expert_units: widths of every expert's layers, e.g. `(256, 128)`.
        gate_units: hidden widths of every gate before its softmax.
        shared_gate: whether the level also outputs the shared branch.
        activation: activation of the expert and gate hidden layers.
        dropout: dropout rate after every expert layer, in [0, 1).
        kernel_initializer: initializer of one expert's (or gate's) kernel.
        bias_initializer: initializer of the expert biases.
        kernel_regularizer: regularizer of the expert and gate kernels.

    Input shape: `(batch, T + 1, d)`: the task branches in task order, then
        the shared branch.
    Output shape: `(batch, T + 1, expert_units[-1])` with `shared_gate=True`,
        else `(batch, T, expert_units[-1])`.

    Call arguments:
        inputs: the level input.
        training: passed to the experts and gates (dropout).

    Example:
    >>> level = STEMLayer(num_tasks=2, expert_units=(4,), shared_gate=False)
    >>> tuple(level(tf.ones((3, 3, 5))).shape)
    (3, 2, 4)
    >>> (group,) = level.gate_weights(tf.ones((3, 3, 5)), task_names=("ctr", "cvr"))
    >>> group.rows, group.columns
    (['ctr', 'cvr'], ['ctr 0', 'cvr 0', 'shared 0'])

    References:
        Su et al., "STEM: Unleashing the Power of Embeddings for Multi-task
        Recommendation", AAAI 2024.
    """

    def __init__(
        self,
        num_tasks: int,
        num_specific_experts: int = 1,
        num_shared_experts: int = 1,
        expert_units: Sequence[int] = (64,),
        gate_units: Sequence[int] = (),
        shared_gate: bool = True,
        activation: Union[str, Callable] = "relu",
        dropout: float = 0.0,
        kernel_initializer: Union[str, tf.keras.initializers.Initializer] = "glorot_uniform",
        bias_initializer: Union[str, tf.keras.initializers.Initializer] = "zeros",
        kernel_regularizer: Optional[Union[str, tf.keras.regularizers.Regularizer]] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.num_tasks = _validation.positive_int("num_tasks", num_tasks)
        self.num_specific_experts = _validation.positive_int(
            "num_specific_experts", num_specific_experts
        )
        self.num_shared_experts = _validation.positive_int("num_shared_experts", num_shared_experts)
        self.expert_units = _validation.positive_int_tuple(
            "expert_units", expert_units, allow_empty=False
        )
        self.gate_units = _validation.positive_int_tuple("gate_units", gate_units)
        self.shared_gate = bool(shared_gate)
        (
            self.activation,
            self.kernel_initializer,
            self.bias_initializer,
            self.kernel_regularizer,
        ) = _stacked.dense_arguments(
            activation, kernel_initializer, bias_initializer, kernel_regularizer
        )
        self.dropout = _validation.rate("dropout", dropout)
        m, t = self.num_specific_experts, self.num_tasks
        self.num_experts = t * m + self.num_shared_experts
        # expert order: task 0's, ..., task T-1's, then the shared ones
        self._expert_branch = (
            tuple(k for k in range(t) for _ in range(m)) + (t,) * self.num_shared_experts
        )

    def _check_shape(self, input_shape):
        return _stacked.stacked_shape(
            self,
            input_shape,
            f"{self.num_tasks + 1} branches (the tasks', then the shared one)",
            self.num_tasks + 1,
        )

    def build(self, input_shape):
        batch, branches, input_dim = self._check_shape(input_shape)
        if branches != self.num_tasks + 1:
            raise ValueError(
                f"STEMLayer expected num_tasks + 1 = {self.num_tasks + 1} branches. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        e = self.num_experts
        self.expert_layers = []
        width = input_dim
        for i, units in enumerate(self.expert_units):
            layer = BranchDense(
                units,
                activation=self.activation,
                dropout=self.dropout,
                kernel_initializer=_validation.clone_initializer(self.kernel_initializer, i * e),
                bias_initializer=self.bias_initializer,
                kernel_regularizer=self.kernel_regularizer,
                name=f"experts_{i}",
            )
            with tf.name_scope(layer.name):  # unique variable names on tf_keras 2
                layer.build((batch, e, width))
            self.expert_layers.append(layer)
            width = units
        offset = len(self.expert_units) * e
        self.gates = []
        names = [f"task_gate_{k}" for k in range(self.num_tasks)]
        names += ["shared_gate"] if self.shared_gate else []
        for name in names:
            gate = GateLayer(
                e,
                hidden_units=self.gate_units,
                activation=self.activation,
                kernel_initializer=_validation.clone_initializer(self.kernel_initializer, offset),
                kernel_regularizer=self.kernel_regularizer,
                name=name,
            )
            with tf.name_scope(gate.name):
                gate.build([(batch, input_dim), (batch, e, width)])
            self.gates.append(gate)
            offset += len(self.gate_units) + 1
        super().build(input_shape)

    def _gate_inputs(self, inputs):
        """`(B, d)` per gate: `x_t + x_s` for the tasks, then `x_s`."""
        branches = tf.unstack(inputs, axis=1)  # T+1 × (B, d)
        shared = branches[-1]
        gate_inputs = [x + shared for x in branches[:-1]]
        return gate_inputs + ([shared] if self.shared_gate else [])

    def _own(self, task):
        """`(E,)` bool: the experts task `task` trains (its own and the shared)."""
        own = [b in (task, self.num_tasks) for b in self._expert_branch]
        return tf.constant(own)[None, :, None]  # (1, E, 1)

    def gate_weights(self, inputs, task_names=None, training=False):
        """The level's gates for `inputs`: `[GateGroup]`, `(batch, T(+1), E)`."""
        if not self.built:
            self(inputs)
        tasks = gate_group.task_labels(task_names, self.num_tasks)
        weights = [
            gate.mixture_weights(x, training=training)  # (B, E) each
            for gate, x in zip(self.gates, self._gate_inputs(inputs))
        ]
        rows = tasks + (["shared gate"] if self.shared_gate else [])
        columns = [f"{task} {i}" for task in tasks for i in range(self.num_specific_experts)]
        columns += gate_group.numbered("shared", self.num_shared_experts)
        return [
            gate_group.GateGroup(f"{self.name} experts", rows, columns, tf.stack(weights, axis=1))
        ]  # (B, T(+1), E)

    def call(self, inputs: tf.Tensor, training: Optional[bool] = None) -> tf.Tensor:
        # each expert reads its own branch: one (B, d) tensor per expert
        branches = tf.unstack(inputs, axis=1)
        experts = [branches[b] for b in self._expert_branch]
        for layer in self.expert_layers:
            experts = layer.per_branch(experts, training=training)  # E x (B, units_i)
        experts = tf.stack(experts, axis=1)  # (B, E, units)
        frozen = tf.stop_gradient(experts)
        outputs = []
        for k, (gate, x) in enumerate(zip(self.gates, self._gate_inputs(inputs))):
            if k < self.num_tasks:  # other tasks' specific experts forward only
                mixed = tf.where(self._own(k), experts, frozen)  # (B, E, units)
            else:  # the shared gate trains every expert
                mixed = experts
            outputs.append(gate([x, mixed], training=training))  # (B, units)
        return tf.stack(outputs, axis=1)  # (B, T(+1), units)

    def compute_output_shape(self, input_shape):
        batch = self._check_shape(input_shape)[0]
        return (batch, self.num_tasks + int(self.shared_gate), self.expert_units[-1])

    def get_config(self):
        return {
            **super().get_config(),
            "num_tasks": self.num_tasks,
            "num_specific_experts": self.num_specific_experts,
            "num_shared_experts": self.num_shared_experts,
            "expert_units": list(self.expert_units),
            "gate_units": list(self.gate_units),
            "shared_gate": self.shared_gate,
            "dropout": self.dropout,
            **_stacked.dense_config(self),
        }
