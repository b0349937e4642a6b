"""STEM-Net: task-specific and shared embedding tables, routed with stop-gradients."""

from collections.abc import Callable
from collections.abc import Sequence
from typing import Union

import tensorflow as tf

from keras_mtl._types import FeatureSpec
from keras_mtl._types import TaskDependencies
from keras_mtl._types import TaskTypes
from keras_mtl.features import feature_inputs
from keras_mtl.layers.stem_layer import STEMLayer
from keras_mtl.layers.task_split import TaskSplit
from keras_mtl.models import _builder
from keras_mtl.training.multi_task_model import MultiTaskModel


def STEM(
    features: Sequence[FeatureSpec],
    task_names: Sequence[str] = ("ctr", "cvr"),
    task_types: TaskTypes = None,
    num_levels: int = 1,
    num_specific_experts: int = 1,
    num_shared_experts: int = 1,
    expert_units: Sequence[int] = (256, 128),
    gate_units: Sequence[int] = (),
    tower_units: Sequence[int] = (64,),
    activation: Union[str, Callable] = "relu",
    dropout: float = 0.0,
    l2_reg: float = 0.0,
    l2_reg_embedding: float = 0.0,
    task_dependencies: TaskDependencies = None,
    name: str = "stem",
) -> MultiTaskModel:
    """Builds STEM-Net: T + 1 embeddings of every feature, then `STEMLayer` levels.

    Every feature is embedded T + 1 times: into x_t by task t's own tables
    (stacked per width in layers prefixed `<task>_`, e.g.
    `ctr_embedding_tables_8`) and into x_s by the shared tables (the usual
    stacks, e.g. `embedding_tables_8`); `model.embedding_table(feature,
    layer_name=...)` reads one of them. Level j (a
    `STEMLayer` named `stem_<j>`) has task-specific experts reading x_t and
    shared experts reading x_s; task t's gate `softmax(G_t(x_t + x_s))` mixes
    all experts, every other task's specific experts under stop-gradient.
    Task t's loss therefore trains no other task's experts or embedding
    tables (on one level; with `num_levels > 1` it reaches them through the
    shared branch, which the shared gate mixes from all experts, as in the
    reference code). Towers read the last level's task outputs.

    Args:
        features: SparseFeat / VarLenSparseFeat / DenseFeat specs (adapted).
        task_names: one output per task, named after it.
        task_types: "binary" / "regression" per task; default all binary.
        num_levels: number of STEM levels (1 in the paper).
        num_specific_experts: experts per task on every level.
        num_shared_experts: shared experts on every level.
        expert_units, gate_units, tower_units: as in `MMoE`.
        activation, dropout, l2_reg, l2_reg_embedding, task_dependencies,
            name: as in `SharedBottom`.

    Returns:
        A `MultiTaskModel` with outputs `{task: (batch, 1)}`; its shared
        layer is the last STEM level.

    Example:
    >>> feats = [SparseFeat("item", vocabulary_size=10), DenseFeat("price")]
    >>> model = STEM(feats, task_names=("ctr", "cvr"), expert_units=(8,), tower_units=(4,))
    >>> sorted(l.name for l in model.layers if l.name.endswith("embedding_tables_8"))
    ['ctr_embedding_tables_8', 'cvr_embedding_tables_8', 'embedding_tables_8']
    >>> model.embedding_table("item", layer_name="ctr_embedding_tables_8").shape
    TensorShape([11, 8])

    References:
        Su et al., "STEM: Unleashing the Power of Embeddings for Multi-task
        Recommendation", AAAI 2024.
    """
    towers = _builder.tower_args(
        task_names, task_types, task_dependencies, tower_units, activation, dropout, l2_reg
    )
    num_tasks = len(towers.task_names)
    num_levels = _builder.count("num_levels", num_levels)
    num_specific_experts = _builder.count("num_specific_experts", num_specific_experts)
    num_shared_experts = _builder.count("num_shared_experts", num_shared_experts)
    expert_units = _builder.widths("expert_units", expert_units, allow_empty=False)
    gate_units = _builder.widths("gate_units", gate_units)
    embedding_reg = _builder.regularizer(l2_reg_embedding, "l2_reg_embedding")
    inputs = feature_inputs.build_inputs(features)
    prefixes = [f"{task}_" for task in towers.task_names] + [""]  # the tasks', then shared
    branches = [
        feature_inputs.embed_features(inputs, features, embedding_reg, name_prefix=p)
        for p in prefixes
    ]  # T+1 × (B, d)
    width = int(branches[0].shape[-1])
    h = tf.keras.layers.Concatenate(name="stem_input_concat")(branches)  # (B, (T+1)·d)
    h = tf.keras.layers.Reshape((num_tasks + 1, width), name="stem_input")(h)  # (B, T+1, d)
    for level in range(1, num_levels + 1):
        h = STEMLayer(
            num_tasks,
            num_specific_experts=num_specific_experts,
            num_shared_experts=num_shared_experts,
            expert_units=expert_units,
            gate_units=gate_units,
            shared_gate=level < num_levels,
            activation=activation,
            dropout=dropout,
            kernel_regularizer=towers.kernel_reg,
            name=f"stem_{level}",
        )(h)
    # the last level has no shared gate: (B, T, units)
    task_outputs = TaskSplit(num_tasks, name="task_split")(h)  # T × (B, units)
    return _builder.tower_model(inputs, task_outputs, towers, name, h, features=features)
