"""One feature embedding table as an export writes it: rows read block by block."""

import numpy as np

from keras_mtl import keras_compat
from keras_mtl.layers.sparse_embedding import SparseEmbedding

#: Largest block of rows read from a table at once (bytes, as written).
BLOCK_BYTES = 64 << 20


class TableSource:
    """The rows of one `SparseEmbedding` table, read without a copy of the table.

    A table is one variable, or under `ParameterServerStrategy` with a
    `variable_partitioner` the parts of a sharded variable (consecutive rows,
    `part_0` first, as `layer.weights` lists them). `blocks` reads at most
    `BLOCK_BYTES` of rows at a time, from whichever part holds them, so a
    writer never holds more than one block besides the model.

    Args:
        layer: the `SparseEmbedding` layer (built).

    Attributes:
        layer: the layer.
        name: its variable's path, `<layer name>/embeddings`: the name the
            ONNX export gives the table's initializer.
        parts: the `tf.Variable`s holding the rows, in row order.
        shape: `(rows, output_dim)` of the whole table.

    Example:
    >>> layer = SparseEmbedding(5, 2, embeddings_initializer="ones")
    >>> layer.build((None,))
    >>> source = TableSource(layer)
    >>> source.name, source.shape, [b.shape for b in source.blocks(max_bytes=16)]
    ('sparse_embedding/embeddings', (5, 2), [(2, 2), (2, 2), (1, 2)])
    """

    def __init__(self, layer):
        if not isinstance(layer, SparseEmbedding):
            raise TypeError(f"expected a SparseEmbedding layer. Received {layer!r}.")
        if not layer.weights:
            raise ValueError(f"Layer '{layer.name}' is not built: it has no table yet.")
        self.layer = layer
        self.name = f"{layer.name}/embeddings"
        self.parts = [keras_compat.tf_variable(w) for w in layer.weights]
        self.shape = (int(layer.input_dim), int(layer.output_dim))
        rows = sum(int(p.shape[0]) for p in self.parts)
        widths = {int(p.shape[1]) for p in self.parts}
        if rows != self.shape[0] or widths != {self.shape[1]}:
            raise ValueError(
                f"Layer '{self.name}': expected parts that join into {self.shape}. Received "
                f"parts of shapes {[tuple(p.shape) for p in self.parts]}."
            )

    def nbytes(self, dtype="float32"):
        """Bytes of the table stored as `dtype`."""
        return self.shape[0] * self.shape[1] * np.dtype(dtype).itemsize

    def blocks(self, dtype="float32", max_bytes=BLOCK_BYTES):
        """Yields the table's rows in order, as C-ordered `dtype` arrays of
        at most `max_bytes` (at least one row each)."""
        step = max(1, max_bytes // (self.shape[1] * np.dtype(dtype).itemsize))
        for part in self.parts:
            for start in range(0, int(part.shape[0]), step):
                block = part[start : start + step].numpy()  # (rows, output_dim)
                yield np.ascontiguousarray(block.astype(dtype, copy=False))

    @staticmethod
    def of_model(model):
        """One `TableSource` per `SparseEmbedding` of `model`, in layer order.

        keras_mtl's builders stack every feature table of one width (a table
        shared by several features, `embedding_name`, once) into one
        `StackedEmbedding`: one source per width.

        Example:
        >>> model = keras_mtl.MMoE(
        ...     [SparseFeat("a", vocabulary_size=3, embedding_dim=2),
        ...      SparseFeat("b", vocabulary_size=4, embedding_dim=2),
        ...      SparseFeat("c", vocabulary_size=3, embedding_name="a", embedding_dim=2),
        ...      DenseFeat("p", bucket_edges=(0.0,), bucket_embedding_dim=4)],
        ...     task_names=("ctr",), num_experts=2, expert_units=(4,))
        >>> [(t.name, t.shape) for t in TableSource.of_model(model)]
        [('embedding_tables_2/embeddings', (9, 2)), ('embedding_tables_4/embeddings', (2, 4))]
        """
        return [TableSource(layer) for layer in model.layers if isinstance(layer, SparseEmbedding)]
