"""Spec of a single-valued categorical feature."""

import dataclasses
from collections.abc import Sequence
from typing import Literal
from typing import Optional
from typing import Union

from keras_mtl.features import _categorical


@dataclasses.dataclass(frozen=True)
class SparseFeat(_categorical.CategoricalSpec):
    """A categorical feature with one value per row, embedded into a vector.

    Exactly one way of turning values into embedding rows is used:

    - `vocabulary`: raw values (strings or ints, as a DataFrame holds them)
      looked up in-graph; values outside the vocabulary go to an OOV row.
      Leave it None and call `keras_mtl.features.adapt(features, df)` to learn
      it from training data.
    - `hash_bins`: raw values hashed in-graph into that many rows (for huge id
      spaces); collisions are possible, no vocabulary is stored.
    - `vocabulary_size`: pre-encoded integer ids in `[0, vocabulary_size)`;
      ids outside it go to an extra OOV row.

    Specs are immutable and own no layers or variables.

    Args:
        name: input name (the DataFrame column and the serving input key);
            see `keras_mtl.features.names` for the characters it may hold.
        vocabulary: values of the feature, or None.
        hash_bins: number of hash buckets, or None.
        vocabulary_size: number of pre-encoded ids, or None.
        embedding_dim: width of the embedding vector.
        embedding_name: features with the same embedding name share one table;
            defaults to `name`.
        dtype: "string" or "int64" raw values; inferred when None.
        counts, last_seen, refreshes, refresh_counts: the vocabulary's
            refresh state, kept by `keras_mtl.features.refresh_vocabularies`
            (leave them None / 0): per vocabulary entry, the times it was
            seen since it was admitted and the refresh that last saw it (0:
            the vocabulary as learned); `refreshes` counts the refreshes so
            far, and `refresh_counts` is the last one's (kept, admitted,
            evicted, rejected) ids.

    Example:
    >>> SparseFeat("country", vocabulary=("DE", "FR"), embedding_dim=4).dtype
    'string'
    """

    name: str
    vocabulary: Optional[Sequence[Union[str, int]]] = None
    hash_bins: Optional[int] = None
    vocabulary_size: Optional[int] = None
    embedding_dim: int = 8
    embedding_name: Optional[str] = None
    dtype: Optional[Literal["string", "int64"]] = None
    counts: Optional[Sequence[int]] = None
    last_seen: Optional[Sequence[int]] = None
    refreshes: int = 0
    refresh_counts: Optional[Sequence[int]] = None
