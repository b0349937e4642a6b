"""A `tfrs.Model` whose task losses a keras_mtl weighting strategy combines."""

import types

import tensorflow as tf
import tensorflow_recommenders as tfrs

from keras_mtl import task_types as task_types_lib
from keras_mtl.losses import masked
from keras_mtl.training import compile_options
from keras_mtl.training import step
from keras_mtl.training import structure
from keras_mtl.training.fit_hooks import FitHooks
from keras_mtl.training.reporting import Reporting
from keras_mtl.training.training_state import TrainingState


class MultiTaskRecommender(FitHooks, tfrs.Model):
    """A TFRS model with several tasks, balanced by a weighting strategy.

    Subclass it as any `tfrs.Model`, but implement
    `compute_task_losses(features, training)` returning `{task: scalar loss}`
    (each usually a `tfrs.tasks.Retrieval` or `tfrs.tasks.Ranking` call)
    instead of `compute_loss`. `train_step` runs the strategy given to
    `compile` (`keras_mtl.weighting`) as `MultiTaskModel` does: `combine`
    inside the gradient tape, its `gradients` after it, `after_update` after
    the optimizer step and `on_epoch_end` after every `fit` epoch (DWA). The
    total is the strategy's combination plus the layers' regularisation
    losses; `compute_loss` returns the combination, as TFRS expects.

    Logs hold `loss` (the total), `regularization_loss`, `<task>_loss` and
    `weight_<task>` (epoch means), plus the metrics of the TFRS tasks. The
    step, the trackers, the `fit` hook and checkpointing of the strategy are
    `MultiTaskModel`'s (`keras_mtl.training.step`, `FitHooks`); `compile`
    builds the same `TrainingState` (`model.training_state`).

    Strategies that take per-task gradients (PCGrad, GradNorm, MGDA) need to
    know what the tasks share: `shared_layers` lists the layers every task
    goes through (embeddings, a shared bottom, experts). Their variables are
    the shared variables, and the weights of the last one are GradNorm's `W`.
    MGDA also needs the shared representation `Z`: `compute_task_losses` then
    returns `(task_losses, z)` with `z` one tensor every task is computed
    from. Under a `tf.distribute` strategy the gradients are averaged over the
    replicas.

    Args:
        task_types: `{task: "binary" | "regression"}`: the task names, in the
            order the strategy sees them, and the kind of loss each has.
            "binary" stands for any likelihood loss of a classification
            (cross-entropy of a click, retrieval's in-batch softmax),
            "regression" for a squared error (a rating); uncertainty weighting
            scales them by 1 and ½.
        shared_layers: the layers, or names of the model's attributes holding
            them, whose variables all tasks share; the last one is the last
            shared layer. Empty (default) suits loss-combining strategies.
        **kwargs: passed to `tfrs.Model` (`name`).

    Attributes:
        declaration: what the constructor was told, read by `task_types`,
            `task_names` and `shared_layers`: a namespace with `task_types`
            and `shared_layers`, kept out of Keras' tracking.

    Example:
    >>> class Rater(MultiTaskRecommender):
    ...     def __init__(self):
    ...         super().__init__(task_types={"click": "binary", "rating": "regression"})
    ...         self.score = tf.keras.layers.Dense(2, kernel_initializer="ones")
    ...         self.click_task = tfrs.tasks.Ranking(
    ...             tf.keras.losses.BinaryCrossentropy(from_logits=True))
    ...         self.rating_task = tfrs.tasks.Ranking(tf.keras.losses.MeanSquaredError())
    ...     def compute_task_losses(self, features, training=False):
    ...         out = self.score(features["x"])
    ...         return {"click": self.click_task(features["click"], out[:, :1]),
    ...                 "rating": self.rating_task(features["rating"], out[:, 1:])}
    >>> model = Rater()
    >>> model.compile(optimizer="sgd", loss_weights={"click": 1.0, "rating": 0.5})
    >>> data = {"x": tf.zeros((4, 3)), "click": tf.ones((4, 1)), "rating": tf.fill((4, 1), 2.0)}
    >>> logs = model.fit(tf.data.Dataset.from_tensors(data), verbose=0).history
    >>> [round(logs[k][0], 4) for k in ("click_loss", "rating_loss", "loss")]
    [0.6931, 4.0, 2.6931]
    """

    def __init__(self, task_types, shared_layers=(), **kwargs):
        super().__init__(**kwargs)
        task_types = task_types_lib.checked_task_types(task_types)
        if "regularization" in task_types:
            raise ValueError(
                "the task name 'regularization' is taken by the logged "
                "`regularization_loss`. Expected another task name."
            )
        if isinstance(shared_layers, (str, tf.keras.layers.Layer)):
            shared_layers = (shared_layers,)
        for layer in shared_layers:
            if not isinstance(layer, (str, tf.keras.layers.Layer)):
                raise TypeError(
                    f"expected shared_layers as layers or attribute names. Received: {layer!r}"
                )
        # A plain namespace: Keras tracks neither the names nor the layers in
        # it (the layers are tracked as the attributes they also are).
        self.declaration = types.SimpleNamespace(
            task_types=dict(task_types), shared_layers=tuple(shared_layers)
        )

    @property
    def task_types(self):
        """`{task: "binary" | "regression"}`."""
        return dict(self.declaration.task_types)

    @property
    def task_names(self):
        """The task names, in the order of `task_types`."""
        return tuple(self.declaration.task_types)

    @property
    def shared_layers(self):
        """The layers (or attribute names) declared shared by every task."""
        return self.declaration.shared_layers

    def compute_task_losses(self, features, training=False):
        """Returns `{task: scalar loss}`, or `(task_losses, z)` for MGDA.

        Args:
            features: one batch of the dataset (features and labels).
            training: whether this is a training step.
        """
        raise NotImplementedError(
            f"{type(self).__name__} must implement compute_task_losses(features, "
            f"training) returning {{task: scalar loss}} for the tasks {list(self.task_names)}."
        )

    def compile(self, optimizer="adam", weighting=None, loss_weights=None, **kwargs):
        """Configures training.

        Args:
            optimizer: a Keras optimizer or its name, or optimizer groups
                `{"embeddings": ..., "shared": ..., "towers": ...}` as for
                `MultiTaskModel.compile` ("shared": the `shared_layers`;
                "embeddings": the model's `tf.keras.layers.Embedding`
                tables; when the optimizer is "adam", those of more than
                `DENSE_TABLE_MAX_ROWS` rows are trained by a LazyAdam).
            weighting: a `keras_mtl.weighting.WeightingStrategy`; default
                `FixedWeights(loss_weights)`.
            loss_weights: `{task: weight}`, shorthand for `FixedWeights`.
            **kwargs: passed to `tf.keras.Model.compile` (`run_eagerly`, ...).
        """
        compile_options.check_task_keys(self.task_names, loss_weights=loss_weights)
        weighting = compile_options.weighting_strategy(weighting, loss_weights)
        if weighting.persistent_tape and not self.shared_layers:
            raise ValueError(
                f"{type(weighting).__name__} takes per-task gradients on the shared "
                "variables. Received a MultiTaskRecommender without shared_layers; pass "
                "shared_layers=[the layers, or attribute names, every task goes through, "
                "the last shared layer last]."
            )
        weighting.attach(self.task_types)
        reporting = Reporting(self.task_types, with_task_metrics=False)
        groups = compile_options.optimizers(optimizer)
        super().compile(optimizer=groups.towers, **kwargs)
        groups.set_towers(self.optimizer)
        # The tasks' losses are computed by the subclass, so there are no
        # per-task loss functions; the shared variables and the embedding
        # tables are found at the first step, once the layers are built.
        self.set_training_state(TrainingState(self.task_types, {}, weighting, reporting, groups))

    def framework_metrics(self):
        """The metrics of the TFRS tasks (tfrs.Model's own)."""
        return super(FitHooks, self).metrics

    def compute_loss(self, inputs, training=False):
        """The strategy's combination of the task losses (TFRS' contract)."""
        task_losses, _ = self._task_losses(inputs, training)
        return self.weighting.combine(task_losses)[0]

    def train_step(self, inputs):
        state = self.training_state
        strategy = state.weighting
        with tf.GradientTape(persistent=strategy.persistent_tape) as tape:
            task_losses, z = self._task_losses(inputs, training=True)
            if strategy.needs_representation and z is None:
                raise ValueError(
                    f"{type(strategy).__name__} needs the shared representation Z. "
                    "Received only task losses from compute_task_losses; return "
                    "(task_losses, z) with z the tensor every task is computed from."
                )
            out = self._outputs(inputs, task_losses, representation=z)
            total, weights = step.total(state, out)
        state.set_embeddings(structure.embedding_table_ids(self.submodules))
        state.set_shared(*self._shared_ids())
        weights, total = step.descend(self, state, tape, total, weights, out)
        del tape
        return step.update_metrics(self, state, total, weights, out)

    def test_step(self, inputs):
        state = self.training_state
        task_losses, _ = self._task_losses(inputs, training=False)
        out = self._outputs(inputs, task_losses)
        total, weights = step.total(state, out)
        return step.update_metrics(self, state, total, weights, out)

    def _outputs(self, inputs, task_losses, representation=None):
        """The step's `StepOutputs`; every row counts for every task's loss."""
        rows = masked.global_rows(
            tf.nest.flatten(inputs)[0], self.distribute_strategy.num_replicas_in_sync
        )
        return step.outputs(self, rows, task_losses, representation=representation)

    def _task_losses(self, inputs, training):
        """`({task: float32 scalar}, z or None)` from `compute_task_losses`."""
        out = self.compute_task_losses(inputs, training=training)
        task_losses, z = out if isinstance(out, tuple) and len(out) == 2 else (out, None)
        if not isinstance(task_losses, dict) or sorted(task_losses) != sorted(self.task_names):
            received = sorted(task_losses) if isinstance(task_losses, dict) else type(out).__name__
            raise ValueError(
                f"compute_task_losses must return {{task: scalar loss}} for the tasks "
                f"{list(self.task_names)}. Received: {received}"
            )
        checked = {}
        for task in self.task_names:
            loss = tf.cast(task_losses[task], tf.float32)
            if loss.shape.rank not in (0, None):
                raise ValueError(
                    f"Task '{task}': expected a scalar loss. Received shape {loss.shape}."
                )
            checked[task] = loss
        return checked, z

    def _shared_ids(self):
        """Ids of the shared variables and of the last shared layer's weights."""
        layers = []
        for entry in self.shared_layers:
            layer = getattr(self, entry, None) if isinstance(entry, str) else entry
            if not isinstance(layer, tf.keras.layers.Layer):
                raise ValueError(
                    f"shared_layers names {entry!r}, which is not a layer attribute of "
                    f"{type(self).__name__}. Received: {layer!r}"
                )
            layers.append(layer)
        if not layers:
            return set(), set()
        shared = {id(v) for layer in layers for v in layer.trainable_variables}
        own = {id(v) for v in self.trainable_variables}
        if not shared or not shared <= own:
            raise ValueError(
                f"shared_layers {[layer.name for layer in layers]} must hold trainable "
                "variables of this model. Received layers that are not attributes of the "
                "model or that no task calls."
            )
        return shared, {id(v) for v in layers[-1].trainable_variables} or shared
