"""Learning vocabularies, normalisation statistics and bucket edges from data."""

from collections.abc import Iterable
from collections.abc import Sequence
from typing import Optional
from typing import Union

import numpy as np
import pandas as pd
import tensorflow as tf

from keras_mtl.features import _stream
from keras_mtl.features.chunk_source import ChunkSource
from keras_mtl.features.columns import column_dtype
from keras_mtl.features.columns import require_column
from keras_mtl.features.dense_feat import DenseFeat
from keras_mtl.features.feature_spec import FeatureSpec
from keras_mtl.features.sparse_feat import SparseFeat
from keras_mtl.features.var_len_sparse_feat import VarLenSparseFeat

#: Values per feature kept (a seeded uniform sample) for the bucket quantiles.
QUANTILE_SAMPLE = 1_000_000


def _flat_values(spec, series):
    """Non-missing values of a column, flattened for variable-length cells."""
    if isinstance(spec, VarLenSparseFeat):
        values = [v for cell in series.dropna() for v in np.asarray(cell).ravel()]
        series = pd.Series(values)
    return series.dropna()


def count_values(counts, specs, df, dtype):
    """Adds the value counts of the `specs` columns of `df` to `counts` (`{value: count}`)."""
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


def _vocabulary(specs, counts, max_tokens, min_frequency):
    """Values ordered by decreasing frequency, ties broken by value."""
    names = [spec.name for spec in specs]
    if not counts:
        raise ValueError(
            f"Features {names}: expected at least one non-missing value to "
            "learn a vocabulary from. Received only missing/padding values."
        )
    kept = [v for v in counts if counts[v] >= (min_frequency or 1)]
    if not kept:
        raise ValueError(
            f"Features {names}: expected a value seen at least min_frequency="
            f"{min_frequency} times. Received at most {max(counts.values())}."
        )
    return tuple(sorted(kept, key=lambda v: (-counts[v], v))[:max_tokens])


def _dense_values(spec, df):
    values = np.asarray(np.stack(require_column(df, spec.name).to_numpy()), dtype="float64")
    if not np.all(np.isfinite(values)):
        raise ValueError(
            f"Feature '{spec.name}': expected finite numbers to compute "
            "normalisation statistics. Received NaN or inf values."
        )
    return values


def _moments(old, values):
    """(count, mean, variance) of `old`'s rows and `values` together (Chan et al.)."""
    new = (values.size, float(values.mean()), float(values.var()))
    if old is None:
        return new
    (n_a, mean_a, var_a), (n_b, mean_b, var_b) = old, new
    n = n_a + n_b
    delta = mean_b - mean_a
    mean = mean_a + delta * n_b / n
    return n, mean, (var_a * n_a + var_b * n_b + delta * delta * n_a * n_b / n) / n


def _sample(old, values, rng):
    """A uniform sample of at most QUANTILE_SAMPLE values (seeded random keys)."""
    keys = (
        np.concatenate([old[0], rng.uniform(size=values.size)])
        if old
        else rng.uniform(size=values.size)
    )
    values = np.concatenate([old[1], values.ravel()]) if old else values.ravel()
    if values.size > QUANTILE_SAMPLE:
        keep = np.argpartition(keys, QUANTILE_SAMPLE)[:QUANTILE_SAMPLE]
        keys, values = keys[keep], values[keep]
    return keys, values


def bucket_edges(values, buckets):
    """Quantile edges of `values` and of their non-zero part (see DenseFeat)."""
    levels = np.linspace(0, 1, buckets + 1)[1:-1]
    nonzero = values[values != 0]
    edges = np.concatenate(
        [np.quantile(values, levels), np.quantile(nonzero, levels) if nonzero.size else []]
    )
    return tuple(float(e) for e in np.unique(edges))


def table_groups(features, with_vocabulary=False):
    """`{embedding_name: [specs]}` of the categorical specs without a vocabulary
    (to learn one), or with one (`with_vocabulary`, to refresh it)."""
    wanted = "lookup" if with_vocabulary else None
    groups = {}
    for spec in features:
        if isinstance(spec, (SparseFeat, VarLenSparseFeat)) and spec.encoding == wanted:
            groups.setdefault(spec.embedding_name, []).append(spec)
    return groups


