"""Which rows feed which task: per-task sample spaces declared at compile."""

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Optional

import numpy as np
import tensorflow as tf

from keras_mtl._types import ArrayLike
from keras_mtl._types import ModelTensors


class SampleSpaces:
    """The rows each task's loss and metrics are computed on.

    `compile(sample_spaces={"cvr": "ctr"})` declares that task `cvr` is
    defined on the rows where the indicator `ctr` is 1 (the clicked
    impressions): on the other rows its label is not used, its loss is the
    mean over the rows in its space (whose label is present, weighted by the
    sample weights) and its metrics see those rows only. An indicator is, in
    this order of lookup, a label of the batch (a task's label such as
    `ctr`, or any extra key of the label dict, e.g. an `is_play` column) or
    an input of the model (a feature it reads). A row is in the space where the
    indicator equals 1; 0 or NaN puts it out. The space composes with the
    NaN mask: a row counts for a task when it is in the space and its label
    is not NaN. Logs then hold `<task>_rows`, the number of rows of the
    epoch that fed the task.

    Spaces change training and evaluation only: the model still predicts
    every task on every row, and exported models do too.

    Args:
        spaces: `{task: indicator name}`, or None for no spaces.
        task_names: the trained tasks; every key must be one of them.

    Example:
    >>> spaces = SampleSpaces({"cvr": "ctr"}, ("ctr", "cvr"))
    >>> y = {"ctr": tf.constant([1.0, 0.0, 1.0]), "cvr": tf.constant([1.0, 0.0, 0.0])}
    >>> spaces.mask("cvr", {}, y).numpy().tolist()
    [1.0, 0.0, 1.0]
    >>> spaces.mask("ctr", {}, y) is None
    True
    """

    def __init__(self, spaces: Optional[Mapping[str, str]], task_names: Sequence[str]) -> None:
        spaces = dict(spaces or {})
        task_names = tuple(task_names)
        for task, indicator in spaces.items():
            if task not in task_names:
                raise ValueError(
                    f"compile(sample_spaces=...) names unknown task {task!r}. "
                    f"Expected task names among {list(task_names)}."
                )
            if not isinstance(indicator, str) or not indicator:
                raise ValueError(
                    f"sample_spaces[{task!r}]: expected the name of an indicator (a label "
                    f"or feature holding 1 on the task's rows). Received: {indicator!r}"
                )
            if indicator == task:
                raise ValueError(
                    f"sample_spaces[{task!r}] names the task itself. Expected the "
                    "indicator of the rows the task is defined on (e.g. 'ctr' for 'cvr')."
                )
        self.spaces = spaces
        self.task_names = task_names

    def __contains__(self, task):
        return task in self.spaces

    def indicator(self, task: str) -> Optional[str]:
        """The indicator name of `task`'s space, or None (every row)."""
        return self.spaces.get(task)

    def mask(
        self,
        task: str,
        x: ModelTensors,
        y: Mapping[str, tf.Tensor],
        dtype: tf.DType = tf.float32,
    ) -> Optional[tf.Tensor]:
        """`(batch,)` 1 on the rows of `task`'s space, else 0; None without a space.

        Args:
            task: a trained task.
            x: the batch's inputs (a dict, or a tensor when there is one).
            y: the batch's labels `{name: tensor}` as given (NaN not replaced).
            dtype: the mask's dtype.
        """
        name = self.spaces.get(task)
        if name is None:
            return None
        if isinstance(y, dict) and name in y:
            values = y[name]
        elif isinstance(x, dict) and name in x:
            values = x[name]
        else:
            labels = sorted(y) if isinstance(y, dict) else []
            features = sorted(x) if isinstance(x, dict) else []
            raise KeyError(
                f"sample_spaces[{task!r}] = {name!r} is neither a label nor an input of "
                f"the batch. Received label keys {labels} and inputs {features}; add a "
                f"{name!r} column of 0/1 to the labels or the features."
            )
        values = tf.cast(values, tf.float32)
        values = tf.reshape(values, (tf.shape(values)[0], -1))[:, 0]  # (B,)
        return tf.cast(tf.equal(values, 1.0), dtype)  # NaN != 1: out of the space

    def numpy_mask(self, task: str, columns: Mapping[str, ArrayLike]) -> Optional[np.ndarray]:
        """The mask of `task`'s space over NumPy columns, or None without a space.

        `columns` maps names (labels, features) to arrays; for evaluation
        outside the training loop (`keras_mtl.evaluation`).
        """
        name = self.spaces.get(task)
        if name is None:
            return None
        if name not in columns:
            raise KeyError(
                f"sample_spaces[{task!r}] = {name!r} is not among the columns {sorted(columns)}."
            )
        values = np.asarray(columns[name], dtype="float64").reshape(len(columns[name]), -1)
        return values[:, 0] == 1.0

    def get_config(self) -> dict[str, str]:
        return dict(self.spaces)
