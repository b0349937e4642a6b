"""Shared-Bottom: hard parameter sharing."""

from collections.abc import Callable
from collections.abc import Sequence
from typing import Union

from keras_mtl._types import FeatureSpec
from keras_mtl._types import TaskDependencies
from keras_mtl._types import TaskTypes
from keras_mtl.layers.mlp import MLP
from keras_mtl.models import _builder
from keras_mtl.training.multi_task_model import MultiTaskModel


def SharedBottom(
    features: Sequence[FeatureSpec],
    task_names: Sequence[str] = ("ctr", "cvr"),
    task_types: TaskTypes = None,
    bottom_units: Sequence[int] = (256, 128),
    tower_units: Sequence[int] = (64,),
    activation: Union[str, Callable] = "relu",
    dropout: float = 0.0,
    l2_reg: float = 0.0,
    l2_reg_embedding: float = 0.0,
    task_dependencies: TaskDependencies = None,
    name: str = "shared_bottom",
) -> MultiTaskModel:
    """Builds `h = MLP_shared(x); y_k = tower_k(h)`.

    Args:
        features: SparseFeat / VarLenSparseFeat / DenseFeat specs (adapted).
        task_names: one output per task, named after it.
        task_types: "binary" / "regression" per task (tuple, dict or one
            string); default all binary.
        bottom_units: widths of the shared MLP.
        tower_units: widths of every task tower (may be empty).
        activation: activation of hidden layers.
        dropout: dropout rate of hidden layers.
        l2_reg: L2 penalty of dense kernels.
        l2_reg_embedding: L2 penalty of embedding tables.
        task_dependencies: `{task: earlier task or tasks}`; the tower of
            `task` also reads those tasks' predictions, with their gradient
            stopped (e.g. `{"cvr": "ctr"}`).
        name: model name.

    Returns:
        A `MultiTaskModel` with outputs `{task: (batch, 1)}`.

    Example:
    >>> feats = [SparseFeat("item", vocabulary_size=10), DenseFeat("price")]
    >>> model = SharedBottom(feats, task_names=("ctr",), bottom_units=(8,))
    >>> sorted(model.output_names)
    ['ctr']

    References:
        Caruana, "Multitask Learning", Machine Learning 1997.
    """
    towers = _builder.tower_args(
        task_names, task_types, task_dependencies, tower_units, activation, dropout, l2_reg
    )
    bottom_units = _builder.widths("bottom_units", bottom_units, allow_empty=False)
    inputs, x = _builder.bottom(features, l2_reg_embedding)
    shared = MLP(
        bottom_units,
        activation=activation,
        dropout=dropout,
        kernel_regularizer=towers.kernel_reg,
        name="shared_bottom",
    )(x)
    return _builder.tower_model(inputs, shared, towers, name, shared, features=features)
