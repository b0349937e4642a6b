"""The parts of a multi-task training step: forward, total, descend, report.

`MultiTaskModel.train_step` is `forward` → `total` inside a gradient tape,
then `descend` and `update_metrics`; `test_step` skips `descend`. A
`TrainingProcedure` composes the same functions in its own order (see
`MetaLearningStep`), and the TFRS integration calls `descend` and
`update_metrics` on the losses its tasks compute, so every model reports
and applies updates alike. Each function takes the model's
`TrainingState` explicitly (`model.training_state`). `forward` returns a
`StepOutputs`; `descend` hands the weighting strategy a `StepContext`.
"""

from typing import Optional

import tensorflow as tf

from keras_mtl import keras_compat
from keras_mtl.losses import masked
from keras_mtl.training import loss_scaling
from keras_mtl.training.step_context import StepContext
from keras_mtl.training.step_outputs import StepOutputs
from keras_mtl.training.training_state import TrainingState


def forward(
    model: tf.keras.Model,
    state: TrainingState,
    x,
    y,
    sample_weight,
    training: bool,
    representation: bool = False,
) -> StepOutputs:
    """Runs the model and computes the step's losses.

    Returns every field of `StepOutputs`: `representation` is Z only when
    asked for and the model declares a shared layer; `row_weights` are 0
    out of a task's sample space and where its label is NaN.
    """
    given = y
    y = masked.labels_by_task(y, state.task_names)
    z = None
    if representation and state.with_representation is not None:
        y_pred, z = state.with_representation(x, training=training)
    else:
        y_pred = model(x, training=training)
    # float32 losses under every dtype policy (keras_mtl's heads already are)
    y_pred = {task: masked.as_float32(value) for task, value in y_pred.items()}
    replicas = model.distribute_strategy.num_replicas_in_sync
    task_losses, labels, row_weights, labelled, space_rows = {}, {}, {}, {}, {}
    for task in state.task_names:
        weight = sample_weight.get(task) if isinstance(sample_weight, dict) else sample_weight
        labels[task], row_weights[task] = masked.label_mask(y[task], y_pred[task], weight)
        in_space = state.sample_spaces.mask(
            task, x, given if isinstance(given, dict) else y, row_weights[task].dtype
        )
        if in_space is not None:  # (B,): the task's rows only, with the NaN mask
            row_weights[task] = row_weights[task] * in_space
            space_rows[task] = tf.reduce_sum(tf.cast(row_weights[task] > 0, tf.float32))
        labelled[task] = masked.global_sum(tf.reduce_sum(row_weights[task]), replicas)
        task_losses[task] = masked.masked_loss(
            state.loss_fns[task],
            labels[task],
            y_pred[task],
            row_weights[task],
            replicas,
            total_weight=labelled[task],
        )
    auxiliary = {
        term.name: masked.as_float32(term(y_pred, labels, row_weights))
        for term in state.auxiliary_losses
    }
    return outputs(
        model,
        rows=masked.global_rows(row_weights[state.task_names[0]], replicas),
        task_losses=task_losses,
        auxiliary=auxiliary,
        labelled=labelled,
        y_pred=y_pred,
        representation=z,
        labels=labels,
        row_weights=row_weights,
        space_rows=space_rows,
    )


def outputs(
    model: tf.keras.Model,
    rows: tf.Tensor,
    task_losses: dict[str, tf.Tensor],
    auxiliary: Optional[dict[str, tf.Tensor]] = None,
    labelled: Optional[dict[str, tf.Tensor]] = None,
    y_pred: Optional[dict[str, tf.Tensor]] = None,
    representation: Optional[tf.Tensor] = None,
    labels: Optional[dict[str, tf.Tensor]] = None,
    row_weights: Optional[dict[str, tf.Tensor]] = None,
    space_rows: Optional[dict[str, tf.Tensor]] = None,
) -> StepOutputs:
    """The `StepOutputs` of losses computed by `forward` or elsewhere (TFRS).

    Adds `regularization` (the sum of `model.losses`, or None) and `extra`
    (that plus the auxiliary terms, or None); `labelled` defaults to `rows`
    for every task (each row counts for every task's loss).
    """
    auxiliary = dict(auxiliary or {})
    regularization = (
        tf.add_n([masked.as_float32(loss) for loss in model.losses]) if model.losses else None
    )
    extra = [regularization] if regularization is not None else []
    extra += list(auxiliary.values())
    return StepOutputs(
        rows=rows,
        task_losses=task_losses,
        labelled=labelled if labelled is not None else {t: rows for t in task_losses},
        auxiliary=auxiliary,
        regularization=regularization,
        extra=tf.add_n(extra) if extra else None,
        y_pred=y_pred,
        representation=representation,
        labels=labels,
        row_weights=row_weights,
        space_rows=dict(space_rows or {}),
    )


def total(state: TrainingState, out: StepOutputs) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
    """`(total, weights)`: the strategy's combination plus `out.extra`."""
    value, weights = state.weighting.combine(out.task_losses)
    if out.extra is not None:
        value += out.extra
    return value, weights


def descend(
    model: tf.keras.Model,
    state: TrainingState,
    tape: tf.GradientTape,
    total: tf.Tensor,
    weights: dict[str, tf.Tensor],
    out: StepOutputs,
) -> tuple[dict[str, tf.Tensor], tf.Tensor]:
    """Applies the strategy's gradients; returns the `(weights, total)` used.

    `total` and `weights` are what `total(state, out)` computed inside
    `tape`; the strategy differentiates `out.task_losses` (and `out.extra`,
    at `out.representation` for the strategies that need it) through
    `tape` (see `WeightingStrategy`), told about the variables by a
    `StepContext`. The gradients go to the optimizer group of each
    variable. When the groups' optimizers are `LossScaleOptimizer`s
    (`mixed_float16`), one loss scale covers the whole step: the strategy
    differentiates through a `loss_scaling.ScaledTape`, and no group applies
    a step whose gradients are not all finite (see
    `keras_mtl.training.loss_scaling`).
    """
    strategy = state.weighting
    variables = state.trained_variables(model)
    replicas = model.distribute_strategy.num_replicas_in_sync
    scaling = loss_scaling.LossScale.of(_optimizers(state))
    if scaling is not None:
        tape = scaling.tape(tape)
    context = StepContext(
        shared=[state.is_shared(v) for v in variables],
        last_shared=[id(v) in state.last_shared_ids for v in variables],
        representation=out.representation,
        extra_loss=out.extra,
        step=state.optimizer.iterations,
    )
    grads, weights, total = strategy.gradients(
        tape, total, weights, out.task_losses, variables, context
    )
    if scaling is None:
        state.apply_gradients(grads, variables, replicas)
    else:
        scaling.apply(lambda: state.apply_gradients(grads, variables, replicas), grads, replicas)
    strategy.after_update()
    return weights, total


def _optimizers(state: TrainingState) -> list:
    """The distinct optimizers of the groups, the "towers" one first."""
    others = [o for o, _ in state.optimizer_groups.distinct() if o is not state.optimizer]
    return [state.optimizer] + others


def update_metrics(
    model: tf.keras.Model,
    state: TrainingState,
    total: tf.Tensor,
    weights: dict[str, tf.Tensor],
    out: StepOutputs,
) -> dict:
    """Updates every tracker from a step's results; returns the logs.

    See `Reporting.update` for how the epoch figures are weighted.
    """
    state.reporting.update(total, weights, out)
    logs = {m.name: m.result() for m in model.metrics}
    return keras_compat.logs_for_strategy(logs, model.distribute_strategy)
