"""Tests of keras_mtl.layers.SNRAvgLayer."""

import re

import numpy as np
import pytest
import tensorflow as tf

from keras_mtl.layers import SNRAvgLayer
from tests import routing_reference as ref
from tests.layer_check import check_layer

BATCH, LOWER, DIM, UPPER = 4, 3, 5, 2
LOG_ALPHA = np.array([[-2.0, 0.0, 1.0], [3.0, -0.5, 0.2]], dtype="float32")


def _u():
    return np.random.default_rng(0).normal(size=(BATCH, LOWER, DIM)).astype("float32")


def _layer(**kwargs):
    return SNRAvgLayer(
        UPPER, log_alpha_initializer=tf.keras.initializers.Constant(LOG_ALPHA.tolist()), **kwargs
    )


def test_snr_avg_layer_from_every_side_equals_gated_sums():
    u = _u()
    expected = ref.snr_avg(u, ref.hard_concrete_estimator(LOG_ALPHA))
    check_layer(_layer, u, expected_output=expected, num_trainable_weights=1)


def test_gated_sum_by_hand():
    # z = clip(sigmoid(log α)·1.2 − 0.1): log α = −2: 0.119203·1.2 − 0.1 = 0.043044;
    # 0: 0.5; 1: 0.731059·1.2 − 0.1 = 0.777271
    u = np.array([[[1.0], [10.0], [100.0]]], "float32")
    out = _layer()(u).numpy()
    z = ref.hard_concrete_estimator(LOG_ALPHA)
    np.testing.assert_allclose(z[0], [0.043044, 0.5, 0.777271], atol=1e-5)
    np.testing.assert_allclose(out[0, 0, 0], 0.043044 + 5.0 + 77.7271, rtol=1e-5)


@pytest.mark.parametrize("log_alpha, expected", [(50.0, "sum"), (-50.0, "zero")])
def test_saturated_gates_in_training(log_alpha, expected):
    u = _u()
    layer = SNRAvgLayer(UPPER, log_alpha_initializer=tf.keras.initializers.Constant(log_alpha))
    out = layer(u, training=True).numpy()
    target = np.repeat(u.sum(axis=1, keepdims=True), UPPER, axis=1)
    np.testing.assert_allclose(out, target if expected == "sum" else 0 * target, atol=1e-5)


def test_training_samples_and_inference_does_not():
    layer = _layer()
    u = _u()
    np.testing.assert_array_equal(layer(u).numpy(), layer(u).numpy())
    assert not np.allclose(layer(u, training=True).numpy(), layer(u, training=True).numpy())


def test_l0_penalty_reaches_the_layer_losses():
    layer = _layer(l0_coefficient=0.1)
    layer(_u())
    assert float(tf.add_n(layer.losses)) == pytest.approx(
        0.1 * ref.expected_l0(LOG_ALPHA), rel=1e-6
    )


@pytest.mark.parametrize(
    "kwargs, received",
    [
        ({"num_outputs": 0}, "num_outputs=0"),
        ({"num_outputs": 2, "l0_coefficient": "big"}, "l0_coefficient='big'"),
    ],
)
def test_snr_avg_layer_invalid_arguments(kwargs, received):
    with pytest.raises(ValueError, match=re.escape(received)):
        SNRAvgLayer(**kwargs)
