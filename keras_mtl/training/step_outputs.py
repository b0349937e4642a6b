"""What one forward pass of a multi-task training step hands on."""

import dataclasses
from typing import Optional

import tensorflow as tf


@dataclasses.dataclass(frozen=True, eq=False)
class StepOutputs:
    """The losses and predictions of one step, for `descend` and the logs.

    `keras_mtl.training.step.forward` returns it for a `MultiTaskModel`;
    `step.outputs` builds it from losses computed elsewhere (the TFRS
    integration). `step.total` combines `task_losses` and `extra`,
    `step.descend` differentiates them (with `representation` for the
    strategies that need it) and `Reporting.update` logs the rest.

    Task losses are in "global" units: each replica holds
    `R · Σ_local w·l / Σ_global w`, so that averaging over the R replicas
    (what gradient scaling by 1/R and Keras metrics do) gives the loss of
    the global batch exactly. Counts (`rows`, `labelled`) are summed over
    the replicas.

    Attributes:
        rows: rows of the global batch, a float32 scalar.
        task_losses: `{task: float32 scalar}`, each task's loss over its
            labelled rows.
        labelled: `{task: Σ row weights}` of each task over the global
            batch; the weight of its loss in the epoch's figure.
        auxiliary: `{name: float32 scalar}`, the model's auxiliary losses.
        regularization: the sum of the layers' penalties (`model.losses`),
            or None when there are none.
        extra: `regularization` plus the auxiliary terms, or None: what the
            total adds to the strategy's combination of `task_losses`.
        y_pred: `{task: (batch, 1) float32}` predictions, or None where the
            tasks have no metrics of their own (TFRS).
        representation: the shared representation Z `(batch, d)` for the
            strategies that differentiate at it (MGDA), else None.
        labels: `{task: (batch, 1)}` labels with NaN replaced by 0, or None.
        row_weights: `{task: (batch,)}` row weights, 0 where the label is
            NaN or the row is outside the task's sample space, or None.
        space_rows: `{task: rows of this replica that fed the task}` for the
            tasks with a sample space.
    """

    rows: tf.Tensor
    task_losses: dict[str, tf.Tensor]
    labelled: dict[str, tf.Tensor]
    auxiliary: dict[str, tf.Tensor] = dataclasses.field(default_factory=dict)
    regularization: Optional[tf.Tensor] = None
    extra: Optional[tf.Tensor] = None
    y_pred: Optional[dict[str, tf.Tensor]] = None
    representation: Optional[tf.Tensor] = None
    labels: Optional[dict[str, tf.Tensor]] = None
    row_weights: Optional[dict[str, tf.Tensor]] = None
    space_rows: dict[str, tf.Tensor] = dataclasses.field(default_factory=dict)
