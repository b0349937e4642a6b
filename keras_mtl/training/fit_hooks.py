"""The `fit` hooks every keras_mtl model class shares."""

from typing import TYPE_CHECKING
from typing import Any
from typing import Optional

import tensorflow as tf

from keras_mtl import keras_compat
from keras_mtl.training.weighting_callback import WeightingCallback

if TYPE_CHECKING:
    from keras_mtl.training.training_state import TrainingState
    from keras_mtl.weighting.weighting_strategy import WeightingStrategy


class FitHooks(keras_compat.CheckpointExtras):
    """Mixin of `MultiTaskModel` and the TFRS `MultiTaskRecommender`.

    A class mixing it in hands its `compile`'s `TrainingState` to
    `set_training_state`; the mixin then gives it:

    - `training_state` and `weighting` (None before `compile`);
    - `fit` with the weighting strategy's epoch hook (`WeightingCallback`,
      first, so checkpointing callbacks see its updates; DWA needs it);
    - checkpoints (`tf.train.Checkpoint`, BackupAndRestore, `save_weights`)
      that also hold the strategy's state (log-variances, GradNorm weights,
      DWA history); SavedModel exports do not;
    - `metrics`: the trackers of `TrainingState.reporting` (loss,
      regularization_loss, `<task>_loss`, `weight_<task>`, auxiliary losses,
      task metrics), then `framework_metrics()`.
    """

    _mtl_training_state = None

    @property
    def training_state(self) -> Optional["TrainingState"]:
        """The `TrainingState` that `compile` built (None before)."""
        return self._mtl_training_state

    def set_training_state(self, state: "TrainingState") -> None:
        """Makes `state` the model's `TrainingState` (called by `compile`)."""
        self._mtl_training_state = state

    @property
    def weighting(self) -> Optional["WeightingStrategy"]:
        """The weighting strategy given to `compile` (None before).

        Kept out of Keras' layer tracking, so it adds nothing to `layers`,
        `weights` or the model config; `.keras` files save its state through
        this attribute and checkpoints through `checkpoint_extras`.
        """
        state = self.training_state
        return None if state is None else state.weighting

    def framework_metrics(self) -> list[tf.keras.metrics.Metric]:
        """Metrics the base class reports beside the trackers (none here)."""
        return []

    @property
    def metrics(self) -> list[tf.keras.metrics.Metric]:
        state = self.training_state
        own = [] if state is None else state.reporting.metrics
        return own + self.framework_metrics()

    @property
    def group_optimizers(self) -> dict[str, tf.keras.optimizers.Optimizer]:
        """`{name: optimizer}` of the optimizer groups beyond `optimizer`.

        E.g. `{"embeddings_optimizer": LazyAdam}` after `compile("adam")` of
        a model with a table (stack) over `DENSE_TABLE_MAX_ROWS` rows; `{}`
        when every table is smaller (the compiled Adam trains them).
        `.keras` files and checkpoints save their slots and step counts
        through this attribute.
        """
        state = self.training_state
        return {} if state is None else state.optimizer_groups.extra_optimizers()

    def checkpoint_extras(self) -> dict[str, Any]:
        extras = dict(self.group_optimizers)
        if self.weighting is not None:
            extras["weighting"] = self.weighting
        return extras

    def fit(self, *args: Any, **kwargs: Any) -> tf.keras.callbacks.History:
        """As `tf.keras.Model.fit`, with the weighting strategy's epoch hook."""
        keras_compat.check_strategy(self.distribute_strategy, "fit")
        kwargs["callbacks"] = [WeightingCallback(self.weighting)] + list(
            kwargs.get("callbacks") or []
        )
        return super().fit(*args, **kwargs)
