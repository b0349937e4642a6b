"""Parquet files streamed into batched tf.data pipelines."""

from collections.abc import Sequence
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl._types import FeatureSpec
from keras_mtl._types import LabelColumns
from keras_mtl.data import _file_pipeline
from keras_mtl.data._arrow_stream import arrow_dataset


def parquet_dataset(
    file_pattern: Union[str, Sequence[str]],
    features: Sequence[FeatureSpec],
    labels: Optional[LabelColumns] = None,
    batch_size: int = 256,
    shuffle: bool = False,
    seed: Optional[int] = None,
    chunk_rows: int = 65_536,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """A batched `tf.data.Dataset` of `(features, labels)` from Parquet files.

    The files are read with pyarrow in chunks of `chunk_rows` rows, one
    file after the other, so memory holds a few chunks, never a whole file.
    Each chunk is checked and converted as `df_to_dataset` does (errors
    name the file, the column and the rows), then re-batched to
    `batch_size` in tf.data. The row count comes from the files' footers,
    so the dataset's length (and Keras' progress bar total) is known.

    Args:
        file_pattern: glob pattern, or list of patterns / paths.
        features: the feature specs (adapted).
        labels: `{task: column}` or a list of label columns named like the
            tasks; None yields features only.
        batch_size: rows per batch.
        shuffle: shuffle the file order and the rows within each chunk each
            epoch, and mix neighbouring chunks (a local shuffle: rows of far
            apart chunks stay apart).
        seed: shuffle seed.
        chunk_rows: rows read (and shuffled) at a time.
        drop_remainder: drop a last, smaller batch.

    Returns:
        A prefetched `tf.data.Dataset`.

    Example:
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "train.parquet")
    >>> pd.DataFrame({"item": [1, 2, 3], "click": [0.0, 1.0, 1.0]}).to_parquet(path)
    >>> ds = parquet_dataset(path, [SparseFeat("item", vocabulary_size=5)], ["click"], batch_size=2)
    >>> len(ds), [y["click"].numpy().tolist() for _, y in ds]
    (2, [[0.0, 1.0], [1.0]])
    """
    source, features = _file_pipeline.open_files(
        file_pattern, "parquet", features, batch_size, None, chunk_rows=chunk_rows
    )
    ds = arrow_dataset(source, features, labels, batch_size, shuffle, seed, drop_remainder)
    return _file_pipeline.finish(ds, batch_size, source.num_rows(), drop_remainder)
