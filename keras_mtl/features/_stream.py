"""Training data as a stream of DataFrame chunks, for `adapt`.

A source is a DataFrame (one chunk), a `tf.data.Dataset` of feature dicts
(or `(features, labels)` pairs), or a file pattern: `*.parquet` / `*.csv`
files are read with `pyarrow.dataset` in record batches, anything else as
TFRecord files of `tf.Example` in the layout of `keras_mtl.data.parse_spec`.
"""

import numpy as np
import pandas as pd
import tensorflow as tf

from keras_mtl.features.dense_feat import DenseFeat

#: Rows read at a time from files.
CHUNK_ROWS = 65_536


def _column(array):
    """A numpy batch column -> a DataFrame column (rows of 2-D arrays as cells)."""
    if array.dtype == object:
        array = np.array(
            [v.decode("utf-8") if isinstance(v, bytes) else v for v in array.ravel()], dtype=object
        ).reshape(array.shape)
    if array.ndim == 1:
        return array
    return list(array)


def _frame(batch):
    if isinstance(batch, tuple):
        batch = batch[0]
    if not isinstance(batch, dict):
        raise TypeError(
            "expected a tf.data.Dataset of feature dicts (or (features, labels) pairs). "
            f"Received elements of type {type(batch).__name__}."
        )
    return pd.DataFrame({name: _column(np.asarray(value)) for name, value in batch.items()})


def _first_kinds(file):
    """`{key: "string" | "int64" | "float"}` of the first record of a TFRecord file."""
    for record in tf.data.TFRecordDataset(file).take(1):
        example = tf.train.Example.FromString(record.numpy())
        kinds = {"bytes_list": "string", "int64_list": "int64", "float_list": "float"}
        return {
            key: kinds[f.WhichOneof("kind")]
            for key, f in example.features.feature.items()
            if f.WhichOneof("kind")
        }
    return {}


def _tfrecord_chunks(files, features):
    from keras_mtl.data.parse_examples import parse_examples

    kinds = _first_kinds(files[0])
    typed = []
    for spec in features:
        if not isinstance(spec, DenseFeat) and spec.dtype is None:
            dtype = "int64" if kinds.get(spec.name) == "int64" else "string"
            spec = spec.replace(dtype=dtype)
        typed.append(spec)
    ds = tf.data.TFRecordDataset(files, num_parallel_reads=min(4, len(files)))
    ds = ds.batch(CHUNK_ROWS).map(
        lambda rows: parse_examples(rows, typed), num_parallel_calls=tf.data.AUTOTUNE
    )
    for batch in ds.prefetch(2).as_numpy_iterator():
        yield _frame(batch)


def _arrow_chunks(files, features, file_format):
    from keras_mtl.data import _arrow_stream

    pads = _arrow_stream.require_pyarrow()
    columns = []
    for spec in features:
        columns.append(spec.name)
        if getattr(spec, "weight_name", None):
            columns.append(spec.weight_name)
    fmt = file_format
    if file_format == "csv":
        import pyarrow
        import pyarrow.csv

        text = {
            spec.name: pyarrow.string()
            for spec in features
            if getattr(spec, "dtype", None) == "string"
        }
        fmt = pads.CsvFileFormat(convert_options=pyarrow.csv.ConvertOptions(column_types=text))
    for file in files:
        dataset = pads.dataset(file, format=fmt)
        missing = [c for c in columns if c not in dataset.schema.names]
        if missing:
            raise KeyError(
                f"{file}: expected columns {missing}. Received columns: "
                f"{sorted(dataset.schema.names)}"
            )
        for record_batch in dataset.to_batches(columns=columns, batch_size=CHUNK_ROWS):
            df = record_batch.to_pandas()
            if file_format == "csv":
                df = _arrow_stream.split_list_cells(df, features, "|")
            yield df


def chunks(source, features, sample_rows=None):
    """DataFrame chunks of `source`, stopping after `sample_rows` rows."""
    if isinstance(source, pd.DataFrame):
        stream = iter([source])
    elif isinstance(source, tf.data.Dataset):
        stream = (_frame(batch) for batch in source.as_numpy_iterator())
    elif isinstance(source, (str, bytes, list, tuple)):
        from keras_mtl.data._files import match_files

        files = match_files(source, "training files")
        lower = files[0].lower()
        if lower.endswith((".parquet", ".pq")):
            stream = _arrow_chunks(files, features, "parquet")
        elif lower.endswith((".csv", ".csv.gz")):
            stream = _arrow_chunks(files, features, "csv")
        else:
            stream = _tfrecord_chunks(files, features)
    else:
        raise TypeError(
            "expected a pandas DataFrame, a tf.data.Dataset or a file pattern. "
            f"Received {type(source).__name__}."
        )
    seen = 0
    for df in stream:
        if sample_rows is not None:
            df = df.iloc[: sample_rows - seen]
        seen += len(df)
        if len(df):
            yield df
        if sample_rows is not None and seen >= sample_rows:
            return
