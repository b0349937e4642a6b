"""Moved: the exact ROC AUC lives in `keras_mtl.evaluation.roc_auc` now."""

from keras_mtl.evaluation.roc_auc import roc_auc

__all__ = ["roc_auc"]
