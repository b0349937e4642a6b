"""Exact ROC AUC against sklearn."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from keras_mtl.evaluation import roc_auc


def test_equals_sklearn_with_ties():
    rng = np.random.RandomState(0)
    labels = rng.randint(0, 2, 500).astype("float32")
    scores = np.round(rng.rand(500) + 0.3 * labels, 1)  # many ties
    assert roc_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


def test_missing_labels_are_dropped():
    labels = np.array([0, np.nan, 1, 1, 0])
    scores = np.array([0.1, 0.9, 0.8, 0.3, 0.4])
    assert roc_auc(labels, scores) == pytest.approx(
        roc_auc_score([0, 1, 1, 0], [0.1, 0.8, 0.3, 0.4])
    )


def test_errors():
    with pytest.raises(ValueError, match="both classes"):
        roc_auc([1, 1], [0.2, 0.3])
    with pytest.raises(ValueError, match="2 scores and 3 labels"):
        roc_auc([0, 1, 1], [0.2, 0.3])
    with pytest.raises(ValueError, match=r"\{0, 1\}"):
        roc_auc([0, 2], [0.2, 0.3])
