"""The multi-task model class, its training state and step, and training procedures.

Layout:
- `MultiTaskModel` (multi_task_model.py) and what its `compile` builds:
  `TrainingState` (training_state.py), `OptimizerGroups`
  (optimizer_groups.py), `Reporting` (reporting.py);
- `step` (forward → total → descend → update_metrics) and `FitHooks`
  (fit_hooks.py), shared with the TFRS integration;
- `procedures/`: `TrainingProcedure`, `MetaLearningStep`, `MAMDR`.

Losses live in `keras_mtl.losses`, evaluation in `keras_mtl.evaluation`;
their names stay importable from here (and the old module paths, such as
`keras_mtl.training.focal_loss`, still import).
"""

import importlib
import sys

from keras_mtl.evaluation import evaluate_by_domain
from keras_mtl.evaluation import roc_auc
from keras_mtl.losses import AuxiliaryLoss
from keras_mtl.losses import BehaviorCalibrator
from keras_mtl.losses import FocalLoss
from keras_mtl.training.expert_health_callback import ExpertHealthCallback
from keras_mtl.training.fit_hooks import FitHooks
from keras_mtl.training.multi_task_model import MultiTaskModel
from keras_mtl.training.optimizer_groups import OptimizerGroups
from keras_mtl.training.procedures import MAMDR
from keras_mtl.training.procedures import MetaLearningStep
from keras_mtl.training.procedures import TrainingProcedure
from keras_mtl.training.procedures import declared_domain_variables
from keras_mtl.training.reporting import Reporting
from keras_mtl.training.sample_spaces import SampleSpaces
from keras_mtl.training.training_state import TrainingState
from keras_mtl.training.weighting_callback import WeightingCallback

#: Modules that moved out of keras_mtl/training/, importable by their old paths.
MOVED_MODULES = {
    "auxiliary_loss": "keras_mtl.losses.auxiliary_loss",
    "behavior_calibrator": "keras_mtl.losses.behavior_calibrator",
    "domain_evaluation": "keras_mtl.evaluation.domain_evaluation",
    "focal_loss": "keras_mtl.losses.focal_loss",
    "losses": "keras_mtl.losses.masked",
    "mamdr": "keras_mtl.training.procedures.mamdr",
    "meta_learning_step": "keras_mtl.training.procedures.meta_learning_step",
    "roc_auc": "keras_mtl.evaluation.roc_auc",
    "task_metrics": "keras_mtl.evaluation.task_metrics",
    "training_procedure": "keras_mtl.training.procedures.training_procedure",
}
for _old, _new in MOVED_MODULES.items():
    sys.modules[f"{__name__}.{_old}"] = importlib.import_module(_new)

__all__ = [
    "AuxiliaryLoss",
    "BehaviorCalibrator",
    "ExpertHealthCallback",
    "FitHooks",
    "FocalLoss",
    "MAMDR",
    "MetaLearningStep",
    "MultiTaskModel",
    "OptimizerGroups",
    "Reporting",
    "SampleSpaces",
    "TrainingProcedure",
    "TrainingState",
    "WeightingCallback",
    "declared_domain_variables",
    "evaluate_by_domain",
    "roc_auc",
]
