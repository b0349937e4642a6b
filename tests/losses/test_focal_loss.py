import json

import numpy as np
import pytest
import tensorflow as tf

from keras_mtl.losses import FocalLoss


def test_equals_formula():
    y = np.array([[1.0], [0.0], [1.0], [0.0]], "float32")
    p = np.array([[0.9], [0.2], [0.3], [0.7]], "float32")
    alpha, gamma = 0.3, 1.5
    expected = np.where(
        y == 1, -alpha * (1 - p) ** gamma * np.log(p), -(1 - alpha) * p**gamma * np.log(1 - p)
    )[:, 0]
    loss = FocalLoss(alpha=alpha, gamma=gamma)
    np.testing.assert_allclose(
        loss.call(tf.constant(y), tf.constant(p)).numpy(), expected, rtol=1e-5
    )
    assert float(loss(y, p)) == pytest.approx(expected.mean(), rel=1e-5)


def test_gamma_zero_is_weighted_cross_entropy_and_config_round_trips():
    y, p = np.array([[1.0], [0.0]], "float32"), np.array([[0.6], [0.1]], "float32")
    loss = FocalLoss(alpha=0.5, gamma=0.0)
    bce = tf.keras.losses.binary_crossentropy(y, p).numpy()
    np.testing.assert_allclose(
        loss.call(tf.constant(y), tf.constant(p)).numpy(), 0.5 * bce, rtol=1e-5
    )
    clone = FocalLoss.from_config(json.loads(json.dumps(loss.get_config())))
    assert (clone.alpha, clone.gamma) == (0.5, 0.0)
    with pytest.raises(ValueError, match="alpha=2"):
        FocalLoss(alpha=2)
