"""Pieces every builder shares: argument checks, the bottom input, towers."""

import collections

import tensorflow as tf

from keras_mtl import keras_compat
from keras_mtl.features import feature_inputs
from keras_mtl.layers import _validation
from keras_mtl.layers.mlp import MLP
from keras_mtl.layers.stop_gradient import StopGradient
from keras_mtl.layers.task_head import TaskHead
from keras_mtl.task_types import TASK_TYPES
from keras_mtl.task_types import check_task_name
from keras_mtl.training.multi_task_model import MultiTaskModel


def task_list(task_names, task_types, min_tasks=1):
    """Validated `(names, types)` tuples; types default to "binary"."""
    if isinstance(task_names, str):
        task_names = (task_names,)
    task_names = tuple(task_names)
    if len(task_names) < min_tasks:
        raise ValueError(
            f"expected at least {min_tasks} task names. Received: task_names={task_names!r}"
        )
    for task in task_names:
        check_task_name(task)
    if len(set(task_names)) != len(task_names):
        raise ValueError(f"expected unique task names. Received: {task_names!r}")
    if task_types is None:
        task_types = ("binary",) * len(task_names)
    elif isinstance(task_types, str):
        task_types = (task_types,) * len(task_names)
    elif isinstance(task_types, dict):
        task_types = tuple(task_types.get(t, "binary") for t in task_names)
    task_types = tuple(task_types)
    if len(task_types) != len(task_names):
        raise ValueError(
            f"expected one task type per task ({len(task_names)}). "
            f"Received: task_types={task_types!r}"
        )
    for task_type in task_types:
        if task_type not in TASK_TYPES:
            raise ValueError(f"expected task types in {TASK_TYPES}. Received: {task_type!r}")
    return task_names, task_types


def widths(name, value, allow_empty=True):
    """Validated layer widths, with errors naming the builder argument."""
    return _validation.positive_int_tuple(name, value, allow_empty=allow_empty)


def count(name, value):
    return _validation.positive_int(name, value)


def regularizer(l2_reg, arg="l2_reg"):
    if not isinstance(l2_reg, (int, float)) or l2_reg < 0:
        raise ValueError(f"expected a number >= 0. Received: {arg}={l2_reg!r}")
    return tf.keras.regularizers.L2(l2_reg) if l2_reg > 0 else None


#: The validated arguments of the task towers a builder ends with.
Towers = collections.namedtuple(
    "Towers", "task_names task_types dependencies units activation dropout kernel_reg"
)


def tower_args(
    task_names, task_types, task_dependencies, tower_units, activation, dropout, l2_reg, min_tasks=1
):
    """Checks the task, tower and `l2_reg` arguments of a builder at once.

    Returns a `Towers` tuple; `kernel_reg` is the dense kernels' regulariser.
    """
    task_names, task_types = task_list(task_names, task_types, min_tasks)
    return Towers(
        task_names,
        task_types,
        dependencies(task_names, task_dependencies),
        widths("tower_units", tower_units),
        activation,
        dropout,
        regularizer(l2_reg),
    )


def bottom(features, l2_reg_embedding):
    """Inputs by feature name and the concatenated bottom input x."""
    inputs = feature_inputs.build_inputs(features)
    x = feature_inputs.embed_features(
        inputs, features, regularizer(l2_reg_embedding, "l2_reg_embedding")
    )
    return inputs, x


def dependencies(task_names, task_dependencies):
    """Validated `{task: (earlier tasks whose predictions it reads)}`."""
    out = {}
    for task, sources in dict(task_dependencies or {}).items():
        sources = (sources,) if isinstance(sources, str) else tuple(sources)
        if task not in task_names:
            raise ValueError(
                f"task_dependencies names unknown task '{task}'. Expected "
                f"task names among {list(task_names)}."
            )
        for source in sources:
            if source not in task_names[: task_names.index(task)]:
                raise ValueError(
                    f"Task '{task}' can read the predictions of earlier tasks only "
                    f"(order of task_names {list(task_names)}). Received '{source}'."
                )
        out[task] = sources
    return out


def tower_input(x, task, outputs, task_dependencies):
    """x, concatenated with the stop-gradient predictions `task` depends on."""
    sources = task_dependencies.get(task, ())
    if not sources:
        return x
    predictions = [
        StopGradient(name=f"stop_gradient_{source}_to_{task}")(outputs[source])
        for source in sources
    ]
    return tf.keras.layers.Concatenate(name=f"tower_input_{task}")([x] + predictions)


def tower_head(x, task, task_type, tower_units, activation, dropout, kernel_reg):
    """`tower_<task>` MLP (skipped when `tower_units` is empty) and the head."""
    if tower_units:
        x = MLP(
            tower_units,
            activation=activation,
            dropout=dropout,
            kernel_regularizer=kernel_reg,
            name=f"tower_{task}",
        )(x)
    return TaskHead(task_type, kernel_regularizer=kernel_reg, name=task)(x)


def tower_model(inputs, task_inputs, towers, name, shared, extra_outputs=None, **options):
    """`model` over `{task: head(tower(input))}`, built in task order.

    `task_inputs` is one tensor every tower reads, or one per task (a list in
    task order or `{task: tensor}`); `towers` comes from `tower_args`.
    `extra_outputs` (`{name: tensor}`, untrained: MMoE's `expert_load`) and
    `options` (for `model`: `features`, `auxiliary_losses`, ...) are passed on.
    """
    if isinstance(task_inputs, (list, tuple)):
        task_inputs = dict(zip(towers.task_names, task_inputs))
    outputs = {}
    for task, task_type in zip(towers.task_names, towers.task_types):
        x = task_inputs[task] if isinstance(task_inputs, dict) else task_inputs
        x = tower_input(x, task, outputs, towers.dependencies)
        outputs[task] = tower_head(
            x, task, task_type, towers.units, towers.activation, towers.dropout, towers.kernel_reg
        )
    outputs.update(extra_outputs or {})
    return model(inputs, outputs, towers.task_names, towers.task_types, name, shared, **options)


def model(inputs, outputs, task_names, task_types, name, shared, **options):
    """The MultiTaskModel; `shared` is the output of the last shared layer
    (a functional tensor: its layer is the model's `shared_layer`).

    `options` go to `MultiTaskModel` (`features`, `auxiliary_losses`,
    `training_procedure`).
    """
    return MultiTaskModel(
        inputs=inputs,
        outputs=outputs,
        task_types=dict(zip(task_names, task_types)),
        shared_layer=keras_compat.producing_layer_name(shared),
        name=name,
        **options,
    )
