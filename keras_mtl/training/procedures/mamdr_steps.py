"""MAMDR's parts: the checks of the model, the inner step on one domain's rows, the outer step."""

import tensorflow as tf

from keras_mtl import keras_compat
from keras_mtl.training import step as step_lib


def check_model(model, domain_feature):
    """Raises unless MAMDR can train `model` (compiled, 1 replica, a fit strategy, the feature)."""
    if getattr(model, "task_types", None) is None:
        raise TypeError(
            "MAMDR expected a keras_mtl MultiTaskModel (a builder's model). "
            f"Received: {type(model).__name__}"
        )
    if keras_compat.is_parameter_server(model.distribute_strategy):
        raise ValueError(
            "MAMDR runs in one process (its inner loops assign variables eagerly, "
            "step by step). Received a model built under ParameterServerStrategy: "
            "build it outside the strategy's scope, or train it with model.fit."
        )
    replicas = model.distribute_strategy.num_replicas_in_sync
    if replicas > 1:
        raise ValueError(
            "MAMDR runs on one replica (its inner loops assign variables eagerly). "
            f"Received a model built under a tf.distribute strategy with {replicas} "
            "replicas: build it outside the strategy's scope."
        )
    state = getattr(model, "training_state", None)
    if state is None:
        raise ValueError(
            "MAMDR trains with the model's compiled losses and weighting strategy. "
            "Received an uncompiled model: call model.compile(optimizer=..., "
            "loss=..., loss_weights=... or weighting=...) first."
        )
    strategy = state.weighting
    if strategy.persistent_tape or strategy.needs_representation or (strategy.trainable_variables):
        raise ValueError(
            f"MAMDR cannot train with {type(strategy).__name__}: its inner SGD steps "
            "take one gradient of the combined loss and update the model's variables "
            "only. Expected a strategy that combines losses with weights it does not "
            "train (FixedWeights, DWA)."
        )
    inputs = keras_compat.io_structs(model)[0]
    if not isinstance(inputs, dict) or domain_feature not in inputs:
        raise ValueError(
            f"domain_feature={domain_feature!r} is not an input of the model. "
            f"Expected one of {sorted(inputs) if isinstance(inputs, dict) else inputs}."
        )


def outer_adam_step(variables, rate, inner_lr):
    """The outer step `θ ← start`, then Adam (learning rate `rate`) on `G = moved / α`."""
    optimizer = tf.keras.optimizers.Adam(learning_rate=rate)
    optimizer.build(variables)

    @tf.function
    def outer(start, moved):
        for variable, begin in zip(variables, start):
            variable.assign(begin)
        optimizer.apply_gradients([(m / inner_lr, v) for m, v in zip(moved, variables)])

    return outer


def _masked(weight, mask):
    if weight is None:
        return mask
    weight = tf.cast(weight, tf.float32)
    shape = tf.concat([[-1], tf.ones([tf.rank(weight) - 1], tf.int32)], axis=0)
    return weight * tf.reshape(mask, shape)


def inner_step(model, variables, optimizer, domain_feature, num_domains, by_share):
    """A compiled inner step of `optimizer` on `variables` with the loss of one domain's rows.

    `step(x, y, sample_weight, rows_of, route_to)` runs the model on the
    whole batch (its normalisation statistics are the batch's, as in
    `model.fit`); the loss is the model's compiled loss of the rows of domain
    `rows_of` (the others weigh 0), those rows routed through domain
    `route_to`'s variables, times (with `by_share`) the share of domain
    `route_to` in the batch's rows of known domains. Returns the loss and
    the per-task losses.
    """
    optimizer.build(variables)

    @tf.function(reduce_retracing=True)
    def step(x, y, sample_weight, rows_of, route_to):
        ids = x[domain_feature]
        flat = tf.reshape(ids, [-1])
        mine = tf.equal(flat, tf.cast(rows_of, ids.dtype))  # (B,)
        known = tf.logical_and(flat >= 0, flat < num_domains)
        if by_share:  # the share of the domain whose variables train (`route_to`)
            owner = tf.equal(flat, tf.cast(route_to, ids.dtype))
            share = tf.reduce_sum(tf.cast(owner, tf.float32)) / tf.maximum(
                tf.reduce_sum(tf.cast(known, tf.float32)), 1.0
            )
        else:  # rounds="epoch": batches of one domain's rows
            share = tf.constant(1.0)
        mask = tf.cast(mine, tf.float32)
        sample_weight = tf.nest.map_structure(lambda w: _masked(w, mask), sample_weight)
        if sample_weight is None:
            sample_weight = mask
        x = dict(x)
        x[domain_feature] = tf.where(
            tf.reshape(mine, tf.shape(ids)), tf.cast(route_to, ids.dtype), ids
        )
        state = model.training_state
        with tf.GradientTape() as tape:
            out = step_lib.forward(model, state, x, y, sample_weight, training=True)
            loss, _ = step_lib.total(state, out)
            scaled = loss * share
        grads = tape.gradient(scaled, variables)
        optimizer.apply_gradients(
            [(tf.zeros(v.shape, v.dtype) if g is None else g, v) for g, v in zip(grads, variables)]
        )
        return loss, out.task_losses

    return step
