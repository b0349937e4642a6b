"""PLE: progressive layered extraction."""

from collections.abc import Callable
from collections.abc import Sequence
from typing import Literal
from typing import Union

from keras_mtl._types import FeatureSpec
from keras_mtl._types import TaskDependencies
from keras_mtl._types import TaskTypes
from keras_mtl.layers import _gates
from keras_mtl.layers.ple_layer import PLELayer
from keras_mtl.layers.task_split import TaskSplit
from keras_mtl.models import _builder
from keras_mtl.training.multi_task_model import MultiTaskModel


def PLE(
    features: Sequence[FeatureSpec],
    task_names: Sequence[str] = ("ctr", "cvr"),
    task_types: TaskTypes = None,
    num_levels: int = 2,
    num_specific_experts: Union[int, Sequence[int]] = 1,
    num_shared_experts: int = 1,
    expert_units: Sequence[int] = (256, 128),
    gate_units: Sequence[int] = (),
    tower_units: Sequence[int] = (64,),
    activation: Union[str, Callable] = "relu",
    dropout: float = 0.0,
    l2_reg: float = 0.0,
    l2_reg_embedding: float = 0.0,
    task_dependencies: TaskDependencies = None,
    name: str = "ple",
    gate: Literal["softmax", "dselect_k"] = "softmax",
    k: int = 2,
) -> MultiTaskModel:
    """Builds PLE: stacked extraction levels of task-specific and shared experts.

    Level j (a `PLELayer` named `extraction_<j>`) has `num_specific_experts`
    experts per task and `num_shared_experts` shared ones; task k's gate mixes
    its own and the shared experts, reading task k's output of level j − 1
    (x on level 1). On every level but the last a shared gate mixes all
    experts into the input of the next level's shared experts. The towers
    read the last level's task outputs: `y_k = tower_k(y_k^(L))`. With
    `num_levels=1` this is CGC.

    Args:
        features: SparseFeat / VarLenSparseFeat / DenseFeat specs (adapted).
        task_names: one output per task, named after it.
        task_types: "binary" / "regression" per task; default all binary.
        num_levels: number of extraction levels L.
        num_specific_experts: experts per task on every level (one int, or one
            per task).
        num_shared_experts: shared experts on every level.
        expert_units, gate_units, tower_units, gate, k: as in `MMoE`.
        activation, dropout, l2_reg, l2_reg_embedding, task_dependencies,
            name: as in `SharedBottom`.

    Returns:
        A `MultiTaskModel` with outputs `{task: (batch, 1)}`. Its shared layer
        is the last extraction level.

    Example:
    >>> feats = [SparseFeat("item", vocabulary_size=10), DenseFeat("price")]
    >>> model = PLE(feats, task_names=("ctr", "cvr"), num_levels=2,
    ...             expert_units=(8,), tower_units=(4,))
    >>> [layer.name for layer in model.layers if layer.name.startswith("extraction")]
    ['extraction_1', 'extraction_2']

    References:
        Tang et al., "Progressive Layered Extraction (PLE): A Novel Multi-Task
        Learning (MTL) Model for Personalized Recommendations", RecSys 2020.
    """
    towers = _builder.tower_args(
        task_names, task_types, task_dependencies, tower_units, activation, dropout, l2_reg
    )
    num_tasks = len(towers.task_names)
    num_levels = _builder.count("num_levels", num_levels)
    if not isinstance(num_specific_experts, int):
        num_specific_experts = _builder.widths(
            "num_specific_experts", num_specific_experts, allow_empty=False
        )
        if len(num_specific_experts) != num_tasks:
            raise ValueError(
                f"expected one specific expert count per task {towers.task_names}. "
                f"Received: num_specific_experts={num_specific_experts!r}"
            )
    else:
        num_specific_experts = _builder.count("num_specific_experts", num_specific_experts)
    num_shared_experts = _builder.count("num_shared_experts", num_shared_experts)
    expert_units = _builder.widths("expert_units", expert_units, allow_empty=False)
    gate_units = _builder.widths("gate_units", gate_units)
    gate, k = _gates.checked(gate, k)
    inputs, x = _builder.bottom(features, l2_reg_embedding)
    h = x  # (B, d) on level 1, then (B, T + 1, units): tasks, then shared
    for level in range(1, num_levels + 1):
        h = PLELayer(
            num_tasks,
            num_specific_experts=num_specific_experts,
            num_shared_experts=num_shared_experts,
            expert_units=expert_units,
            gate_units=gate_units,
            shared_gate=level < num_levels,
            activation=activation,
            dropout=dropout,
            kernel_regularizer=towers.kernel_reg,
            gate=gate,
            k=k,
            name=f"extraction_{level}",
        )(h)
    # the last level has no shared gate: (B, T, units)
    task_outputs = TaskSplit(num_tasks, name="task_split")(h)  # T × (B, units)
    return _builder.tower_model(inputs, task_outputs, towers, name, h, features=features)
