"""What `csv_dataset`, `parquet_dataset` and `tfrecord_dataset` share: the
argument checks and file matching before, the length and prefetch after."""

import math

import tensorflow as tf

from keras_mtl.data import validation
from keras_mtl.data.data_source import DataSource
from keras_mtl.features.feature_inputs import validate_features


def open_files(file_pattern, file_format, features, batch_size, num_rows, **source_options):
    """`(DataSource, features)` after checking the arguments.

    Raises FileNotFoundError for a pattern matching no file and ValueError
    for a bad argument, before anything is read.
    """
    features = validate_features(features)
    validation.positive_int("batch_size", batch_size)
    if num_rows is not None:
        validation.positive_int("num_rows", num_rows)
    return DataSource(file_pattern, format=file_format, **source_options), features


def finish(ds, batch_size, num_rows, drop_remainder):
    """`ds` with its length in batches (when `num_rows` is known), prefetched."""
    if num_rows:
        batches = num_rows // batch_size if drop_remainder else math.ceil(num_rows / batch_size)
        ds = ds.apply(tf.data.experimental.assert_cardinality(batches))
    return ds.prefetch(tf.data.AUTOTUNE)
