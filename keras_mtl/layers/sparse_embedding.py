"""An Embedding whose forward pass reads only the rows of the batch."""

import contextlib
import threading

import tensorflow as tf

from keras_mtl import keras_compat
from keras_mtl.api_export import keras_mtl_export


@keras_mtl_export
class SparseEmbedding(tf.keras.layers.Embedding):
    """`tf.keras.layers.Embedding` that gathers rows from the variable itself.

    Same arguments, weights, config and outputs as Keras' Embedding. Keras 3's
    Embedding reads the whole table into a tensor before gathering; with a
    sparse optimizer update later in the step (`keras_mtl.optimizers.LazyAdam`)
    TensorFlow then copies the whole table (copy-on-write), so a step costs a
    pass over every row again. This layer looks rows up on the variable
    (`ResourceGather`, as tf_keras 2 does), so lookup, gradient
    (`tf.IndexedSlices`) and update touch only the batch's rows. With
    `jit_compile=True` (XLA) both behave alike. LoRA and quantized tables
    (Keras 3) take Keras' own path.

    keras_mtl's feature embeddings (`keras_mtl.features.embed_features`) use
    it.

    `SparseEmbedding.feeding_tables({layer: tensor})` makes the layers named
    gather from the given tensors instead of their variables while the block
    runs; traced inside it, a model takes its tables as function inputs. The
    ONNX export traces the model this way, so the converter never holds a
    table (`keras_mtl.export.onnx_conversion`).

    Args:
        as `tf.keras.layers.Embedding` (`input_dim`, `output_dim`,
        `embeddings_initializer`, `embeddings_regularizer`, `mask_zero`, ...).

    Input shape: integer ids, any shape.
    Output shape: the input shape plus `(output_dim,)`.

    Example:
    >>> layer = SparseEmbedding(4, 2, embeddings_initializer="ones")
    >>> layer(tf.constant([[0, 3]])).shape
    TensorShape([1, 2, 2])
    """

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        if not self.is_fed() and (
            getattr(self, "lora_enabled", False) or getattr(self, "quantization_mode", None)
        ):
            return super().call(inputs)  # Keras 3 only
        if inputs.dtype not in (tf.int32, tf.int64):
            inputs = tf.cast(inputs, tf.int64)
        rows = tf.nn.embedding_lookup(self.lookup_table(), inputs)  # (*inputs.shape, output_dim)
        return tf.cast(rows, self.compute_dtype)  # a float16 table is cast after the gather

    def is_fed(self) -> bool:
        """Whether a `feeding_tables` block gives this layer its table now."""
        return id(self) in getattr(_FED, "tables", {})

    def lookup_table(self) -> tf.Tensor:
        """What a lookup gathers from: the fed tensor inside `feeding_tables`,
        else the table variable itself (never a copy of it); with LoRA
        enabled (Keras 3), the table plus its low-rank update."""
        fed = getattr(_FED, "tables", {}).get(id(self))
        if fed is not None:
            return fed
        if getattr(self, "lora_enabled", False):
            return self.embeddings  # a tensor: the variable plus lora_a @ lora_b
        return keras_compat.tf_variable(self.embeddings)

    @staticmethod
    @contextlib.contextmanager
    def feeding_tables(tables):
        """Inside the block, each layer of `tables` gathers from its tensor.

        Args:
            tables: `{SparseEmbedding: tensor}`, each tensor `(rows,
                output_dim)` of any float dtype (rows are cast to the layer's
                compute dtype after the gather). The rows need not be the
                layer's `input_dim`: the ONNX export traces a twin whose own
                tables are one-row stand-ins. Blocks nest; the inner one wins
                for a layer in both.
        """
        for layer, table in tables.items():
            if not isinstance(layer, SparseEmbedding):
                raise TypeError(f"expected SparseEmbedding layers as keys. Received {layer!r}.")
            shape = tuple(table.shape)
            if len(shape) != 2 or shape[1] != layer.output_dim:
                raise ValueError(
                    f"Layer '{layer.name}': expected a table of shape (rows, "
                    f"{layer.output_dim}). Received shape {shape}."
                )
        before = getattr(_FED, "tables", {})
        _FED.tables = {**before, **{id(layer): table for layer, table in tables.items()}}
        try:
            yield
        finally:
            _FED.tables = before


#: Tables fed by `SparseEmbedding.feeding_tables`, per thread: `{id(layer): tensor}`.
_FED = threading.local()
