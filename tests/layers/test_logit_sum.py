"""Tests of keras_mtl.layers.LogitSum."""

import numpy as np
import pytest

from keras_mtl.layers import LogitSum
from tests.layer_check import check_layer


def _logits():
    rng = np.random.default_rng(0)
    return [rng.normal(size=(4, 1)).astype("float32") for _ in range(3)]


@pytest.mark.parametrize("task_type", ["binary", "regression"])
def test_logit_sum_from_every_side(task_type):
    logits = _logits()
    total = logits[0] + logits[1] + logits[2]
    expected = 1.0 / (1.0 + np.exp(-total)) if task_type == "binary" else total
    check_layer(lambda: LogitSum(task_type), logits, expected_output=expected)


def test_logit_sum_errors_name_what_was_received():
    with pytest.raises(ValueError, match="task_type='poisson'"):
        LogitSum("poisson")
    with pytest.raises(ValueError, match="logits of one shape"):
        LogitSum()([np.zeros((2, 1), "float32"), np.zeros((2, 2), "float32")])
