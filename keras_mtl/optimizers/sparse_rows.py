"""Per-row sums of a sparse gradient, with static shapes (no `tf.unique`)."""

import tensorflow as tf

from keras_mtl import keras_compat


def summed_rows(optimizer, scratch, gradient):
    """`(old rows of scratch, summed gradient)`, one row per occurrence.

    An embedding lookup of a batch with repeated ids (Zipf traffic) gives one
    gradient row per occurrence; `tf.IndexedSlices` means their sum. A
    per-row optimizer must see that sum once: Adam's second moment of the sum
    is not the sum of the second moments. The sum is formed in the batch's
    rows of `scratch` (an optimizer slot of the variable's shape, restored
    by the caller): its rows are read, zeroed, the gradient rows scatter-added,
    and read back, so every occurrence of an id gets the id's full sum. All
    shapes are the batch's (no `tf.unique`, whose sort makes it ~30× slower
    under XLA on CPU); the caller's writes of equal values for duplicate ids
    are idempotent.

    Args:
        optimizer: the optimizer that owns `scratch`.
        scratch: a slot variable shaped like the gradient's variable.
        gradient: a `tf.IndexedSlices`.

    Returns:
        the rows `gradient.indices` of `scratch` before the call, and the
        summed gradient rows; both `(occurrences, *row shape)`.
    """
    indices = gradient.indices
    old = keras_compat.gather_rows(scratch, indices)  # (N, dim)
    keras_compat.scatter_update(optimizer, scratch, tf.IndexedSlices(tf.zeros_like(old), indices))
    values = tf.cast(gradient.values, old.dtype)
    keras_compat.scatter_update(optimizer, scratch, tf.IndexedSlices(values, indices), mode="add")
    return old, keras_compat.gather_rows(scratch, indices)
