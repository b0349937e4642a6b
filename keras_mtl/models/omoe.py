"""OMoE: one-gate mixture of experts."""

from keras_mtl.models._mixture_of_experts import mixture_of_experts


def OMoE(
    features,
    task_names=("ctr", "cvr"),
    task_types=None,
    num_experts=8,
    expert_units=(256, 128),
    gate_units=(),
    tower_units=(64,),
    activation="relu",
    dropout=0.0,
    l2_reg=0.0,
    l2_reg_embedding=0.0,
    task_dependencies=None,
    name="omoe",
    load_balance=0.0,
    expert_normalization=None,
):
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
