"""Tests of keras_mtl.layers.StopGradient."""

import numpy as np
import tensorflow as tf

from keras_mtl.layers import StopGradient
from tests.layer_check import check_layer


def test_stop_gradient_from_every_side():
    x = np.arange(6, dtype="float32").reshape(2, 3)
    out = check_layer(lambda: StopGradient(), x, expected_output=x, run_fit=False)
    assert out.shape == (2, 3)


def test_blocks_the_gradient_only():
    v = tf.Variable([[1.0, -2.0]])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(StopGradient()(v) * v)
    np.testing.assert_allclose(tape.gradient(y, v).numpy(), [[1.0, -2.0]])
