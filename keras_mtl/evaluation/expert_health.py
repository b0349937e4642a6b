"""Expert health of a gated model: gate entropy, utilisation, dead units.

Collapsed experts are the failure HoME was written against: one expert takes
(almost) all of a gate's weight, or most of an expert's ReLU outputs are
zero. Three numbers show it, computed over some rows:

- per gate row (a task's gate, a shared gate): the mean entropy of its
  weights `H = −Σ_e g_e log g_e` and `H / log n` (1 = uniform over its n
  routable experts, 0 = one expert always), and each expert's utilisation,
  its mean gate weight;
- per expert: the fraction of its outputs that are zero (`|v| ≤ 1e-6`;
  exact zeros for ReLU) and the fraction of its units that are zero on every
  row ("dead" units, which receive no gradient).

Layers are found by their methods, as `keras-mtl plot-gates` does:
`gate_weights(inputs, task_names=None, training=False)` (the `GateGroup`
protocol) and `expert_outputs(inputs, task_names=None, training=False)`,
which returns `[(title, columns, (batch, E, units) tensor)]` (`ExpertLayer`,
`PLELayer`, `HoMELayer`). A probe sub-model maps the model's inputs to
those layers' inputs; the layers then compute with their own variables.
"""

import numpy as np
import tensorflow as tf

#: What counts as a zero output (Swish and normalised experts are rarely exactly 0).
ZERO = 1e-6


def _flat(structure):
    return list(structure) if isinstance(structure, (list, tuple)) else [structure]


def probed_layers(model):
    """`(gated, expert)` layers of `model`, each in layer order."""
    gated = [l for l in model.layers if callable(getattr(l, "gate_weights", None))]
    experts = [l for l in model.layers if callable(getattr(l, "expert_outputs", None))]
    return gated, experts


def _layer_inputs(layer, values):
    return values if isinstance(layer.input, (list, tuple)) else values[0]


def expert_health(model, x, batch_size=1024):
    """The expert health of `model` over the rows `x`.

    Args:
        model: a keras_mtl model with gates or experts (MMoE, OMoE, CGC, PLE,
            MetaHeac, HoME and their DSelect-k variants).
        x: `{input name: array}` rows (`keras_mtl.data.features_to_arrays`).
        batch_size: rows per forward pass.

    Returns:
        `{"rows", "gates": [...], "experts": [...]}`. Each gate table is
        `{"title", "rows", "columns", "utilisation" (rows × columns, NaN where
        a row cannot route), "entropy" (per row), "normalized_entropy"}`;
        each expert group `{"title", "columns", "zero_fraction" (per expert),
        "dead_fraction" (per expert)}`.

    Example:
    >>> feats = [SparseFeat("item", vocabulary_size=10), DenseFeat("price")]
    >>> model = keras_mtl.MMoE(feats, num_experts=2, expert_units=(4,), tower_units=())
    >>> rows = {"item": np.arange(8) % 10, "price": np.linspace(0, 1, 8).astype("float32")}
    >>> health = expert_health(model, rows)
    >>> [g["rows"] for g in health["gates"]], health["experts"][0]["columns"]
    ([['ctr', 'cvr']], ['expert 0', 'expert 1'])
    """
    gated, expert_layers = probed_layers(model)
    if not gated and not expert_layers:
        raise ValueError(
            f"model {model.name!r} has no layer with gate_weights or "
            "expert_outputs: expected a gated model (MMoE, OMoE, CGC, PLE, "
            "MetaHeac, HoME)."
        )
    layers = gated + [l for l in expert_layers if l not in gated]
    task_names = tuple(getattr(model, "task_names", ())) or tuple(model.output_names)
    probe = tf.keras.Model(model.input, [t for l in layers for t in _flat(l.input)])
    total = len(next(iter(x.values())))
    gate_sums, entropy_sums, zero_sums, alive, meta = None, None, None, None, {}
    for start in range(0, total, batch_size):
        batch = {k: tf.constant(v[start : start + batch_size]) for k, v in x.items()}
        values, offset, groups, outputs = _flat(probe(batch, training=False)), 0, [], []
        for layer in layers:
            count = len(_flat(layer.input))
            inputs = _layer_inputs(layer, values[offset : offset + count])
            offset += count
            if layer in gated:
                groups += layer.gate_weights(inputs, task_names=task_names, training=False)
            if layer in expert_layers:
                outputs += layer.expert_outputs(inputs, task_names=task_names, training=False)
        weights = [np.asarray(g.weights, "float64") for g in groups]  # (B, rows, cols)
        entropy = [np.nansum(-w * np.log(np.where(w > 0, w, 1.0)), axis=-1) for w in weights]
        zeros = [np.abs(np.asarray(v, "float64")) <= ZERO for _, _, v in outputs]  # (B, E, u)
        batch_gates = [w.sum(axis=0) for w in weights]
        batch_entropy = [h.sum(axis=0) for h in entropy]
        batch_zero = [z.sum(axis=(0, 2)) / z.shape[2] for z in zeros]
        batch_alive = [~z.all(axis=0) for z in zeros]  # (E, u): non-zero on some row
        if gate_sums is None:
            gate_sums, entropy_sums, zero_sums, alive = (
                batch_gates,
                batch_entropy,
                batch_zero,
                batch_alive,
            )
            meta = {"gates": groups, "experts": outputs}
        else:
            gate_sums = [a + b for a, b in zip(gate_sums, batch_gates)]
            entropy_sums = [a + b for a, b in zip(entropy_sums, batch_entropy)]
            zero_sums = [a + b for a, b in zip(zero_sums, batch_zero)]
            alive = [a | b for a, b in zip(alive, batch_alive)]
    gates = []
    for group, sums, entropy in zip(meta["gates"], gate_sums, entropy_sums):
        routable = np.sum(~np.isnan(sums), axis=-1)  # (rows,)
        mean_entropy = entropy / total
        gates.append(
            {
                "title": group.title,
                "rows": list(group.rows),
                "columns": list(group.columns),
                "utilisation": sums / total,
                "entropy": mean_entropy,
                "normalized_entropy": mean_entropy / np.log(np.maximum(routable, 2)),
            }
        )
    gates = _merged(gates)
    experts = [
        {
            "title": title,
            "columns": list(columns),
            "zero_fraction": zero / total,
            "dead_fraction": 1.0 - live.mean(axis=1),
        }
        for (title, columns, _), zero, live in zip(meta["experts"], zero_sums, alive)
    ]
    return {"rows": total, "gates": gates, "experts": experts}


