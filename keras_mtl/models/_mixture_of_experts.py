"""The body MMoE and OMoE share: fused experts, mixed by one gate per task or one for all."""

import tensorflow as tf

from keras_mtl.layers import _gates
from keras_mtl.layers.expert_layer import ExpertLayer
from keras_mtl.layers.normalized_experts import NormalizedExperts
from keras_mtl.losses.load_balance_loss import LoadBalanceLoss
from keras_mtl.models import _builder


def mixture_of_experts(
    features,
    *,
    per_task_gates,
    task_names,
    task_types,
    num_experts,
    expert_units,
    gate_units,
    tower_units,
    activation,
    dropout,
    l2_reg,
    l2_reg_embedding,
    task_dependencies,
    name,
    gate="softmax",
    k=2,
    load_balance=0.0,
    expert_normalization=None,
):
    """Builds MMoE (`per_task_gates=True`) or OMoE; the arguments are theirs.

    The experts are one `ExpertLayer` named "experts" (the model's shared
    layer). With `per_task_gates` every task has its own `GateLayer`
    (`gate_<task>`), else one `GateLayer` ("gate") gives the mixture every
    tower reads. `gate` ("softmax" or "dselect_k", with `k`) picks the
    gates' kind (see `keras_mtl.layers.DSelectKGate`). With
    `load_balance > 0` the model also outputs `expert_load`, the mean of its
    gates' weights `(batch, E)`, and trains with a `LoadBalanceLoss` of that
    coefficient on it. With `expert_normalization` ("batch" or "layer") the
    experts are HoME's `NormalizedExperts` (normalisation + Swish) instead of
    ReLU MLPs.
    """
    towers = _builder.tower_args(
        task_names, task_types, task_dependencies, tower_units, activation, dropout, l2_reg
    )
    num_experts = _builder.count("num_experts", num_experts)
    expert_units = _builder.widths("expert_units", expert_units, allow_empty=False)
    gate_units = _builder.widths("gate_units", gate_units)
    gate, k = _gates.checked(gate, k)
    if not isinstance(load_balance, (int, float)) or load_balance < 0:
        raise ValueError(f"expected a number >= 0. Received: load_balance={load_balance!r}")
    inputs, x = _builder.bottom(features, l2_reg_embedding)
    if expert_normalization is None:
        experts = ExpertLayer(
            num_experts,
            expert_units,
            activation=activation,
            dropout=dropout,
            kernel_regularizer=towers.kernel_reg,
            name="experts",
        )(x)  # (B, E, units)
    else:
        experts = NormalizedExperts(
            num_experts,
            expert_units,
            normalization=expert_normalization,
            dropout=dropout,
            kernel_regularizer=towers.kernel_reg,
            name="experts",
        )(x)  # (B, E, units)

    gate_weights = []

    def mixture(gate_name):  # (B, units)
        layer = _gates.make_gate(
            gate,
            k,
            num_experts,
            gate_name,
            hidden_units=gate_units,
            activation=activation,
            kernel_regularizer=towers.kernel_reg,
            return_weights=bool(load_balance),
        )
        if not load_balance:
            return layer([x, experts])
        mixed, weights = layer([x, experts])  # (B, units), (B, E)
        gate_weights.append(weights)
        return mixed

    if per_task_gates:
        mixed = {task: mixture(f"gate_{task}") for task in towers.task_names}
    else:
        mixed = mixture("gate")
    if not load_balance:
        return _builder.tower_model(inputs, mixed, towers, name, experts, features=features)
    load = (
        tf.keras.layers.Average(name="expert_load")(gate_weights)
        if len(gate_weights) > 1
        else tf.keras.layers.Activation("linear", name="expert_load")(gate_weights[0])
    )
    return _builder.tower_model(
        inputs,
        mixed,
        towers,
        name,
        experts,
        extra_outputs={"expert_load": load},
        auxiliary_losses=[LoadBalanceLoss(load_balance)],
        features=features,
    )
