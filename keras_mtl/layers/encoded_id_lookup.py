"""Guard for pre-encoded integer ids."""

from typing import Any

import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.layers import _validation


@keras_mtl_export
class EncodedIdLookup(tf.keras.layers.Layer):
    """Passes ids in `[0, vocabulary_size)` through; others become OOV.

    Pre-encoded ids (DeepCTR / torch-rechub style) index the embedding table
    directly. An id outside the range (unseen at encoding time, or corrupt)
    would make `tf.gather` fail on CPU and silently return zeros on GPU; here
    it maps to the extra row `vocabulary_size` instead, the documented OOV
    fallback.

    Args:
        vocabulary_size: number of valid ids.

    Input shape: any integer tensor.
    Output shape: the same, as int64 row indices (tables of more than 2^31
    rows included).

    Call arguments:
        inputs: the ids.

    Example:
    >>> EncodedIdLookup(3)(tf.constant([0, 2, 3, -1])).numpy().tolist()
    [0, 2, 3, 3]
    """

    def __init__(self, vocabulary_size: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.vocabulary_size = _validation.positive_int("vocabulary_size", vocabulary_size)

    def build(self, input_shape):
        super().build(input_shape)

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        ids = tf.cast(inputs, tf.int64)
        valid = tf.logical_and(ids >= 0, ids < self.vocabulary_size)
        oov = tf.fill(tf.shape(ids), tf.constant(self.vocabulary_size, tf.int64))
        return tf.where(valid, ids, oov)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_output_spec(self, inputs):
        # Keras 3 builds symbolic outputs from compute_output_shape with the
        # layer's float compute dtype; the ids are int64. (tf_keras 2 traces
        # `call` instead and never calls this method.)
        return tf.keras.KerasTensor(self.compute_output_shape(inputs.shape), dtype="int64")

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size}
