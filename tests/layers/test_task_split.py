"""Tests of keras_mtl.layers.TaskSplit."""

import re

import numpy as np
import pytest

from keras_mtl.layers import TaskSplit
from tests.layer_check import check_layer


def test_task_split_from_every_side_gives_each_task_its_slice():
    x = np.random.default_rng(0).normal(size=(4, 3, 2)).astype("float32")
    out = check_layer(lambda: TaskSplit(3), x, expected_output=[x[:, 0], x[:, 1], x[:, 2]])
    assert len(out) == 3


def test_task_split_checks_the_task_axis():
    with pytest.raises(
        ValueError, match=re.escape("(batch, 2, units)") + ".*" + re.escape("(4, 3, 2)")
    ):
        TaskSplit(2)(np.ones((4, 3, 2), "float32"))


def test_task_split_invalid_arguments():
    with pytest.raises(ValueError, match=re.escape("num_tasks=0")):
        TaskSplit(0)
