"""Tests of keras_mtl.layers.BranchDense."""

import re

import numpy as np
import pytest
import tensorflow as tf

from keras_mtl.layers import BranchDense
from tests.layer_check import check_layer

BATCH, BRANCHES, DIM, UNITS = 4, 3, 5, 2


def _x():
    return np.random.default_rng(0).normal(size=(BATCH, BRANCHES, DIM)).astype("float32")


@pytest.mark.parametrize(
    "kwargs", [{}, {"dropout": 0.2, "kernel_regularizer": "l2", "activation": None}]
)
def test_branch_dense_from_every_side(kwargs):
    out = check_layer(lambda: BranchDense(UNITS, **kwargs), _x(), num_trainable_weights=2)
    assert out.shape == (BATCH, BRANCHES, UNITS)


def test_each_branch_is_its_own_dense_layer():
    x = _x()
    layer = BranchDense(UNITS, bias_initializer="random_normal")
    out = layer(x).numpy()
    kernel, bias = layer.get_weights()
    for n in range(BRANCHES):
        dense = tf.keras.layers.Dense(UNITS, activation="relu")
        dense(x[:, n])
        dense.set_weights([kernel[n], bias[n]])
        np.testing.assert_allclose(out[:, n], dense(x[:, n]).numpy(), rtol=1e-5, atol=1e-6)


def test_branches_start_different_and_see_one_branch_fans():
    layer = BranchDense(UNITS, kernel_initializer=tf.keras.initializers.GlorotUniform(seed=2))
    layer(_x())
    kernel = layer.kernel.numpy()
    assert not np.allclose(kernel[0], kernel[1])
    limit = np.sqrt(6.0 / (DIM + UNITS))  # Glorot bound of one (d, units) kernel
    assert np.abs(kernel).max() <= limit


def test_branch_dense_needs_stacked_branches():
    with pytest.raises(ValueError, match=re.escape("input_shape=(4, 5)")):
        BranchDense(UNITS)(np.ones((4, 5), "float32"))


@pytest.mark.parametrize(
    "kwargs, received", [({"units": 0}, "units=0"), ({"units": 2, "dropout": 2}, "dropout=2")]
)
def test_branch_dense_invalid_arguments(kwargs, received):
    with pytest.raises(ValueError, match=re.escape(received)):
        BranchDense(**kwargs)
