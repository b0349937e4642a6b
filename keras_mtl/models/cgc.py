"""CGC: customized gate control, one level of task-specific and shared experts."""

from collections.abc import Callable
from collections.abc import Sequence
from typing import Literal
from typing import Union

from keras_mtl._types import FeatureSpec
from keras_mtl._types import TaskDependencies
from keras_mtl._types import TaskTypes
from keras_mtl.models.ple import PLE
from keras_mtl.training.multi_task_model import MultiTaskModel


def CGC(
    features: Sequence[FeatureSpec],
    task_names: Sequence[str] = ("ctr", "cvr"),
    task_types: TaskTypes = None,
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
    name: str = "cgc",
    gate: Literal["softmax", "dselect_k"] = "softmax",
    k: int = 2,
) -> MultiTaskModel:
    """Builds CGC: `y_k = tower_k(Σ_i softmax(g_k(x))_i · e_i)` over task k's
    own experts and the shared experts only.

    Task k has `num_specific_experts` experts of its own; `num_shared_experts`
    experts serve every task. Task k's gate never sees another task's
    specific experts, so they cannot change task k's prediction. This is `PLE`
    with one extraction level (a `PLELayer` named `extraction_1`, without a
    shared gate).

    Args:
        Same as `PLE`, which this is with `num_levels=1`.

    Returns:
        A `MultiTaskModel` with outputs `{task: (batch, 1)}`. Its shared layer
        is `extraction_1`.

    Example:
    >>> feats = [SparseFeat("item", vocabulary_size=10), DenseFeat("price")]
    >>> model = CGC(feats, task_names=("ctr", "cvr"), num_specific_experts=2,
    ...             expert_units=(8,), tower_units=(4,))
    >>> model.get_layer("extraction_1").num_experts  # 2 per task + 1 shared
    5

    References:
        Tang et al., "Progressive Layered Extraction (PLE): A Novel Multi-Task
        Learning (MTL) Model for Personalized Recommendations", RecSys 2020.
    """
    return PLE(
        features,
        task_names=task_names,
        task_types=task_types,
        num_levels=1,
        num_specific_experts=num_specific_experts,
        num_shared_experts=num_shared_experts,
        expert_units=expert_units,
        gate_units=gate_units,
        tower_units=tower_units,
        activation=activation,
        dropout=dropout,
        l2_reg=l2_reg,
        l2_reg_embedding=l2_reg_embedding,
        task_dependencies=task_dependencies,
        name=name,
        gate=gate,
        k=k,
    )
