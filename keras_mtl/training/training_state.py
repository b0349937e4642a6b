"""What `compile` decides and every training step reads."""

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl.losses import masked
from keras_mtl.training import loss_scaling
from keras_mtl.training.optimizer_groups import OptimizerGroups
from keras_mtl.training.sample_spaces import SampleSpaces

if TYPE_CHECKING:
    from keras_mtl.losses.auxiliary_loss import AuxiliaryLoss
    from keras_mtl.training.reporting import Reporting
    from keras_mtl.weighting.weighting_strategy import WeightingStrategy


def _ids_and_rows(embedding_ids):
    """`(frozenset of ids, {id: rows})` of table ids given alone or as `{id: rows}`."""
    rows = dict(embedding_ids) if isinstance(embedding_ids, Mapping) else {}
    return frozenset(embedding_ids), rows


class TrainingState:
    """The training configuration of a compiled multi-task model.

    `MultiTaskModel.compile` (and `MultiTaskRecommender.compile`) build one;
    the step functions of `keras_mtl.training.step` (`forward`, `total`,
    `descend`, `update_metrics`) and the training procedures take it
    explicitly, so nothing reads a model's private attributes. Read it from
    `model.training_state`.

    Attributes:
        task_types: `{task: "binary" | "regression"}` of the trained tasks,
            in the order the weighting strategy sees them.
        task_names: the tasks, in that order.
        loss_fns: `{task: (y_true, y_pred) -> per-row loss}`.
        weighting: the `keras_mtl.weighting.WeightingStrategy`.
        reporting: the `Reporting` trackers behind the logs.
        optimizer_groups: the `OptimizerGroups` (which optimizer trains which
            variable: "embeddings", "shared", "towers").
        optimizer: the "towers" group's optimizer (all variables without
            groups).
        shared_optimizer: the "shared" group's optimizer, or None.
        embedding_optimizer: the embedding tables' optimizer.
        embedding_ids: ids of the embedding tables.
        embedding_rows: `{id: rows of the whole table}` where known.
        shared_ids, last_shared_ids: ids of the shared variables (below the
            last shared layer) and of that layer's weights (GradNorm's W).
        with_representation: a callable `(x, training) -> (outputs, Z)` for
            strategies that differentiate at the shared representation Z,
            or None.
        auxiliary_losses: the `AuxiliaryLoss` terms added to the total.
        compile_args: the `loss` / `metrics` / `sample_spaces` arguments, for
            compile configs.
        sample_spaces: the `SampleSpaces` of the tasks (every row for a task
            without one).
    """

    def __init__(
        self,
        task_types: Mapping[str, str],
        loss_fns: Mapping[str, Callable[[tf.Tensor, tf.Tensor], tf.Tensor]],
        weighting: "WeightingStrategy",
        reporting: "Reporting",
        optimizer: Union[str, tf.keras.optimizers.Optimizer, OptimizerGroups],
        shared_optimizer: Optional[Union[str, tf.keras.optimizers.Optimizer]] = None,
        shared_ids: Iterable[int] = frozenset(),
        last_shared_ids: Iterable[int] = frozenset(),
        with_representation: Optional[Callable] = None,
        auxiliary_losses: Sequence["AuxiliaryLoss"] = (),
        compile_args: Optional[Mapping[str, Any]] = None,
        embedding_ids: Union[Iterable[int], Mapping[int, int]] = frozenset(),
        sample_spaces: Optional[Union[SampleSpaces, Mapping[str, str]]] = None,
    ) -> None:
        self.task_types = dict(task_types)
        self.task_names = tuple(self.task_types)
        self.loss_fns = dict(loss_fns)
        self.weighting = weighting
        self.reporting = reporting
        if isinstance(optimizer, OptimizerGroups):
            self.optimizer_groups = optimizer
        else:
            given = {"towers": optimizer}
            if shared_optimizer is not None:
                given["shared"] = shared_optimizer
            self.optimizer_groups = OptimizerGroups(given)
        self.with_representation = with_representation
        self.auxiliary_losses = tuple(auxiliary_losses)
        self.compile_args = dict(compile_args or {})
        self.embedding_ids, self.embedding_rows = _ids_and_rows(embedding_ids)
        if not isinstance(sample_spaces, SampleSpaces):
            sample_spaces = SampleSpaces(sample_spaces, self.task_names)
        self.sample_spaces = sample_spaces
        self.set_shared(shared_ids, last_shared_ids)

    @property
    def optimizer(self) -> tf.keras.optimizers.Optimizer:
        """The "towers" group's optimizer (the model's `optimizer`)."""
        return self.optimizer_groups.towers

    @property
    def shared_optimizer(self) -> Optional[tf.keras.optimizers.Optimizer]:
        """The optimizer given for the "shared" group, or None."""
        return self.optimizer_groups.by_group.get("shared")

    @property
    def embedding_optimizer(self) -> tf.keras.optimizers.Optimizer:
        """The optimizer of the "embeddings" group (by default a LazyAdam
        derived from "adam", for the tables over `DENSE_TABLE_MAX_ROWS` rows)."""
        return self.optimizer_groups.optimizer("embeddings")

    def set_shared(self, shared_ids: Iterable[int], last_shared_ids: Iterable[int]) -> None:
        """Sets the shared variables (ids) and those of the last shared layer."""
        self.shared_ids = frozenset(shared_ids)
        self.last_shared_ids = frozenset(last_shared_ids)
        self.optimizer_groups.set_ids(self.embedding_ids, self.shared_ids, self.embedding_rows)

    def set_embeddings(self, embedding_ids: Union[Iterable[int], Mapping[int, int]]) -> None:
        """Sets the embedding tables (ids, or `{id: rows}`): the "embeddings" optimizer group."""
        self.embedding_ids, self.embedding_rows = _ids_and_rows(embedding_ids)
        self.optimizer_groups.set_ids(self.embedding_ids, self.shared_ids, self.embedding_rows)

    def trained_variables(self, model: tf.keras.Model) -> list[tf.Variable]:
        """What the optimizers update: the model's and the strategy's trainable variables."""
        return list(model.trainable_variables) + list(self.weighting.trainable_variables)

    def is_shared(self, variable: tf.Variable) -> bool:
        return id(variable) in self.shared_ids

    def optimizer_of(self, variable: tf.Variable) -> tf.keras.optimizers.Optimizer:
        """The optimizer of the group `variable` belongs to."""
        return self.optimizer_groups.optimizer_of(variable)

    def build_optimizers(self, variables: Sequence[tf.Variable]) -> None:
        """Builds each optimizer with exactly the variables it will update.

        So `.keras` files and checkpoints restore optimizer slots one to one.
        """
        if "shared" in self.optimizer_groups.given and not any(
            self.is_shared(v) for v in variables
        ):
            raise ValueError(
                "optimizer groups need shared variables. Received a model "
                "without shared_layer (keras_mtl builders declare it)."
            )
        self.optimizer_groups.build(variables)

    def apply_gradients(
        self,
        grads: Sequence[Optional[tf.Tensor]],
        variables: Sequence[tf.Variable],
        replicas: int = 1,
    ) -> None:
        """Applies `grads` per optimizer group, scaled by 1 / `replicas`.

        A group's `LossScaleOptimizer` (mixed_float16) applies through the
        optimizer it wraps: `step.descend` has unscaled the gradients and
        checked them for every group at once (`keras_mtl.training.loss_scaling`).
        """
        self.optimizer_groups.follow_learning_rate()
        groups = {}
        for grad, var in zip(grads, variables):
            if grad is None:
                continue
            if replicas > 1:
                grad = masked.scale_gradient(grad, 1.0 / replicas)
            optimizer = loss_scaling.unwrapped(self.optimizer_of(var))
            groups.setdefault(id(optimizer), (optimizer, []))[1].append((grad, var))
        for optimizer, pairs in groups.values():
            optimizer.apply_gradients(pairs)
