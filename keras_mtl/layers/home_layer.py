"""HoME's two-level hierarchy of normalised experts, gated per category and task."""

from collections.abc import Sequence
from typing import Any
from typing import Literal
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.layers import _validation
from keras_mtl.layers import gate_group
from keras_mtl.layers._home_routes import HomeRoutes
from keras_mtl.layers.branch_dense import BranchDense
from keras_mtl.layers.feature_gate import FeatureGate
from keras_mtl.layers.gate_layer import GateLayer
from keras_mtl.layers.normalized_experts import NORMALIZATIONS
from keras_mtl.layers.normalized_experts import NormalizedExperts


@keras_mtl_export
class HoMELayer(tf.keras.layers.Layer):
    """The HoME hierarchy: meta experts per task category, then task experts.

    Tasks are grouped into C categories (`task_categories`, one name per
    task; e.g. interaction vs watch-time tasks). Every expert is a
    `NormalizedExperts` MLP (normalisation + Swish). With x the input:

    - level 1 (meta): `m_s` global shared experts and `m_c` experts per
      category read x, expert e through its own `FeatureGate` copy
      `x ⊙ 2σ(x B_e A_e)` (`feature_gate_rank > 0`). A softmax gate on x over
      the shared experts gives `z_s`; category c's gate over
      [shared ∪ category c] gives `z_c`.
    - level 2 (task): `m_s` shared experts read `z_s`, `m_c` experts per
      category read `z_c`, `m_t` experts per task t read `z_c(t)`. Task t's
      gate reads `[z_s ; z_c(t)]` and mixes [shared ∪ category c(t) ∪ own]:
      `f_t = Σ_i softmax(G_t([z_s; z_c(t)]))_i · e_i`.
    - self-gate (`self_gate=True`): `f_t += ē_t ⊙ 2σ(ē_t W_t + b_t)` with
      `ē_t` the mean of task t's own experts, a residual path that keeps
      gradient flowing into them whatever the gate does; `W_t` starts at 0.

    Follows the paper's text: normalised Swish experts, the two-level
    category hierarchy with its masks, feature gates `v ⊙ 2σ(vBA)`, a
    self-gate residual. Our choices (the paper has no public code): which
    gates read what (above), one feature gate per level-1 expert and none on
    level 2, the self-gate's form and zero start, every level using
    `expert_units`.

    `gate_weights` returns "<name> meta gates" (rows "shared gate" and each
    category) and "<name> task gates" (a row per task), NaN where a gate
    cannot route; `expert_outputs` returns both levels' expert outputs.

    Args:
        task_categories: one category name per task, in task order.
        num_shared_experts: global shared experts `m_s` (per level).
        num_category_experts: experts of each category `m_c` (per level).
        num_task_experts: task-specific experts `m_t` (level 2).
        expert_units: widths of every expert's layers.
        gate_units: hidden widths of every gate before its softmax.
        normalization: "batch" or "layer" (see `NormalizedExperts`).
        feature_gate_rank: rank of the feature gates (0: none).
        self_gate: whether tasks get the self-gate residual.
        dropout: dropout rate after every expert layer, in [0, 1).
        kernel_initializer: initializer of one expert's (or gate's) kernel.
        kernel_regularizer: regularizer of the kernels.

    Input shape: `(batch, d)`.
    Output shape: `(batch, T, expert_units[-1])`.

    Call arguments:
        inputs: x.
        training: batch statistics and dropout when True.

    Example:
    >>> layer = HoMELayer(task_categories=("inter", "inter", "watch"), expert_units=(4,))
    >>> tuple(layer(tf.random.normal((5, 6))).shape)
    (5, 3, 4)
    >>> meta, tasks = layer.gate_weights(tf.random.normal((5, 6)), ("ctr", "like", "time"))
    >>> meta.rows, meta.columns
    (['shared gate', 'inter', 'watch'], ['shared 0', 'inter 0', 'watch 0'])

    References:
        Wang et al., "HoME: Hierarchy of Multi-Gate Experts for Multi-Task
        Learning at Kuaishou", arXiv 2408.05430 (2024).
    """

    def __init__(
        self,
        task_categories: Sequence[str],
        num_shared_experts: int = 1,
        num_category_experts: int = 1,
        num_task_experts: int = 1,
        expert_units: Sequence[int] = (64,),
        gate_units: Sequence[int] = (),
        normalization: Literal["batch", "layer"] = "batch",
        feature_gate_rank: int = 8,
        self_gate: bool = True,
        dropout: float = 0.0,
        kernel_initializer: Union[str, tf.keras.initializers.Initializer] = "glorot_uniform",
        kernel_regularizer: Optional[Union[str, tf.keras.regularizers.Regularizer]] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (
            isinstance(task_categories, str)
            or not task_categories
            or not all(isinstance(c, str) and c for c in task_categories)
        ):
            raise ValueError(
                "expected one category name (a non-empty string) per task. "
                f"Received: task_categories={task_categories!r}"
            )
        self.task_categories = tuple(task_categories)
        self.num_tasks = len(self.task_categories)
        self.num_shared_experts = _validation.positive_int("num_shared_experts", num_shared_experts)
        self.num_category_experts = _validation.positive_int(
            "num_category_experts", num_category_experts
        )
        self.num_task_experts = _validation.positive_int("num_task_experts", num_task_experts)
        self.expert_units = _validation.positive_int_tuple(
            "expert_units", expert_units, allow_empty=False
        )
        self.gate_units = _validation.positive_int_tuple("gate_units", gate_units)
        if normalization not in NORMALIZATIONS:
            raise ValueError(
                f"expected normalization in {NORMALIZATIONS}. "
                f"Received: normalization={normalization!r}"
            )
        self.normalization = normalization
        self.feature_gate_rank = _validation.non_negative_int(
            "feature_gate_rank", feature_gate_rank
        )
        self.self_gate = bool(self_gate)
        self.dropout = _validation.rate("dropout", dropout)
        self.kernel_initializer = tf.keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = tf.keras.regularizers.get(kernel_regularizer)
        routes = HomeRoutes.of(
            self.task_categories,
            self.num_shared_experts,
            self.num_category_experts,
            self.num_task_experts,
        )
        self._meta_routes, self._own, self._task_routes = routes.meta, routes.own, routes.task
        self._branch, self._category_of = routes.branch, routes.category_of
        self.categories = routes.categories
        self.num_meta_experts = routes.num_meta_experts
        self.num_task_level_experts = routes.num_task_level_experts

    def _child(self, layer, shape):
        with tf.name_scope(layer.name):  # unique variable names on tf_keras 2
            layer.build(shape)
        return layer

    def _init(self, offset):
        return _validation.clone_initializer(self.kernel_initializer, offset)

    def build(self, input_shape):
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(
                "HoMELayer expected x of shape (batch, features). "
                f"Received: input_shape={tuple(input_shape)}"
            )
        batch, d = input_shape[0], int(input_shape[-1])
        units = self.expert_units[-1]
        e1, e2 = self.num_meta_experts, self.num_task_level_experts
        depth = len(self.expert_units)
        self.feature_gate = None
        if self.feature_gate_rank:
            self.feature_gate = self._child(
                FeatureGate(
                    e1,
                    self.feature_gate_rank,
                    kernel_initializer=self._init(0),
                    kernel_regularizer=self.kernel_regularizer,
                    name="feature_gate",
                ),
                (batch, d),
            )
        expert_args = dict(
            units=self.expert_units,
            normalization=self.normalization,
            dropout=self.dropout,
            kernel_regularizer=self.kernel_regularizer,
        )
        self.meta_experts = self._child(
            NormalizedExperts(
                e1, kernel_initializer=self._init(e1), name="meta_experts", **expert_args
            ),
            (batch, d),
        )
        self.task_experts = self._child(
            NormalizedExperts(
                e2,
                kernel_initializer=self._init(e1 * (depth + 1)),
                name="task_experts",
                **expert_args,
            ),
            (batch, e2, units),
        )
        offset = (e1 + e2) * (depth + 1)
        gate_args = dict(hidden_units=self.gate_units, kernel_regularizer=self.kernel_regularizer)

        def gate(name, routes, width):
            nonlocal offset
            offset += len(self.gate_units) + 1
            return self._child(
                GateLayer(
                    len(routes), kernel_initializer=self._init(offset), name=name, **gate_args
                ),
                [(batch, width), (batch, len(routes), units)],
            )

        self.meta_gates = [
            gate(f"meta_gate_{i}", routes, d) for i, routes in enumerate(self._meta_routes)
        ]
        self.task_gates = [
            gate(f"task_gate_{t}", routes, 2 * units) for t, routes in enumerate(self._task_routes)
        ]
        self.self_gates = None
        if self.self_gate:
            self.self_gates = self._child(
                BranchDense(
                    units,
                    activation="sigmoid",
                    kernel_initializer="zeros",
                    kernel_regularizer=self.kernel_regularizer,
                    name="self_gates",
                ),
                (batch, self.num_tasks, units),
            )
        super().build(input_shape)

    def _meta(self, x, training):
        """`(meta expert outputs (B, E1, u), [z_s, z_c...] (1 + C) × (B, u))`."""
        views = x[None] if self.feature_gate is None else self.feature_gate.branch_major(x)
        experts = tf.transpose(
            self.meta_experts.branch_major(views, training=training), (1, 0, 2)
        )  # (E1 or 1, B, d) -> (E1, B, u) -> (B, E1, u)
        z = [
            g([x, tf.gather(experts, routes, axis=1)], training=training)  # (B, u)
            for g, routes in zip(self.meta_gates, self._meta_routes)
        ]
        return experts, z

    def _task_experts(self, z, training):
        # each level-2 expert reads its meta representation: (1 + C, B, u) -> (E2, B, u)
        inputs = tf.gather(tf.stack(z, axis=0), self._branch, axis=0)
        return tf.transpose(
            self.task_experts.branch_major(inputs, training=training), (1, 0, 2)
        )  # (B, E2, u)

    def _task_gate_input(self, z, t):
        return tf.concat([z[0], z[1 + self._category_of[t]]], axis=-1)  # (B, 2u)

    def call(self, inputs: tf.Tensor, training: Optional[bool] = None) -> tf.Tensor:
        _, z = self._meta(inputs, training)
        experts = self._task_experts(z, training)  # (B, E2, u)
        outputs = tf.stack(
            [
                g(
                    [self._task_gate_input(z, t), tf.gather(experts, self._task_routes[t], axis=1)],
                    training=training,
                )
                for t, g in enumerate(self.task_gates)
            ],
            axis=1,
        )  # (B, T, u)
        if self.self_gates is not None:
            own = tf.stack(
                [tf.reduce_mean(tf.gather(experts, o, axis=1), axis=1) for o in self._own], axis=1
            )  # (B, T, u)
            outputs += own * (2.0 * self.self_gates(own))
        return outputs

    def _columns(self, tasks):
        s, m = self.num_shared_experts, self.num_category_experts
        meta = gate_group.numbered("shared", s) + [
            f"{c} {i}" for c in self.categories for i in range(m)
        ]
        return meta, meta + [f"{t} {i}" for t in tasks for i in range(self.num_task_experts)]

    def gate_weights(self, inputs, task_names=None, training=False):
        """`[meta gates (B, 1 + C, E1), task gates (B, T, E2)]` as `GateGroup`s."""
        if not self.built:
            self(inputs)
        tasks = gate_group.task_labels(task_names, self.num_tasks)
        x = inputs
        _, z = self._meta(x, training)
        meta = [
            gate_group.place_columns(
                g.mixture_weights(x, training=training), routes, self.num_meta_experts
            )
            for g, routes in zip(self.meta_gates, self._meta_routes)
        ]
        task = [
            gate_group.place_columns(
                g.mixture_weights(self._task_gate_input(z, t), training=training),
                self._task_routes[t],
                self.num_task_level_experts,
            )
            for t, g in enumerate(self.task_gates)
        ]
        meta_columns, task_columns = self._columns(tasks)
        return [
            gate_group.GateGroup(
                f"{self.name} meta gates",
                ["shared gate"] + list(self.categories),
                meta_columns,
                tf.stack(meta, axis=1),
            ),
            gate_group.GateGroup(
                f"{self.name} task gates", tasks, task_columns, tf.stack(task, axis=1)
            ),
        ]

    def expert_outputs(self, inputs, task_names=None, training=False):
        """`[(title, columns, (B, E, u))]` of the meta and the task experts."""
        if not self.built:
            self(inputs)
        meta, z = self._meta(inputs, training)
        meta_columns, task_columns = self._columns(
            gate_group.task_labels(task_names, self.num_tasks)
        )
        return [
            (f"{self.name} meta experts", meta_columns, meta),
            (f"{self.name} task experts", task_columns, self._task_experts(z, training)),
        ]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_tasks, self.expert_units[-1])

    def get_config(self):
        return {
            **super().get_config(),
            "task_categories": list(self.task_categories),
            "num_shared_experts": self.num_shared_experts,
            "num_category_experts": self.num_category_experts,
            "num_task_experts": self.num_task_experts,
            "expert_units": list(self.expert_units),
            "gate_units": list(self.gate_units),
            "normalization": self.normalization,
            "feature_gate_rank": self.feature_gate_rank,
            "self_gate": self.self_gate,
            "dropout": self.dropout,
            "kernel_initializer": tf.keras.initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": _validation.regularizer_config(self.kernel_regularizer),
        }
