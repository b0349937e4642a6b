"""Tests of keras_mtl.layers.TaskHead."""

import numpy as np
import pytest
import tensorflow as tf

from keras_mtl.layers import TaskHead
from tests.layer_check import check_layer


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _inputs():
    return np.random.default_rng(0).normal(size=(4, 3)).astype("float32")


@pytest.mark.parametrize("task_type", ["binary", "regression"])
def test_task_head_from_every_side(task_type):
    out = check_layer(
        lambda: TaskHead(task_type, kernel_regularizer="l2"),
        _inputs(),
        num_trainable_weights=2,
    )
    assert out.shape == (4, 1)


@pytest.mark.parametrize("task_type, expected", [("binary", 0.5), ("regression", 0.0)])
def test_zero_kernel_head(task_type, expected):
    # Zero kernel and bias → logit 0 → sigmoid 0.5 (binary), 0 (regression).
    check_layer(
        lambda: TaskHead(task_type, kernel_initializer="zeros"),
        _inputs(),
        expected_output=np.full((4, 1), expected),
        num_trainable_weights=2,
    )


def test_constant_kernel_head_by_hand():
    x = _inputs()
    check_layer(
        lambda: TaskHead("regression", kernel_initializer=tf.keras.initializers.Constant(0.5)),
        x,
        expected_output=0.5 * x.sum(axis=1, keepdims=True),
        num_trainable_weights=2,
    )


@pytest.mark.parametrize("task_type", ["binary", "regression"])
def test_task_head_with_set_weights(task_type):
    x = _inputs()
    kernel, bias = np.array([[0.5], [-1.0], [2.0]]), np.array([0.25])
    layer = TaskHead(task_type)
    layer(x)
    layer.set_weights([kernel, bias])
    logit = x @ kernel + bias
    expected = _sigmoid(logit) if task_type == "binary" else logit
    out = layer(x).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    if task_type == "binary":
        assert ((out > 0) & (out < 1)).all()


@pytest.mark.parametrize("task_type", ["multiclass", "Binary", None])
def test_invalid_task_type(task_type):
    with pytest.raises(ValueError, match=f"task_type={task_type!r}"):
        TaskHead(task_type)
