"""A functional model's config with its `SparseEmbedding` tables' settings changed."""

from keras_mtl.layers.sparse_embedding import SparseEmbedding
from keras_mtl.layers.stacked_embedding import StackedEmbedding

#: The class names of the table layers (a `StackedEmbedding` is a `SparseEmbedding`).
TABLE_CLASSES = (SparseEmbedding.__name__, StackedEmbedding.__name__)


def with_tables(config, **changes):
    """`config` (a functional model's `get_config()`) with `changes` made to
    the config of every `SparseEmbedding` layer among its own layers.

    The exports build twins this way: one-row stand-in tables
    (`input_dim=1`, `keras_mtl.export.conversion_twin`) or zero-initialized
    ones to be filled shard by shard (`keras_mtl.export.sharding`).

    Example:
    >>> model = keras_mtl.MMoE([SparseFeat("item", vocabulary_size=9)],
    ...                        num_experts=2, expert_units=(4,))
    >>> twin = type(model).from_config(with_tables(model.get_config(), input_dim=1))
    >>> twin.get_layer("embedding_tables_8").input_dim
    1
    """
    layers = []
    for entry in config["layers"]:
        if str(entry.get("class_name", "")).split(">")[-1] in TABLE_CLASSES:
            entry = {**entry, "config": {**entry["config"], **changes}}
        layers.append(entry)
    return {**config, "layers": layers}
