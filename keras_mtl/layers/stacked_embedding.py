"""Many embedding tables of one width in one variable: one lookup, one update."""

from collections.abc import Sequence
from typing import Any
from typing import Optional
from typing import Union

import numpy as np
import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.layers.sparse_embedding import SparseEmbedding


def _pairs(tables):
    """`tables` as `((name, rows), ...)`, checked."""
    if isinstance(tables, dict):
        tables = tables.items()
    pairs = tuple((str(name), rows) for name, rows in tables)
    if not pairs:
        raise ValueError("expected at least one table. Received: tables=()")
    for name, rows in pairs:
        if isinstance(rows, bool) or not isinstance(rows, (int, np.integer)) or rows < 1:
            raise ValueError(
                f"Table '{name}': expected a positive integer number of rows. Received: {rows!r}"
            )
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise ValueError(f"expected distinct table names. Received: {names}")
    return tuple((name, int(rows)) for name, rows in pairs)


@keras_mtl_export
class StackedEmbedding(SparseEmbedding):
    """The embedding tables of one width, stacked into one variable.

    Table k occupies rows `[offset_k, offset_k + rows_k)` of one
    `(Σ rows_k, output_dim)` variable, in the order given. The layer takes a
    list of integer row tensors, one per input, each in its own table's
    rows; it adds the table's offset, concatenates them, gathers once from
    the variable (`ResourceGather`, as `SparseEmbedding`), and splits the
    result back into one tensor per input. So a step makes one gather and
    its gradient is one `tf.IndexedSlices`: the optimizer makes one sparse
    (or one dense) update for all the tables, however many features there
    are. Several inputs may name the same table (features that share an
    `embedding_name`). Each table keeps its own rows, OOV rows included: no
    row of one table is reachable from another table's ids, as long as each
    input's ids lie in `[0, rows)` of its table (keras_mtl's index layers
    guarantee it).

    `keras_mtl.features.embed_features` stacks every model's feature tables
    this way, one layer per width; `table(name)` reads one table's rows.

    Being a `SparseEmbedding`, it has one table variable (`embeddings`),
    gathers from a fed tensor inside `SparseEmbedding.feeding_tables` (the
    ONNX export), and is sharded by rows under `ParameterServerStrategy`
    like any table.

    Args:
        tables: `[(name, rows), ...]` (or a dict), in stacking order.
        input_tables: the table name of each input, in the order `call`
            takes them.
        output_dim: width of every table.
        input_features: a name per input (the feature it embeds), for
            `feature_table`; defaults to `input_tables`.
        input_dim: rows of the variable; defaults to the tables' total. The
            exports' stand-in twins set 1 (their tables are fed).
        **kwargs: as `tf.keras.layers.Embedding` (`embeddings_initializer`,
            `embeddings_regularizer`, `name`, ...); `mask_zero` is not
            supported.

    Input: a list of integer tensors, each `(batch, ...)` with a static shape
    after the batch axis.
    Output: a list of float tensors, each its input's shape plus
    `(output_dim,)`.

    Example:
    >>> layer = StackedEmbedding([("a", 2), ("b", 3)], ["a", "b", "b"], 1,
    ...                          embeddings_initializer="zeros")
    >>> layer.build(None)
    >>> layer.set_weights([np.array([[0.0], [1.0], [2.0], [3.0], [4.0]])])  # a: 0-1, b: 2-4
    >>> outputs = layer([tf.constant([1]), tf.constant([0]), tf.constant([[2, 1]])])
    >>> [o.numpy().tolist() for o in outputs]
    [[[1.0]], [[2.0]], [[[4.0], [3.0]]]]
    >>> layer.table("b").numpy()[:, 0].tolist()
    [2.0, 3.0, 4.0]
    """

    def __init__(
        self,
        tables: Union[Sequence[tuple[str, int]], dict[str, int]],
        input_tables: Sequence[str],
        output_dim: int,
        input_features: Optional[Sequence[str]] = None,
        input_dim: Optional[int] = None,
        **kwargs: Any,
    ) -> None:
        tables = _pairs(tables)
        input_tables = tuple(str(t) for t in input_tables)
        known = [name for name, _ in tables]
        unknown = sorted(set(input_tables) - set(known))
        if not input_tables or unknown:
            raise ValueError(
                f"expected a table name among {known} for each input. "
                f"Received: input_tables={list(input_tables)}"
            )
        input_features = tuple(input_features) if input_features is not None else input_tables
        if len(input_features) != len(input_tables):
            raise ValueError(
                f"expected one feature name per input ({len(input_tables)}). "
                f"Received {len(input_features)}: {list(input_features)}"
            )
        if kwargs.get("mask_zero"):
            raise ValueError("StackedEmbedding does not support mask_zero=True.")
        kwargs.pop("input_length", None)  # tf_keras 2's config field
        total = sum(rows for _, rows in tables)
        super().__init__(total if input_dim is None else input_dim, output_dim, **kwargs)
        self.tables = tables
        self.input_tables = input_tables
        self.input_features = tuple(str(f) for f in input_features)
        offsets = np.cumsum([0] + [rows for _, rows in tables])[:-1]
        self.offsets = {name: int(o) for (name, _), o in zip(tables, offsets)}

    def table_slice(self, name: str) -> tuple[int, int]:
        """`(offset, rows)` of table `name` in the stacked variable."""
        if name not in self.offsets:
            raise KeyError(
                f"no table '{name}' in '{self.name}'. Expected one of {list(self.offsets)}."
            )
        return self.offsets[name], dict(self.tables)[name]

    def table(self, name: str) -> tf.Tensor:
        """The rows of table `name`, `(rows, output_dim)` (a copy)."""
        offset, rows = self.table_slice(name)
        return tf.nn.embedding_lookup(self.lookup_table(), tf.range(offset, offset + rows))

    def feature_table(self, feature: str) -> tf.Tensor:
        """The rows of the table that input `feature` looks up."""
        if feature not in self.input_features:
            raise KeyError(
                f"no input '{feature}' in '{self.name}'. "
                f"Expected one of {list(self.input_features)}."
            )
        return self.table(self.input_tables[self.input_features.index(feature)])

    def call(self, inputs: Sequence[tf.Tensor]) -> list[tf.Tensor]:
        if len(self.input_tables) == 1 and not isinstance(inputs, (list, tuple)):
            inputs = [inputs]  # tf_keras 2 unwraps a list of one
        if not isinstance(inputs, (list, tuple)) or len(inputs) != len(self.input_tables):
            raise ValueError(
                f"Layer '{self.name}': expected a list of {len(self.input_tables)} id "
                f"tensors ({list(self.input_features)}). Received: {inputs!r}"
            )
        # positions per row of each input; None where not static (a sequence of unknown length)
        static_sizes = [ids.shape[1:].num_elements() for ids in inputs]
        flat, sizes = [], []
        for ids, name, size in zip(inputs, self.input_tables, static_sizes):
            if ids.dtype != tf.int64:
                ids = tf.cast(ids, tf.int64)
            if size is None:
                size = tf.cast(tf.reduce_prod(tf.shape(ids)[1:]), tf.int32)
            flat.append(tf.reshape(ids, (-1, size)) + self.offsets[name])
            sizes.append(size)
        ids = flat[0] if len(flat) == 1 else tf.concat(flat, axis=1)  # (B, Σ sizes)
        vectors = tf.nn.embedding_lookup(self.lookup_table(), ids)  # (B, Σ sizes, dim)
        vectors = tf.cast(vectors, self.compute_dtype)  # a float16 table is cast after the gather
        if len(sizes) == 1:
            parts = [vectors]
        else:
            splits = sizes if None not in static_sizes else tf.stack(sizes)
            parts = tf.split(vectors, splits, axis=1, num=len(sizes))
        return [
            tf.reshape(part, (-1, *ids_in.shape[1:], self.output_dim))
            if size is not None
            else tf.reshape(part, tf.concat([tf.shape(ids_in), [self.output_dim]], axis=0))
            for part, ids_in, size in zip(parts, inputs, static_sizes)
        ]

    def compute_output_shape(self, input_shape: Sequence[Any]) -> list[tuple]:
        if len(self.input_tables) == 1 and not isinstance(input_shape[0], (list, tuple)):
            input_shape = [input_shape]  # tf_keras 2 unwraps a list of one
        return [tuple(shape) + (self.output_dim,) for shape in input_shape]

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        # Keras 3 only: Embedding's assumes one input; Layer's traces `call`
        return super(tf.keras.layers.Embedding, self).compute_output_spec(*args, **kwargs)

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("input_length", None)
        config.update(
            tables=[list(pair) for pair in self.tables],
            input_tables=list(self.input_tables),
            input_features=list(self.input_features),
        )
        return config
