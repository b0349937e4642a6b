"""One row per id of a sparse gradient."""

import tensorflow as tf


def summed_rows(gradient):
    """`(values, indices)` of a `tf.IndexedSlices`, with duplicate ids summed.

    An embedding lookup of a batch with repeated ids (Zipf traffic) gives one
    gradient row per occurrence; `tf.IndexedSlices` means their sum. A
    per-row optimizer must see that sum once: Adam's second moment of the
    sum is not the sum of the second moments.

    Returns:
        values `(unique ids, *row shape)` and the unique `indices`, in order of
        first appearance.
    """
    unique, position = tf.unique(gradient.indices)  # (U,), (N,)
    values = tf.math.unsorted_segment_sum(
        gradient.values, position, tf.shape(unique)[0]
    )  # (U, *row shape)
    return values, unique
