"""The package's batch normalisation, built as a sub-layer of another layer."""

import tensorflow as tf


def built_batch_normalization(name, input_shape):
    """A built `BatchNormalization` sub-layer named `name`.

    `synchronized=True`: under a distribution strategy the batch statistics
    are those of the global batch, so every replica keeps the same moving
    statistics (per-replica statistics would let workers drift apart). On
    one device the values are those of the plain layer up to float rounding
    (a different moments formula, ≤ 1e-6 on unit-scale inputs).

    Built in its own name scope: tf_keras 2 would otherwise give every
    sub-layer's variables the parent's name (clashing in HDF5 weight files).
    """
    norm = tf.keras.layers.BatchNormalization(name=name, synchronized=True)
    with tf.name_scope(norm.name):
        norm.build(tuple(input_shape))
    return norm
