"""Type aliases of the public signatures (`FeatureSpec` lives in keras_mtl.features,
whose modules use it too).

docs/api.md prints these names in the signatures and spells each out once.
"""

from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Optional
from typing import Union

import numpy as np
import pandas as pd
import tensorflow as tf

from keras_mtl.features.feature_spec import FeatureSpec

#: A builder's `task_types`: one type for every task, one per task, or
#: `{task: type}` ("binary" or "regression"); None: every task binary.
TaskTypes = Optional[Union[str, Sequence[str], Mapping[str, str]]]

#: The label columns of the data functions: `{task: column}`, columns named
#: like the tasks, or one column.
LabelColumns = Union[Mapping[str, str], Sequence[str], str]

#: A builder's `task_dependencies`: `{task: earlier task or tasks}` whose
#: predictions the task's tower also reads (gradient stopped).
TaskDependencies = Optional[Mapping[str, Union[str, Sequence[str]]]]

#: The inputs or outputs of a functional model: one tensor, a list, or a dict by name.
ModelTensors = Union[tf.Tensor, Sequence[tf.Tensor], Mapping[str, tf.Tensor]]

#: `MultiTaskModel.compile`'s `optimizer`: one optimizer (or name), or `{group: optimizer}`.
OptimizerSpec = Union[
    str, tf.keras.optimizers.Optimizer, Mapping[str, Union[str, tf.keras.optimizers.Optimizer]]
]

#: `MultiTaskModel.compile`'s `loss`: None, one loss for every task, or `{task: loss}`
#: (a name, a `Loss` or a function returning per-row losses).
LossSpec = Optional[
    Union[
        str,
        tf.keras.losses.Loss,
        Callable,
        Mapping[str, Union[str, tf.keras.losses.Loss, Callable]],
    ]
]

#: Per-row values of an evaluation (labels, scores, predictions): a NumPy array,
#: a pandas Series or a sequence of numbers.
ArrayLike = Union[np.ndarray, pd.Series, Sequence[float]]

#: What `MultiTaskModel.predict` returns: one array, or `{output: array}`.
Predictions = Union[np.ndarray, dict[str, np.ndarray]]

#: The aliases docs/api.md prints by name, in the order it lists them. TaskTypes and
#: LabelColumns are equal as types (a Union is a set), so the page spells both out.
ALIASES = {
    "FeatureSpec": FeatureSpec,
    "TaskDependencies": TaskDependencies,
    "ModelTensors": ModelTensors,
    "OptimizerSpec": OptimizerSpec,
    "LossSpec": LossSpec,
    "ArrayLike": ArrayLike,
}
