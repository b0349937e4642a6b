"""Spec of a variable-length categorical feature (a list of ids per row)."""

import dataclasses
from collections.abc import Sequence
from typing import Literal
from typing import Optional
from typing import Union

from keras_mtl.features import _categorical
from keras_mtl.features import names

POOLINGS = ("mean", "sum", "max")


@dataclasses.dataclass(frozen=True)
class VarLenSparseFeat(_categorical.CategoricalSpec):
    """A list of categorical values per row, embedded and pooled into a vector.

    Rows are padded (or truncated) to `maxlen`; the padding value is `""` for
    string features and `0` for integer features, and padded positions are
    left out of the pooling. Vocabulary, hashing and pre-encoded ids work as in
    `SparseFeat` (for pre-encoded ids, id 0 is reserved for padding; for
    integer values, 0 is padding and cannot be a category).

    Args:
        name: input name (the DataFrame column holds lists or arrays).
        maxlen: positions kept per row.
        pooling: "mean", "sum" or "max" over the non-padded positions.
        vocabulary, hash_bins, vocabulary_size, embedding_dim, embedding_name,
            dtype, counts, last_seen, refreshes, refresh_counts: as in
            `SparseFeat`.
        weight_name: optional name of a float input of shape (maxlen,) whose
            values weight each position before pooling ("mean" divides the
            weighted sum by the number of non-padded positions).

    Example:
    >>> VarLenSparseFeat("history", maxlen=5, vocabulary_size=100).pooling
    'mean'
    """

    name: str
    maxlen: int
    pooling: Literal["mean", "sum", "max"] = "mean"
    vocabulary: Optional[Sequence[Union[str, int]]] = None
    hash_bins: Optional[int] = None
    vocabulary_size: Optional[int] = None
    embedding_dim: int = 8
    embedding_name: Optional[str] = None
    dtype: Optional[Literal["string", "int64"]] = None
    weight_name: Optional[str] = None
    counts: Optional[Sequence[int]] = None
    last_seen: Optional[Sequence[int]] = None
    refreshes: int = 0
    refresh_counts: Optional[Sequence[int]] = None

    def _validate_own_fields(self) -> None:
        if self.weight_name is not None:
            names.check_name(self.weight_name, "weight_name")
        if not isinstance(self.maxlen, int) or self.maxlen < 1:
            raise ValueError(
                f"Feature '{self.name}': expected a positive integer. "
                f"Received: maxlen={self.maxlen!r}"
            )
        if self.pooling not in POOLINGS:
            raise ValueError(
                f"Feature '{self.name}': expected pooling in {POOLINGS}. "
                f"Received: pooling={self.pooling!r}"
            )

    @property
    def pad_value(self) -> Union[str, int]:
        """The value that marks a padded position."""
        return "" if self.dtype == "string" else 0
