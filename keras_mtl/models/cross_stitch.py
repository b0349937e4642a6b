"""Cross-Stitch: one column per task, mixed by cross-stitch units."""

from collections.abc import Callable
from collections.abc import Sequence
from typing import Union

from keras_mtl._types import FeatureSpec
from keras_mtl._types import TaskDependencies
from keras_mtl._types import TaskTypes
from keras_mtl.layers.branch_dense import BranchDense
from keras_mtl.layers.cross_stitch_unit import CrossStitchUnit
from keras_mtl.layers.expert_layer import ExpertLayer
from keras_mtl.layers.task_split import TaskSplit
from keras_mtl.models import _builder
from keras_mtl.training.multi_task_model import MultiTaskModel


def CrossStitch(
    features: Sequence[FeatureSpec],
    task_names: Sequence[str] = ("ctr", "cvr"),
    task_types: TaskTypes = None,
    column_units: Sequence[int] = (256, 128),
    tower_units: Sequence[int] = (64,),
    self_weight: float = 0.9,
    activation: Union[str, Callable] = "relu",
    dropout: float = 0.0,
    l2_reg: float = 0.0,
    l2_reg_embedding: float = 0.0,
    task_dependencies: TaskDependencies = None,
    name: str = "cross_stitch",
) -> MultiTaskModel:
    """Builds Cross-Stitch: T MLP columns, mixed after each hidden layer.

    Column k is task k's MLP over x. After hidden layer l the T activations
    are mixed by a `CrossStitchUnit` (`cross_stitch_<l>`),
    `x̃_k = Σ_j α_kj x_j` with a trainable T×T matrix α initialised to
    `self_weight` on the diagonal, and the mixture feeds layer l + 1 of the
    columns. Tower k reads column k's last mixture. The columns are computed
    together: layer 1 is one `ExpertLayer` matmul (`columns_1`), deeper layers
    are `BranchDense` (`columns_<l>`).

    Args:
        features: SparseFeat / VarLenSparseFeat / DenseFeat specs (adapted).
        task_names: one output per task (at least two), named after it.
        task_types: "binary" / "regression" per task; default all binary.
        column_units: widths of every column's hidden layers.
        tower_units: widths of every task tower (may be empty).
        self_weight: initial diagonal of every cross-stitch matrix.
        activation, dropout, l2_reg, l2_reg_embedding, task_dependencies,
            name: as in `SharedBottom`.

    Returns:
        A `MultiTaskModel` with outputs `{task: (batch, 1)}`. Its shared layer
        is the last cross-stitch unit.

    Example:
    >>> feats = [SparseFeat("item", vocabulary_size=10), DenseFeat("price")]
    >>> model = CrossStitch(feats, task_names=("ctr", "cvr"), column_units=(8, 4),
    ...                     tower_units=(4,))
    >>> model.get_layer("cross_stitch_2").alpha.numpy().astype("float64").round(2).tolist()
    [[0.9, 0.1], [0.1, 0.9]]

    References:
        Misra et al., "Cross-stitch Networks for Multi-task Learning",
        CVPR 2016.
    """
    towers = _builder.tower_args(
        task_names,
        task_types,
        task_dependencies,
        tower_units,
        activation,
        dropout,
        l2_reg,
        min_tasks=2,
    )
    column_units = _builder.widths("column_units", column_units, allow_empty=False)
    inputs, x = _builder.bottom(features, l2_reg_embedding)
    num_tasks = len(towers.task_names)
    columns = dict(activation=activation, dropout=dropout, kernel_regularizer=towers.kernel_reg)
    h = x
    for level, units in enumerate(column_units, start=1):
        if level == 1:  # every column reads x
            layer = ExpertLayer(num_tasks, (units,), name="columns_1", **columns)
        else:  # column k reads its own mixture
            layer = BranchDense(units, name=f"columns_{level}", **columns)
        h = layer(h)  # (B, T, units)
        h = CrossStitchUnit(self_weight, name=f"cross_stitch_{level}")(h)  # (B, T, units)
    task_outputs = TaskSplit(num_tasks, name="task_split")(h)  # T × (B, units)
    return _builder.tower_model(inputs, task_outputs, towers, name, h, features=features)
