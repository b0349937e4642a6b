"""TFRecord files of tf.Example -> batched tf.data pipelines."""

from collections.abc import Sequence
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl._types import FeatureSpec
from keras_mtl._types import LabelColumns
from keras_mtl.data import _file_pipeline
from keras_mtl.data import validation
from keras_mtl.data._tfrecord_read import COMPRESSION_TYPES
from keras_mtl.data.parse_examples import parse_examples

#: `compression_type` -> `DataSource`'s compression (None: by the suffix).
_COMPRESSIONS = {None: "auto", "": None, "GZIP": "gzip", "ZLIB": "zlib"}


def _records(file, compression_type):
    """`(file, index, record)` of one file, so a parse error can name both."""
    return tf.data.Dataset.zip(
        (
            tf.data.Dataset.from_tensors(file).repeat(),
            tf.data.Dataset.range(2**62),
            tf.data.TFRecordDataset(file, compression_type=compression_type),
        )
    )


def tfrecord_dataset(
    file_pattern: Union[str, Sequence[str]],
    features: Sequence[FeatureSpec],
    labels: Optional[LabelColumns] = None,
    batch_size: int = 256,
    shuffle: bool = False,
    seed: Optional[int] = None,
    shuffle_buffer: int = 10_000,
    num_parallel_reads: int = 4,
    num_rows: Optional[int] = None,
    drop_remainder: bool = False,
    compression_type: Optional[str] = None,
) -> tf.data.Dataset:
    """A batched `tf.data.Dataset` of `(features, labels)` from TFRecord files.

    Files are read `num_parallel_reads` at a time and interleaved; records
    are batched, then parsed a batch at a time with `tf.io.parse_example`
    (layout and missing-value defaults: `keras_mtl.data.parse_spec`) and
    prefetched, so the files are streamed, never held in memory. The
    batches equal `df_to_dataset`'s for the same rows (`write_tfrecords`).

    Bad input: a pattern matching no file raises FileNotFoundError here; a
    record missing a required feature, holding a value of the wrong type or
    count, or NaN / inf in a numeric feature fails while iterating with an
    InvalidArgumentError naming the feature and the record as
    `file:index`. A corrupt file fails with TensorFlow's DataLossError
    ("corrupted record at <byte>"), which does not name the file:
    `keras_mtl.data.check_tfrecords(file_pattern)` finds it (the
    `keras-mtl train` command runs it for you).

    Args:
        file_pattern: glob pattern, or list of patterns / paths.
        features: the feature specs (adapted).
        labels: `{task: key}` or a list of label keys named like the tasks;
            None yields features only.
        batch_size: rows per batch.
        shuffle: shuffle the file order and rows (within `shuffle_buffer`
            rows) each epoch.
        seed: shuffle seed.
        shuffle_buffer: rows held for shuffling.
        num_parallel_reads: files read at once.
        num_rows: the total row count when known; the dataset then has a
            known length (Keras' progress bar shows the total).
        drop_remainder: drop a last, smaller batch.
        compression_type: "", "ZLIB" or "GZIP" (as `tf.data.TFRecordDataset`);
            None: by the suffix (`.gz`: GZIP, else none; `DataSource`).

    Returns:
        A prefetched `tf.data.Dataset`.

    Example:
    >>> import os, tempfile
    >>> from keras_mtl.data import write_tfrecords
    >>> df = pd.DataFrame({"item": [1, 2, 3], "click": [0.0, 1.0, None]})
    >>> feats = [SparseFeat("item", vocabulary_size=5)]
    >>> files = write_tfrecords(df, os.path.join(tempfile.mkdtemp(), "train"), feats, ["click"])
    >>> x, y = next(iter(tfrecord_dataset(files, feats, ["click"], batch_size=3)))
    >>> x["item"].numpy().tolist(), y["click"].numpy().tolist()
    ([1, 2, 3], [0.0, 1.0, nan])
    """
    validation.positive_int("num_parallel_reads", num_parallel_reads)
    validation.positive_int("shuffle_buffer", shuffle_buffer)
    if compression_type not in _COMPRESSIONS:
        raise ValueError(
            f"expected compression_type in {tuple(_COMPRESSIONS)}. "
            f"Received: compression_type={compression_type!r}"
        )
    source, features = _file_pipeline.open_files(
        file_pattern,
        "tfrecord",
        features,
        batch_size,
        num_rows,
        compression=_COMPRESSIONS[compression_type],
    )
    files = list(source.files)
    compression_type = COMPRESSION_TYPES[source.compression]
    ds = tf.data.Dataset.from_tensor_slices(files)
    if shuffle:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)

    ds = ds.interleave(
        lambda file: _records(file, compression_type),
        cycle_length=min(num_parallel_reads, len(files)),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=not shuffle,
    )
    if shuffle:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)

    def parse(file, index, serialized):
        names = tf.strings.join([file, tf.strings.as_string(index)], separator=":")
        return parse_examples(serialized, features, labels, names=names)

    ds = ds.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=not shuffle)
    return _file_pipeline.finish(ds, batch_size, num_rows, drop_remainder)
