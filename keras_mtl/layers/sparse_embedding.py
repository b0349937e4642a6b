"""An Embedding whose forward pass reads only the rows of the batch."""

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

    def call(self, inputs):
        if getattr(self, "lora_enabled", False) or getattr(self, "quantization_mode", None):
            return super().call(inputs)  # Keras 3 only
        if inputs.dtype not in (tf.int32, tf.int64):
            inputs = tf.cast(inputs, tf.int32)
        table = keras_compat.tf_variable(self.embeddings)
        rows = tf.nn.embedding_lookup(table, inputs)  # (*inputs.shape, output_dim)
        return tf.cast(rows, self.compute_dtype)
