"""The labelled rows of an evaluation: labels and values of equal length, NaN labels left out."""

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
