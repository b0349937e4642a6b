"""Validation and index layout shared by the categorical feature specs.

Every categorical feature maps its values to embedding rows with one layout:

- ``vocabulary`` (raw strings or ints, learned by `adapt` or given): row 0 is
  out-of-vocabulary (unseen and missing values), rows ``1 .. len(vocabulary)``
  are the vocabulary in order.
- ``hash_bins`` (raw values hashed in-graph): rows ``0 .. hash_bins - 1``.
- ``vocabulary_size`` (pre-encoded integer ids, as DeepCTR / torch-rechub data
  has them): ids ``0 .. vocabulary_size - 1`` are used as they are and any id
  outside that range goes to the extra row ``vocabulary_size``.

Padded positions of a `VarLenSparseFeat` are recognised from the raw value
(``""`` or ``0``), not from the row, so every kind keeps one layout; that is
what lets a `SparseFeat` and a `VarLenSparseFeat` share a table by
`embedding_name`.
"""

import dataclasses
import numbers
from collections.abc import Mapping
from typing import Any
from typing import Optional
from typing import TypeVar

from keras_mtl.features import names

DTYPES = ("string", "int64")

#: A categorical spec class (`SparseFeat` or `VarLenSparseFeat`), for annotations.
SpecT = TypeVar("SpecT", bound="CategoricalSpec")


def normalize_vocabulary(name, vocabulary):
    """Returns the vocabulary as a tuple, or None; checks it is usable."""
    if vocabulary is None:
        return None
    vocabulary = tuple(vocabulary)
    if not vocabulary:
        raise ValueError(
            f"Feature '{name}': expected a non-empty vocabulary. Received: "
            "vocabulary=(). Pass values, or leave it None and call "
            "keras_mtl.features.adapt(features, dataframe)."
        )
    kinds = {isinstance(v, str) for v in vocabulary}
    if len(kinds) != 1:
        first_str = next(v for v in vocabulary if isinstance(v, str))
        first_other = next(v for v in vocabulary if not isinstance(v, str))
        raise ValueError(
            f"Feature '{name}': expected a vocabulary of only strings or only "
            f"integers. Received a mix of both, e.g. {first_str!r} and "
            f"{first_other!r}."
        )
    if kinds == {False}:
        not_int = [v for v in vocabulary if not isinstance(v, numbers.Integral)]
        if not_int:
            raise ValueError(
                f"Feature '{name}': expected a vocabulary of only strings or "
                f"only integers. Received non-integer values {not_int[:5]!r}."
            )
        vocabulary = tuple(int(v) for v in vocabulary)
    if len(set(vocabulary)) != len(vocabulary):
        seen, duplicates = set(), []
        for v in vocabulary:
            if v in seen and v not in duplicates:
                duplicates.append(v)
            seen.add(v)
        raise ValueError(
            f"Feature '{name}': expected unique vocabulary entries. Received "
            f"{len(vocabulary)} entries with duplicates {duplicates[:5]!r}."
        )
    return vocabulary


def validate_categorical(spec):
    """Validates the fields common to SparseFeat and VarLenSparseFeat."""
    name = names.check_name(spec.name)
    if spec.embedding_name is not None:
        names.check_name(spec.embedding_name, "embedding_name")
    given = [
        key
        for key in ("vocabulary", "hash_bins", "vocabulary_size")
        if getattr(spec, key) is not None
    ]
    if len(given) > 1:
        raise ValueError(
            f"Feature '{name}': expected at most one of vocabulary, hash_bins, "
            f"vocabulary_size. Received: {', '.join(given)}."
        )
    for key in ("hash_bins", "vocabulary_size"):
        value = getattr(spec, key)
        minimum = 2 if key == "hash_bins" else 1
        if value is not None and (not isinstance(value, int) or value < minimum):
            raise ValueError(
                f"Feature '{name}': expected an integer >= {minimum}. Received: {key}={value!r}"
            )
    if not isinstance(spec.embedding_dim, int) or spec.embedding_dim < 1:
        raise ValueError(
            f"Feature '{name}': expected a positive integer. Received: "
            f"embedding_dim={spec.embedding_dim!r}"
        )
    if spec.dtype is not None and spec.dtype not in DTYPES:
        raise ValueError(
            f"Feature '{name}': expected dtype in {DTYPES}. Received: dtype={spec.dtype!r}"
        )
    if spec.vocabulary is not None and spec.dtype is not None:
        is_str = isinstance(spec.vocabulary[0], str)
        if is_str != (spec.dtype == "string"):
            raise ValueError(
                f"Feature '{name}': dtype={spec.dtype!r} does not match a "
                f"vocabulary of {'strings' if is_str else 'integers'}."
            )
    if spec.vocabulary_size is not None and spec.dtype == "string":
        raise ValueError(
            f"Feature '{name}': pre-encoded ids (vocabulary_size) must be "
            "integers. Received: dtype='string'. Use vocabulary= or hash_bins= "
            "for raw string values."
        )


