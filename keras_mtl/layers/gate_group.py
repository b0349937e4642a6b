"""What a gated layer's `gate_weights` returns: one table of mixture weights."""

import typing

import tensorflow as tf


class GateGroup(typing.NamedTuple):
    """One table of mixture weights a gated layer computed for a batch.

    Gated layers (`GateLayer`, `PLELayer`, `MetaHeacLayer`) implement
    `gate_weights(inputs, task_names=None, training=False)`: for the inputs
    their `call` takes, it returns a list of `GateGroup`s computed with the
    layer's own weights. That method is the whole protocol: code that reads
    gates (the `plot-gates` command) looks for it, not for layer classes.

    `task_names` are the model's task names in task order (a layer does not
    know them); rows of task t are labelled `task_names[t]`, or `"task t"`
    when `task_names` is None.

    Args:
        title: what the table shows, e.g. `"extraction_1 experts"`.
        rows: one label per gate: a task name, `"shared gate"`, or
            `"<layer> (all tasks)"` for a gate every task reads.
        columns: one label per expert (or critic) the gates weigh.
        weights: float tensor `(batch, len(rows), len(columns))`; every row
            sums to 1 over the columns its gate routes to and is NaN in the
            others (in PLE, task gates skip other tasks' specific experts).

    Example:
    >>> group = GateGroup("gates", ["ctr"], ["expert 0", "expert 1"],
    ...                   tf.constant([[[0.25, 0.75]]]))
    >>> group.rows, tuple(group.weights.shape)
    (['ctr'], (1, 1, 2))
    """

    title: str
    rows: list
    columns: list
    weights: typing.Any


def task_labels(task_names, num_tasks):
    """The first `num_tasks` of `task_names`, or `task 0 .. task T-1`."""
    if task_names is None:
        return [f"task {t}" for t in range(num_tasks)]
    if len(task_names) < num_tasks:
        raise ValueError(
            f"expected at least {num_tasks} task names, one per task of the layer. "
            f"Received: task_names={task_names!r}"
        )
    return [str(t) for t in task_names[:num_tasks]]


def numbered(prefix, count):
    """`["<prefix> 0", ..., "<prefix> count-1"]`: column labels."""
    return [f"{prefix} {i}" for i in range(count)]


def place_columns(weights, columns, num_columns):
    """`(batch, k)` weights of columns `columns` spread over `num_columns`.

    The result is `(batch, num_columns)`, NaN in the columns not listed.
    """
    nan = tf.fill((tf.shape(weights)[0], 1), tf.constant(float("nan"), weights.dtype))
    padded = tf.concat([weights, nan], axis=1)  # (B, k + 1): last column NaN
    slot = {c: i for i, c in enumerate(columns)}
    index = [slot.get(c, len(columns)) for c in range(num_columns)]
    return tf.gather(padded, index, axis=1)  # (B, num_columns)
