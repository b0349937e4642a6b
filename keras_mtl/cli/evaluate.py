"""Per-task evaluation of predictions: AUC / log loss, MSE / MAE."""

import math

import numpy as np

from keras_mtl.training.roc_auc import roc_auc

_EPS = 1e-7  # predictions are clipped to [eps, 1 - eps] for the log loss
COLUMNS = ("task", "type", "rows", "auc", "logloss", "mse", "mae")


def task_metrics(task_type, labels, predictions):
    """`{metric: value}` for one task over the rows with a label (NaN = none).

    Binary: "auc" (exact, NaN when one class only) and "logloss"; regression:
    "mse" and "mae". "rows" counts the labelled rows.

    Example:
    >>> task_metrics("binary", [0, 1, 1, np.nan], [0.2, 0.6, 0.4, 0.9])["auc"]
    1.0
    >>> task_metrics("regression", [1.0, 3.0], [2.0, 3.0])
    {'rows': 2, 'mse': 0.5, 'mae': 0.5}
    """
    labels = np.asarray(labels, "float64").ravel()
    predictions = np.asarray(predictions, "float64").ravel()
    present = ~np.isnan(labels)
    y, p = labels[present], predictions[present]
    out = {"rows": int(present.sum())}
    if not out["rows"]:
        return out
    if task_type == "binary":
        both = 0 < y.sum() < len(y)
        out["auc"] = float(roc_auc(y, p)) if both else float("nan")
        q = np.clip(p, _EPS, 1 - _EPS)
        out["logloss"] = float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))
    else:
        out["mse"] = float(np.mean((p - y) ** 2))
        out["mae"] = float(np.mean(np.abs(p - y)))
    return out


def evaluate(task_types, labels, predictions):
    """`{task: metrics}` for every task of `task_types` (`{task: type}`)."""
    return {
        task: {"type": kind, **task_metrics(kind, labels[task], predictions[task])}
        for task, kind in task_types.items()
    }


def table(results):
    """The per-task results as an aligned text table ("-" where n/a)."""
    rows = [COLUMNS]
    for task, metrics in results.items():
        cells = [task, metrics["type"], str(metrics["rows"])]
        for name in COLUMNS[3:]:
            value = metrics.get(name)
            cells.append("-" if value is None else "nan" if math.isnan(value) else f"{value:.4f}")
        rows.append(tuple(cells))
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
        for row in rows
    )
