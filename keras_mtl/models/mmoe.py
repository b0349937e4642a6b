"""MMoE: multi-gate mixture of experts."""

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


def MMoE(
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
    name: str = "mmoe",
    gate: Literal["softmax", "dselect_k"] = "softmax",
    k: int = 2,
    load_balance: float = 0.0,
    expert_normalization: Optional[Literal["batch", "layer"]] = None,
) -> MultiTaskModel:
    """Builds MMoE: `y_k = tower_k(Σ_i softmax(g_k(x))_i · f_i(x))`.

    Experts `f_i` are identical MLPs with independent initialisation, computed
    fused in one `ExpertLayer`; every task has its own `GateLayer`.

    Args:
        features: SparseFeat / VarLenSparseFeat / DenseFeat specs (adapted).
        task_names: one output per task, named after it.
        task_types: "binary" / "regression" per task; default all binary.
        num_experts: number of experts.
        expert_units: widths of every expert's layers.
        gate_units: hidden widths of every gate before its softmax.
        gate: "softmax" (`GateLayer`) or "dselect_k" (`DSelectKGate`, which
            mixes at most `k` experts per row).
        k: selectors of a DSelect-k gate (ignored by softmax gates).
        load_balance: coefficient of a `LoadBalanceLoss` on the mean gate
            weights (0: none); the model then also outputs them as
            `expert_load` `(batch, num_experts)`.
        expert_normalization: None (ReLU experts, `ExpertLayer`), or "batch"
            / "layer": HoME's normalised Swish experts (`NormalizedExperts`),
            the recipe against dead experts (docs/benchmarks.md).
        tower_units: widths of every task tower (may be empty).
        activation, dropout, l2_reg, l2_reg_embedding, task_dependencies,
            name: as in `SharedBottom`.

    Returns:
        A `MultiTaskModel` with outputs `{task: (batch, 1)}`; gate layers are
        named `gate_<task>`.

    Example:
    >>> feats = [SparseFeat("item", vocabulary_size=10), DenseFeat("price")]
    >>> model = MMoE(feats, task_names=("ctr", "cvr"), num_experts=2,
    ...              expert_units=(8,), tower_units=(4,))
    >>> sorted(model.output_names)
    ['ctr', 'cvr']

    References:
        Ma et al., "Modeling Task Relationships in Multi-task Learning with
        Multi-gate Mixture-of-Experts", KDD 2018.
    """
    return mixture_of_experts(
        features,
        per_task_gates=True,
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
        gate=gate,
        k=k,
        load_balance=load_balance,
        expert_normalization=expert_normalization,
    )
