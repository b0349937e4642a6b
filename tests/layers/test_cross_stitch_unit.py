"""Tests of keras_mtl.layers.CrossStitchUnit."""

import re

import numpy as np
import pytest

from keras_mtl.layers import CrossStitchUnit
from tests import routing_reference as ref
from tests.layer_check import check_layer


def _columns(tasks=3, batch=4, units=2):
    return np.random.default_rng(0).normal(size=(batch, tasks, units)).astype("float32")


def test_cross_stitch_unit_from_every_side_starts_near_identity():
    x = _columns()
    alpha = np.full((3, 3), 0.05)
    np.fill_diagonal(alpha, 0.9)
    check_layer(
        lambda: CrossStitchUnit(),
        x,
        expected_output=ref.cross_stitch(alpha, x),
        num_trainable_weights=1,
    )


def test_mixing_by_hand():
    unit = CrossStitchUnit()
    x = np.array([[[1.0, 2.0], [3.0, 4.0]]], "float32")  # 2 tasks, 2 units
    unit(x)
    unit.set_weights([np.array([[0.5, 2.0], [-1.0, 0.25]], "float32")])
    # task 0: 0.5·[1, 2] + 2·[3, 4] = [6.5, 9]; task 1: −[1, 2] + 0.25·[3, 4] = [−0.25, −1]
    np.testing.assert_allclose(unit(x).numpy(), [[[6.5, 9.0], [-0.25, -1.0]]], rtol=1e-6)


def test_initial_rows_sum_to_one():
    unit = CrossStitchUnit(self_weight=0.6, kernel_regularizer="l2")
    unit(_columns(tasks=5))
    alpha = unit.alpha.numpy()
    np.testing.assert_allclose(np.diag(alpha), 0.6, rtol=1e-6)
    np.testing.assert_allclose(alpha[0, 1:], 0.1, rtol=1e-6)
    np.testing.assert_allclose(alpha.sum(axis=1), 1.0, rtol=1e-6)
    assert len(unit.losses) == 1


def test_cross_stitch_unit_needs_two_columns():
    with pytest.raises(ValueError, match=re.escape("tasks >= 2") + ".*" + re.escape("(4, 1, 2)")):
        CrossStitchUnit()(_columns(tasks=1))


@pytest.mark.parametrize("value", [0.0, 1.5, True])
def test_cross_stitch_unit_invalid_self_weight(value):
    with pytest.raises(ValueError, match=re.escape(f"self_weight={value!r}")):
        CrossStitchUnit(self_weight=value)
