"""NumPy re-implementations of the expert-routing layers, one expert at a time.

They read a built layer's variables by attribute and recompute its formula
with explicit loops over experts, gates and connections, independently of
the fused einsums the layers use. Activations are relu (the layers' default)
unless stated.
"""

import numpy as np

# Hard-concrete constants of the SPEC (Louizos et al.).
BETA, GAMMA, ZETA = 2.0 / 3.0, -0.1, 1.1


def relu(z):
    return np.maximum(z, 0.0)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def hard_concrete_estimator(log_alpha, gamma=GAMMA, zeta=ZETA):
    """The inference gates `min(1, max(0, sigmoid(log α)(ζ − γ) + γ))`."""
    return np.clip(sigmoid(np.asarray(log_alpha)) * (zeta - gamma) + gamma, 0.0, 1.0)


def expected_l0(log_alpha, beta=BETA, gamma=GAMMA, zeta=ZETA):
    """`Σ P(z ≠ 0) = Σ sigmoid(log α − β log(−γ/ζ))`."""
    return float(np.sum(sigmoid(np.asarray(log_alpha) - beta * np.log(-gamma / zeta))))


def expert_weights(level, expert):
    """[(kernel, bias)] of one expert of a PLELayer, per depth."""
    layers = level.expert_layers
    if level.first_level:  # ExpertLayer: (d, E·u0) then (E, u, u')
        fused = layers[0]
        out = []
        for depth, units in enumerate(level.expert_units):
            kernel = fused.kernels[depth].numpy()
            bias = fused.biases[depth].numpy()
            if depth == 0:
                cols = slice(expert * units, (expert + 1) * units)
                out.append((kernel[:, cols], bias[cols]))
            else:
                out.append((kernel[expert], bias[expert]))
        return out
    return [(l.kernel.numpy()[expert], l.bias.numpy()[expert]) for l in layers]


def gate_mixture(gate, h, expert_outputs):
    """Σ_i softmax(GateLayer(h))_i · expert_outputs[i], gate by gate."""
    if gate.hidden is not None:
        for dense in gate.hidden.dense_layers:
            h = relu(h @ dense.kernel.numpy() + dense.bias.numpy())
    g = softmax(h @ gate.logits.kernel.numpy() + gate.logits.bias.numpy())  # (B, n)
    return sum(g[:, i : i + 1] * out for i, out in enumerate(expert_outputs))


def ple_level(level, x):
    """A PLELayer's output: x is (B, d) on the first level, else (B, T + 1, d)."""
    tasks, counts = level.num_tasks, level.num_specific_experts
    owners = [k for k, m in enumerate(counts) for _ in range(m)]
    owners += [tasks] * level.num_shared_experts  # the shared branch
    experts = []
    for e, owner in enumerate(owners):
        h = x if x.ndim == 2 else x[:, owner]
        for kernel, bias in expert_weights(level, e):
            h = relu(h @ kernel + bias)
        experts.append(h)
    shared = [e for e, owner in enumerate(owners) if owner == tasks]
    branch = (lambda k: x) if x.ndim == 2 else (lambda k: x[:, k])
    outputs = []
    for k, gate in enumerate(level.task_gates):
        own = [e for e, owner in enumerate(owners) if owner == k] + shared
        outputs.append(gate_mixture(gate, branch(k), [experts[e] for e in own]))
    if level.shared_gate:
        outputs.append(gate_mixture(level.shared_gate_layer, branch(tasks), experts))
    return np.stack(outputs, axis=1)


def snr_trans(layer, u, z, activation=lambda v: v):
    """`v_i = act(Σ_j z_ij W_ij u_j + b_i)`; z is (M, N) or per row (B, M, N)."""
    kernel = layer.kernel.numpy()  # (M, N, d, units)
    z = np.broadcast_to(z, (u.shape[0],) + kernel.shape[:2])
    outputs = []
    for i in range(kernel.shape[0]):
        v = sum(z[:, i, j : j + 1] * (u[:, j] @ kernel[i, j]) for j in range(kernel.shape[1]))
        if layer.bias is not None:
            v = v + layer.bias.numpy()[i]
        outputs.append(activation(v))
    return np.stack(outputs, axis=1)


def snr_avg(u, z):
    """`v_i = Σ_j z_ij u_j`; z is (M, N) or per row (B, M, N)."""
    z = np.broadcast_to(z, (u.shape[0],) + np.shape(z)[-2:])
    return np.stack(
        [sum(z[:, i, j : j + 1] * u[:, j] for j in range(u.shape[1])) for i in range(z.shape[1])],
        axis=1,
    )


def cross_stitch(alpha, columns):
    """`x̃_k = Σ_j α_kj x_j` over stacked columns (B, T, units)."""
    tasks = columns.shape[1]
    return np.stack(
        [sum(alpha[k, j] * columns[:, j] for j in range(tasks)) for k in range(tasks)], axis=1
    )


def redraw_specific_experts(level, task, seed=3):
    """Draws new values for every weight of `task`'s specific experts on one
    `PLELayer` (the other experts and the gates keep theirs)."""
    rng = np.random.default_rng(seed)
    first = sum(level.num_specific_experts[:task])
    own = list(range(first, first + level.num_specific_experts[task]))
    if level.first_level:
        fused = level.expert_layers[0]
        for depth, units in enumerate(level.expert_units):
            kernel, bias = fused.kernels[depth].numpy(), fused.biases[depth].numpy()
            for e in own:
                if depth == 0:
                    cols = slice(e * units, (e + 1) * units)
                    kernel[:, cols] = rng.normal(size=kernel[:, cols].shape)
                    bias[cols] = rng.normal(size=units)
                else:
                    kernel[e], bias[e] = rng.normal(size=kernel[e].shape), rng.normal(size=units)
            fused.kernels[depth].assign(kernel)
            fused.biases[depth].assign(bias)
    else:
        for layer in level.expert_layers:
            kernel, bias = layer.kernel.numpy(), layer.bias.numpy()
            for e in own:
                kernel[e] = rng.normal(size=kernel[e].shape)
                bias[e] = rng.normal(size=bias[e].shape)
            layer.kernel.assign(kernel)
            layer.bias.assign(bias)


def star_multiply(layer, h, slots, num_domains, linear_output=False):
    """A multiply-mode `StarTopology`, row by row: `h ← act(h (W ⊙ W_p) + b + b_p)`;
    a slot outside `[0, num_domains)` (the unseen domain) keeps `W, b`."""
    weights = layer.get_weights()
    depth = len(weights) // 4
    for i in range(depth):
        w, b, wd, bd = weights[4 * i : 4 * i + 4]
        out = []
        for row, p in zip(h, slots):
            kernel, bias = (w * wd[p], b + bd[p]) if p < num_domains else (w, b)
            out.append(row @ kernel + bias)
        h = np.stack(out)
        if not (linear_output and i == depth - 1):
            h = relu(h)
    return h
