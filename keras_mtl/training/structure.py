"""What a MultiTaskModel shares across tasks, found from its functional graph."""

import types

import tensorflow as tf

from keras_mtl import keras_compat
from keras_mtl import task_types as task_types_lib


def shared_structure(model, shared_layer):
    """Ids of the shared variables and of the last shared layer's weights.

    The shared variables are those of every layer between the inputs and the
    output of `shared_layer` (a sub-model over that part of the graph finds
    them). Also returns a model giving `(outputs, representation)` for
    strategies that differentiate at the representation. Without a shared
    layer nothing is shared and there is no representation.
    """
    if shared_layer is None:
        return types.SimpleNamespace(shared=set(), last=set(), with_representation=None)
    inputs, outputs = keras_compat.io_structs(model)
    layer = model.get_layer(shared_layer)
    representation = layer.output
    below = tf.keras.Model(inputs, representation)
    with_representation = tf.keras.Model(inputs, [outputs, representation])
    shared = {id(v) for v in below.trainable_variables}
    return types.SimpleNamespace(
        shared=shared,
        # a weightless last layer (a concatenation of embeddings) stands for
        # everything below it
        last={id(v) for v in layer.trainable_variables} or shared,
        with_representation=with_representation,
    )


def all_layers(layers):
    """`layers` and, depth first, the layers of every nested model among them."""
    for layer in layers:
        yield layer
        if isinstance(layer, tf.keras.Model):
            yield from all_layers(layer.layers)


def embedding_table_ids(layers):
    """`{id(table variable): rows of its whole table}` of every
    `tf.keras.layers.Embedding` among `layers` (a table sharded by a
    parameter-server partitioner: every shard, each with the whole table's rows).

    Looks inside nested models too (their `layers`). `MultiTaskModel` passes
    its `layers`, the TFRS integration its `submodules`.
    """
    return {
        id(v): int(layer.input_dim)
        for layer in all_layers(layers)
        if isinstance(layer, tf.keras.layers.Embedding)
        for v in layer.trainable_variables
    }


def feature_table(layers, feature, layer_name=None):
    """The rows `(rows, dim)` of the table that input `feature` looks up.

    Searches the `StackedEmbedding` layers among `layers` (and inside nested
    models); `layer_name` picks one where several embed the feature (STEM's
    per-task tables).
    """
    from keras_mtl.layers.stacked_embedding import StackedEmbedding

    found = [
        layer
        for layer in all_layers(layers)
        if isinstance(layer, StackedEmbedding) and feature in layer.input_features
    ]
    if layer_name is not None:
        found = [layer for layer in found if layer.name == layer_name]
    if len(found) != 1:
        raise KeyError(
            f"expected one embedding table layer for input '{feature}'"
            + (f" named '{layer_name}'" if layer_name is not None else "")
            + f". Received {len(found)}: {[layer.name for layer in found]}"
            + ("; pass layer_name= to pick one." if len(found) > 1 else ".")
        )
    return found[0].feature_table(feature)


def checked_task_types(outputs, task_types):
    """`{task: type}` (default: every output binary), checked against outputs."""
    if not isinstance(outputs, dict):
        raise ValueError(
            "MultiTaskModel expected outputs as a dict keyed by task name. "
            f"Received: {type(outputs).__name__}"
        )
    return task_types_lib.checked_task_types(
        dict(task_types or {name: "binary" for name in outputs}), outputs
    )


def checked_auxiliary_losses(terms, outputs, task_types):
    """The terms as a tuple, checked against the outputs and the task names."""
    names = [term.name for term in terms]
    for term in terms:
        if term.name in task_types or names.count(term.name) > 1:
            raise ValueError(
                f"auxiliary loss name {term.name!r} is taken. Expected names "
                f"that differ from each other and from the tasks {list(task_types)}."
            )
        term.check_outputs(list(outputs))
    return tuple(terms)
