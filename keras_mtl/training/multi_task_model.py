"""The model class every keras_mtl builder returns."""

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import Optional
from typing import Union

import numpy as np
import tensorflow as tf

from keras_mtl import _types
from keras_mtl import keras_compat
from keras_mtl.api_export import keras_mtl_export
from keras_mtl.features import serialization
from keras_mtl.losses import auxiliary_loss
from keras_mtl.losses import masked
from keras_mtl.training import compile_options
from keras_mtl.training import step
from keras_mtl.training import structure
from keras_mtl.training.fit_hooks import FitHooks
from keras_mtl.training.procedures import training_procedure as procedures
from keras_mtl.training.reporting import Reporting
from keras_mtl.training.sample_spaces import SampleSpaces
from keras_mtl.training.training_state import TrainingState
from keras_mtl.weighting.weighting_strategy import WeightingStrategy


@keras_mtl_export
class MultiTaskModel(FitHooks, keras_compat.NoSymbolicBuild, tf.keras.Model):
    """A functional Keras model with one output per task and its own loss.

    Built like a functional model (`MultiTaskModel(inputs, outputs,
    task_types=...)`, outputs a dict keyed by name). `task_types` names the
    outputs that are trained and how: "binary" (probability, binary
    cross-entropy, AUC and log loss reported) or "regression" (value, MSE loss,
    MSE and MAE reported). Outputs not in `task_types` (ESMM's cvr) are
    predicted and exported but get no loss.

    Training minimises what the weighting strategy makes of the per-task
    losses (`Σ_k w_k · L_k` for fixed weights) plus the layers' regularisation
    losses and the model's auxiliary losses. `L_k` is task k's loss averaged
    over the rows whose label is present (a NaN label is masked out of the
    loss and the metrics; `compile(sample_spaces=...)` restricts a task to
    the rows of its space, e.g. cvr to clicked rows); under a
    `tf.distribute` strategy the average is over the global batch. Logs hold `loss`,
    `regularization_loss`,
    `<task>_loss`, `weight_<task>`, each auxiliary loss under its name and
    each task's metrics.

    `compile` builds the model's `TrainingState` (`model.training_state`):
    losses, weighting strategy, optimizers and their variable groups,
    trackers; `train_step` hands it to the functions of
    `keras_mtl.training.step`.

    Args:
        inputs, outputs, name, trainable: as for a functional `tf.keras.Model`.
        task_types: `{task: "binary" | "regression"}` for the trained outputs;
            None trains every output as binary.
        shared_layer: name of the last layer shared by all tasks (builders
            set it). Everything below it is "shared": it is what PCGrad and
            MGDA treat as shared, GradNorm's W, MGDA's representation Z and the
            "shared" optimizer group.
        auxiliary_losses: `keras_mtl.losses.AuxiliaryLoss` terms computed
            from the predictions and added to the total (AITM's
            `BehaviorCalibrator`); saved in the model config.
        training_procedure: a `keras_mtl.training.TrainingProcedure` that
            `train_step` hands every batch to (MetaHeac's
            `MetaLearningStep`); None runs the plain gradient step below.
            Saved in the model config.
        features: the feature specs the model was built on (builders pass
            them); saved in the model config and read back as
            `model.features`, so a saved model carries its vocabularies and
            their refresh state (`keras_mtl.features.refresh_vocabularies`,
            `keras_mtl.training.warm_start`).

    Example:
    >>> x = tf.keras.Input(shape=(3,), name="x")
    >>> head = keras_mtl.layers.TaskHead("binary", name="ctr")
    >>> model = MultiTaskModel(x, {"ctr": head(x)}, task_types={"ctr": "binary"})
    >>> model.compile(optimizer="adam")
    >>> model.task_names
    ('ctr',)
    """

    # The positional names match tf_keras' Functional and the `*args` makes
    # Keras 3 treat the class as functional too: both then save and revive
    # it through the functional config (plus the keyword arguments below).
    def __init__(
        self,
        inputs: _types.ModelTensors,
        outputs: _types.ModelTensors,
        name: Optional[str] = None,
        trainable: bool = True,
        *args: Any,
        task_types: Optional[Mapping[str, str]] = None,
        shared_layer: Optional[str] = None,
        auxiliary_losses: Optional[
            Sequence[Union[auxiliary_loss.AuxiliaryLoss, Mapping[str, Any]]]
        ] = None,
        training_procedure: Optional[Union[procedures.TrainingProcedure, Mapping[str, Any]]] = None,
        features: Optional[Sequence[Any]] = None,
        **kwargs: Any,
    ) -> None:
        if args:
            raise TypeError(
                "MultiTaskModel takes inputs, outputs, name, trainable "
                f"positionally. Received {len(args)} more positional arguments."
            )
        keras_compat.check_strategy(tf.distribute.get_strategy(), "build")
        super().__init__(inputs=inputs, outputs=outputs, name=name, trainable=trainable, **kwargs)
        self._set_tasks(task_types, shared_layer, auxiliary_losses, training_procedure)
        self._parts.features = serialization.as_features(features)

    @property
    def features(self) -> Optional[tuple[Any, ...]]:
        """The feature specs the model was built on (builders record them), or None.

        Saved with the model, vocabularies and their refresh state
        (`keras_mtl.features.refresh_vocabularies`) included.
        """
        return self._parts.features

    def _set_tasks(self, task_types, shared_layer, auxiliary_losses=None, training_procedure=None):
        outputs = keras_compat.io_structs(self)[1]
        task_types = structure.checked_task_types(outputs, task_types)
        if shared_layer is not None and shared_layer not in [l.name for l in self.layers]:
            raise ValueError(f"shared_layer={shared_layer!r} is not a layer of this model.")
        self.task_types = task_types
        self.task_names = tuple(task_types)
        self.shared_layer = shared_layer
        # One plain namespace: Keras tracks none of it as sub-layers or weights.
        self._parts = structure.shared_structure(self, shared_layer)
        self._parts.embeddings = structure.embedding_table_ids(self.layers)
        self._parts.auxiliary = structure.checked_auxiliary_losses(
            auxiliary_loss.deserialize(auxiliary_losses), outputs, task_types
        )
        self._parts.procedure = procedures.deserialize(training_procedure)

    @property
    def auxiliary_losses(self) -> tuple[auxiliary_loss.AuxiliaryLoss, ...]:
        """The `AuxiliaryLoss` terms added to the total (a tuple)."""
        return self._parts.auxiliary

    @property
    def training_procedure(self) -> Optional[procedures.TrainingProcedure]:
        """The `TrainingProcedure` of `train_step`, or None (plain step)."""
        return self._parts.procedure

    @property
    def embedding_variables(self) -> list[tf.Variable]:
        """The tables of the model's `tf.keras.layers.Embedding` layers.

        Feature tables of one width are stacked into one variable
        (`keras_mtl.layers.StackedEmbedding`); `embedding_table` reads one
        feature's rows.
        """
        return [v for v in self.trainable_variables if id(v) in self._parts.embeddings]

    def embedding_table(self, feature: str, layer_name: Optional[str] = None) -> tf.Tensor:
        """The embedding rows `(rows, dim)` of input `feature` (a copy).

        A numeric feature's quantile buckets are input `"<name>/buckets"`.
        `layer_name` picks the stack where several embed the feature (STEM).
        """
        return structure.feature_table(self.layers, feature, layer_name)

    @property
    def shared_variables(self) -> list[tf.Variable]:
        """The trainable variables every task shares (below `shared_layer`).

        What PCGrad and MGDA treat as shared and the "shared" optimizer group
        trains (like LibMTL's `get_share_params`); empty without a shared
        layer.
        """
        return [v for v in self.trainable_variables if id(v) in self._parts.shared]

    def compile(
        self,
        optimizer: _types.OptimizerSpec = "adam",
        loss: _types.LossSpec = None,
        weighting: Optional[WeightingStrategy] = None,
        metrics: Optional[Mapping[str, Sequence[Union[str, tf.keras.metrics.Metric]]]] = None,
        loss_weights: Optional[Mapping[str, float]] = None,
        sample_spaces: Optional[Mapping[str, str]] = None,
        **kwargs: Any,
    ) -> None:
        """Configures training.

        Args:
            optimizer: a Keras optimizer or its name, or a dict of optimizer
                groups `{"embeddings": ..., "shared": ..., "towers": ...}`
                ("towers" required): the embedding tables, the other shared
                variables (below `shared_layer`) and the rest. With "adam"
                (the default) the embedding tables of more than
                `DENSE_TABLE_MAX_ROWS` (100,000) rows (a stack of tables
                counts as one) get a `keras_mtl.optimizers.LazyAdam` of the
                same settings, which updates only the rows of the batch;
                smaller ones stay with that Adam;
                `{"embeddings": "adam", "towers": "adam"}` keeps dense Adam
                updates of every table (see
                `keras_mtl.training.OptimizerGroups`).
            loss: None (per task type: binary cross-entropy / MSE), one loss
                for every task, or `{task: loss}` (names, `Loss` objects such
                as `FocalLoss`, or functions returning per-row losses).
            weighting: a `keras_mtl.weighting.WeightingStrategy`; default
                `FixedWeights(loss_weights)`.
            metrics: `{task: [metric, ...]}` reported on top of the defaults.
            loss_weights: `{task: weight}`, shorthand for `FixedWeights`.
            sample_spaces: `{task: indicator}`: the task's loss and metrics
                use only the rows where the indicator (a label of the batch,
                such as another task's, or an input feature) is 1, e.g.
                `{"cvr": "ctr"}` trains and scores cvr on clicked rows
                (composed with the NaN mask; logs add `<task>_rows`). See
                `keras_mtl.training.SampleSpaces`. Predictions and exports
                still cover every task on every row.
            **kwargs: passed to `tf.keras.Model.compile` (`run_eagerly`,
                `jit_compile`, `steps_per_execution`, ...).
        """
        keras_compat.check_strategy(self.distribute_strategy, "compile")
        tasks = self.task_names
        compile_options.check_task_keys(
            tasks, loss=loss, metrics=metrics, loss_weights=loss_weights
        )
        spaces = SampleSpaces(sample_spaces, tasks)
        weighting = compile_options.weighting_strategy(weighting, loss_weights)
        weighting.attach(self.task_types)
        per_task = loss if isinstance(loss, dict) else {t: loss for t in tasks}
        loss_fns = {t: masked.resolve_loss(t, self.task_types[t], per_task.get(t)) for t in tasks}
        reporting = Reporting(
            self.task_types,
            metrics,
            [term.name for term in self.auxiliary_losses],
            spaced_tasks=tuple(spaces.spaces),
        )
        if self.training_procedure is not None:
            self.training_procedure.check(self, weighting)
        groups = compile_options.optimizers(optimizer)
        super().compile(optimizer=groups.towers, **kwargs)
        groups.set_towers(self.optimizer)
        state = TrainingState(
            self.task_types,
            loss_fns,
            weighting,
            reporting,
            groups,
            shared_ids=self._parts.shared,
            embedding_ids=self._parts.embeddings,
            last_shared_ids=self._parts.last,
            with_representation=self._parts.with_representation,
            auxiliary_losses=self.auxiliary_losses,
            compile_args={"loss": loss, "metrics": metrics, "sample_spaces": sample_spaces},
            sample_spaces=spaces,
        )
        self.set_training_state(state)
        # Build the optimizers now, with exactly the variables each will
        # update (strategy state included), so `.keras` files restore their
        # slots one to one.
        state.build_optimizers(state.trained_variables(self))

    def train_step(self, data: Any) -> dict[str, tf.Tensor]:
        if self.training_procedure is not None:
            return self.training_procedure.train_step(self, data)
        x, y, sample_weight = tf.keras.utils.unpack_x_y_sample_weight(data)
        state = self.training_state
        strategy = state.weighting
        with tf.GradientTape(persistent=strategy.persistent_tape) as tape:
            out = step.forward(
                self,
                state,
                x,
                y,
                sample_weight,
                training=True,
                representation=strategy.needs_representation,
            )
            total, weights = step.total(state, out)
        weights, total = step.descend(self, state, tape, total, weights, out)
        del tape
        return step.update_metrics(self, state, total, weights, out)

    def test_step(self, data: Any) -> dict[str, tf.Tensor]:
        x, y, sample_weight = tf.keras.utils.unpack_x_y_sample_weight(data)
        state = self.training_state
        out = step.forward(self, state, x, y, sample_weight, training=False)
        total, weights = step.total(state, out)
        return step.update_metrics(self, state, total, weights, out)

    def predict(
        self, x: Any, batch_size: Optional[int] = None, **kwargs: Any
    ) -> _types.Predictions:
        """As `tf.keras.Model.predict`; also takes 2-D string arrays.

        Keras 3 cannot slice 2-D NumPy object arrays (padded string sequences
        from `features_to_arrays`), so a dict holding one is batched through
        `tf.data` first.
        """
        if isinstance(x, dict) and any(
            isinstance(v, np.ndarray) and v.dtype == object and v.ndim > 1 for v in x.values()
        ):
            x = tf.data.Dataset.from_tensor_slices(x).batch(batch_size or 32)
            batch_size = None
        return super().predict(x, batch_size=batch_size, **kwargs)

    def get_compile_config(self) -> Optional[dict[str, Any]]:
        """Optimizer(s), weighting and (named) losses/metrics, for `.keras` files."""
        state = self.training_state
        if state is None:
            return None
        return compile_options.compile_config(
            state.optimizer_groups,
            state.weighting,
            state.compile_args,
        )

    def compile_from_config(self, config: Mapping[str, Any]) -> None:
        self.compile(**compile_options.from_compile_config(config))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "task_types": dict(self.task_types),
            "shared_layer": self.shared_layer,
            "auxiliary_losses": auxiliary_loss.serialize(self.auxiliary_losses),
            "training_procedure": procedures.serialize(self.training_procedure),
            "features": (
                None if self.features is None else serialization.serialize_features(self.features)
            ),
        }

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], custom_objects: Optional[Mapping[str, Any]] = None
    ) -> "MultiTaskModel":
        config = dict(config)
        task_types = config.pop("task_types", None)
        shared_layer = config.pop("shared_layer", None)
        auxiliary_losses = config.pop("auxiliary_losses", None)
        procedure = config.pop("training_procedure", None)
        features = config.pop("features", None)
        model = super().from_config(config, custom_objects=custom_objects)
        model._set_tasks(task_types, shared_layer, auxiliary_losses, procedure)
        model._parts.features = serialization.as_features(features)
        return model
