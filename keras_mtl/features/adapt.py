"""Learning vocabularies and normalisation statistics from a DataFrame."""

import numpy as np
import pandas as pd

from keras_mtl.features.dense_feat import DenseFeat
from keras_mtl.features.sparse_feat import SparseFeat
from keras_mtl.features.var_len_sparse_feat import VarLenSparseFeat


def column_dtype(series):
    """'int64' for integer or boolean columns, else 'string'."""
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_integer_dtype(series):
        return "int64"
    return "string"


def require_column(df, name):
    if name not in df.columns:
        raise KeyError(
            f"Feature '{name}' expected a DataFrame column of that name. "
            f"Received columns: {sorted(map(str, df.columns))}"
        )
    return df[name]


def _flat_values(spec, series):
    """Non-missing values of a column, flattened for variable-length cells."""
    if isinstance(spec, VarLenSparseFeat):
        values = [v for cell in series.dropna() for v in np.asarray(cell).ravel()]
        series = pd.Series(values)
    return series.dropna()


def _vocabulary(specs, df, dtype):
    """Values ordered by decreasing frequency, ties broken by value."""
    counts = {}
    for spec in specs:
        values = _flat_values(spec, require_column(df, spec.name))
        if dtype == "string":
            values = values.astype(str)
            values = values[values != ""]
        else:
            values = values.astype("int64")
            if isinstance(spec, VarLenSparseFeat):
                values = values[values != 0]
        for value, count in values.value_counts().items():
            value = str(value) if dtype == "string" else int(value)
            counts[value] = counts.get(value, 0) + int(count)
    if not counts:
        names = [spec.name for spec in specs]
        raise ValueError(
            f"Features {names}: expected at least one non-missing value to "
            "learn a vocabulary from. Received only missing/padding values."
        )
    return tuple(sorted(counts, key=lambda v: (-counts[v], v)))


def _dense_statistics(spec, df):
    values = np.asarray(
        np.stack(require_column(df, spec.name).to_numpy()), dtype="float64"
    )
    if spec.log1p:
        values = np.sign(values) * np.log1p(np.abs(values))
    if not np.all(np.isfinite(values)):
        raise ValueError(
            f"Feature '{spec.name}': expected finite numbers to compute "
            "normalisation statistics. Received NaN or inf values."
        )
    return float(values.mean()), float(values.var())


def adapt(features, df):
    """Returns `features` with vocabularies and statistics learned from `df`.

    Categorical specs without `vocabulary`, `hash_bins` or `vocabulary_size`
    get a vocabulary of the values seen in their column (all columns of the
    features sharing an `embedding_name`, so shared tables agree), ordered by
    decreasing frequency. Their dtype is taken from the column's values:
    integer columns (and columns of integer lists) stay integers, anything
    else is looked up as strings. `DenseFeat`
    specs with `normalize=True` and no statistics get the column's mean and
    variance. Specs that are already complete are returned unchanged.

    Args:
        features: sequence of SparseFeat, VarLenSparseFeat and DenseFeat.
        df: pandas DataFrame of training rows.

    Returns:
        A tuple of specs in the same order.
    """
    features = tuple(features)
    groups = {}
    for spec in features:
        if isinstance(spec, (SparseFeat, VarLenSparseFeat)) and spec.encoding is None:
            groups.setdefault(spec.embedding_name, []).append(spec)
    learned = {}
    for name, specs in groups.items():
        dtypes = {spec.dtype for spec in specs if spec.dtype is not None}
        if not dtypes:
            dtypes = {
                column_dtype(_flat_values(spec, require_column(df, spec.name)))
                for spec in specs
            }
        dtype = "string" if "string" in dtypes else "int64"
        learned[name] = (_vocabulary(specs, df, dtype), dtype)
    out = []
    for spec in features:
        if isinstance(spec, DenseFeat):
            if not spec.is_adapted:
                mean, variance = _dense_statistics(spec, df)
                spec = spec.replace(mean=mean, variance=variance)
        elif spec.encoding is None:
            vocabulary, dtype = learned[spec.embedding_name]
            spec = spec.replace(vocabulary=vocabulary, dtype=dtype)
        out.append(spec)
    return tuple(out)
