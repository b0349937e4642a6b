"""Parquet / CSV files streamed in record batches into tf.data (pyarrow)."""

import math

import numpy as np
import pandas as pd
import tensorflow as tf

from keras_mtl.data._files import match_files
from keras_mtl.features.dense_feat import DenseFeat
from keras_mtl.features.feature_inputs import validate_features
from keras_mtl.features.var_len_sparse_feat import VarLenSparseFeat


def require_pyarrow():
    try:
        import pyarrow.dataset
    except ImportError:
        raise ImportError(
            "streaming Parquet / CSV files needs pyarrow, which is not installed: "
            "pip install pyarrow"
        ) from None
    return pyarrow.dataset


def element_signature(features, labels):
    """The `tf.TensorSpec`s of one batch: `{input: spec}` or `(inputs, labels)`."""
    from keras_mtl.data.dataframe import label_columns

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
    from keras_mtl.data.dataframe import label_columns

    names = []
    for spec in features:
        names.append(spec.name)
        if getattr(spec, "weight_name", None) is not None:
            names.append(spec.weight_name)
    return names + [c for c in label_columns(labels or {}).values() if c not in names]


def split_list_cells(df, features, separator):
    """Text cells of list columns ("3|5|8") -> lists, for CSV files."""
    for spec in features:
        is_list = isinstance(spec, VarLenSparseFeat) or (
            isinstance(spec, DenseFeat) and spec.dimension > 1
        )
        names = [spec.name] + ([spec.weight_name] if getattr(spec, "weight_name", None) else [])
        for name in names if is_list else ():
            if pd.api.types.is_numeric_dtype(df[name]):  # one value per cell
                df[name] = df[name].map(lambda v: [] if pd.isna(v) else [v])
                continue
            kind = (
                float
                if name != spec.name or isinstance(spec, DenseFeat)
                else (int if spec.dtype == "int64" else str)
            )
            df[name] = df[name].map(
                lambda v, kind=kind: (
                    []
                    if v is None or v == "" or (not isinstance(v, str) and pd.isna(v))
                    else [kind(p) for p in str(v).split(separator) if p != ""]
                )
            )
    return df


def arrow_dataset(
    file_pattern,
    file_format,
    features,
    labels,
    batch_size,
    shuffle,
    seed,
    chunk_rows,
    num_rows,
    drop_remainder,
    list_separator=None,
):
    """The shared body of `parquet_dataset` and `csv_dataset`."""
    from keras_mtl.data.dataframe import features_to_arrays
    from keras_mtl.data.dataframe import labels_to_arrays

    pads = require_pyarrow()
    features = validate_features(features)
    for name, value in (("batch_size", batch_size), ("chunk_rows", chunk_rows)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"expected a positive integer. Received: {name}={value!r}")
    files = match_files(file_pattern, f"{file_format} files")
    columns = columns_read(features, labels)
    file_format_object = file_format
    if file_format == "csv":
        import pyarrow
        import pyarrow.csv

        text = {
            spec.name: pyarrow.string()
            for spec in features
            if getattr(spec, "dtype", None) == "string"
        }
        file_format_object = pads.CsvFileFormat(
            convert_options=pyarrow.csv.ConvertOptions(column_types=text)
        )
    for file in files[:1] + files[-1:]:
        schema = pads.dataset(file, format=file_format_object).schema
        missing = [c for c in columns if c not in schema.names]
        if missing:
            raise KeyError(
                f"{file}: expected columns {missing} (features and labels). Received "
                f"columns: {sorted(schema.names)}"
            )
    if num_rows is None and file_format == "parquet":
        num_rows = pads.dataset(files, format="parquet").count_rows()  # from the footers
    epochs = [0]

    def chunks():
        rng = np.random.RandomState(None if seed is None else seed + epochs[0])
        epochs[0] += 1
        order = rng.permutation(len(files)) if shuffle else range(len(files))
        for index in order:
            file = files[index]
            batches = pads.dataset(file, format=file_format_object).to_batches(
                columns=columns, batch_size=chunk_rows
            )
            for record_batch in batches:
                df = record_batch.to_pandas()
                if list_separator is not None:
                    df = split_list_cells(df, features, list_separator)
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
    ds = ds.rebatch(batch_size, drop_remainder=drop_remainder)
    if num_rows:
        batches = num_rows // batch_size if drop_remainder else math.ceil(num_rows / batch_size)
        ds = ds.apply(tf.data.experimental.assert_cardinality(batches))
    return ds.prefetch(tf.data.AUTOTUNE)
