"""Moved: `evaluate_by_domain` lives in `keras_mtl.evaluation.domain_evaluation` now."""

from keras_mtl.evaluation.domain_evaluation import OVERALL
from keras_mtl.evaluation.domain_evaluation import evaluate_by_domain

__all__ = ["OVERALL", "evaluate_by_domain"]