def _merged(gates):
    """Consecutive tables with the same title and columns (MMoE's per-task
    gates) as one table."""
    merged = []
    for g in gates:
        if merged and (merged[-1]["title"], merged[-1]["columns"]) == (g["title"], g["columns"]):
            last = merged[-1]
            last["rows"] = last["rows"] + g["rows"]
            for key in ("utilisation", "entropy", "normalized_entropy"):
                last[key] = np.concatenate([last[key], g[key]])
        else:
            merged.append(dict(g))
    return merged


def summary_logs(health):
    """Flat `{name: float}` of a health report, for training logs.

    `gate_entropy_<row>` (normalised, per gate row; prefixed by the table
    title where rows repeat across tables), `expert_max_utilisation` (the
    largest mean weight any gate gives one expert), `expert_zero_fraction`
    and `expert_dead_fraction` (means over every expert).
    """
    logs = {}
    rows = [row for g in health["gates"] for row in g["rows"]]
    for g in health["gates"]:
        for row, value in zip(g["rows"], g["normalized_entropy"]):
            key = row if rows.count(row) == 1 else f"{g['title']}_{row}"
            logs["gate_entropy_" + _slug(key)] = float(value)
    if health["gates"]:
        logs["expert_max_utilisation"] = float(
            max(np.nanmax(g["utilisation"]) for g in health["gates"])
        )
    if health["experts"]:
        logs["expert_zero_fraction"] = float(
            np.mean(np.concatenate([e["zero_fraction"] for e in health["experts"]]))
        )
        logs["expert_dead_fraction"] = float(
            np.mean(np.concatenate([e["dead_fraction"] for e in health["experts"]]))
        )
    return logs


def _slug(text):
    return "".join(c if c.isalnum() else "_" for c in str(text)).strip("_")


def as_json(health):
    """The report with arrays as lists (NaN as None), for JSON files."""

    def clean(value):
        if isinstance(value, np.ndarray):
            return [clean(v) for v in value.tolist()]
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, float) and np.isnan(value):
            return None
        return value

    return {
        "rows": health["rows"],
        "gates": [{k: clean(v) for k, v in g.items()} for g in health["gates"]],
        "experts": [{k: clean(v) for k, v in e.items()} for e in health["experts"]],
    }
