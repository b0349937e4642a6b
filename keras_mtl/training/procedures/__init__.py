"""Training procedures that replace the plain gradient step.

`TrainingProcedure` is the interface `MultiTaskModel.train_step` hands a
batch to (`MetaLearningStep`, MetaHeac's meta step); `MAMDR` trains a
multi-domain model by Domain Negotiation and Domain Regularization.
"""

from keras_mtl.training.procedures.domain_variables import declared_domain_variables
from keras_mtl.training.procedures.mamdr import MAMDR
from keras_mtl.training.procedures.meta_learning_step import MetaLearningStep
from keras_mtl.training.procedures.training_procedure import TrainingProcedure

__all__ = ["MAMDR", "MetaLearningStep", "TrainingProcedure", "declared_domain_variables"]
