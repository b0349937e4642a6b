"""MetaHeac: meta hybrid experts and critics."""

from collections.abc import Callable
from collections.abc import Sequence
from typing import Union

import tensorflow as tf

from keras_mtl._types import FeatureSpec
from keras_mtl._types import TaskTypes
from keras_mtl.layers.expert_layer import ExpertLayer
from keras_mtl.layers.meta_heac_layer import MetaHeacLayer
from keras_mtl.layers.task_split import TaskSplit
from keras_mtl.models import _builder
from keras_mtl.training.multi_task_model import MultiTaskModel
from keras_mtl.training.procedures.meta_learning_step import MetaLearningStep


def MetaHeac(
    features: Sequence[FeatureSpec],
    task_names: Sequence[str] = ("ctr", "cvr"),
    task_types: TaskTypes = None,
    num_experts: int = 4,
    expert_units: Sequence[int] = (64,),
    num_critics: int = 3,
    critic_units: Sequence[int] = (32,),
    task_embedding_dim: int = 8,
    meta_learning: bool = True,
    inner_learning_rate: float = 0.01,
    support_fraction: float = 0.5,
    activation: Union[str, Callable] = "relu",
    dropout: float = 0.0,
    l2_reg: float = 0.0,
    l2_reg_embedding: float = 0.0,
    name: str = "metaheac",
) -> MultiTaskModel:
    """Builds MetaHeac: shared experts and critics mixed per task, meta-trained.

    Shared experts (an `ExpertLayer`) read the shared embeddings x. A
    `MetaHeacLayer` gives every task a trainable embedding `e_t`; a gate on
    `[x, e_t]` mixes the experts into the task's representation, shared
    critics (small MLPs) score it, and a second gate on `[x, e_t]` mixes the
    critics' scores into the task's logit. Every parameter but `e_t` is
    shared by all tasks.

    With `meta_learning=True` (the default) the model trains with
    `MetaLearningStep`: each batch is split into support and query rows;
    for each task the variables take one inner step on that task's support
    loss and the task's query loss at the adapted variables drives the
    update (first-order MAML). `model.fit` runs it as it is; with
    `meta_learning=False` the model trains with the plain step.

    Args:
        features: SparseFeat / VarLenSparseFeat / DenseFeat specs (adapted).
        task_names: one output per task, named after it.
        task_types: "binary" / "regression" per task; default all binary.
        num_experts: number of shared experts.
        expert_units: widths of every expert's layers.
        num_critics: number of shared critics.
        critic_units: hidden widths of every critic before its output unit.
        task_embedding_dim: width of the task embeddings.
        meta_learning: train with `MetaLearningStep` (else the plain step).
        inner_learning_rate, support_fraction: of `MetaLearningStep`.
        activation, dropout, l2_reg, l2_reg_embedding, name: as in
            `SharedBottom` (dropout applies to the experts).

    Returns:
        A `MultiTaskModel` with outputs `{task: (batch, 1)}`; the experts
        are the last shared layer.

    Example:
    >>> feats = [SparseFeat("item", vocabulary_size=10), DenseFeat("price")]
    >>> model = MetaHeac(feats, num_experts=2, expert_units=(8,),
    ...                  critic_units=(4,))
    >>> type(model.training_procedure).__name__
    'MetaLearningStep'

    References:
        Zhu et al., "Learning to Expand Audience via Meta Hybrid Experts and
        Critics for Recommendation and Advertising", KDD 2021.
    """
    task_names, task_types = _builder.task_list(task_names, task_types)
    num_experts = _builder.count("num_experts", num_experts)
    expert_units = _builder.widths("expert_units", expert_units, allow_empty=False)
    num_critics = _builder.count("num_critics", num_critics)
    critic_units = _builder.widths("critic_units", critic_units)
    task_embedding_dim = _builder.count("task_embedding_dim", task_embedding_dim)
    procedure = None
    if meta_learning:
        procedure = MetaLearningStep(inner_learning_rate, support_fraction)
    kernel_reg = _builder.regularizer(l2_reg)
    inputs, x = _builder.bottom(features, l2_reg_embedding)
    experts = ExpertLayer(
        num_experts,
        expert_units,
        activation=activation,
        dropout=dropout,
        kernel_regularizer=kernel_reg,
        name="experts",
    )(x)  # (B, E, units)
    scores = MetaHeacLayer(
        len(task_names),
        num_critics=num_critics,
        critic_units=critic_units,
        task_embedding_dim=task_embedding_dim,
        activation=activation,
        kernel_regularizer=kernel_reg,
        name="hybrid_experts_critics",
    )([x, experts])  # (B, T, 1)
    per_task = TaskSplit(len(task_names), name="task_split")(scores)  # T × (B, 1)
    outputs = {
        task: tf.keras.layers.Activation(  # float32 outputs under mixed precision too
            "sigmoid" if task_type == "binary" else "linear", name=task, dtype="float32"
        )(score)
        for task, task_type, score in zip(task_names, task_types, per_task)
    }
    return _builder.model(
        inputs,
        outputs,
        task_names,
        task_types,
        name,
        experts,
        training_procedure=procedure,
        features=features,
    )
