"""Exporting models whose variables are sharded across parameter servers.

Under `tf.distribute.experimental.ParameterServerStrategy` with a
`variable_partitioner`, a large variable (an embedding table) is a
`ShardedVariable`: `k` parts of consecutive rows, named `<name>/part_<i>`
and placed on different parameter-server tasks. A SavedModel served by TF
Serving (or converted to ONNX) needs each table whole, so a sharded model
exports as its unsharded twin: the same architecture (from
`model.get_config()`), built outside any strategy on the process that
exports (the coordinator), with every sharded variable's parts
copied into the twin's rows part by part (its tables start as zeros, and
each part is scattered into its rows in place). The twin computes what the
sharded model computes; the exporting process needs memory for the whole
model once (and one part in transit).
"""

import itertools
import re

import numpy as np
import tensorflow as tf

from keras_mtl import keras_compat
from keras_mtl.export.table_config import with_tables

#: How TensorFlow names the parts of a partitioned variable.
_PART = re.compile(r"^(?P<base>.+)/part_(?P<index>\d+)(?::\d+)?$")


def _part(variable):
    """`(base name, part index)` of a shard, or None for a whole variable."""
    found = _PART.match(variable.name)
    return None if found is None else (found["base"], int(found["index"]))


def is_sharded(model):
    """Whether any variable of `model` is a part of a sharded variable."""
    return any(_part(v) is not None for v in model.weights)


def _joined(model):
    """`[[variable, ...]]`: `model.weights` with each sharded variable's parts as one list.

    A whole variable is a list of one. Parts must follow each other in
    `model.weights` (`part_0`, `part_1`, ...), which is how `ShardedVariable`
    lists them; a missing or misplaced part is an error.
    """
    groups = []
    # a sharded variable's parts share their base name; a whole variable stands alone
    for _, group in itertools.groupby(model.weights, key=lambda v: (_part(v) or (id(v),))[0]):
        group = list(group)
        part = _part(group[0])
        if part is not None and [_part(v)[1] for v in group] != list(range(len(group))):
            raise ValueError(
                f"expected the parts of {part[0]!r} in order from part_0. "
                f"Received {[v.name for v in group]}."
            )
        groups.append(group)
    return groups


def _joined_shape(group):
    first = tuple(group[0].shape)
    return (sum(int(v.shape[0]) for v in group),) + first[1:] if len(group) > 1 else first


def whole_weights(model):
    """`model.get_weights()` with each sharded variable's parts concatenated.

    Parts follow each other in `model.weights` (`part_0`, `part_1`, ...);
    their rows are concatenated in that order, which is how
    `ShardedVariable` splits a variable.
    """
    return [
        group[0].numpy() if len(group) == 1 else np.concatenate([v.numpy() for v in group], axis=0)
        for group in _joined(model)
    ]


def unsharded_twin(model):
    """`model` itself if nothing in it is sharded, else its unsharded twin.

    The twin is built from `model.get_config()` under no distribution
    strategy and gets the values `whole_weights(model)` would return,
    copied into its variables part by part. Call it (or the export
    functions, which do) outside `strategy.scope()`.
    """
    if not is_sharded(model):
        return model
    if keras_compat.is_parameter_server(tf.distribute.get_strategy()):
        raise RuntimeError(
            "cannot export a sharded model inside ParameterServerStrategy.scope(): "
            "its unsharded twin would be sharded again. Expected the export call "
            "outside the `with strategy.scope():` block (on the coordinator)."
        )
    # tables start as zeros (a fill, not a random draw held beside the table)
    twin = type(model).from_config(with_tables(model.get_config(), embeddings_initializer="zeros"))
    groups = _joined(model)
    expected = [tuple(w.shape) for w in twin.weights]
    received = [_joined_shape(group) for group in groups]
    if expected != received:
        raise ValueError(
            "the sharded model's variables do not join into its twin's. Expected "
            f"shapes {expected}; received {received} after concatenating the parts."
        )
    # part by part into the twin's rows, scattered in place (a sliced assign
    # copies the whole table first): the exporting process holds the whole
    # model once plus one part in transit, not a joined copy of every table
    for target, group in zip(twin.weights, groups):
        target = keras_compat.tf_variable(target)
        if len(group) == 1:
            target.assign(group[0].numpy())
            continue
        start = 0
        for part in group:
            rows = int(part.shape[0])
            target.scatter_update(
                tf.IndexedSlices(part.numpy(), tf.range(start, start + rows, dtype=tf.int64))
            )
            start += rows
    return twin
