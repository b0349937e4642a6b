"""TFRecord files of tf.Example -> batched tf.data pipelines."""

import math

import tensorflow as tf

from keras_mtl.data._files import match_files
from keras_mtl.data.parse_examples import parse_examples
from keras_mtl.features.feature_inputs import validate_features


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"expected a positive integer. Received: {name}={value!r}")


def _records(file, compression_type):
    """`(file, index, record)` of one file, so a parse error can name both."""
    return tf.data.Dataset.zip(
        (
            tf.data.Dataset.from_tensors(file).repeat(),
            tf.data.Dataset.range(2**62),
            tf.data.TFRecordDataset(file, compression_type=compression_type or ""),
        )
    )


def tfrecord_dataset(
    file_pattern,
    features,
    labels=None,
    batch_size=256,
    shuffle=False,
    seed=None,
    shuffle_buffer=10_000,
    num_parallel_reads=4,
    num_rows=None,
    drop_remainder=False,
    compression_type=None,
):
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
        compression_type: "", "ZLIB" or "GZIP" (as `tf.data.TFRecordDataset`).

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
    features = validate_features(features)
    _check_positive("batch_size", batch_size)
    _check_positive("num_parallel_reads", num_parallel_reads)
    _check_positive("shuffle_buffer", shuffle_buffer)
    if num_rows is not None:
        _check_positive("num_rows", num_rows)
    files = match_files(file_pattern, "TFRecord files")
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
    if num_rows is not None:
        batches = num_rows // batch_size if drop_remainder else math.ceil(num_rows / batch_size)
        ds = ds.apply(tf.data.experimental.assert_cardinality(batches))
    return ds.prefetch(tf.data.AUTOTUNE)
