"""The multi-task model class, its training state and step, and training procedures.

Layout:
- `MultiTaskModel` (multi_task_model.py) and what its `compile` builds:
  `TrainingState` (training_state.py), `OptimizerGroups`
  (optimizer_groups.py), `Reporting` (reporting.py);
- `step` (forward → total → descend → update_metrics), what passes between
  its functions (`StepOutputs`, step_outputs.py) and what a weighting
  strategy is told (`StepContext`, step_context.py), and `FitHooks`
  (fit_hooks.py), shared with the TFRS integration;
- `procedures/`: `TrainingProcedure`, `MetaLearningStep`, `MAMDR`;
- `warm_start` (warm_start.py): yesterday's variables and optimizer state
  into a model on refreshed vocabularies.

Losses live in `keras_mtl.losses`, evaluation in `keras_mtl.evaluation`.
"""

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
from keras_mtl.training.step_context import StepContext
from keras_mtl.training.step_outputs import StepOutputs
from keras_mtl.training.training_state import TrainingState
from keras_mtl.training.warm_start import warm_start
from keras_mtl.training.weighting_callback import WeightingCallback

__all__ = [
    "ExpertHealthCallback",
    "FitHooks",
    "MAMDR",
    "MetaLearningStep",
    "MultiTaskModel",
    "OptimizerGroups",
    "Reporting",
    "SampleSpaces",
    "StepContext",
    "StepOutputs",
    "TrainingProcedure",
    "TrainingState",
    "WeightingCallback",
    "declared_domain_variables",
    "warm_start",
]
