"""Batches with the same number of rows from every domain."""

import math
from collections.abc import Sequence
from typing import Optional

import numpy as np
import pandas as pd
import tensorflow as tf

from keras_mtl._types import FeatureSpec
from keras_mtl._types import LabelColumns
from keras_mtl.data.dataframe import features_to_arrays
from keras_mtl.data.dataframe import labels_to_arrays
from keras_mtl.features.columns import require_column


def domain_balanced_dataset(
    df: pd.DataFrame,
    features: Sequence[FeatureSpec],
    labels: LabelColumns,
    domain_feature: str,
    num_domains: int,
    batch_size: int = 64,
    seed: Optional[int] = None,
) -> tf.data.Dataset:
    """A `tf.data.Dataset` whose every batch holds `batch_size` rows per domain.

    One batch from each domain per step, so a small domain weighs as much as
    a large one in every step (its rows recur more often); with
    `keras_mtl.training.MAMDR`, whose inner step on a domain is weighted by
    the domain's share of the batch, every domain then steps at the same
    rate. (MAMDR's defaults were chosen on ordinary shuffled batches, where
    each row counts once per epoch.) Each domain's rows are shuffled (with `seed`) and repeated on
    their own; one pass has `ceil(len(df) / (D · batch_size))` batches, about
    as many rows as the frame. Rows whose domain id is outside
    `[0, num_domains)` are left out.

    Args:
        df: DataFrame with the feature, label and domain columns.
        features: the feature specs (the domain feature among them).
        labels: `{task: column}` or label columns named like the tasks.
        domain_feature: column of integer domain ids.
        num_domains: D.
        batch_size: rows of each domain in a batch.
        seed: shuffle seed.

    Returns:
        A dataset of `(features, labels)` batches of `D' · batch_size` rows,
        D' the number of domains present.

    Example:
    >>> df = pd.DataFrame({"domain": [0] * 6 + [1] * 2, "x": np.arange(8.0),
    ...                    "y": [0.0, 1.0] * 4})
    >>> feats = [SparseFeat("domain", vocabulary_size=2), DenseFeat("x")]
    >>> ds = domain_balanced_dataset(df, feats, ["y"], "domain", 2, batch_size=3)
    >>> [np.bincount(x["domain"].numpy()).tolist() for x, _ in ds]
    [[3, 3], [3, 3]]
    """
    ids = np.asarray(require_column(df, domain_feature))
    domains = [d for d in range(num_domains) if (ids == d).any()]
    if not domains:
        raise ValueError(
            f"expected rows with domain ids in [0, {num_domains}) in column "
            f"{domain_feature!r}. Received none."
        )
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"expected a positive integer. Received: batch_size={batch_size!r}")
    parts = []
    for i, domain in enumerate(domains):
        part = df[ids == domain]
        elements = (features_to_arrays(part, features), labels_to_arrays(part, labels))
        parts.append(
            tf.data.Dataset.from_tensor_slices(elements)
            .shuffle(
                len(part), seed=None if seed is None else seed + i, reshuffle_each_iteration=True
            )
            .repeat()
            .batch(batch_size)
        )
    rows = int(np.isin(ids, domains).sum())
    steps = math.ceil(rows / (len(domains) * batch_size))
    merged = tf.data.Dataset.zip(tuple(parts)).map(
        lambda *batches: tf.nest.map_structure(lambda *t: tf.concat(t, axis=0), *batches)
    )  # one batch of each domain, stacked along the rows
    return merged.take(steps).prefetch(tf.data.AUTOTUNE)
