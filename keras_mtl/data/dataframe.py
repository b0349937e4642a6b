"""pandas DataFrame -> model inputs and batched tf.data pipelines."""

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Literal
from typing import Optional

import numpy as np
import pandas as pd
import tensorflow as tf

from keras_mtl._types import FeatureSpec
from keras_mtl._types import LabelColumns
from keras_mtl.data import validation
from keras_mtl.features.columns import require_column
from keras_mtl.features.dense_feat import DenseFeat
from keras_mtl.features.feature_inputs import validate_features
from keras_mtl.features.var_len_sparse_feat import VarLenSparseFeat


def _categorical_array(spec, series):
    if spec.dtype == "string":
        # pd.isna also covers pd.NA, where `v != v` is ambiguous.
        return series.map(lambda v: "" if pd.isna(v) else str(v)).to_numpy(dtype=object)
    return validation.as_integers(spec.name, series)


def _padded(spec, series, weights=False):
    """Cells of lists/arrays -> (rows, maxlen), padded with `pad_value`.

    With `weights=True` the cells are the sequence's float weights, padded
    with 0.
    """
    if weights:
        dtype, pad = "float32", 0.0
    else:
        dtype = object if spec.dtype == "string" else "int64"
        pad = spec.pad_value
    out = np.full((len(series), spec.maxlen), pad, dtype=dtype)
    for row, cell in enumerate(series):
        if cell is None or (np.ndim(cell) == 0 and pd.isna(cell)):
            continue
        values = list(np.asarray(cell).ravel()[: spec.maxlen])
        if spec.dtype == "string" and not weights:
            values = ["" if pd.isna(v) else str(v) for v in values]  # missing -> padding
        out[row, : len(values)] = values
    return out


def _dense_array(spec, series):
    if spec.dimension == 1:
        return validation.as_floats(spec.name, series)
    try:
        values = np.asarray(np.stack(series.to_numpy()), dtype="float32")
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"Feature '{spec.name}': expected cells of {spec.dimension} numbers. Received {error}."
        ) from None
    validation.check_finite(spec.name, values)
    if values.shape[1:] != (spec.dimension,):
        raise ValueError(
            f"Feature '{spec.name}': expected cells of {spec.dimension} values. "
            f"Received shape {values.shape[1:]}."
        )
    return values


def features_to_arrays(df: pd.DataFrame, features: Sequence[FeatureSpec]) -> dict[str, np.ndarray]:
    """`{input name: numpy array}` the model takes, from DataFrame columns.

    Strings stay strings (missing → "", the OOV row), integers stay integers,
    sequences are padded to `maxlen`; these are the raw values the exported
    SavedModel takes too.
    """
    arrays = {}
    for spec in validate_features(features):
        series = require_column(df, spec.name)
        if isinstance(spec, DenseFeat):
            arrays[spec.name] = _dense_array(spec, series)
        elif isinstance(spec, VarLenSparseFeat):
            arrays[spec.name] = _padded(spec, series)
            if spec.weight_name is not None:
                arrays[spec.weight_name] = _padded(
                    spec, require_column(df, spec.weight_name), weights=True
                )
        else:
            arrays[spec.name] = _categorical_array(spec, series)
    return arrays


def label_columns(labels):
    """`{task: column}` from a dict, a list of columns or one column name."""
    if isinstance(labels, str):
        labels = [labels]
    if not isinstance(labels, dict):
        labels = {name: name for name in labels}
    return labels


def labels_to_arrays(
    df: pd.DataFrame,
    labels: LabelColumns,
    task_types: Optional[Mapping[str, str]] = None,
) -> dict[str, np.ndarray]:
    """`{task: float32 array}`; NaN (missing label) is kept and masked later.

    Args:
        df: the DataFrame.
        labels: `{task: column}`, or a list of columns named like the tasks.
        task_types: optional `{task: "binary" | "regression"}` (e.g. a model's
            `task_types`); binary labels must then be 0, 1 or NaN.
    """
    out = {}
    for task, column in label_columns(labels).items():
        series = require_column(df, column)
        numeric = pd.to_numeric(series, errors="coerce")
        bad = numeric.isna() & series.notna()
        if bad.any():
            raise ValueError(
                f"Task '{task}' (column '{column}'): expected numeric labels (NaN for "
                f"missing). Received {validation._examples(series, bad)}."
            )
        values = numeric.to_numpy(dtype="float32", na_value=np.nan)
        if np.isinf(values).any():
            raise ValueError(
                f"Task '{task}' (column '{column}'): expected finite labels. Received inf."
            )
        if (task_types or {}).get(task) == "binary":
            validation.check_binary_labels(task, values)
        out[task] = values
    return out


def df_to_dataset(
    df: pd.DataFrame,
    features: Sequence[FeatureSpec],
    labels: Optional[LabelColumns] = None,
    batch_size: int = 256,
    shuffle: bool = False,
    seed: Optional[int] = None,
    drop_remainder: bool = False,
    task_types: Optional[Mapping[str, str]] = None,
    unused_columns: Literal["ignore", "warn", "error"] = "ignore",
) -> tf.data.Dataset:
    """A batched `tf.data.Dataset` of `(features, labels)` from a DataFrame.

    Bad input fails here with an error naming the column and rows: a missing
    feature or label column, non-numeric or NaN/inf numeric features,
    non-integer values for integer features, non-numeric labels, binary labels
    outside {0, 1} (when `task_types` is given), an empty frame. Unseen
    categories are not an error: they go to the OOV row. Columns that are
    neither features nor labels are ignored by default.

    Args:
        df: pandas DataFrame with one column per feature (and per label).
        features: the feature specs (adapted).
        labels: `{task: column}` or a list of label columns named like the
            tasks; None yields features only (for `predict`).
        batch_size: rows per batch.
        shuffle: shuffle rows each epoch (with `seed`).
        seed: shuffle seed.
        drop_remainder: drop a last, smaller batch.
        task_types: `{task: type}` to check labels against (e.g.
            `model.task_types`).
        unused_columns: "ignore", "warn" or "error" for columns that are
            neither features nor labels.

    Returns:
        A `tf.data.Dataset` of `(feature dict, label dict)` (or feature dicts),
        prefetched.

    Example:
    >>> df = pd.DataFrame({"item": [1, 2], "click": [0.0, 1.0]})
    >>> ds = df_to_dataset(df, [SparseFeat("item", vocabulary_size=5)], ["click"])
    >>> sorted(next(iter(ds))[1])
    ['click']
    """
    if len(df) == 0:
        raise ValueError("expected a DataFrame with at least one row. Received 0 rows.")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"expected a positive integer. Received: batch_size={batch_size!r}")
    x = features_to_arrays(df, features)
    used = set(x) | set(label_columns(labels or {}).values())
    validation.unused_columns(df, used, unused_columns)
    elements = x if labels is None else (x, labels_to_arrays(df, labels, task_types))
    # Rows are addressed by index and each batch is gathered from whole-column
    # tensors: shuffling a dataset of per-row dicts instead holds one small
    # tensor per row and column in the shuffle buffer (gigabytes for a few
    # hundred thousand rows of ~40 columns) and moves them one row at a time.
    columns = tf.nest.map_structure(tf.convert_to_tensor, elements)
    ds = tf.data.Dataset.range(len(df))
    if shuffle:
        ds = ds.shuffle(len(df), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    ds = ds.map(
        lambda rows: tf.nest.map_structure(lambda column: tf.gather(column, rows), columns),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    return ds.prefetch(tf.data.AUTOTUNE)
