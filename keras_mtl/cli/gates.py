"""Gate weights of a trained model: how much each task uses each expert.

Gated layers are found by their method, not their class: a layer with
`gate_weights(inputs, task_names=None, training=False)` returns its mixture
weights for the inputs its `call` takes as a list of
`keras_mtl.layers.GateGroup(title, rows, columns, weights)`. A probe
sub-model maps the model's inputs to the inputs of every such layer; the
layers then compute the weights with their own trained variables, and the
weights are averaged over the rows. `gated_layer_names()` lists the layers
of keras_mtl with the method.
"""

import inspect

import numpy as np
import tensorflow as tf

import keras_mtl
from keras_mtl.cli.command_error import CommandError


def builder_of(model):
    """The builder that names models like `model.name` ("mmoe" -> "MMoE")."""
    key = model.name.replace("_", "").lower()
    for name in keras_mtl.models.__all__:
        if name.lower() == key:
            return name
    return model.name


def _is_gated(layer_or_class):
    return callable(getattr(layer_or_class, "gate_weights", None))


def gated_layer_names():
    """The layer classes of `keras_mtl.layers` with a `gate_weights` method,
    sorted by name: read from the classes, so the list follows the layers."""
    return sorted(
        name
        for name, value in vars(keras_mtl.layers).items()
        if inspect.isclass(value) and _is_gated(value)
    )


def gated_layers(model):
    """The layers of `model` with a `gate_weights` method, in layer order."""
    layers = [layer for layer in model.layers if _is_gated(layer)]
    if not layers:
        raise CommandError(
            f"model {model.name!r} (builder {builder_of(model)}) has no softmax gates to "
            "plot: plot-gates reads layers with a gate_weights(inputs, task_names) method "
            f"(in keras_mtl: {', '.join(gated_layer_names())})."
        )
    return layers


def _flat(structure):
    return list(structure) if isinstance(structure, (list, tuple)) else [structure]


def _batch_groups(layers, values, task_names):
    """Every `GateGroup` of `layers`, given the probe's `values` (their inputs)."""
    groups, offset = [], 0
    for layer in layers:
        count = len(_flat(layer.input))
        inputs = values[offset : offset + count]
        offset += count
        if not isinstance(layer.input, (list, tuple)):
            inputs = inputs[0]
        groups += layer.gate_weights(inputs, task_names=task_names, training=False)
    return groups


def _merged(groups, sums, rows):
    """`{"title", "rows", "columns", "mean"}` tables; consecutive groups with
    the same title and columns (MMoE's per-task gates) become one table."""
    merged = []
    for group, total in zip(groups, sums):
        mean = total / rows
        if merged and (merged[-1]["title"], merged[-1]["columns"]) == (
            group.title,
            list(group.columns),
        ):
            merged[-1]["rows"] += list(group.rows)
            merged[-1]["mean"] = np.concatenate([merged[-1]["mean"], mean])
        else:
            merged.append(
                {
                    "title": group.title,
                    "rows": list(group.rows),
                    "columns": list(group.columns),
                    "mean": mean,
                }
            )
    return merged


def mean_gate_weights(model, arrays, batch_size=1024):
    """Mean gate weight of each expert for each task over the rows `arrays`.

    Args:
        model: a trained model with gated layers (`gated_layers`), e.g.
            loaded from the `.keras` file `keras-mtl train` writes.
        arrays: `{input name: array}` rows (`features_to_arrays`).
        batch_size: rows per forward pass.

    Returns:
        A list of `{"title", "rows", "columns", "mean"}` groups; `mean` is a
        `(rows, columns)` float array whose rows sum to 1 (NaN where a PLE
        gate cannot route to an expert: another task's specific experts).
    """
    layers = gated_layers(model)
    task_names = tuple(getattr(model, "task_names", ())) or tuple(model.output_names)
    probe = tf.keras.Model(model.input, [t for layer in layers for t in _flat(layer.input)])
    total = len(next(iter(arrays.values())))
    if total == 0:
        raise CommandError("no rows to average the gate weights over")
    groups, sums = None, None
    for start in range(0, total, batch_size):
        batch = {k: tf.constant(v[start : start + batch_size]) for k, v in arrays.items()}
        groups = _batch_groups(layers, _flat(probe(batch, training=False)), task_names)
        batch_sums = [np.sum(np.asarray(g.weights, "float64"), axis=0) for g in groups]
        sums = batch_sums if sums is None else [a + b for a, b in zip(sums, batch_sums)]
    return _merged(groups, sums, total)
