"""The labelled rows of an evaluation: labels and values of equal length, NaN labels left
out, and labels outside a task's sample space turned into NaN."""

import numpy as np


def labelled_rows(labels, values, what="predictions"):
    """`(labels, values)` as flat float64 arrays over the rows whose label is not NaN.

    Raises a ValueError naming `what` (the values' name) when the lengths differ.
    """
    labels = np.asarray(labels, dtype="float64").ravel()
    values = np.asarray(values, dtype="float64").ravel()
    if labels.shape != values.shape:
        raise ValueError(
            f"expected as many {what} as labels. Received {values.size} "
            f"{what} and {labels.size} labels."
        )
    present = ~np.isnan(labels)
    return labels[present], values[present]


def space_labels(task, labels, indicator, columns=None):
    """`labels` as float64 with NaN where the task's space indicator is not 1.

    `indicator` is an array of 0/1 per row, or the name of one of `columns`
    (`{name: array}`, e.g. the other tasks' labels). See
    `keras_mtl.training.SampleSpaces`.
    """
    if isinstance(indicator, str):
        if columns is None or indicator not in columns:
            raise KeyError(
                f"sample_spaces[{task!r}] = {indicator!r} is not among the columns "
                f"{sorted(columns or {})}."
            )
        indicator = columns[indicator]
    labels = np.asarray(labels, dtype="float64").ravel()
    indicator = np.asarray(indicator, dtype="float64").ravel()
    if indicator.shape != labels.shape:
        raise ValueError(
            f"sample_spaces[{task!r}]: expected one indicator per label. Received "
            f"{indicator.size} indicators and {labels.size} labels."
        )
    return np.where(indicator == 1.0, labels, np.nan)
