"""CSV files streamed into batched tf.data pipelines."""

from keras_mtl.data._arrow_stream import arrow_dataset


def csv_dataset(
    file_pattern,
    features,
    labels=None,
    batch_size=256,
    shuffle=False,
    seed=None,
    chunk_rows=65_536,
    num_rows=None,
    drop_remainder=False,
    list_separator="|",
):
    """A batched `tf.data.Dataset` of `(features, labels)` from CSV files.

    As `parquet_dataset` (streamed with `pyarrow.dataset` in chunks of at
    most `chunk_rows` rows, checked like `df_to_dataset`, errors naming the
    file), with CSV's differences: string features are read as text (so
    "007" stays "007"), list cells of `VarLenSparseFeat` (and multi-value
    `DenseFeat`) columns are text split at `list_separator` ("3|5|8"; an
    empty cell is an empty list), and the row count is not known without
    reading the files: pass `num_rows` to give the dataset a length.

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
        list_separator: separator of the values in a list cell.

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
    return arrow_dataset(
        file_pattern,
        "csv",
        features,
        labels,
        batch_size,
        shuffle,
        seed,
        chunk_rows,
        num_rows,
        drop_remainder,
        list_separator=list_separator,
    )
