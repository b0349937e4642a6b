"""Tests of keras_mtl.layers.NumericTransform."""

import numpy as np
import pytest
import tensorflow as tf

from keras_mtl.layers import NumericTransform
from tests.layer_check import check_layer

RAW = np.array([[-3.0, 0.0], [-0.5, 2.0], [10.0, 1.0], [0.25, -7.0]], dtype="float32")


def _signed_log1p(x):
    return np.sign(x) * np.log(1.0 + np.abs(x))


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({}, RAW),
        ({"log1p": True}, _signed_log1p(RAW)),
        ({"mean": 1.0, "variance": 4.0}, (RAW - 1.0) / 2.0),
        (
            {"log1p": True, "mean": 0.5, "variance": 2.25},
            (_signed_log1p(RAW) - 0.5) / 1.5,
        ),
    ],
    ids=["identity", "log1p", "standardise", "log1p_then_standardise"],
)
def test_numeric_transform_from_every_side(kwargs, expected):
    check_layer(lambda: NumericTransform(**kwargs), RAW, expected_output=expected)


def test_signed_log1p_by_hand():
    out = NumericTransform(log1p=True)(tf.constant([-(np.e - 1), 0.0, np.e**2 - 1]))
    expected = [[-1.0], [0.0], [2.0]]  # sign(x)·log(1 + |x|), as a column
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_scalar_input_becomes_a_column():
    x = RAW[:, 0]  # (batch,)
    out = check_layer(
        lambda: NumericTransform(log1p=True, mean=0.5, variance=4.0),
        x,
        expected_output=((_signed_log1p(x) - 0.5) / 2.0)[:, None],
    )
    assert out.shape == (4, 1)


def test_zero_variance_gives_no_nan():
    layer = NumericTransform(mean=3.0, variance=0.0)
    out = layer(tf.constant([[3.0], [3.0], [5.0]])).numpy()
    assert np.isfinite(out).all()
    # A zero variance divides by 1: the constant column becomes 0.
    np.testing.assert_allclose(out, [[0.0], [0.0], [2.0]])


def test_integer_input_is_cast_to_float():
    out = NumericTransform(mean=1.0, variance=1.0)(tf.constant([1, 3], dtype=tf.int64))
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), [[0.0], [2.0]])


@pytest.mark.parametrize(
    "kwargs, received",
    [
        ({"mean": 1.0}, "mean=1.0, variance=None"),
        ({"variance": 1.0}, "mean=None, variance=1.0"),
        ({"mean": 0.0, "variance": -1.0}, "variance=-1.0"),
        ({"mean": 0.0, "variance": float("nan")}, "variance=nan"),
    ],
)
def test_invalid_statistics(kwargs, received):
    with pytest.raises(ValueError, match=received):
        NumericTransform(**kwargs)
