"""The body MMoE and OMoE share: fused experts, mixed by one gate per task or one for all."""

from keras_mtl.layers.expert_layer import ExpertLayer
from keras_mtl.layers import _gates
from keras_mtl.models import _builder


def mixture_of_experts(features, *, per_task_gates, task_names, task_types, num_experts,
                       expert_units, gate_units, tower_units, activation, dropout, l2_reg,
                       l2_reg_embedding, task_dependencies, name, gate="softmax", k=2):
    """Builds MMoE (`per_task_gates=True`) or OMoE; the arguments are theirs.

    The experts are one `ExpertLayer` named "experts" (the model's shared
    layer). With `per_task_gates` every task has its own `GateLayer`
    (`gate_<task>`), else one `GateLayer` ("gate") gives the mixture every
    tower reads. `gate` ("softmax" or "dselect_k", with `k`) picks the
    gates' kind (see `keras_mtl.layers.DSelectKGate`).
    """
    towers = _builder.tower_args(task_names, task_types, task_dependencies, tower_units,
                                 activation, dropout, l2_reg)
    num_experts = _builder.count("num_experts", num_experts)
    expert_units = _builder.widths("expert_units", expert_units, allow_empty=False)
    gate_units = _builder.widths("gate_units", gate_units)
    gate, k = _gates.checked(gate, k)
    inputs, x = _builder.bottom(features, l2_reg_embedding)
    experts = ExpertLayer(num_experts, expert_units, activation=activation, dropout=dropout,
                          kernel_regularizer=towers.kernel_reg,
                          name="experts")(x)  # (B, E, units)

    def mixture(gate_name):  # (B, units)
        return _gates.make_gate(gate, k, num_experts, gate_name, hidden_units=gate_units,
                                activation=activation,
                                kernel_regularizer=towers.kernel_reg)([x, experts])

    if per_task_gates:
        mixed = {task: mixture(f"gate_{task}") for task in towers.task_names}
    else:
        mixed = mixture("gate")
    return _builder.tower_model(inputs, mixed, towers, name, experts)
