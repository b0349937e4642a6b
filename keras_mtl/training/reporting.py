"""The loss and metric trackers behind a multi-task model's logs."""

from collections.abc import Collection
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Optional
from typing import Union

import tensorflow as tf

from keras_mtl.evaluation import task_metrics
from keras_mtl.training.step_outputs import StepOutputs


class Reporting:
    """Trackers of one model: what `fit` and `evaluate` log.

    `loss` (the total), `regularization_loss` (the layers' regularisation
    penalties), `<task>_loss`, `weight_<task>`, one entry per auxiliary loss,
    `<task>_rows` for tasks with a sample space and each task's metrics (`task_metrics` per
    task type plus the user's).
    A plain object, so neither Keras version tracks the metrics as model
    weights (tf_keras would add their variables to `model.weights`).

    The loss trackers are weighted so that an epoch's figure is the loss over
    all its rows, not the mean of its batch means (which would count a short
    last batch, or a batch with no label for a task, as much as a full one):
    a task's loss by the weight of its labelled rows, the total, the
    regularisation and the auxiliary terms by the number of rows, both summed
    over the replicas (the losses are in global units, see
    `keras_mtl.training.StepOutputs`). The loss weights are per-step
    quantities and are averaged over steps.

    Args:
        task_types: `{task: "binary" | "regression"}`.
        metrics: `{task: [metric, ...]}` reported on top of the defaults.
        auxiliary_names: names of the auxiliary losses.
        with_task_metrics: whether tasks get metrics of their predictions (the TFRS
            integration reports its tasks' own metrics instead).
        spaced_tasks: tasks with a sample space; each gets `<task>_rows`, the
            rows of the epoch (all replicas) in its space with a label.
    """

    def __init__(
        self,
        task_types: Mapping[str, str],
        metrics: Optional[Mapping[str, Sequence[Union[str, tf.keras.metrics.Metric]]]] = None,
        auxiliary_names: Sequence[str] = (),
        with_task_metrics: bool = True,
        spaced_tasks: Collection[str] = (),
    ) -> None:
        tasks = list(task_types)
        self.total = tf.keras.metrics.Mean(name="loss")
        self.regularization = tf.keras.metrics.Mean(name="regularization_loss")
        self.losses = [tf.keras.metrics.Mean(name=f"{t}_loss") for t in tasks]
        self.weights = [tf.keras.metrics.Mean(name=f"weight_{t}") for t in tasks]
        self.auxiliary = [tf.keras.metrics.Mean(name=name) for name in auxiliary_names]
        self.tasks = [
            task_metrics.default_task_metrics(t, task_types[t])
            + task_metrics.user_task_metrics(t, task_types[t], (metrics or {}).get(t))
            if with_task_metrics
            else []
            for t in tasks
        ]
        self.task_names = tuple(tasks)
        # a Sum of each replica's count: Keras sums metric variables over replicas on read
        self.space_rows = {
            t: tf.keras.metrics.Sum(name=f"{t}_rows") for t in tasks if t in tuple(spaced_tasks)
        }
        others = [m.name for m in [self.total, self.regularization] + self.losses + self.weights]
        others += [m.name for m in self.space_rows.values()]
        others += [m.name for metrics_of_task in self.tasks for m in metrics_of_task]
        clashes = sorted(set(auxiliary_names) & set(others))
        if clashes:
            raise ValueError(
                f"auxiliary losses {clashes} are named like other logged metrics. "
                f"Expected names apart from {others}."
            )

    @property
    def metrics(self) -> list[tf.keras.metrics.Metric]:
        """Every tracker, in log order."""
        out = [self.total, self.regularization] + self.losses + self.weights + self.auxiliary
        out += list(self.space_rows.values())
        for metrics in self.tasks:
            out.extend(metrics)
        return out

    def update(self, total: tf.Tensor, weights: Mapping[str, tf.Tensor], out: StepOutputs) -> None:
        """Updates every tracker from a step's results.

        Args:
            total: the step's total loss.
            weights: `{task: weight}` the strategy used.
            out: the step's `StepOutputs`: its `rows`, `task_losses`,
                `labelled`, `regularization`, `auxiliary`, `space_rows`, and
                `labels` / `y_pred` / `row_weights` where tasks have
                metrics. `rows` and `labelled` are summed over the replicas.
        """
        rows = out.rows
        self.total.update_state(total, sample_weight=rows)
        self.regularization.update_state(
            0.0 if out.regularization is None else out.regularization, sample_weight=rows
        )
        for metric in self.auxiliary:
            metric.update_state(out.auxiliary[metric.name], sample_weight=rows)
        for i, task in enumerate(self.task_names):
            self.losses[i].update_state(out.task_losses[task], sample_weight=out.labelled[task])
            self.weights[i].update_state(weights[task])
            if task in self.space_rows:
                self.space_rows[task].update_state(out.space_rows[task])
            for metric in self.tasks[i]:
                metric.update_state(
                    out.labels[task], out.y_pred[task], sample_weight=out.row_weights[task]
                )
