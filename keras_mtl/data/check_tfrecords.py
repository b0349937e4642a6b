"""Finding the corrupt file among TFRecord files."""

from collections.abc import Sequence
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl.data._files import match_files


class CorruptRecordError(ValueError):
    """A TFRecord file that cannot be read to its end."""


def check_tfrecords(
    file_pattern: Union[str, Sequence[str]],
    compression_type: Optional[str] = None,
) -> dict[str, int]:
    """Reads every file to its end; returns `{file: record count}`.

    TensorFlow's DataLossError for a corrupt or truncated file says where in
    the file ("corrupted record at <byte>") but not which file; this names
    it.

    Args:
        file_pattern: glob pattern, or list of patterns / paths.
        compression_type: as in `tfrecord_dataset`.

    Raises:
        FileNotFoundError: the pattern matches no file.
        CorruptRecordError: naming the file, the records read before the bad
            one, and TensorFlow's message.

    Example:
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "part.tfrecord")
    >>> with tf.io.TFRecordWriter(path) as writer:
    ...     writer.write(b"row")
    >>> list(check_tfrecords(path).values())
    [1]
    """
    counts = {}
    for file in match_files(file_pattern, "TFRecord files"):
        count = 0
        try:
            for _ in tf.data.TFRecordDataset(file, compression_type=compression_type or ""):
                count += 1
        except tf.errors.DataLossError as error:
            raise CorruptRecordError(
                f"TFRecord file {file} is corrupt: record {count} (0-based, after {count} "
                f"good records) cannot be read: {error.message.strip()}. Expected a complete "
                "file as tf.io.TFRecordWriter writes it; rewrite or drop the file."
            ) from None
        counts[file] = count
    return counts
