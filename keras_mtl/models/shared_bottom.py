"""Shared-Bottom: hard parameter sharing."""

from keras_mtl.layers.mlp import MLP
from keras_mtl.models import _builder


def SharedBottom(
    features,
    task_names=("ctr", "cvr"),
    task_types=None,
    bottom_units=(256, 128),
    tower_units=(64,),
    activation="relu",
    dropout=0.0,
    l2_reg=0.0,
    l2_reg_embedding=0.0,
    task_dependencies=None,
    name="shared_bottom",
):
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
    return _builder.tower_model(inputs, shared, towers, name, shared)
