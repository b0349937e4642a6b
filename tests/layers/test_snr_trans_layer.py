"""Tests of keras_mtl.layers.SNRTransLayer."""

import re

import numpy as np
import pytest
import tensorflow as tf

from keras_mtl.layers import SNRTransLayer
from tests import routing_reference as ref
from tests.layer_check import check_layer

BATCH, LOWER, DIM, UPPER, UNITS = 4, 3, 5, 2, 4


def _u():
    return np.random.default_rng(0).normal(size=(BATCH, LOWER, DIM)).astype("float32")


def _log_alpha(seed=1):
    return np.random.default_rng(seed).normal(size=(UPPER, LOWER)).astype("float32")


@pytest.mark.parametrize(
    "kwargs, num_trainable",
    [({}, 3), ({"use_bias": False, "activation": "relu", "kernel_regularizer": "l2"}, 2)],
)
def test_snr_trans_layer_from_every_side(kwargs, num_trainable):
    out = check_layer(
        lambda: SNRTransLayer(UPPER, UNITS, **kwargs), _u(), num_trainable_weights=num_trainable
    )
    assert out.shape == (BATCH, UPPER, UNITS)


def test_inference_equals_connection_by_connection_numpy():
    log_alpha = _log_alpha()
    layer = SNRTransLayer(
        UPPER,
        UNITS,
        activation="relu",
        bias_initializer="random_normal",
        log_alpha_initializer=tf.keras.initializers.Constant(log_alpha.tolist()),
    )
    u = _u()
    expected = ref.snr_trans(
        layer_after_call(layer, u), u, ref.hard_concrete_estimator(log_alpha), ref.relu
    )
    np.testing.assert_allclose(layer(u).numpy(), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(layer(u).numpy(), layer(u, training=False).numpy())


def layer_after_call(layer, u):
    layer(u)
    return layer


@pytest.mark.parametrize("log_alpha, open_", [(50.0, True), (-50.0, False)])
def test_saturated_gates_in_training(log_alpha, open_):
    """Gates with a huge |log α| are sampled exactly 1 (all open) or 0 (closed)."""
    layer = SNRTransLayer(
        UPPER,
        UNITS,
        bias_initializer="ones",
        log_alpha_initializer=tf.keras.initializers.Constant(log_alpha),
    )
    u = _u()
    out = layer(u, training=True).numpy()
    z = np.ones((UPPER, LOWER)) if open_ else np.zeros((UPPER, LOWER))
    np.testing.assert_allclose(out, ref.snr_trans(layer, u, z), rtol=1e-5, atol=1e-5)


def test_training_draws_gates_per_row():
    layer = SNRTransLayer(UPPER, UNITS)
    u = np.repeat(_u()[:1], 64, axis=0)  # one row, repeated
    out = layer(u, training=True).numpy()
    assert not np.allclose(out[0], out[1:])  # same input, other gates


def test_l0_penalty_reaches_the_layer_losses():
    log_alpha = _log_alpha()
    layer = SNRTransLayer(
        UPPER,
        UNITS,
        l0_coefficient=0.5,
        log_alpha_initializer=tf.keras.initializers.Constant(log_alpha.tolist()),
    )
    layer(_u())
    assert len(layer.losses) == 1
    assert float(layer.losses[0]) == pytest.approx(0.5 * ref.expected_l0(log_alpha), rel=1e-6)


def test_connections_start_with_different_matrices():
    layer = layer_after_call(SNRTransLayer(UPPER, UNITS), _u())
    kernels = layer.kernel.numpy().reshape(UPPER * LOWER, DIM, UNITS)
    for i in range(len(kernels)):
        for j in range(i + 1, len(kernels)):
            assert not np.allclose(kernels[i], kernels[j])


def test_snr_trans_layer_needs_stacked_sub_networks():
    with pytest.raises(ValueError, match=re.escape("Received: input_shape=(4, 5)")):
        SNRTransLayer(UPPER, UNITS)(np.ones((4, 5), "float32"))


@pytest.mark.parametrize(
    "kwargs, received",
    [
        ({"num_outputs": 0, "units": 2}, "num_outputs=0"),
        ({"num_outputs": 2, "units": 0}, "units=0"),
        ({"num_outputs": 2, "units": 2, "l0_coefficient": -0.1}, "l0_coefficient=-0.1"),
        ({"num_outputs": 2, "units": 2, "seed": "a"}, "seed='a'"),
    ],
)
def test_snr_trans_layer_invalid_arguments(kwargs, received):
    with pytest.raises(ValueError, match=re.escape(received)):
        SNRTransLayer(**kwargs)
