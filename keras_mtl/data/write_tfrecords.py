"""DataFrame rows -> TFRecord files of tf.Example."""

import math
import os
from collections.abc import Sequence
from typing import Optional

import numpy as np
import pandas as pd
import tensorflow as tf

from keras_mtl._types import FeatureSpec
from keras_mtl._types import LabelColumns
from keras_mtl.data import _example_encoding as encoding
from keras_mtl.data import validation
from keras_mtl.data.dataframe import label_columns
from keras_mtl.data.dataframe import labels_to_arrays
from keras_mtl.features.columns import column_dtype
from keras_mtl.features.columns import require_column
from keras_mtl.features.dense_feat import DenseFeat
from keras_mtl.features.var_len_sparse_feat import VarLenSparseFeat


def _missing(cell):
    return cell is None or (np.ndim(cell) == 0 and pd.isna(cell))


def _columns(df, features, labels):
    """`{key: per-row encoded map entries (None: left out)}`, checked like df_to_dataset."""
    columns = {}
    for spec in features:
        series = require_column(df, spec.name)
        if isinstance(spec, DenseFeat):
            if spec.dimension == 1:
                values = validation.as_floats(spec.name, series)[:, None]
            else:
                values = np.asarray(np.stack(series.to_numpy()), dtype="float32")
                validation.check_finite(spec.name, values)
                if values.shape[1:] != (spec.dimension,):
                    raise ValueError(
                        f"Feature '{spec.name}': expected cells of {spec.dimension} values. "
                        f"Received shape {values.shape[1:]}."
                    )
            columns[spec.name] = encoding.float_entries(spec.name, values)
            continue
        if isinstance(spec, VarLenSparseFeat):
            cells = [[] if _missing(c) else list(np.asarray(c).ravel()) for c in series]
            flat = [v for cell in cells for v in cell]
            dtype = spec.dtype or (column_dtype(pd.Series(flat)) if flat else "int64")
            if dtype == "string":
                cells = [["" if _missing(v) else v for v in c] for c in cells]
            columns[spec.name] = encoding.list_entries(spec.name, cells, dtype == "string")
            if spec.weight_name is not None:
                weights = require_column(df, spec.weight_name)
                columns[spec.weight_name] = [
                    encoding.float_entries(
                        spec.weight_name,
                        np.asarray([] if _missing(c) else c, "float32").reshape(1, -1),
                    )[0]
                    for c in weights
                ]
            continue
        dtype = spec.dtype or column_dtype(series)
        if dtype == "string":
            values = [None if _missing(v) else v for v in series]
            columns[spec.name] = encoding.string_entries(spec.name, values)
        else:
            columns[spec.name] = encoding.int_entries(
                spec.name, validation.as_integers(spec.name, series)
            )
    if labels is not None:
        truth = labels_to_arrays(df, labels)
        for task, key in label_columns(labels).items():
            entries = encoding.float_entries(key, truth[task][:, None])
            missing = np.isnan(truth[task])
            columns[key] = [None if gap else e for e, gap in zip(entries, missing.tolist())]
    return columns


def write_tfrecords(
    df: pd.DataFrame,
    path: str,
    features: Sequence[FeatureSpec],
    labels: Optional[LabelColumns] = None,
    rows_per_file: Optional[int] = None,
) -> list[str]:
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
        chunk = df.iloc[index * rows_per_file : (index + 1) * rows_per_file]
        columns = _columns(chunk, features, labels)
        name = f"{path}-{index:05d}-of-{num_files:05d}.tfrecord"
        with tf.io.TFRecordWriter(name) as writer:
            for record in encoding.examples(columns, len(chunk)):
                writer.write(record)
        files.append(name)
    return files
