"""Vocabularies that follow fresh data: keep live ids, admit new ones, evict under a budget."""

import collections
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Optional
from typing import Union

import pandas as pd
import tensorflow as tf

from keras_mtl.features import _stream
from keras_mtl.features.adapt import count_values
from keras_mtl.features.adapt import table_groups
from keras_mtl.features.chunk_source import ChunkSource
from keras_mtl.features.feature_spec import FeatureSpec
from keras_mtl.features.sparse_feat import SparseFeat
from keras_mtl.features.var_len_sparse_feat import VarLenSparseFeat
from keras_mtl.features.vocabulary_report import VocabularyReport

Budget = Optional[Union[int, Mapping[str, Optional[int]]]]


def _positive(name, value, allow_none=True):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"expected a positive integer or None. Received: {name}={value!r}")
    return value


def _budgets(max_tokens, tables):
    """`{table: budget or None}` from an int, a mapping or None."""
    if isinstance(max_tokens, Mapping):
        unknown = sorted(set(max_tokens) - set(tables))
        if unknown:
            raise ValueError(
                f"max_tokens names tables {unknown} that no vocabulary feature uses. "
                f"Expected embedding names among {sorted(tables)}."
            )
        return {t: _positive(f"max_tokens[{t!r}]", max_tokens.get(t)) for t in tables}
    budget = _positive("max_tokens", max_tokens)
    return {t: budget for t in tables}


def _refreshed_table(specs, seen, budget, min_frequency, refresh):
    """`(vocabulary, counts, last_seen, report counts)` of one table."""
    first = specs[0]
    old = list(first.vocabulary)
    counts = list(first.counts) if first.counts is not None else [0] * len(old)
    last = list(first.last_seen) if first.last_seen is not None else [0] * len(old)
    index = {value: i for i, value in enumerate(old)}
    for value, n in seen.items():
        if value in index:
            counts[index[value]] += n
            last[index[value]] = refresh
    new = [v for v in seen if v not in index and seen[v] >= min_frequency]
    rejected = sum(1 for v in seen if v not in index) - len(new)
    new.sort(key=lambda v: (-seen[v], v))
    # one ranking of old and new ids: most recently seen first, then most
    # often seen, then by value (deterministic); the budget keeps the top
    candidates = [(last[i], counts[i], v, i) for i, v in enumerate(old)]
    candidates += [(refresh, seen[v], v, None) for v in new]
    if budget is not None and len(candidates) > budget:
        candidates.sort(key=lambda c: (-c[0], -c[1], c[2]))
        candidates = candidates[:budget]
    kept = {c[3] for c in candidates if c[3] is not None}
    admitted = [c[2] for c in candidates if c[3] is None]
    admitted.sort(key=lambda v: (-seen[v], v))
    # slots: kept ids stay where they are; admitted ids fill the evicted
    # slots in order, then go after the last one
    slots = [(old[i], counts[i], last[i]) if i in kept else None for i in range(len(old))]
    queue = iter([(v, seen[v], refresh) for v in admitted])
    holes = collections.deque()
    for i, slot in enumerate(slots):
        if slot is None:
            slots[i] = next(queue, None)
            if slots[i] is None:
                holes.append(i)
    slots.extend(queue)
    # a smaller budget than before leaves holes: the last entries move into
    # them (the only case where a kept id changes row)
    while holes:
        if slots[-1] is None:  # the last hole is the last slot
            slots.pop()
            holes.pop()
        else:
            slots[holes.popleft()] = slots.pop()
    report = {
        "kept": len(kept),
        "admitted": len(admitted),
        "evicted": len(old) - len(kept),
        "rejected": rejected,
        "rows": len(slots),
        "max_tokens": budget,
    }
    vocabulary = tuple(s[0] for s in slots)
    return vocabulary, tuple(s[1] for s in slots), tuple(s[2] for s in slots), report


