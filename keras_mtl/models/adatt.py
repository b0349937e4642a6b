"""AdaTT: adaptive task-to-task fusion."""

from collections.abc import Callable
from collections.abc import Sequence
from typing import Union

from keras_mtl._types import FeatureSpec
from keras_mtl._types import TaskDependencies
from keras_mtl._types import TaskTypes
from keras_mtl.layers.adatt_layer import AdaTTLayer
from keras_mtl.layers.task_split import TaskSplit
from keras_mtl.models import _builder
from keras_mtl.training.multi_task_model import MultiTaskModel


def AdaTT(
    features: Sequence[FeatureSpec],
    task_names: Sequence[str] = ("ctr", "cvr"),
    task_types: TaskTypes = None,
    num_levels: int = 2,
    num_task_experts: int = 1,
    num_shared_experts: int = 0,
    expert_units: Sequence[int] = (256, 128),
    gate_units: Sequence[int] = (),
    tower_units: Sequence[int] = (64,),
    self_residual: bool = True,
    activation: Union[str, Callable] = "relu",
    dropout: float = 0.0,
    l2_reg: float = 0.0,
    l2_reg_embedding: float = 0.0,
    task_dependencies: TaskDependencies = None,
    name: str = "adatt",
) -> MultiTaskModel:
    """Builds AdaTT: stacked fusion levels `f_t = g_t · O + Σ_j w_{t,j} E_{t,j}(x_t)`.

    Level j (an `AdaTTLayer` named `fusion_<j>`) has `num_task_experts`
    experts per task reading the task's input of level j − 1 (x on level 1);
    task t's gate mixes all experts of the level and adds the residual of its
    own experts. With `num_shared_experts > 0` (the paper's AdaTT with shared
    experts; 0 is AdaTT-sp) shared experts join O, and on every level but the
    last a shared module (a gate over all experts plus its own residual)
    feeds the next level's shared experts. Towers read the last level:
    `y_t = tower_t(f_t^(L))`.

    Args:
        features: SparseFeat / VarLenSparseFeat / DenseFeat specs (adapted).
        task_names: one output per task, named after it.
        task_types: "binary" / "regression" per task; default all binary.
        num_levels: number of fusion levels L.
        num_task_experts: experts per task on every level.
        num_shared_experts: shared experts on every level (0: none).
        expert_units, gate_units, tower_units: as in `MMoE` (the paper's
            gates are linear).
        self_residual: add each task's residual of its own experts.
        activation, dropout, l2_reg, l2_reg_embedding, task_dependencies,
            name: as in `SharedBottom`.

    Returns:
        A `MultiTaskModel` with outputs `{task: (batch, 1)}`; its shared
        layer is the last fusion level.

    Example:
    >>> feats = [SparseFeat("item", vocabulary_size=10), DenseFeat("price")]
    >>> model = AdaTT(feats, task_names=("ctr", "cvr"), num_shared_experts=1,
    ...               expert_units=(8,), tower_units=(4,))
    >>> [layer.name for layer in model.layers if layer.name.startswith("fusion")]
    ['fusion_1', 'fusion_2']

    References:
        Li et al., "AdaTT: Adaptive Task-to-Task Fusion Network for Multitask
        Learning in Recommendations", KDD 2023.
    """
    towers = _builder.tower_args(
        task_names, task_types, task_dependencies, tower_units, activation, dropout, l2_reg
    )
    num_tasks = len(towers.task_names)
    num_levels = _builder.count("num_levels", num_levels)
    num_task_experts = _builder.count("num_task_experts", num_task_experts)
    if (
        isinstance(num_shared_experts, bool)
        or not isinstance(num_shared_experts, int)
        or (num_shared_experts < 0)
    ):
        raise ValueError(
            f"expected an integer >= 0. Received: num_shared_experts={num_shared_experts!r}"
        )
    expert_units = _builder.widths("expert_units", expert_units, allow_empty=False)
    gate_units = _builder.widths("gate_units", gate_units)
    inputs, x = _builder.bottom(features, l2_reg_embedding)
    h = x  # (B, d) on level 1, then (B, T (+ 1), units): tasks (then shared)
    for level in range(1, num_levels + 1):
        h = AdaTTLayer(
            num_tasks,
            num_task_experts=num_task_experts,
            num_shared_experts=num_shared_experts,
            expert_units=expert_units,
            gate_units=gate_units,
            shared_gate=level < num_levels,
            self_residual=self_residual,
            activation=activation,
            dropout=dropout,
            kernel_regularizer=towers.kernel_reg,
            name=f"fusion_{level}",
        )(h)
    # the last level has no shared module: (B, T, units)
    task_outputs = TaskSplit(num_tasks, name="task_split")(h)  # T × (B, units)
    return _builder.tower_model(inputs, task_outputs, towers, name, h, features=features)
