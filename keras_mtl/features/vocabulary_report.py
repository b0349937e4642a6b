"""What one vocabulary refresh did to each table."""

import dataclasses
from collections.abc import Mapping
from typing import Optional


@dataclasses.dataclass(frozen=True)
class VocabularyReport:
    """Per table (`embedding_name`), the counts of one `refresh_vocabularies` call.

    Attributes:
        refresh: the refresh's number (1 for the first refresh of a vocabulary).
        tables: `{table: {"kept", "admitted", "evicted", "rejected", "rows",
            "max_tokens"}}`: ids kept from the old vocabulary, new ids given a
            row, old ids that lost theirs, new ids seen fewer than
            `min_frequency` times (they stay out-of-vocabulary), vocabulary
            entries after the refresh and the budget (None: unlimited).

    Example:
    >>> report = VocabularyReport(1, {"city": dict(kept=2, admitted=1, evicted=0,
    ...     rejected=0, rows=3, max_tokens=None)})
    >>> report.tables["city"]["rows"]
    3
    """

    refresh: int
    tables: Mapping[str, Mapping[str, Optional[int]]]

    def __str__(self) -> str:
        columns = ("kept", "admitted", "evicted", "rejected", "rows", "max_tokens")
        lines = [f"vocabulary refresh {self.refresh}", "table\t" + "\t".join(columns)]
        for table, counts in self.tables.items():
            cells = ["-" if counts[c] is None else str(counts[c]) for c in columns]
            lines.append(table + "\t" + "\t".join(cells))
        return "\n".join(lines)
