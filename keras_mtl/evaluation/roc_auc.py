"""Exact ROC AUC, for evaluation outside the training loop."""

import pandas as pd

from keras_mtl._types import ArrayLike
from keras_mtl.evaluation._rows import labelled_rows


def roc_auc(labels: ArrayLike, scores: ArrayLike) -> float:
    """Area under the ROC curve, exact (Mann–Whitney U with tied ranks).

    Keras' `AUC` metric interpolates over a fixed set of thresholds; this is
    the exact value sklearn's `roc_auc_score` gives. Rows whose label is NaN
    are left out.

    Args:
        labels: 0/1 labels (NaN = missing).
        scores: predicted scores, same length.

    Returns:
        A float in [0, 1].

    Example:
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    labels, scores = labelled_rows(labels, scores, "scores")
    positives = int((labels == 1).sum())
    negatives = int((labels == 0).sum())
    if positives + negatives != labels.size:
        raise ValueError("expected labels in {0, 1} (or NaN for missing).")
    if positives == 0 or negatives == 0:
        raise ValueError(
            f"ROC AUC needs both classes. Received {positives} positives and {negatives} negatives."
        )
    ranks = pd.Series(scores).rank(method="average").to_numpy()
    rank_sum = ranks[labels == 1].sum()
    return float((rank_sum - positives * (positives + 1) / 2) / (positives * negatives))