def refresh_vocabularies(
    features: Sequence[FeatureSpec],
    data: Union[
        pd.DataFrame, Iterable[pd.DataFrame], tf.data.Dataset, ChunkSource, str, Sequence[str]
    ],
    max_tokens: Budget = None,
    min_frequency: int = 1,
    sample_rows: Optional[int] = None,
) -> tuple[tuple[FeatureSpec, ...], VocabularyReport]:
    """Returns `features` with vocabularies refreshed on new `data`, and what changed.

    For every table of features with a `vocabulary` (one per
    `embedding_name`), the values in `data` are counted and:

    - ids already in the vocabulary keep their row (their index) and their
      counts grow; the refresh is recorded as the last one that saw them;
    - new ids seen at least `min_frequency` times are admitted; rarer ones
      stay out-of-vocabulary (counted as "rejected");
    - under a budget (`max_tokens`) old and new ids are ranked together,
      most recently seen first, then most often seen (counts since
      admission), then by value, and the top `max_tokens` keep or get a row:
      the ids left out of the ranking are evicted (to the OOV row) and
      admitted ids take the evicted rows, in order, before any new row is
      added. So a table never holds more than `max_tokens` entries (plus its
      OOV row) and a kept id moves only if the budget is made smaller than
      the vocabulary already is (the last entries then fill the holes).

    The per-id counts and last-seen refresh are kept in the specs (`counts`,
    `last_seen`, `refreshes`, and the refresh's `refresh_counts`); a model
    built on them keeps them
    (`MultiTaskModel.features`), so the next day's refresh starts from
    them. Ids of a vocabulary learned by `adapt` count from their first
    refresh. Hashed (`hash_bins`) and pre-encoded (`vocabulary_size`)
    features and numeric features (statistics, bucket edges) are returned
    unchanged. Carry the rows of the old model into a model built on the
    result with `keras_mtl.training.warm_start`.

    Args:
        features: specs; categorical ones with a vocabulary are refreshed
            (every spec needs one, or `hash_bins` / `vocabulary_size`).
        data: the new rows, in any form `adapt` reads.
        max_tokens: budget of vocabulary entries per table: an int for
            every table, `{embedding_name: int or None}`, or None (no budget).
        min_frequency: times a new id must be seen to be admitted.
        sample_rows: read only the first `sample_rows` rows of `data`.

    Returns:
        `(features, report)`: the specs in the same order and a
        `VocabularyReport` of each table's kept, admitted and evicted ids.

    Example:
    >>> from keras_mtl.features import SparseFeat
    >>> city = SparseFeat("city", vocabulary=("a", "b", "c"))
    >>> df = pd.DataFrame({"city": ["a", "d", "d", "e"]})
    >>> (city,), report = refresh_vocabularies([city], df, max_tokens=3)
    >>> city.vocabulary, city.last_seen
    (('a', 'd', 'e'), (1, 1, 1))
    >>> report.tables["city"]["evicted"]
    2
    """
    features = tuple(features)
    _positive("min_frequency", min_frequency, allow_none=False)
    _positive("sample_rows", sample_rows)
    groups = table_groups(features, with_vocabulary=True)
    missing = [
        spec.name
        for spec in features
        if isinstance(spec, (SparseFeat, VarLenSparseFeat)) and spec.encoding is None
    ]
    if missing:
        raise ValueError(
            f"Features {missing}: expected a vocabulary (or hash_bins / vocabulary_size) to "
            "refresh. Call keras_mtl.features.adapt(features, data) first."
        )
    for table, specs in groups.items():
        states = {(s.vocabulary, s.counts, s.last_seen, s.refreshes) for s in specs}
        if len(states) > 1:
            raise ValueError(
                f"Features {[s.name for s in specs]} share the table '{table}' but differ in "
                "vocabulary or refresh state. Expected one vocabulary per embedding_name."
            )
    budgets = _budgets(max_tokens, groups)
    seen = {table: {} for table in groups}
    rows = 0
    for df in _stream.chunks(data, features, sample_rows):
        rows += len(df)
        for table, specs in groups.items():
            count_values(seen[table], specs, df, specs[0].dtype)
    if rows == 0:
        raise ValueError("expected new rows to refresh the vocabularies on. Received 0 rows.")
    refreshed, tables = {}, {}
    refresh = max((specs[0].refreshes for specs in groups.values()), default=0) + 1
    for table, specs in groups.items():
        number = specs[0].refreshes + 1
        vocabulary, counts, last, tables[table] = _refreshed_table(
            specs, seen[table], budgets[table], min_frequency, number
        )
        done = tables[table]
        refreshed[table] = dict(
            vocabulary=vocabulary,
            counts=counts,
            last_seen=last,
            refreshes=number,
            refresh_counts=(done["kept"], done["admitted"], done["evicted"], done["rejected"]),
        )
    out = tuple(
        spec.replace(**refreshed[spec.embedding_name])
        if isinstance(spec, (SparseFeat, VarLenSparseFeat)) and spec.encoding == "lookup"
        else spec
        for spec in features
    )
    return out, VocabularyReport(refresh, tables)
