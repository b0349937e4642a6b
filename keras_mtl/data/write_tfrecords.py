"""DataFrame rows -> TFRecord files of tf.Example."""

import math
import os

import numpy as np
import pandas as pd
import tensorflow as tf

from keras_mtl.data import validation
from keras_mtl.features.adapt import column_dtype
from keras_mtl.features.adapt import require_column
from keras_mtl.features.dense_feat import DenseFeat
from keras_mtl.features.var_len_sparse_feat import VarLenSparseFeat


def _missing(cell):
    return cell is None or (np.ndim(cell) == 0 and pd.isna(cell))


def _bytes(values):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[str(v).encode() for v in values]))


def _int64(values):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=values))


def _floats(values):
    return tf.train.Feature(float_list=tf.train.FloatList(value=values))


def _columns(df, features, labels):
    """`{key: (list of per-row tf.train.Feature or None)}`, checked like df_to_dataset."""
    from keras_mtl.data.dataframe import label_columns  # pylint: disable=import-outside-toplevel
    from keras_mtl.data.dataframe import labels_to_arrays  # pylint: disable=import-outside-toplevel

    columns = {}
    for spec in features:
        series = require_column(df, spec.name)
        if isinstance(spec, DenseFeat):
            if spec.dimension == 1:
                values = validation.as_floats(spec.name, series)
                columns[spec.name] = [_floats([v]) for v in values.tolist()]
            else:
                values = np.asarray(np.stack(series.to_numpy()), dtype="float32")
                validation.check_finite(spec.name, values)
                if values.shape[1:] != (spec.dimension,):
                    raise ValueError(
                        f"Feature '{spec.name}': expected cells of {spec.dimension} values. "
                        f"Received shape {values.shape[1:]}."
                    )
                columns[spec.name] = [_floats(row) for row in values.tolist()]
            continue
        if isinstance(spec, VarLenSparseFeat):
            cells = [[] if _missing(c) else list(np.asarray(c).ravel()) for c in series]
            flat = pd.Series([v for cell in cells for v in cell], dtype=object)
            dtype = spec.dtype or (column_dtype(pd.Series(flat.tolist())) if len(flat) else "int64")
            if dtype == "string":
                columns[spec.name] = [_bytes(["" if _missing(v) else v for v in c]) for c in cells]
            else:
                columns[spec.name] = [_int64([int(v) for v in c]) for c in cells]
            if spec.weight_name is not None:
                weights = require_column(df, spec.weight_name)
                columns[spec.weight_name] = [
                    _floats([] if _missing(c) else np.asarray(c, "float32").ravel().tolist())
                    for c in weights
                ]
            continue
        dtype = spec.dtype or column_dtype(series)
        if dtype == "string":
            columns[spec.name] = [None if _missing(v) else _bytes([v]) for v in series]
        else:
            columns[spec.name] = [_int64([v]) for v in validation.as_integers(spec.name, series).tolist()]
    if labels is not None:
        truth = labels_to_arrays(df, labels)
        for task, key in label_columns(labels).items():
            columns[key] = [None if math.isnan(v) else _floats([v]) for v in truth[task].tolist()]
    return columns


def write_tfrecords(df, path, features, labels=None, rows_per_file=None):
    """Writes `df` as TFRecord files of `tf.Example`, one record per row.

    The layout is `keras_mtl.data.parse_spec`'s: what `tfrecord_dataset`
    reads back into the same batches `df_to_dataset` gives. Values are
    checked as `df_to_dataset` checks them (missing or non-integer ints,
    NaN / inf numbers); a missing string or label is left out of the record
    (read back as `""` / NaN). Specs need not be adapted: a categorical
    spec without `dtype` takes its column's.

    Args:
        df: pandas DataFrame with the feature (and label) columns.
        path: output prefix; files are `{path}-00000-of-00004.tfrecord`, ...
        features: the feature specs.
        labels: optional `{task: column}` or a list of label columns.
        rows_per_file: rows per file; None writes one file.

    Returns:
        The list of files written.

    Example:
    >>> import os, tempfile
    >>> df = pd.DataFrame({"item": [1, 2, 3], "click": [0.0, 1.0, None]})
    >>> prefix = os.path.join(tempfile.mkdtemp(), "train")
    >>> files = write_tfrecords(df, prefix, [SparseFeat("item", vocabulary_size=5)], ["click"],
    ...                         rows_per_file=2)
    >>> [os.path.basename(f) for f in files]
    ['train-00000-of-00002.tfrecord', 'train-00001-of-00002.tfrecord']
    """
    if len(df) == 0:
        raise ValueError("expected a DataFrame with at least one row. Received 0 rows.")
    if rows_per_file is None:
        rows_per_file = len(df)
    if isinstance(rows_per_file, bool) or not isinstance(rows_per_file, int) or rows_per_file < 1:
        raise ValueError(f"expected a positive integer. Received: rows_per_file={rows_per_file!r}")
    features = tuple(features)
    num_files = math.ceil(len(df) / rows_per_file)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    files = []
    for index in range(num_files):
        chunk = df.iloc[index * rows_per_file:(index + 1) * rows_per_file]
        columns = _columns(chunk, features, labels)
        name = f"{path}-{index:05d}-of-{num_files:05d}.tfrecord"
        with tf.io.TFRecordWriter(name) as writer:
            for row in range(len(chunk)):
                feature = {k: v[row] for k, v in columns.items() if v[row] is not None}
                example = tf.train.Example(features=tf.train.Features(feature=feature))
                writer.write(example.SerializeToString())
        files.append(name)
    return files
