"""DataFrame columns as `adapt` and `keras_mtl.data` read them.

Shared by both packages: `keras_mtl.data` imports this module, and nothing
under `keras_mtl.features` imports `keras_mtl.data`.
"""

import numpy as np
import pandas as pd


def column_dtype(series):
    """'int64' for integer or boolean columns, else 'string'.

    Example:
    >>> column_dtype(pd.Series([1, 2])), column_dtype(pd.Series(["a"]))
    ('int64', 'string')
    """
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_integer_dtype(series):
        return "int64"
    return "string"


def require_column(df, name):
    """`df[name]`, or a KeyError naming the feature and the columns there are."""
    if name not in df.columns:
        raise KeyError(
            f"Feature '{name}' expected a DataFrame column of that name. "
            f"Received columns: {sorted(map(str, df.columns))}"
        )
    return df[name]


def _column(array):
    """A numpy batch column -> a DataFrame column (rows of 2-D arrays as cells)."""
    if array.dtype.kind in ("O", "S"):  # tf.string batches: bytes
        array = np.array(
            [v.decode("utf-8") if isinstance(v, bytes) else v for v in array.ravel()], dtype=object
        ).reshape(array.shape)
    if array.ndim == 1:
        return array
    return list(array)  # (rows, width) -> one array cell per row


def batch_frame(batch):
    """A numpy batch of a tf.data pipeline (`{name: array}`, or a
    `(features, labels)` pair) -> a DataFrame of the features.

    Bytes become str; 2-D columns become one array cell per row.

    Example:
    >>> df = batch_frame({"city": np.array([b"rome", b"oslo"]), "vec": np.eye(2)})
    >>> df["city"].tolist(), df["vec"][1].tolist()
    (['rome', 'oslo'], [0.0, 1.0])
    """
    if isinstance(batch, tuple):
        batch = batch[0]
    if not isinstance(batch, dict):
        raise TypeError(
            "expected a tf.data.Dataset of feature dicts (or (features, labels) pairs). "
            f"Received elements of type {type(batch).__name__}."
        )
    return pd.DataFrame({name: _column(np.asarray(value)) for name, value in batch.items()})
