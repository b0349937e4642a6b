"""TFRecord files of tf.Example read in DataFrames of a fixed number of rows, for `adapt`."""

import tensorflow as tf

from keras_mtl.data.parse_examples import parse_examples
from keras_mtl.features.columns import batch_frame
from keras_mtl.features.dense_feat import DenseFeat

#: `DataSource` compression -> `tf.data.TFRecordDataset`'s compression_type.
COMPRESSION_TYPES = {None: "", "gzip": "GZIP", "zlib": "ZLIB"}


def _first_kinds(file, compression):
    """`{key: "string" | "int64" | "float"}` of the first record of a file."""
    records = tf.data.TFRecordDataset(file, compression_type=COMPRESSION_TYPES[compression])
    for record in records.take(1):
        example = tf.train.Example.FromString(record.numpy())
        kinds = {"bytes_list": "string", "int64_list": "int64", "float_list": "float"}
        return {
            key: kinds[f.WhichOneof("kind")]
            for key, f in example.features.feature.items()
            if f.WhichOneof("kind")
        }
    return {}


def chunks(files, features, compression, rows):
    """DataFrames of at most `rows` parsed records of `files`.

    Up to 4 files are read in parallel, their records alternating.
    Categorical specs without a dtype take the first record's value type.
    """
    kinds = _first_kinds(files[0], compression)
    typed = []
    for spec in features:
        if not isinstance(spec, DenseFeat) and spec.dtype is None:
            dtype = "int64" if kinds.get(spec.name) == "int64" else "string"
            spec = spec.replace(dtype=dtype)
        typed.append(spec)
    ds = tf.data.TFRecordDataset(
        list(files),
        compression_type=COMPRESSION_TYPES[compression],
        num_parallel_reads=min(4, len(files)),
    )
    ds = ds.batch(rows).map(
        lambda records: parse_examples(records, typed), num_parallel_calls=tf.data.AUTOTUNE
    )
    for batch in ds.prefetch(2).as_numpy_iterator():
        yield batch_frame(batch)
