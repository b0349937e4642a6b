"""SNR: sub-network routing with learned, sparse connections."""

from collections.abc import Callable
from collections.abc import Sequence
from typing import Literal
from typing import Union

from keras_mtl._types import FeatureSpec
from keras_mtl._types import TaskDependencies
from keras_mtl._types import TaskTypes
from keras_mtl.layers.branch_dense import BranchDense
from keras_mtl.layers.expert_layer import ExpertLayer
from keras_mtl.layers.snr_avg_layer import SNRAvgLayer
from keras_mtl.layers.snr_trans_layer import SNRTransLayer
from keras_mtl.layers.task_split import TaskSplit
from keras_mtl.models import _builder
from keras_mtl.training.multi_task_model import MultiTaskModel

VARIANTS = ("trans", "avg")


def SNR(
    features: Sequence[FeatureSpec],
    task_names: Sequence[str] = ("ctr", "cvr"),
    task_types: TaskTypes = None,
    variant: Literal["trans", "avg"] = "trans",
    num_subnetworks: Union[int, Sequence[int]] = 4,
    subnetwork_units: Sequence[int] = (128, 64),
    tower_units: Sequence[int] = (64,),
    l0_coefficient: float = 1e-3,
    activation: Union[str, Callable] = "relu",
    dropout: float = 0.0,
    l2_reg: float = 0.0,
    l2_reg_embedding: float = 0.0,
    task_dependencies: TaskDependencies = None,
    name: str = "snr",
) -> MultiTaskModel:
    """Builds SNR: layers of sub-networks joined by hard-concrete coded connections.

    Layer 1 holds `num_subnetworks` sub-networks reading x (`subnetworks_1`,
    an `ExpertLayer`). Between layer l − 1 and layer l, and from the last layer
    to the task towers (`task_connections`), every pair is joined by a
    connection with a `HardConcreteGate` z_ij:
    "trans" (SNR-Trans): `v_i = act(Σ_j z_ij W_ij u_j + b_i)` (`SNRTransLayer`
    named `subnetworks_<l>`); "avg" (SNR-Avg): `v_i = Σ_j z_ij u_j`
    (`SNRAvgLayer` named `connections_<l>`) followed by each sub-network's own
    dense layer (`BranchDense` named `subnetworks_<l>`). Every connection layer
    adds `l0_coefficient · Σ P(z_ij ≠ 0)` to the model loss; at inference the
    gates are deterministic.

    Args:
        features: SparseFeat / VarLenSparseFeat / DenseFeat specs (adapted).
        task_names: one output per task, named after it.
        task_types: "binary" / "regression" per task; default all binary.
        variant: "trans" or "avg".
        num_subnetworks: sub-networks per layer (one int, or one per entry of
            `subnetwork_units`).
        subnetwork_units: output width of the sub-networks of each layer.
        tower_units: widths of every task tower (may be empty).
        l0_coefficient: λ of the expected-L0 penalty of every gate.
        activation, dropout, l2_reg, l2_reg_embedding, task_dependencies,
            name: as in `SharedBottom` (dropout after the sub-network layers
            and in the towers).

    Returns:
        A `MultiTaskModel` with outputs `{task: (batch, 1)}`. Its shared layer
        is the last sub-network layer.

    Example:
    >>> feats = [SparseFeat("item", vocabulary_size=10), DenseFeat("price")]
    >>> model = SNR(feats, task_names=("ctr", "cvr"), variant="avg",
    ...             num_subnetworks=3, subnetwork_units=(8, 6), tower_units=(4,))
    >>> tuple(model.get_layer("task_connections").gate.log_alpha.shape)
    (2, 3)

    References:
        Ma et al., "SNR: Sub-Network Routing for Flexible Parameter Sharing
        in Multi-Task Learning", AAAI 2019.
    """
    towers = _builder.tower_args(
        task_names, task_types, task_dependencies, tower_units, activation, dropout, l2_reg
    )
    num_tasks = len(towers.task_names)
    if variant not in VARIANTS:
        raise ValueError(f"expected variant in {VARIANTS}. Received: variant={variant!r}")
    subnetwork_units = _builder.widths("subnetwork_units", subnetwork_units, allow_empty=False)
    if isinstance(num_subnetworks, int):
        num_subnetworks = (_builder.count("num_subnetworks", num_subnetworks),) * len(
            subnetwork_units
        )
    num_subnetworks = _builder.widths("num_subnetworks", num_subnetworks, allow_empty=False)
    if len(num_subnetworks) != len(subnetwork_units):
        raise ValueError(
            "expected one sub-network count per layer of subnetwork_units "
            f"{subnetwork_units}. Received: num_subnetworks={num_subnetworks!r}"
        )
    kernel_reg = towers.kernel_reg
    inputs, x = _builder.bottom(features, l2_reg_embedding)
    gate_args = dict(l0_coefficient=l0_coefficient)

    def connect(count, units, layer_name):
        if variant == "trans":
            return SNRTransLayer(
                count,
                units,
                activation=activation,
                kernel_regularizer=kernel_reg,
                name=layer_name,
                **gate_args,
            )
        return SNRAvgLayer(count, name=layer_name, **gate_args)

    h = ExpertLayer(
        num_subnetworks[0],
        subnetwork_units[:1],
        activation=activation,
        dropout=dropout,
        kernel_regularizer=kernel_reg,
        name="subnetworks_1",
    )(x)  # (B, N_1, units_1)
    for level in range(1, len(subnetwork_units)):
        count, units = num_subnetworks[level], subnetwork_units[level]
        if variant == "trans":
            h = connect(count, units, f"subnetworks_{level + 1}")(h)  # (B, N_l, units_l)
        else:
            h = connect(count, units, f"connections_{level + 1}")(h)  # (B, N_l, units_l-1)
            h = BranchDense(
                units,
                activation=activation,
                dropout=dropout,
                kernel_regularizer=kernel_reg,
                name=f"subnetworks_{level + 1}",
            )(h)  # (B, N_l, units_l)
    shared = h
    tasks = connect(num_tasks, subnetwork_units[-1], "task_connections")(h)  # (B, T, u)
    task_outputs = TaskSplit(num_tasks, name="task_split")(tasks)  # T × (B, u)
    return _builder.tower_model(inputs, task_outputs, towers, name, shared, features=features)