def adapt(
    features: Sequence[FeatureSpec],
    data: Union[
        pd.DataFrame, Iterable[pd.DataFrame], tf.data.Dataset, ChunkSource, str, Sequence[str]
    ],
    sample_rows: Optional[int] = None,
    max_tokens: Optional[int] = None,
    min_frequency: Optional[int] = None,
) -> tuple[FeatureSpec, ...]:
    """Returns `features` with vocabularies, statistics and bucket edges learned.

    Categorical specs without `vocabulary`, `hash_bins` or `vocabulary_size`
    get a vocabulary of the values seen in their column (all columns of the
    features sharing an `embedding_name`, so shared tables agree), ordered by
    decreasing frequency (ties by value), cut to values seen at least
    `min_frequency` times and to the `max_tokens` most frequent (the rest
    goes to the out-of-vocabulary row). Their dtype is taken from the data:
    integer columns (and columns of integer lists) stay integers, anything
    else is looked up as strings (from a stream: as its first chunk says).
    `DenseFeat` specs with `normalize=True` and no statistics get the
    column's mean and variance (after `log1p`), and specs with `buckets`
    and no `bucket_edges` their quantile edges (`DenseFeat`). Specs that are
    already complete are returned unchanged.

    `data` is read in one pass, a chunk at a time, so it need not fit in
    memory: counts and moments are merged exactly across chunks (the mean
    and variance equal the in-memory ones to float64 rounding), and the
    bucket quantiles come from a seeded uniform sample of at most
    `QUANTILE_SAMPLE` values per feature (all values when there are fewer,
    so then they equal the in-memory quantiles).

    Args:
        features: sequence of SparseFeat, VarLenSparseFeat and DenseFeat.
        data: a pandas DataFrame of training rows; an iterable of
            DataFrames (chunks); a `tf.data.Dataset` of feature dicts (or
            `(features, labels)` pairs) of raw values; a
            `keras_mtl.data.DataSource` (or any object whose
            `chunks(features)` returns DataFrames); or a file pattern (or
            list), read as `keras_mtl.data.DataSource(pattern)` reads it:
            the format from the suffix (`DataSource` lists them; an unknown
            suffix is an error), CSV lists split at "|". State the format,
            compression or separators with a `DataSource`.
        sample_rows: learn from the first `sample_rows` rows only (a quick
            pass); None reads everything.
        max_tokens: keep at most this many values per vocabulary.
        min_frequency: keep values seen at least this many times.

    Returns:
        A tuple of specs in the same order.

    Example:
    >>> df = pd.DataFrame({"city": ["a", "b", "a", "c"], "age": [20.0, 30.0, 40.0, 50.0]})
    >>> city, age = adapt([SparseFeat("city"), DenseFeat("age", buckets=2)], df, max_tokens=2)
    >>> city.vocabulary, age.bucket_edges
    (('a', 'b'), (35.0,))
    """
    features = tuple(features)
    for name, value in (
        ("sample_rows", sample_rows),
        ("max_tokens", max_tokens),
        ("min_frequency", min_frequency),
    ):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise ValueError(f"expected a positive integer or None. Received: {name}={value!r}")
    groups = table_groups(features)
    dense = [s for s in features if isinstance(s, DenseFeat) and not s.is_adapted]
    dtypes, counts, moments, samples = {}, {n: {} for n in groups}, {}, {}
    rng = np.random.RandomState(0)
    rows = 0
    for df in _stream.chunks(data, features, sample_rows):
        rows += len(df)
        for name, specs in groups.items():
            if name not in dtypes:
                given = {spec.dtype for spec in specs if spec.dtype is not None}
                if not given:
                    given = {
                        column_dtype(_flat_values(spec, require_column(df, spec.name)))
                        for spec in specs
                    }
                dtypes[name] = "string" if "string" in given else "int64"
            count_values(counts[name], specs, df, dtypes[name])
        for spec in dense:
            values = _dense_values(spec, df)
            if spec.normalize and spec.mean is None:
                transformed = np.sign(values) * np.log1p(np.abs(values)) if spec.log1p else values
                moments[spec.name] = _moments(moments.get(spec.name), transformed)
            if spec.is_bucketized and spec.bucket_edges is None:
                samples[spec.name] = _sample(samples.get(spec.name), values, rng)
    if rows == 0:
        raise ValueError("expected training rows to adapt the features to. Received 0 rows.")
    learned = {
        name: (_vocabulary(specs, counts[name], max_tokens, min_frequency), dtypes[name])
        for name, specs in groups.items()
    }
    out = []
    for spec in features:
        if isinstance(spec, DenseFeat):
            if spec.name in moments:
                _, mean, variance = moments[spec.name]
                spec = spec.replace(mean=mean, variance=variance)
            if spec.name in samples:
                spec = spec.replace(bucket_edges=bucket_edges(samples[spec.name][1], spec.buckets))
        elif spec.encoding is None:
            vocabulary, dtype = learned[spec.embedding_name]
            spec = spec.replace(vocabulary=vocabulary, dtype=dtype)
        out.append(spec)
    return tuple(out)