def normalize_state(spec):
    """`(counts, last_seen)` as tuples of ints, or None; checks them against the vocabulary."""
    name = spec.name
    refreshes = spec.refreshes
    if not isinstance(refreshes, int) or isinstance(refreshes, bool) or refreshes < 0:
        raise ValueError(
            f"Feature '{name}': expected an integer >= 0. Received: refreshes={spec.refreshes!r}"
        )
    state = []
    for key, upper in (("counts", None), ("last_seen", spec.refreshes)):
        values = getattr(spec, key)
        if values is None:
            state.append(None)
            continue
        if spec.vocabulary is None:
            raise ValueError(
                f"Feature '{name}': {key} describes vocabulary entries. Received {key} "
                "without a vocabulary."
            )
        values = tuple(values)
        bad = [
            v
            for v in values
            if isinstance(v, bool)
            or not isinstance(v, numbers.Integral)
            or v < 0
            or (upper is not None and v > upper)
        ]
        if len(values) != len(spec.vocabulary) or bad:
            bound = "" if upper is None else f" and <= refreshes={upper}"
            raise ValueError(
                f"Feature '{name}': expected {key} of one integer >= 0{bound} per vocabulary "
                f"entry ({len(spec.vocabulary)}). Received {len(values)} values"
                + (f", e.g. {bad[:3]!r}." if bad else ".")
            )
        state.append(tuple(int(v) for v in values))
    return tuple(state)


def infer_dtype(spec):
    """The input dtype implied by the spec's fields ('string' or 'int64')."""
    if spec.dtype is not None:
        return spec.dtype
    if spec.vocabulary is not None:
        return "string" if isinstance(spec.vocabulary[0], str) else "int64"
    if spec.vocabulary_size is not None:
        return "int64"
    if spec.hash_bins is not None:
        return "string"
    return None  # decided by `adapt` from the DataFrame column


class CategoricalSpec:
    """What `SparseFeat` and `VarLenSparseFeat` (frozen dataclasses) share.

    Normalises and checks the common fields after construction (a subclass
    checks its own fields in `_validate_own_fields`), fills in `dtype` and
    `embedding_name`, and gives the index layout of the module docstring and
    a JSON-ready config.
    """

    def __post_init__(self) -> None:
        vocabulary = normalize_vocabulary(self.name, self.vocabulary)
        object.__setattr__(self, "vocabulary", vocabulary)
        validate_categorical(self)
        counts, last_seen = normalize_state(self)
        object.__setattr__(self, "counts", counts)
        object.__setattr__(self, "last_seen", last_seen)
        if self.refresh_counts is not None:
            done = tuple(self.refresh_counts)
            if len(done) != 4 or not all(
                isinstance(c, numbers.Integral) and not isinstance(c, bool) and c >= 0 for c in done
            ):
                raise ValueError(
                    f"Feature '{self.name}': expected refresh_counts of 4 integers >= 0 "
                    f"(kept, admitted, evicted, rejected). Received: {self.refresh_counts!r}"
                )
            object.__setattr__(self, "refresh_counts", tuple(int(c) for c in done))
        self._validate_own_fields()
        object.__setattr__(self, "dtype", infer_dtype(self))
        if self.embedding_name is None:
            object.__setattr__(self, "embedding_name", self.name)

    def _validate_own_fields(self) -> None:
        """Checks of the fields only a subclass has (none here)."""

    @property
    def encoding(self) -> Optional[str]:
        """'lookup', 'hash', 'encoded', or None before `adapt`."""
        if self.vocabulary is not None:
            return "lookup"
        if self.hash_bins is not None:
            return "hash"
        if self.vocabulary_size is not None:
            return "encoded"
        return None

    @property
    def num_embeddings(self) -> int:
        """Rows in the embedding table (the OOV row included)."""
        kind = self.encoding
        if kind == "lookup":
            return len(self.vocabulary) + 1
        if kind == "hash":
            return self.hash_bins
        if kind == "encoded":
            return self.vocabulary_size + 1
        raise ValueError(
            f"Feature '{self.name}' has no vocabulary yet. Expected one of "
            "vocabulary=, hash_bins= or vocabulary_size=, or call "
            "keras_mtl.features.adapt(features, dataframe) before building a model."
        )

    def replace(self: SpecT, **changes: Any) -> SpecT:
        """A copy with `changes` applied (specs are immutable)."""
        return dataclasses.replace(self, **changes)

    def get_config(self) -> dict[str, Any]:
        config = dataclasses.asdict(self)
        for key in ("vocabulary", "counts", "last_seen", "refresh_counts"):
            if config[key] is not None:
                config[key] = list(config[key])
        return config

    @classmethod
    def from_config(cls: type[SpecT], config: Mapping[str, Any]) -> SpecT:
        return cls(**config)
