"""Gate weights of a trained model: how much each task uses each expert.

A probe sub-model maps the model's inputs to the inputs of its gating
layers; copies of those layers built with `return_weights=True` (and the
trained weights) then give the softmax weights. Gates are read from
`GateLayer`s (MMoE `gate_<task>`, OMoE `gate`), `PLELayer` levels (PLE, CGC:
per-task gates over own + shared experts, the shared gate) and
`MetaHeacLayer` (expert and critic gates per task).
"""

import numpy as np
import tensorflow as tf

import keras_mtl
from keras_mtl.cli.command_error import CommandError
from keras_mtl.layers.gate_layer import GateLayer
from keras_mtl.layers.meta_heac_layer import MetaHeacLayer
from keras_mtl.layers.ple_layer import PLELayer

GATED = (GateLayer, PLELayer, MetaHeacLayer)


def builder_of(model):
    """The builder that names models like `model.name` ("mmoe" -> "MMoE")."""
    key = model.name.replace("_", "").lower()
    for name in keras_mtl.models.__all__:
        if name.lower() == key:
            return name
    return model.name


def _returning_weights(layer, input_shape):
    """A copy of `layer` with `return_weights=True` and its trained weights."""
    copy = type(layer).from_config({**layer.get_config(), "return_weights": True})
    copy.build(input_shape)
    copy.set_weights(layer.get_weights())
    return copy


def _gate_fn(gate, input_dim):
    """`h -> (B, E)` softmax weights of a `GateLayer` for gate input h."""
    # the weights do not depend on the experts: one-wide zeros stand in for them
    copy = _returning_weights(gate, [(None, input_dim), (None, gate.num_experts, 1)])

    def weights(h):
        dummy = tf.zeros((tf.shape(h)[0], gate.num_experts, 1))  # (B, E, 1)
        return copy([h, dummy], training=False)[1].numpy()

    return weights


def _flat_inputs(layer):
    inputs = layer.input
    return list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]


class _Reader:
    """One gating layer: its probe tensors and how to turn them into groups."""

    def __init__(self, layer, task_names):
        self.layer = layer
        self.tensors = _flat_inputs(layer)
        self.task_names = task_names
        if isinstance(layer, GateLayer):
            self._fns = [_gate_fn(layer, int(self.tensors[0].shape[-1]))]
        elif isinstance(layer, PLELayer):
            width = int(self.tensors[0].shape[-1])
            children = layer.task_gates + ([layer.shared_gate_layer] if layer.shared_gate else [])
            self._fns = [_gate_fn(child, width) for child in children]
        else:  # MetaHeacLayer: inputs [x, experts]
            self._fns = [_returning_weights(layer, [tuple(t.shape) for t in self.tensors])]

    def groups(self):
        """`[(title, row labels, column labels)]` this layer contributes."""
        layer, tasks = self.layer, self.task_names
        if isinstance(layer, GateLayer):
            task = layer.name[len("gate_"):] if layer.name.startswith("gate_") else None
            row = task if task in tasks else f"{layer.name} (all tasks)"
            return [("gates", [row], _numbered("expert", layer.num_experts))]
        if isinstance(layer, PLELayer):
            columns = [f"{tasks[k]} {i}" for k, m in enumerate(layer.num_specific_experts)
                       for i in range(m)] + _numbered("shared", layer.num_shared_experts)
            rows = list(tasks[: layer.num_tasks]) + (["shared gate"] if layer.shared_gate else [])
            return [(f"{layer.name} experts", rows, columns)]
        num_experts = int(self.tensors[1].shape[1])
        return [
            (f"{layer.name} expert gates", list(tasks), _numbered("expert", num_experts)),
            (f"{layer.name} critic gates", list(tasks), _numbered("critic", layer.num_critics)),
        ]

    def batch_weights(self, values):
        """Per group, `(B, rows, columns)` weights; NaN where a gate cannot route."""
        layer = self.layer
        if isinstance(layer, GateLayer):
            return [self._fns[0](values[0])[:, None, :]]
        if isinstance(layer, PLELayer):
            h = values[0]
            batch = int(h.shape[0])
            out = np.full((batch, len(self._fns), layer.num_experts), np.nan, "float64")
            shared = list(range(sum(layer.num_specific_experts), layer.num_experts))
            for k, fn in enumerate(self._fns):
                branch = h if len(h.shape) == 2 else h[:, k]  # task k's / the shared branch
                if k < layer.num_tasks:
                    start = sum(layer.num_specific_experts[:k])
                    columns = list(range(start, start + layer.num_specific_experts[k])) + shared
                else:
                    columns = list(range(layer.num_experts))
                out[:, k, columns] = fn(branch)
            return [out]
        _, expert_weights, critic_weights = self._fns[0](values, training=False)
        return [expert_weights.numpy(), critic_weights.numpy()]  # (B, T, E), (B, T, M)


def _numbered(prefix, count):
    return [f"{prefix} {i}" for i in range(count)]


def gate_readers(model):
    """Readers of every gating layer of `model`, in layer order."""
    layers = [layer for layer in model.layers if isinstance(layer, GATED)]
    if not layers:
        raise CommandError(
            f"model {model.name!r} (builder {builder_of(model)}) has no softmax gates to "
            "plot: plot-gates reads GateLayer, PLELayer and MetaHeacLayer gates "
            "(builders MMoE, OMoE, PLE, CGC, MetaHeac)."
        )
    task_names = tuple(getattr(model, "task_names", ())) or tuple(model.output_names)
    return [_Reader(layer, task_names) for layer in layers]


def mean_gate_weights(model, arrays, batch_size=1024):
    """Mean gate weight of each expert for each task over the rows `arrays`.

    Args:
        model: a trained keras_mtl model with gates (MMoE, OMoE, PLE, CGC,
            MetaHeac), e.g. loaded from the `.keras` file `keras-mtl train`
            writes.
        arrays: `{input name: array}` rows (`features_to_arrays`).
        batch_size: rows per forward pass.

    Returns:
        A list of `{"title", "rows", "columns", "mean"}` groups; `mean` is a
        `(rows, columns)` float array whose rows sum to 1 (NaN where a PLE
        gate cannot route to an expert: another task's specific experts).
    """
    readers = gate_readers(model)
    tensors = [t for reader in readers for t in reader.tensors]
    probe = tf.keras.Model(model.input, tensors)
    sums, rows = None, 0
    total = len(next(iter(arrays.values())))
    for start in range(0, total, batch_size):
        batch = {k: tf.constant(v[start:start + batch_size]) for k, v in arrays.items()}
        values = probe(batch, training=False)
        values = list(values) if isinstance(values, (list, tuple)) else [values]
        weights, offset = [], 0
        for reader in readers:
            count = len(reader.tensors)
            weights += reader.batch_weights(values[offset:offset + count])
            offset += count
        batch_sums = [np.sum(np.asarray(w, "float64"), axis=0) for w in weights]
        sums = batch_sums if sums is None else [a + b for a, b in zip(sums, batch_sums)]
        rows += int(np.shape(weights[0])[0])
    groups = [group for reader in readers for group in reader.groups()]
    merged = []  # MMoE's per-task GateLayers become one table
    for (title, row_labels, columns), total_sum in zip(groups, sums):
        if merged and (merged[-1]["title"], merged[-1]["columns"]) == (title, columns):
            merged[-1]["rows"] += row_labels
            merged[-1]["mean"] = np.concatenate([merged[-1]["mean"], total_sum / rows])
        else:
            merged.append({"title": title, "rows": list(row_labels), "columns": columns,
                           "mean": total_sum / rows})
    return merged
