"""NumPy re-implementations of PEPNet's, STEM's and AdaTT's layers, from the formulas.

Each reads a built layer's variables and recomputes the paper's formula with
explicit loops over gates, towers, tasks and experts (SPEC.md, "Models beyond
the seeds"), independently of the fused matmuls the layers use. Activations
are relu (the layers' default).
"""

import numpy as np

from tests.routing_reference import relu
from tests.routing_reference import sigmoid
from tests.routing_reference import softmax


def gate_nu(layer, x):
    """`γ · sigmoid(W₂ ReLU(W₁ x + b₁) + b₂)` per gate: `(B, G, units)`, G = 1 if None."""
    gates, h = layer.num_gates or 1, layer.hidden_units
    k0, b0 = layer.kernel_0.numpy(), layer.bias_0.numpy()
    k1, b1 = layer.kernel_1.numpy(), layer.bias_1.numpy()
    out = []
    for g in range(gates):
        cols = slice(g * h, (g + 1) * h)  # gate g's hidden units
        hidden = relu(x @ k0[:, cols] + b0[cols])
        out.append(layer.gamma * sigmoid(hidden @ k1[g] + b1[g]))
    return np.stack(out, axis=1)


def epnet(layer, domain, embeddings):
    """`GateNU([domain ; E]) ⊙ E`."""
    gate = gate_nu(layer.gate, np.concatenate([domain, embeddings], axis=-1))[:, 0]
    return gate * embeddings


def ppnet(layer, embeddings, priors):
    """Task by task, layer by layer: `h ← relu(h W_{t,l} + b_{t,l}) ⊙ g_{t,l}([P ; E'])`."""
    gate_input = np.concatenate([priors, embeddings], axis=-1)
    gates = [gate_nu(g, gate_input) for g in layer.gates]  # per layer (B, T, u)
    out = []
    for t in range(layer.num_tasks):
        h = embeddings
        for i, width in enumerate(layer.units):
            kernel, bias = layer.kernels[i].numpy(), layer.biases[i].numpy()
            if i == 0:  # (d, T·u0): task t's columns
                kernel, bias = (
                    kernel[:, t * width : (t + 1) * width],
                    bias[t * width : (t + 1) * width],
                )
            else:
                kernel, bias = kernel[t], bias[t]
            h = relu(h @ kernel + bias) * gates[i][:, t]
        out.append(h)
    return np.stack(out, axis=1)  # (B, T, u)


def gate_mix(gate, h, experts):
    """`Σ_i softmax(gate(h))_i · experts[i]` for a linear `GateLayer`."""
    weights = softmax(h @ gate.logits.kernel.numpy() + gate.logits.bias.numpy())
    return sum(weights[:, i : i + 1] * e for i, e in enumerate(experts)), weights


def branch_expert(layers, expert, x):
    """One expert of a `BranchDense` stack on its input x."""
    for layer in layers:
        x = relu(x @ layer.kernel.numpy()[expert] + layer.bias.numpy()[expert])
    return x


def stem_level(layer, x):
    """`y_t = Σ_i softmax(G_t(x_t + x_s))_i e_i` per task (then the shared gate on x_s)."""
    t = layer.num_tasks
    owners = [k for k in range(t) for _ in range(layer.num_specific_experts)]
    owners += [t] * layer.num_shared_experts
    experts = [branch_expert(layer.expert_layers, i, x[:, b]) for i, b in enumerate(owners)]
    out = [gate_mix(layer.gates[k], x[:, k] + x[:, t], experts)[0] for k in range(t)]
    if layer.shared_gate:
        out.append(gate_mix(layer.gates[t], x[:, t], experts)[0])
    return np.stack(out, axis=1)


def adatt_level(layer, x, residual_weights):
    """`f_k = softmax(W_k x_k) · O + Σ_j w_{k,j} E_{k,j}(x_k)` per module.

    `residual_weights[k]` are module k's w_{k,j} (ones for the unit residual,
    zeros without it). Experts of a first level read x, deeper ones their
    own branch.
    """
    t, m, m_s = layer.num_tasks, layer.num_task_experts, layer.num_shared_experts
    owners = [k for k in range(t) for _ in range(m)] + [t] * m_s
    if layer.first_level:
        fused = layer.expert_layers[0]
        experts = []
        for i in range(len(owners)):
            h = x
            for depth, units in enumerate(fused.units):
                kernel, bias = fused.kernels[depth].numpy(), fused.biases[depth].numpy()
                if depth == 0:  # expert i's columns
                    cols = slice(i * units, (i + 1) * units)
                    kernel, bias = kernel[:, cols], bias[cols]
                else:
                    kernel, bias = kernel[i], bias[i]
                h = relu(h @ kernel + bias)
            experts.append(h)
        branch = [x] * layer.num_modules
    else:
        experts = [branch_expert(layer.expert_layers, i, x[:, b]) for i, b in enumerate(owners)]
        branch = [x[:, k] for k in range(layer.num_modules)]
    out = []
    for k in range(layer.num_modules):
        mixed, _ = gate_mix(layer.gates[k], branch[k], experts)
        own = [e for e, b in zip(experts, owners) if b == k]
        out.append(mixed + sum(w * e for w, e in zip(residual_weights[k], own)))
    return np.stack(out, axis=1)
