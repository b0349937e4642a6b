"""One extraction level of PLE (CGC when it is the only one)."""

from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import Literal
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.layers import _gates
from keras_mtl.layers import _precision
from keras_mtl.layers import _stacked
from keras_mtl.layers import _validation
from keras_mtl.layers import gate_group
from keras_mtl.layers.branch_dense import BranchDense
from keras_mtl.layers.expert_layer import ExpertLayer


@keras_mtl_export
class PLELayer(tf.keras.layers.Layer):
    """Task-specific and shared experts, mixed by per-task and shared gates.

    The level has T + 1 branches: one per task and a shared one. Task k owns
    `m_k` experts reading its branch input `x_k`; `m_s` shared experts read the
    shared branch input `x_s`. Task k's gate mixes its own and the shared
    experts only:
    `y_k = Σ_i softmax(g_k(x_k))_i · e_i, i ∈ experts(k) ∪ shared`.
    Unless this is the last level (`shared_gate=False`), a shared gate mixes
    *all* experts of the level, `y_s = Σ_i softmax(g_s(x_s))_i · e_i`, and
    becomes the shared branch of the next level.

    All experts of the level are computed in one fused pass: on the first
    level every branch reads the same x, so it is one `ExpertLayer` matmul;
    on deeper levels each expert gathers its own branch and the experts run as
    batched `BranchDense` layers. Gates are `GateLayer`s (one per task), or
    `DSelectKGate`s with `gate="dselect_k"`; the level mixes all its gates at
    once, each gate's weights spread over the E experts (0 where it cannot
    route), as one batched product.
    `gate_weights(inputs, task_names=None)` returns all gates of the level as
    one `GateGroup` "<name> experts": a row per task (then "shared gate"), a
    column per expert ("<task> i", then "shared i"), NaN in the columns of
    other tasks' specific experts, which a task gate cannot route to.

    Args:
        num_tasks: number of tasks T.
        num_specific_experts: experts per task, one int for all tasks or one
            per task.
        num_shared_experts: shared experts `m_s`.
        expert_units: widths of every expert's layers, e.g. `(256, 128)`.
        gate_units: hidden widths of every gate before its softmax.
        shared_gate: whether the level also outputs the shared branch (every
            PLE level but the last).
        activation: activation of the expert and gate hidden layers.
        dropout: dropout rate after every expert layer, in [0, 1).
        kernel_initializer: initializer of one expert's (or gate's) kernel.
        bias_initializer: initializer of the expert biases.
        kernel_regularizer: regularizer of the expert and gate kernels.
        gate: "softmax" (`GateLayer`) or "dselect_k" (`DSelectKGate`).
        k: selectors of a DSelect-k gate (ignored by softmax gates).

    Input shape: `(batch, d)` on the first level (every branch reads it), or
        the previous level's output `(batch, T + 1, d)`: task branches in
        task order, then the shared branch.
    Output shape: `(batch, T + 1, expert_units[-1])` with `shared_gate=True`,
        else `(batch, T, expert_units[-1])`.

    Call arguments:
        inputs: the level input.
        training: passed to the experts and gates (dropout).

    Example:
    >>> level = PLELayer(num_tasks=2, num_specific_experts=2, expert_units=(4,))
    >>> tuple(level(tf.ones((3, 5))).shape)
    (3, 3, 4)
    >>> last = PLELayer(num_tasks=2, expert_units=(4,), shared_gate=False)
    >>> tuple(last(level(tf.ones((3, 5)))).shape)
    (3, 2, 4)
    >>> (group,) = last.gate_weights(level(tf.ones((3, 5))), task_names=("ctr", "cvr"))
    >>> group.rows, group.columns
    (['ctr', 'cvr'], ['ctr 0', 'cvr 0', 'shared 0'])
    >>> group.weights.numpy()[0].round(2).tolist()[0][1]  # ctr's gate skips cvr's expert
    nan

    References:
        Tang et al., "Progressive Layered Extraction (PLE): A Novel Multi-Task
        Learning (MTL) Model for Personalized Recommendations", RecSys 2020.
    """

    def __init__(
        self,
        num_tasks: int,
        num_specific_experts: Union[int, Sequence[int]] = 1,
        num_shared_experts: int = 1,
        expert_units: Sequence[int] = (64,),
        gate_units: Sequence[int] = (),
        shared_gate: bool = True,
        activation: Union[str, Callable] = "relu",
        dropout: float = 0.0,
        kernel_initializer: Union[str, tf.keras.initializers.Initializer] = "glorot_uniform",
        bias_initializer: Union[str, tf.keras.initializers.Initializer] = "zeros",
        kernel_regularizer: Optional[Union[str, tf.keras.regularizers.Regularizer]] = None,
        gate: Literal["softmax", "dselect_k"] = "softmax",
        k: int = 2,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.gate, self.k = _gates.checked(gate, k)
        self.num_tasks = _validation.positive_int("num_tasks", num_tasks)
        if isinstance(num_specific_experts, int):
            num_specific_experts = (num_specific_experts,) * self.num_tasks
        self.num_specific_experts = _validation.positive_int_tuple(
            "num_specific_experts", num_specific_experts, allow_empty=False
        )
        if len(self.num_specific_experts) != self.num_tasks:
            raise ValueError(
                f"expected one specific expert count per task ({self.num_tasks})."
                f" Received: num_specific_experts={num_specific_experts!r}"
            )
        self.num_shared_experts = _validation.positive_int("num_shared_experts", num_shared_experts)
        self.expert_units = _validation.positive_int_tuple(
            "expert_units", expert_units, allow_empty=False
        )
        self.gate_units = _validation.positive_int_tuple("gate_units", gate_units)
        self.shared_gate = bool(shared_gate)
        self.activation = tf.keras.activations.get(activation)
        self.dropout = _validation.rate("dropout", dropout)
        self.kernel_initializer = tf.keras.initializers.get(kernel_initializer)
        self.bias_initializer = tf.keras.initializers.get(bias_initializer)
        self.kernel_regularizer = tf.keras.regularizers.get(kernel_regularizer)
        # Expert order: task 0's, task 1's, ..., then the shared experts.
        counts = self.num_specific_experts
        starts = [sum(counts[:k]) for k in range(self.num_tasks)]
        self.num_experts = sum(counts) + self.num_shared_experts
        shared = list(range(sum(counts), self.num_experts))
        self._task_experts = tuple(
            tuple(range(start, start + m)) + tuple(shared) for start, m in zip(starts, counts)
        )
        self._expert_branch = (
            tuple(k for k, m in enumerate(counts) for _ in range(m))
            + (self.num_tasks,) * self.num_shared_experts
        )

    def _check_shape(self, input_shape):
        shape = tuple(input_shape)
        branches = self.num_tasks + 1
        if len(shape) == 2 or (len(shape) == 3 and shape[1] == branches):
            if shape[-1] is not None:
                return shape
        raise ValueError(
            "PLELayer expected the shared input (batch, features) on the first "
            f"level or the previous level's branches (batch, {branches}, "
            f"features) = num_tasks + 1 (tasks, then shared). Received: "
            f"input_shape={shape}"
        )

    def _child_initializer(self, offset):
        return _validation.clone_initializer(self.kernel_initializer, offset)

    def _build_child(self, layer, shape):
        # Own name scopes keep variable names unique on tf_keras 2 (see MLP).
        with tf.name_scope(layer.name):
            layer.build(shape)
        return layer

    def build(self, input_shape):
        shape = self._check_shape(input_shape)
        batch, input_dim = shape[0], shape[-1]
        e, depth = self.num_experts, len(self.expert_units)
        self.first_level = len(shape) == 2
        expert_args = dict(
            activation=self.activation,
            dropout=self.dropout,
            bias_initializer=self.bias_initializer,
            kernel_regularizer=self.kernel_regularizer,
        )
        if self.first_level:  # every expert reads x: one fused ExpertLayer
            self.expert_layers = [
                self._build_child(
                    ExpertLayer(
                        e,
                        self.expert_units,
                        name="experts",
                        kernel_initializer=self.kernel_initializer,
                        **expert_args,
                    ),
                    shape,
                )
            ]
        else:  # every expert reads its own branch: one BranchDense per depth
            self.expert_layers = []
            width = input_dim
            for i, units in enumerate(self.expert_units):
                self.expert_layers.append(
                    self._build_child(
                        BranchDense(
                            units,
                            name=f"experts_{i}",
                            kernel_initializer=self._child_initializer(i * e),
                            **expert_args,
                        ),
                        (batch, e, width),
                    )
                )
                width = units
        units = self.expert_units[-1]
        gate_args = dict(
            hidden_units=self.gate_units,
            activation=self.activation,
            kernel_regularizer=self.kernel_regularizer,
        )
        offset = depth * e
        self.task_gates = []
        for k, experts in enumerate(self._task_experts):
            self.task_gates.append(
                self._build_child(
                    _gates.make_gate(
                        self.gate,
                        self.k,
                        len(experts),
                        f"task_gate_{k}",
                        kernel_initializer=self._child_initializer(offset),
                        **gate_args,
                    ),
                    [(batch, input_dim), (batch, len(experts), units)],
                )
            )
            offset += len(self.gate_units) + 1
        self.shared_gate_layer = None
        if self.shared_gate:
            self.shared_gate_layer = self._build_child(
                _gates.make_gate(
                    self.gate,
                    self.k,
                    e,
                    "shared_gate",
                    kernel_initializer=self._child_initializer(offset),
                    **gate_args,
                ),
                [(batch, input_dim), (batch, e, units)],
            )
        super().build(input_shape)

    def _branches(self, inputs):
        """The T + 1 gate inputs `(B, d)`: the tasks' in order, then the shared."""
        if self.first_level:
            return [inputs] * (self.num_tasks + 1)  # every gate reads x
        return tf.unstack(inputs, axis=1)  # T+1 × (B, d)

    def gate_weights(self, inputs, task_names=None, training=False):
        """The level's gates for `inputs`: `[GateGroup]`, `(batch, T(+1), E)`.

        `task_names` label the rows and the specific experts (None: "task t").
        """
        if not self.built:
            self(inputs)
        branches = self._branches(inputs)
        tasks = gate_group.task_labels(task_names, self.num_tasks)
        weights = [  # T × (B, E): own + shared experts, NaN elsewhere
            gate_group.place_columns(
                gate.mixture_weights(branches[k], training=training),
                self._task_experts[k],
                self.num_experts,
            )
            for k, gate in enumerate(self.task_gates)
        ]
        rows = list(tasks)
        if self.shared_gate_layer is not None:
            rows.append("shared gate")
            weights.append(  # (B, E): all experts
                self.shared_gate_layer.mixture_weights(branches[-1], training=training)
            )
        columns = [
            f"{tasks[k]} {i}" for k, m in enumerate(self.num_specific_experts) for i in range(m)
        ] + gate_group.numbered("shared", self.num_shared_experts)
        return [
            gate_group.GateGroup(f"{self.name} experts", rows, columns, tf.stack(weights, axis=1))
        ]  # (B, T(+1), E)

    def _experts(self, inputs, training):
        if self.first_level:
            return self.expert_layers[0](inputs, training=training)  # (B, E, units)
        # each expert reads its own branch: one (B, d) tensor per expert
        branches = tf.unstack(inputs, axis=1)
        experts = [branches[b] for b in self._expert_branch]
        for layer in self.expert_layers:
            experts = layer.per_branch(experts, training=training)  # E x (B, units_i)
        return tf.stack(experts, axis=1)  # (B, E, units)

    def expert_outputs(self, inputs, task_names=None, training=False):
        """`[(title, columns, (batch, E, units))]`: the level's experts (the
        expert-health protocol, see `keras_mtl.evaluation.expert_health`)."""
        if not self.built:
            self(inputs)
        tasks = gate_group.task_labels(task_names, self.num_tasks)
        columns = [
            f"{tasks[k]} {i}" for k, m in enumerate(self.num_specific_experts) for i in range(m)
        ] + gate_group.numbered("shared", self.num_shared_experts)
        return [(f"{self.name} experts", columns, self._experts(inputs, training))]

    def call(self, inputs: tf.Tensor, training: Optional[bool] = None) -> tf.Tensor:
        experts = self._experts(inputs, training)  # (B, E, units)
        branches = self._branches(inputs)
        # Every gate's weights spread over all E experts (0 where a task gate
        # cannot route), then the whole level's mixtures as one batched
        # product (B, G, E) x (B, E, units). Same sums as each gate mixing its
        # own subset, without a gather of expert subsets per gate (whose
        # gradient is a transposed scatter) or a stack of the mixtures: the
        # benchmark PLE trained 1.07-1.35x the rows per CPU-second of the
        # per-gate form on CPU (benchmarks/ple_mixing.py). The gates PLE builds
        # add no loss of their own, so their `mixture_weights` is the whole
        # of what they contribute.
        rows = [  # (B, m_k + m_s) x one-hot (m_k + m_s, E) -> (B, E), float32
            tf.matmul(
                gate.mixture_weights(branches[k], training=training),
                tf.one_hot(self._task_experts[k], self.num_experts),
            )
            for k, gate in enumerate(self.task_gates)
        ]
        if self.shared_gate_layer is not None:  # all experts
            rows.append(self.shared_gate_layer.mixture_weights(branches[-1], training=training))
        mixing = _precision.like(tf.stack(rows, axis=1), experts)  # (B, T(+1), E)
        return tf.matmul(mixing, experts)  # (B, T(+1), units)

    def compute_output_shape(self, input_shape):
        shape = self._check_shape(input_shape)
        branches = self.num_tasks + int(self.shared_gate)
        return (shape[0], branches, self.expert_units[-1])

    def get_config(self):
        return {
            **super().get_config(),
            "num_tasks": self.num_tasks,
            "num_specific_experts": list(self.num_specific_experts),
            "num_shared_experts": self.num_shared_experts,
            "expert_units": list(self.expert_units),
            "gate_units": list(self.gate_units),
            "shared_gate": self.shared_gate,
            "dropout": self.dropout,
            "gate": self.gate,
            "k": self.k,
            **_stacked.dense_config(self),
        }
