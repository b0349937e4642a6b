"""The model class every keras_mtl builder returns."""

import types

import numpy as np
import tensorflow as tf

from keras_mtl.api_export import keras_mtl_export
from keras_mtl.layers.task_head import TASK_TYPES
from keras_mtl.training import losses as losses_lib
from keras_mtl.training import task_metrics
from keras_mtl.weighting.fixed_weights import FixedWeights
from keras_mtl.weighting.weighting_strategy import WeightingStrategy


@keras_mtl_export
class MultiTaskModel(tf.keras.Model):
    """A functional Keras model with one output per task and its own loss.

    Built like a functional model (`MultiTaskModel(inputs, outputs,
    task_types=...)`, outputs a dict keyed by name). `task_types` names the
    outputs that are trained and how: "binary" (probability, binary
    cross-entropy, AUC and log loss reported) or "regression" (value, MSE loss,
    MSE and MAE reported). Outputs not in `task_types` (ESMM's cvr) are
    predicted and exported but get no loss.

    Training minimises `Σ_k w_k · L_k` plus the layers' regularisation losses,
    where `L_k` is task k's loss averaged over the rows whose label is present
    (a NaN label is masked out of the loss and the metrics) and `w_k` comes from
    the weighting strategy given to `compile`. `fit`, `evaluate`, `predict`,
    callbacks and progress bars work as for any Keras model; logs hold `loss`,
    `<task>_loss`, `weight_<task>` and each task's metrics.

    Args:
        inputs, outputs, name: as for a functional `tf.keras.Model`.
        task_types: `{task: "binary" | "regression"}` for the trained outputs;
            None trains every output as binary.

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
    # it through the functional config (plus `task_types`).
    def __init__(
        self, inputs, outputs, name=None, trainable=True, *args, task_types=None,
        **kwargs
    ):
        if args:
            raise TypeError(
                "MultiTaskModel takes inputs, outputs, name, trainable "
                f"positionally. Received {len(args)} more positional arguments."
            )
        super().__init__(
            inputs=inputs, outputs=outputs, name=name, trainable=trainable, **kwargs
        )
        self._set_task_types(task_types)

    def _output_keys(self):
        structure = getattr(self, "_outputs_struct", None)  # Keras 3
        if structure is None:
            structure = getattr(self, "_nested_outputs", None)  # tf_keras
        if not isinstance(structure, dict):
            raise ValueError(
                "MultiTaskModel expected outputs as a dict keyed by task name. "
                f"Received: {type(structure).__name__}"
            )
        return tuple(structure)

    def _set_task_types(self, task_types):
        outputs = self._output_keys()
        if task_types is None:
            task_types = {name: "binary" for name in outputs}
        task_types = dict(task_types)
        if not task_types:
            raise ValueError("expected at least one trained task in task_types.")
        for task, task_type in task_types.items():
            if task not in outputs:
                raise ValueError(
                    f"task_types names '{task}', which is not an output. "
                    f"Expected names among the outputs {list(outputs)}."
                )
            if task_type not in TASK_TYPES:
                raise ValueError(
                    f"Task '{task}': expected a type in {TASK_TYPES}. "
                    f"Received: {task_type!r}"
                )
        self.task_types = task_types
        self.task_names = tuple(task_types)

    def compile(
        self,
        optimizer="adam",
        loss=None,
        weighting=None,
        metrics=None,
        loss_weights=None,
        **kwargs,
    ):
        """Configures training.

        Args:
            optimizer: a Keras optimizer or its name.
            loss: None (per task type: binary cross-entropy / MSE), one loss
                for every task, or `{task: loss}` (names, `Loss` objects or
                functions returning per-row losses).
            weighting: a `keras_mtl.weighting.WeightingStrategy`; default
                `FixedWeights(loss_weights)`.
            metrics: `{task: [metric, ...]}` reported on top of the defaults.
            loss_weights: `{task: weight}`, shorthand for `FixedWeights`.
            **kwargs: passed to `tf.keras.Model.compile` (`run_eagerly`,
                `jit_compile`, `steps_per_execution`, ...).
        """
        tasks = self.task_names
        if isinstance(loss, dict) or isinstance(metrics, dict) or isinstance(
            loss_weights, dict
        ):
            for arg, value in (("loss", loss), ("metrics", metrics),
                               ("loss_weights", loss_weights)):
                unknown = sorted(set(value or {}) - set(tasks)) if isinstance(
                    value, dict) else []
                if unknown:
                    raise ValueError(
                        f"compile({arg}=...) names unknown tasks {unknown}. "
                        f"Expected task names among {list(tasks)}."
                    )
        if metrics is not None and not isinstance(metrics, dict):
            raise ValueError(
                "expected metrics as {task: [metric, ...]}. "
                f"Received: metrics={metrics!r}"
            )
        if weighting is None:
            weighting = FixedWeights(loss_weights)
        elif loss_weights is not None:
            raise ValueError("pass loss_weights or weighting, not both.")
        if not isinstance(weighting, WeightingStrategy):
            raise TypeError(
                "expected a keras_mtl.weighting.WeightingStrategy. "
                f"Received: weighting={weighting!r}"
            )
        weighting.build(tasks)
        self.weighting = weighting
        self._compile_args = {"loss": loss, "metrics": metrics}
        per_task = loss if isinstance(loss, dict) else {t: loss for t in tasks}
        self._loss_fns = {
            t: losses_lib.resolve_loss(t, self.task_types[t], per_task.get(t))
            for t in tasks
        }
        # A plain namespace, so neither Keras tracks the metrics as weights
        # (tf_keras would add their variables to `model.weights`).
        self._reporting = types.SimpleNamespace(
            total=tf.keras.metrics.Mean(name="loss"),
            losses=[tf.keras.metrics.Mean(name=f"{t}_loss") for t in tasks],
            weights=[tf.keras.metrics.Mean(name=f"weight_{t}") for t in tasks],
            tasks=[
                task_metrics.default_task_metrics(t, self.task_types[t])
                + task_metrics.user_task_metrics(
                    t, self.task_types[t], (metrics or {}).get(t)
                )
                for t in tasks
            ],
        )
        super().compile(optimizer=optimizer, **kwargs)

    @property
    def metrics(self):
        reporting = getattr(self, "_reporting", None)
        if reporting is None:
            return []
        out = [reporting.total] + reporting.losses + reporting.weights
        for metrics in reporting.tasks:
            out.extend(metrics)
        return out

    def _labels(self, y):
        if not isinstance(y, dict):
            if len(self.task_names) == 1:
                return {self.task_names[0]: y}
            raise ValueError(
                "expected labels as a dict keyed by task name "
                f"{list(self.task_names)}. Received: {type(y).__name__}"
            )
        missing = [t for t in self.task_names if t not in y]
        if missing:
            raise KeyError(
                f"Labels for tasks {missing} are missing. Received label keys "
                f"{sorted(y)}; expected {list(self.task_names)} (use NaN for a "
                "missing label, which is masked out)."
            )
        return y

    def _forward(self, x, y, sample_weight, training):
        """Runs the model and returns `(y_pred, losses, labels, row weights)`."""
        y = self._labels(y)
        y_pred = self(x, training=training)
        task_losses, labels, row_weights = {}, {}, {}
        for task in self.task_names:
            weight = sample_weight.get(task) if isinstance(sample_weight, dict) else sample_weight
            labels[task], row_weights[task] = losses_lib.label_mask(
                y[task], y_pred[task], weight
            )
            task_losses[task] = losses_lib.masked_loss(
                self._loss_fns[task], labels[task], y_pred[task], row_weights[task]
            )
        return y_pred, task_losses, labels, row_weights

    def _total(self, task_losses):
        total, weights = self.weighting.combine(task_losses)
        if self.losses:
            total += tf.add_n(self.losses)
        return total, weights

    def train_step(self, data):
        x, y, sample_weight = tf.keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape(persistent=self.weighting.persistent_tape) as tape:
            y_pred, task_losses, labels, row_weights = self._forward(
                x, y, sample_weight, training=True
            )
            total, weights = self._total(task_losses)
        variables = self.trainable_variables
        grads = self.weighting.gradients(tape, total, task_losses, variables, self)
        del tape
        self.optimizer.apply_gradients(zip(grads, variables))
        return self._update_metrics(total, task_losses, weights, labels, y_pred, row_weights)

    def test_step(self, data):
        x, y, sample_weight = tf.keras.utils.unpack_x_y_sample_weight(data)
        y_pred, task_losses, labels, row_weights = self._forward(
            x, y, sample_weight, training=False
        )
        total, weights = self._total(task_losses)
        return self._update_metrics(total, task_losses, weights, labels, y_pred, row_weights)

    def _update_metrics(self, total, task_losses, weights, labels, y_pred, row_weights):
        reporting = self._reporting
        reporting.total.update_state(total)
        for i, task in enumerate(self.task_names):
            reporting.losses[i].update_state(task_losses[task])
            reporting.weights[i].update_state(weights[task])
            for metric in reporting.tasks[i]:
                metric.update_state(
                    labels[task], y_pred[task], sample_weight=row_weights[task]
                )
        return {m.name: m.result() for m in self.metrics}

    def predict(self, x, batch_size=None, **kwargs):
        """As `tf.keras.Model.predict`; also takes 2-D string arrays.

        Keras 3 cannot slice 2-D NumPy object arrays (padded string sequences
        from `features_to_arrays`), so a dict holding one is batched through
        `tf.data` first.
        """
        if isinstance(x, dict) and any(
            isinstance(v, np.ndarray) and v.dtype == object and v.ndim > 1
            for v in x.values()
        ):
            x = tf.data.Dataset.from_tensor_slices(x).batch(batch_size or 32)
            batch_size = None
        return super().predict(x, batch_size=batch_size, **kwargs)

    def get_compile_config(self):
        """Optimizer, weighting and (named) losses/metrics, for `.keras` files."""
        if not hasattr(self, "weighting"):
            return None
        config = {
            "optimizer": tf.keras.optimizers.serialize(self.optimizer),
            "weighting": tf.keras.utils.serialize_keras_object(self.weighting),
        }
        for key, value in self._compile_args.items():
            if _is_plain(value):
                config[key] = value
        return config

    def compile_from_config(self, config):
        config = dict(config)
        config["optimizer"] = tf.keras.optimizers.deserialize(config["optimizer"])
        config["weighting"] = tf.keras.utils.deserialize_keras_object(
            config["weighting"]
        )
        self.compile(**config)
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def get_config(self):
        return {**super().get_config(), "task_types": dict(self.task_types)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        task_types = config.pop("task_types", None)
        model = super().from_config(config, custom_objects=custom_objects)
        model._set_task_types(task_types)
        return model


def _is_plain(value):
    """Whether a compile argument is names only (so it fits in a config)."""
    if value is None or isinstance(value, str):
        return True
    if isinstance(value, dict):
        return all(_is_plain(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(isinstance(v, str) for v in value)
    return False
