"""The per-task evaluation as an aligned text table, as `keras-mtl train` prints it."""

import math
from collections.abc import Mapping
from typing import Any

from keras_mtl.evaluation.metric_names import METRICS_BY_TASK_TYPE

#: One column per metric of any task type, in `METRICS_BY_TASK_TYPE` order.
COLUMNS = ("task", "type", "rows") + tuple(
    dict.fromkeys(name for names in METRICS_BY_TASK_TYPE.values() for name in names)
)


def results_table(results: Mapping[str, Mapping[str, Any]]) -> str:
    """`evaluate_tasks` results as an aligned text table ("-" where n/a).

    Args:
        results: `{task: {"type": ..., "rows": ..., metric: value}}`.

    Returns:
        The table as one string, a header line then a line per task.

    Example:
    >>> print(results_table({"ctr": {"type": "binary", "rows": 4, "auc": 0.75,
    ...                              "logloss": float("nan")}}))
    task  type    rows     auc  logloss  mse  mae
    ctr   binary     4  0.7500      nan    -    -
    """
    rows = [COLUMNS]
    for task, metrics in results.items():
        cells = [task, metrics["type"], str(metrics["rows"])]
        for name in COLUMNS[3:]:
            value = metrics.get(name)
            cells.append("-" if value is None else "nan" if math.isnan(value) else f"{value:.4f}")
        rows.append(tuple(cells))
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i < 2 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths))
        )
        for row in rows
    )
