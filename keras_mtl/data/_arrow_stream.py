"""Parquet / CSV files streamed in chunks of rows into tf.data (pyarrow)."""

import numpy as np
import tensorflow as tf

from keras_mtl.data._arrow_read import feature_columns
from keras_mtl.data.dataframe import features_to_arrays
from keras_mtl.data.dataframe import label_columns
from keras_mtl.data.dataframe import labels_to_arrays
from keras_mtl.features.dense_feat import DenseFeat
from keras_mtl.features.var_len_sparse_feat import VarLenSparseFeat


def element_signature(features, labels):
    """The `tf.TensorSpec`s of one batch: `{input: spec}` or `(inputs, labels)`."""
    x = {}
    for spec in features:
        if isinstance(spec, DenseFeat):
            shape = (None,) if spec.dimension == 1 else (None, spec.dimension)
            x[spec.name] = tf.TensorSpec(shape, tf.float32)
        elif isinstance(spec, VarLenSparseFeat):
            x[spec.name] = tf.TensorSpec((None, spec.maxlen), tf.as_dtype(spec.dtype))
            if spec.weight_name is not None:
                x[spec.weight_name] = tf.TensorSpec((None, spec.maxlen), tf.float32)
        else:
            x[spec.name] = tf.TensorSpec((None,), tf.as_dtype(spec.dtype))
    if labels is None:
        return x
    return x, {task: tf.TensorSpec((None,), tf.float32) for task in label_columns(labels)}


def columns_read(features, labels):
    """The feature (and sequence weight) columns, then the label columns."""
    names = feature_columns(features)
    return names + [c for c in label_columns(labels or {}).values() if c not in names]


def arrow_dataset(source, features, labels, batch_size, shuffle, seed, drop_remainder):
    """The batches of a CSV / Parquet `DataSource` (the body of `parquet_dataset`
    and `csv_dataset`), not yet given a length nor prefetched."""
    columns = columns_read(features, labels)
    source.check_columns(columns)  # the first and last files, before training starts
    files = source.files
    epochs = [0]

    def chunks():
        rng = np.random.RandomState(None if seed is None else seed + epochs[0])
        epochs[0] += 1
        order = rng.permutation(len(files)) if shuffle else range(len(files))
        for index in order:
            file = files[index]
            for df in source.file_chunks(file, features, columns):
                try:
                    x = features_to_arrays(df, features)
                    element = x if labels is None else (x, labels_to_arrays(df, labels))
                except (KeyError, ValueError) as error:
                    raise ValueError(f"{file}: {error}") from None
                if shuffle:
                    rows = rng.permutation(len(df))
                    element = tf.nest.map_structure(lambda a, rows=rows: a[rows], element)
                yield element

    ds = tf.data.Dataset.from_generator(
        chunks, output_signature=element_signature(features, labels)
    )
    if shuffle:
        ds = ds.shuffle(4, seed=seed, reshuffle_each_iteration=True)  # mixes whole chunks
    return ds.rebatch(batch_size, drop_remainder=drop_remainder)
