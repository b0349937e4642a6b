"""HoME: hierarchy of multi-gate experts (Kuaishou)."""

from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Literal
from typing import Optional
from typing import Union

from keras_mtl._types import FeatureSpec
from keras_mtl._types import TaskDependencies
from keras_mtl._types import TaskTypes
from keras_mtl.layers.home_layer import HoMELayer
from keras_mtl.layers.task_split import TaskSplit
from keras_mtl.models import _builder
from keras_mtl.training.multi_task_model import MultiTaskModel


def HoME(
    features: Sequence[FeatureSpec],
    task_names: Sequence[str] = ("ctr", "cvr"),
    task_types: TaskTypes = None,
    task_categories: Optional[Union[Mapping[str, Sequence[str]], Sequence[str]]] = None,
    num_shared_experts: int = 1,
    num_category_experts: int = 1,
    num_task_experts: int = 1,
    expert_units: Sequence[int] = (256, 128),
    gate_units: Sequence[int] = (),
    tower_units: Sequence[int] = (64,),
    normalization: Literal["batch", "layer"] = "batch",
    feature_gate_rank: int = 8,
    self_gate: bool = True,
    activation: Union[str, Callable] = "relu",
    dropout: float = 0.0,
    l2_reg: float = 0.0,
    l2_reg_embedding: float = 0.0,
    task_dependencies: TaskDependencies = None,
    name: str = "home",
) -> MultiTaskModel:
    """Builds HoME: normalised Swish experts in a category → task hierarchy.

    One `HoMELayer` ("home"): meta experts (global shared and per task
    category, each reading its own feature-gated view of x) give the shared
    and category representations `z_s`, `z_c`; task t's gate reads
    `[z_s ; z_c(t)]` over the task-level shared, category and own experts,
    plus a self-gated residual of its own experts; `y_t = tower_t(f_t)`.

    Args:
        features: SparseFeat / VarLenSparseFeat / DenseFeat specs (adapted).
        task_names: one output per task, named after it.
        task_types: "binary" / "regression" per task; default all binary.
        task_categories: `{category: [tasks]}` or one category name per task;
            None puts every task in a category of its own.
        num_shared_experts, num_category_experts, num_task_experts,
            normalization, feature_gate_rank, self_gate: as in `HoMELayer`.
        expert_units, gate_units, tower_units: as in `MMoE` (the experts of
            both levels have `expert_units`).
        activation: activation of the towers (the experts use Swish).
        dropout, l2_reg, l2_reg_embedding, task_dependencies, name: as in
            `SharedBottom`.

    Returns:
        A `MultiTaskModel` with outputs `{task: (batch, 1)}`; its shared
        layer is "home".

    Example:
    >>> feats = [SparseFeat("item", vocabulary_size=10), DenseFeat("price")]
    >>> model = HoME(feats, task_names=("ctr", "like", "watch_time"),
    ...              task_types={"watch_time": "regression"},
    ...              task_categories={"interaction": ["ctr", "like"],
    ...                               "watch": ["watch_time"]},
    ...              expert_units=(8,), tower_units=(4,))
    >>> model.get_layer("home").categories
    ('interaction', 'watch')

    References:
        Wang et al., "HoME: Hierarchy of Multi-Gate Experts for Multi-Task
        Learning at Kuaishou", arXiv 2408.05430 (2024).
    """
    towers = _builder.tower_args(
        task_names, task_types, task_dependencies, tower_units, activation, dropout, l2_reg
    )
    categories = _categories(towers.task_names, task_categories)
    expert_units = _builder.widths("expert_units", expert_units, allow_empty=False)
    gate_units = _builder.widths("gate_units", gate_units)
    inputs, x = _builder.bottom(features, l2_reg_embedding)
    h = HoMELayer(
        categories,
        num_shared_experts=num_shared_experts,
        num_category_experts=num_category_experts,
        num_task_experts=num_task_experts,
        expert_units=expert_units,
        gate_units=gate_units,
        normalization=normalization,
        feature_gate_rank=feature_gate_rank,
        self_gate=self_gate,
        dropout=dropout,
        kernel_regularizer=towers.kernel_reg,
        name="home",
    )(x)  # (B, T, u)
    task_outputs = TaskSplit(len(towers.task_names), name="task_split")(h)  # T × (B, u)
    return _builder.tower_model(inputs, task_outputs, towers, name, h, features=features)


def _categories(task_names, task_categories):
    """One category name per task from the builder's `task_categories`."""
    if task_categories is None:
        return tuple(task_names)
    if isinstance(task_categories, dict):
        of = {}
        for category, tasks in task_categories.items():
            for task in (tasks,) if isinstance(tasks, str) else tasks:
                if task not in task_names or task in of:
                    raise ValueError(
                        f"task_categories must put each task of {list(task_names)} in "
                        f"exactly one category. Received {task!r} in {category!r}: "
                        f"task_categories={task_categories!r}"
                    )
                of[task] = str(category)
        missing = [t for t in task_names if t not in of]
        if missing:
            raise ValueError(
                f"task_categories leaves tasks {missing} without a category. "
                f"Received: task_categories={task_categories!r}"
            )
        return tuple(of[t] for t in task_names)
    categories = (task_categories,) if isinstance(task_categories, str) else tuple(task_categories)
    if len(categories) != len(task_names):
        raise ValueError(
            f"expected one category per task {list(task_names)}. "
            f"Received: task_categories={task_categories!r}"
        )
    return categories
