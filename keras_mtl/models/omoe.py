"""OMoE: one-gate mixture of experts."""

from collections.abc import Callable
from collections.abc import Sequence
from typing import Literal
from typing import Optional
from typing import Union

from keras_mtl._types import FeatureSpec
from keras_mtl._types import TaskDependencies
from keras_mtl._types import TaskTypes
from keras_mtl.models._mixture_of_experts import mixture_of_experts
from keras_mtl.training.multi_task_model import MultiTaskModel


def OMoE(
    features: Sequence[FeatureSpec],
    task_names: Sequence[str] = ("ctr", "cvr"),
    task_types: TaskTypes = None,
    num_experts: int = 8,
    expert_units: Sequence[int] = (256, 128),
    gate_units: Sequence[int] = (),
    tower_units: Sequence[int] = (64,),
    activation: Union[str, Callable] = "relu",
    dropout: float = 0.0,
    l2_reg: float = 0.0,
    l2_reg_embedding: float = 0.0,
    task_dependencies: TaskDependencies = None,
    name: str = "omoe",
    load_balance: float = 0.0,
    expert_normalization: Optional[Literal["batch", "layer"]] = None,
) -> MultiTaskModel:
    """Builds OMoE: `y_k = tower_k(Σ_i softmax(g(x))_i · f_i(x))`, one gate.

    Like `MMoE` but all tasks read the same mixture (one `GateLayer` named
    "gate").

    Args:
        Same as `MMoE` (which also has `gate` and `k`).

    Returns:
        A `MultiTaskModel` with outputs `{task: (batch, 1)}`; its shared layer
        is the experts, `experts`.

    Example:
    >>> feats = [SparseFeat("item", vocabulary_size=10), DenseFeat("price")]
    >>> model = OMoE(feats, task_names=("ctr", "cvr"), num_experts=2,
    ...              expert_units=(8,), tower_units=(4,))
    >>> [layer.name for layer in model.layers if layer.name.startswith("gate")]
    ['gate']

    References:
        Ma et al., KDD 2018 (the OMoE baseline of the MMoE paper).
    """
    return mixture_of_experts(
        features,
        per_task_gates=False,
        task_names=task_names,
        task_types=task_types,
        num_experts=num_experts,
        expert_units=expert_units,
        gate_units=gate_units,
        tower_units=tower_units,
        activation=activation,
        dropout=dropout,
        l2_reg=l2_reg,
        l2_reg_embedding=l2_reg_embedding,
        task_dependencies=task_dependencies,
        name=name,
        load_balance=load_balance,
        expert_normalization=expert_normalization,
    )
