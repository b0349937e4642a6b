"""The kinds of task keras_mtl trains, and the rule for task names.

One place for both: builders, `MultiTaskModel`, `TaskHead` and the TFRS
integration check their arguments here.
"""

#: "binary": a probability, binary cross-entropy, AUC and log loss reported;
#: "regression": a value, mean squared error, MSE and MAE reported.
TASK_TYPES = ("binary", "regression")


def check_task_type(task_type, task=None):
    """Raises unless `task_type` is one of `TASK_TYPES`.

    Example:
    >>> check_task_type("ranking", task="ctr")
    Traceback (most recent call last):
    ...
    ValueError: Task 'ctr': expected a type in ('binary', 'regression'). Received: 'ranking'
    """
    if task_type not in TASK_TYPES:
        where = f"Task '{task}': expected" if task is not None else "expected"
        raise ValueError(f"{where} a type in {TASK_TYPES}. Received: {task_type!r}")


def check_task_name(task):
    """Raises unless `task` is a name outputs and metrics can carry.

    ASCII identifiers only: task names also name layers and TensorFlow name
    scopes, which take no other letters (`naïve` fails inside TensorFlow).
    """
    if not isinstance(task, str) or not task.isidentifier() or not task.isascii():
        raise ValueError(
            "expected task names that are ASCII identifiers (letters, digits "
            "and _, not starting with a digit; they name outputs, metrics and "
            f"layers). Received: {task!r}. Fix: rename the task with A-Z, a-z, 0-9 and _ only."
        )


def checked_task_types(task_types, outputs=None):
    """`{task: type}` checked; every name must be among `outputs` if given."""
    if not isinstance(task_types, dict) or not task_types:
        raise ValueError(
            "expected task_types as a non-empty {task: 'binary' | 'regression'}. "
            f"Received: task_types={task_types!r}"
        )
    for task, task_type in task_types.items():
        if outputs is not None and task not in outputs:
            raise ValueError(
                f"task_types names '{task}', which is not an output. "
                f"Expected names among the outputs {list(outputs)}."
            )
        check_task_type(task_type, task)
    return dict(task_types)
