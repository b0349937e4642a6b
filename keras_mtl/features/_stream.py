"""Training data as a stream of DataFrame chunks, for `adapt`.

A source is a DataFrame (one chunk); an iterable of DataFrames (the
chunks); a `tf.data.Dataset` of feature dicts (or `(features, labels)`
pairs); a `ChunkSource`, i.e. any object with a `chunks(features)` method
returning DataFrames (`keras_mtl.data.DataSource` is one); or a file
pattern (a str, a path, or a list of them), opened by the factory given to
`register_file_source`. `keras_mtl.data` registers `DataSource` when it is
imported (`import keras_mtl` imports it), so this package reads files
without importing `keras_mtl.data`.
"""

import os

import pandas as pd
import tensorflow as tf

from keras_mtl.features.chunk_source import ChunkSource
from keras_mtl.features.chunk_source import open_file_source
from keras_mtl.features.columns import batch_frame


def _is_pattern(source):
    paths = (str, bytes, os.PathLike)
    if isinstance(source, paths):
        return True
    return (
        isinstance(source, (list, tuple))
        and len(source) > 0
        and all(isinstance(s, paths) for s in source)
    )


def _frames(iterable):
    for df in iterable:
        if not isinstance(df, pd.DataFrame):
            raise TypeError(
                f"expected an iterable of pandas DataFrames. Received a {type(df).__name__} chunk."
            )
        yield df


def chunks(source, features, sample_rows=None):
    """DataFrame chunks of `source`, stopping after `sample_rows` rows."""
    if isinstance(source, pd.DataFrame):
        stream = iter([source])
    elif isinstance(source, tf.data.Dataset):
        stream = (batch_frame(batch) for batch in source.as_numpy_iterator())
    elif isinstance(source, ChunkSource):
        stream = _frames(source.chunks(features))
    elif _is_pattern(source):
        stream = _frames(open_file_source(source).chunks(features))
    elif hasattr(source, "__iter__") and not isinstance(source, dict):
        stream = _frames(source)
    else:
        raise TypeError(
            "expected a pandas DataFrame, an iterable of DataFrames, a tf.data.Dataset, "
            "a file pattern or an object with a chunks(features) method (such as "
            f"keras_mtl.data.DataSource). Received {type(source).__name__}."
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
