"""What a MultiTaskModel shares across tasks, found from its functional graph."""

import types

import tensorflow as tf

from keras_mtl.layers.task_head import TASK_TYPES


def io_structs(model):
    """The functional model's `(inputs, outputs)` structures (dicts here)."""
    inputs = getattr(model, "_inputs_struct", None)  # Keras 3
    outputs = getattr(model, "_outputs_struct", None)
    if outputs is None:  # tf_keras
        inputs, outputs = model._nested_inputs, model._nested_outputs
    return inputs, outputs


def shared_structure(model, shared_layer):
    """Ids of the shared variables and of the last shared layer's weights.

    The shared variables are those of every layer between the inputs and the
    output of `shared_layer` (a sub-model over that part of the graph finds
    them). Also returns a model giving `(outputs, representation)` for
    strategies that differentiate at the representation. Without a shared
    layer nothing is shared and there is no representation.
    """
    if shared_layer is None:
        return types.SimpleNamespace(shared=set(), last=set(), with_representation=None)
    inputs, outputs = io_structs(model)
    layer = model.get_layer(shared_layer)
    representation = layer.output
    below = tf.keras.Model(inputs, representation)
    with_representation = tf.keras.Model(inputs, [outputs, representation])
    shared = {id(v) for v in below.trainable_variables}
    return types.SimpleNamespace(
        shared=shared,
        # a weightless last layer (a concatenation of embeddings) stands for
        # everything below it
        last={id(v) for v in layer.trainable_variables} or shared,
        with_representation=with_representation,
    )


def checked_task_types(outputs, task_types):
    """`{task: type}` (default: every output binary), checked against outputs."""
    if not isinstance(outputs, dict):
        raise ValueError(
            "MultiTaskModel expected outputs as a dict keyed by task name. "
            f"Received: {type(outputs).__name__}"
        )
    task_types = dict(task_types or {name: "binary" for name in outputs})
    for task, task_type in task_types.items():
        if task not in outputs:
            raise ValueError(
                f"task_types names '{task}', which is not an output. "
                f"Expected names among the outputs {list(outputs)}."
            )
        if task_type not in TASK_TYPES:
            raise ValueError(
                f"Task '{task}': expected a type in {TASK_TYPES}. Received: {task_type!r}"
            )
    return task_types


def logs_for_strategy(logs, strategy):
    """Logs as `train_step` must return them under `strategy`.

    Keras 3 averages step logs across workers of a MultiWorkerMirroredStrategy
    with `reduce("MEAN", axis=0)`, which fails on scalars; there each value is
    returned as a 1-element vector, which that reduction turns back into the
    (already synchronised) scalar.
    """
    in_multi_worker = isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and (
        strategy.extended._in_multi_worker_mode()
    )
    if in_multi_worker and not tf.keras.__name__.startswith("tf_keras"):
        return {name: tf.reshape(value, (1,)) for name, value in logs.items()}
    return logs


def checked_auxiliary_losses(terms, outputs, task_types):
    """The terms as a tuple, checked against the outputs and the task names."""
    names = [term.name for term in terms]
    for term in terms:
        if term.name in task_types or names.count(term.name) > 1:
            raise ValueError(
                f"auxiliary loss name {term.name!r} is taken. Expected names "
                f"that differ from each other and from the tasks {list(task_types)}."
            )
        term.check_outputs(list(outputs))
    return tuple(terms)
