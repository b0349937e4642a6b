"""Reading and writing one embedding table of a model's stacked tables.

`keras_mtl.features.embed_features` stacks every table of one width into one
`StackedEmbedding` layer (`"embedding_tables_<width>"`). Tests that set a
table to known rows find its stack and write only its slice of the variable;
the other tables' rows stay as they were.
"""

import numpy as np
import tensorflow as tf

from keras_mtl.layers import StackedEmbedding


def stacks(model):
    """The model's `StackedEmbedding` layers, in layer order."""
    return [layer for layer in model.layers if isinstance(layer, StackedEmbedding)]


def stack_of(model, table):
    """The one `StackedEmbedding` of `model` that holds table `table`."""
    found = [layer for layer in stacks(model) if table in layer.offsets]
    assert len(found) == 1, (
        f"expected one stack holding table '{table}'. Received "
        f"{[layer.name for layer in found]} among {[layer.name for layer in stacks(model)]}"
    )
    return found[0]


def set_table(model, table, rows):
    """Sets table `table` to `rows`, `(rows, width)` values (reshaped to fit)."""
    layer = stack_of(model, table)
    offset, num_rows = layer.table_slice(table)
    (stacked,) = layer.get_weights()
    stacked[offset : offset + num_rows] = np.asarray(rows, stacked.dtype).reshape(
        num_rows, layer.output_dim
    )
    layer.set_weights([stacked])


def get_table(model, table):
    """The rows `(rows, width)` of table `table` (numpy)."""
    return np.asarray(tf.convert_to_tensor(stack_of(model, table).table(table)))
