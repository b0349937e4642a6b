"""CSV files streamed into batched tf.data pipelines."""

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl._types import FeatureSpec
from keras_mtl._types import LabelColumns
from keras_mtl.data import _file_pipeline
from keras_mtl.data._arrow_stream import arrow_dataset


def csv_dataset(
    file_pattern: Union[str, Sequence[str]],
    features: Sequence[FeatureSpec],
    labels: Optional[LabelColumns] = None,
    batch_size: int = 256,
    shuffle: bool = False,
    seed: Optional[int] = None,
    chunk_rows: int = 65_536,
    num_rows: Optional[int] = None,
    drop_remainder: bool = False,
    list_separator: Union[str, Mapping[str, str]] = "|",
    compression: Optional[str] = "auto",
) -> tf.data.Dataset:
    """A batched `tf.data.Dataset` of `(features, labels)` from CSV files.

    As `parquet_dataset` (streamed with pyarrow in chunks of `chunk_rows`
    rows, checked like `df_to_dataset`, errors naming the file), with CSV's
    differences: string features are read as text (so "007" stays "007"),
    list cells of `VarLenSparseFeat` (and their weights, and multi-value
    `DenseFeat`) columns are text split at their feature's separator
    ("3|5|8"; an empty cell is an empty list), files may be compressed
    (read as `keras_mtl.data.DataSource` reads them), and the row count is
    not known without reading the files: pass `num_rows` to give the
    dataset a length.

    Args:
        file_pattern: glob pattern, or list of patterns / paths.
        features: the feature specs (adapted).
        labels: `{task: column}` or a list of label columns; None yields
            features only.
        batch_size: rows per batch.
        shuffle: as in `parquet_dataset`.
        seed: shuffle seed.
        chunk_rows: rows read (and shuffled) at a time.
        num_rows: the total row count, when known.
        drop_remainder: drop a last, smaller batch.
        list_separator: separator of the values in a list cell: one string,
            or `{feature name: separator}` (features left out use "|").
        compression: "auto" (by the suffix: `.gz`, `.bz2`, `.zip`, `.xz`),
            None, "gzip", "bz2", "zip" or "xz".

    Returns:
        A prefetched `tf.data.Dataset`.

    Example:
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "train.csv")
    >>> pd.DataFrame({"city": ["007", "paris"], "click": [1.0, 0.0]}).to_csv(path, index=False)
    >>> feats = [SparseFeat("city", vocabulary=("007",))]
    >>> x, y = next(iter(csv_dataset(path, feats, ["click"])))
    >>> x["city"].numpy().tolist()
    [b'007', b'paris']
    """
    source, features = _file_pipeline.open_files(
        file_pattern,
        "csv",
        features,
        batch_size,
        num_rows,
        compression=compression,
        list_separator=list_separator,
        chunk_rows=chunk_rows,
    )
    ds = arrow_dataset(source, features, labels, batch_size, shuffle, seed, drop_remainder)
    return _file_pipeline.finish(ds, batch_size, num_rows, drop_remainder)
