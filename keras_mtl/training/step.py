"""The parts of a MultiTaskModel training step: forward, descend, report.

`MultiTaskModel.train_step` is `forward` → `total` inside a gradient tape,
then `descend` and `update_metrics`; `test_step` skips `descend`. A
`TrainingProcedure` composes the same functions in its own order (see
`MetaLearningStep`), so every procedure reports and applies updates alike.
"""

import types

import tensorflow as tf

from keras_mtl.training import losses as losses_lib
from keras_mtl.training import structure


def forward(model, x, y, sample_weight, training, representation=False):
    """Runs the model; returns a namespace of what a step needs.

    `y_pred`, `representation` (Z, or None unless asked for and declared),
    `task_losses`, `labels`, `row_weights`, `labelled` (Σ row weights of each
    task over the global batch), `auxiliary` (`{name: term}` of
    the model's auxiliary losses) and `extra` (regularisation plus auxiliary
    terms, or None). Task losses are in "global" units: each replica returns
    `R · Σ_local w·l / Σ_global w`, so that averaging over the R replicas
    (what gradient scaling by 1/R and Keras metrics do) gives the loss of the
    global batch exactly.
    """
    y = losses_lib.labels_by_task(y, model.task_names)
    z = None
    with_representation = model._structure.parts.with_representation
    if representation and with_representation is not None:
        y_pred, z = with_representation(x, training=training)
    else:
        y_pred = model(x, training=training)
    replicas = model.distribute_strategy.num_replicas_in_sync
    task_losses, labels, row_weights, labelled = {}, {}, {}, {}
    for task in model.task_names:
        weight = sample_weight.get(task) if isinstance(sample_weight, dict) else sample_weight
        labels[task], row_weights[task] = losses_lib.label_mask(y[task], y_pred[task], weight)
        labelled[task] = losses_lib.global_sum(tf.reduce_sum(row_weights[task]), replicas)
        task_losses[task] = losses_lib.masked_loss(
            model._structure.loss_fns[task], labels[task], y_pred[task],
            row_weights[task], replicas, total_weight=labelled[task],
        )
    auxiliary = {term.name: term(y_pred, labels, row_weights)
                 for term in model.auxiliary_losses}
    extra = list(model.losses) + list(auxiliary.values())
    return types.SimpleNamespace(
        y_pred=y_pred, representation=z, task_losses=task_losses, labels=labels,
        row_weights=row_weights, labelled=labelled, auxiliary=auxiliary,
        extra=tf.add_n(extra) if extra else None,
    )


def total(model, out):
    """`(total, weights)`: the strategy's combination plus `out.extra`."""
    value, weights = model.weighting.combine(out.task_losses)
    if out.extra is not None:
        value += out.extra
    return value, weights


def descend(model, tape, total, weights, task_losses, representation, extra):
    """Applies the strategy's gradients; returns the `(weights, total)` used.

    The strategy differentiates through `tape` (see `WeightingStrategy`);
    the gradients go to the optimizer group of each variable.
    """
    strategy = model.weighting
    variables = model.trainable_variables + list(strategy.trainable_variables)
    parts = model._structure.parts
    context = types.SimpleNamespace(
        shared=[id(v) in parts.shared for v in variables],
        last_shared=[id(v) in parts.last for v in variables],
        representation=representation,
        extra_loss=extra,
        step=model.optimizer.iterations,
    )
    grads, weights, total = strategy.gradients(
        tape, total, weights, task_losses, variables, context
    )
    apply(model, grads, variables, context.shared)
    strategy.after_update()
    return weights, total


def apply(model, grads, variables, shared):
    """Applies per optimizer group, gradients scaled for the replicas."""
    replicas = model.distribute_strategy.num_replicas_in_sync
    groups = {}
    shared_optimizer = model._structure.shared_optimizer
    for grad, var, is_shared in zip(grads, variables, shared):
        if grad is None:
            continue
        if replicas > 1:
            grad = losses_lib.scale_gradient(grad, 1.0 / replicas)
        optimizer = shared_optimizer if is_shared and shared_optimizer else model.optimizer
        groups.setdefault(id(optimizer), (optimizer, []))[1].append((grad, var))
    for optimizer, pairs in groups.values():
        optimizer.apply_gradients(pairs)


def update_metrics(model, total, weights, out):
    """Updates every tracker from a step's results; returns the logs.

    The loss trackers are weighted so that an epoch's figure is the loss over
    all its rows, not the mean of its batch means (which would count a short
    last batch, or a batch with no label for a task, as much as a full one):
    a task's loss by the weight of its labelled rows, the total and the
    auxiliary terms by the number of rows, both summed over the replicas
    (the losses are in global units, see `forward`). The loss weights are
    per-step quantities and are averaged over steps.
    """
    reporting = model._structure.reporting
    rows = losses_lib.global_rows(out.row_weights[model.task_names[0]],
                                  model.distribute_strategy.num_replicas_in_sync)
    reporting.total.update_state(total, sample_weight=rows)
    for metric in reporting.auxiliary:
        metric.update_state(out.auxiliary[metric.name], sample_weight=rows)
    for i, task in enumerate(model.task_names):
        reporting.losses[i].update_state(out.task_losses[task],
                                         sample_weight=out.labelled[task])
        reporting.weights[i].update_state(weights[task])
        for metric in reporting.tasks[i]:
            metric.update_state(out.labels[task], out.y_pred[task],
                                sample_weight=out.row_weights[task])
    logs = {m.name: m.result() for m in model.metrics}
    return structure.logs_for_strategy(logs, model.distribute_strategy)
