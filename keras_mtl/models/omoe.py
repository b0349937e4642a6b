"""OMoE: one-gate mixture of experts."""

from keras_mtl.layers.expert_layer import ExpertLayer
from keras_mtl.layers.gate_layer import GateLayer
from keras_mtl.models import _builder


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
):
    """Builds OMoE: `y_k = tower_k(Σ_i softmax(g(x))_i · f_i(x))`, one gate.

    Like `MMoE` but all tasks read the same mixture (one `GateLayer` named
    "gate").

    Args:
        Same as `MMoE`.

    Returns:
        A `MultiTaskModel` with outputs `{task: (batch, 1)}`.

    Example:
    >>> feats = [SparseFeat("item", vocabulary_size=10), DenseFeat("price")]
    >>> model = OMoE(feats, task_names=("ctr", "cvr"), num_experts=2,
    ...              expert_units=(8,), tower_units=(4,))
    >>> sorted(model.output_names)
    ['ctr', 'cvr']

    References:
        Ma et al., KDD 2018 (the OMoE baseline of the MMoE paper).
    """
    task_names, task_types = _builder.task_list(task_names, task_types)
    task_dependencies = _builder.dependencies(task_names, task_dependencies)
    num_experts = _builder.count("num_experts", num_experts)
    expert_units = _builder.widths("expert_units", expert_units, allow_empty=False)
    gate_units = _builder.widths("gate_units", gate_units)
    tower_units = _builder.widths("tower_units", tower_units)
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
    mixed = GateLayer(
        num_experts,
        hidden_units=gate_units,
        activation=activation,
        kernel_regularizer=kernel_reg,
        name="gate",
    )([x, experts])  # (B, units)
    outputs = _builder.towers(mixed, task_names, task_types, tower_units, activation,
                              dropout, kernel_reg, task_dependencies)
    return _builder.model(inputs, outputs, task_names, task_types, name, experts)
