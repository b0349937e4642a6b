"""Tests of keras_mtl.layers.MLP."""

import re

import numpy as np
import pytest
import tensorflow as tf

from keras_mtl.layers import MLP
from tests.layer_check import check_layer

BN_EPSILON = 1e-3  # BatchNormalization's default epsilon (Keras 3 and tf_keras 2)


def _relu(x):
    return np.maximum(x, 0.0)


def _inputs(batch=4, dim=5):
    return np.random.default_rng(0).normal(size=(batch, dim)).astype("float32")


@pytest.mark.parametrize(
    "kwargs, num_trainable, num_non_trainable",
    [
        ({"units": (4, 2)}, 4, 0),
        ({"units": (3,), "kernel_regularizer": "l2"}, 2, 0),
        # Dense (kernel, bias) + BatchNormalization (gamma, beta | moving stats).
        ({"units": (4, 2), "use_batch_norm": True, "dropout": 0.25}, 8, 4),
    ],
)
def test_mlp_from_every_side(kwargs, num_trainable, num_non_trainable):
    out = check_layer(
        lambda: MLP(**kwargs),
        _inputs(),
        num_trainable_weights=num_trainable,
        num_non_trainable_weights=num_non_trainable,
    )
    assert out.shape == (4, kwargs["units"][-1])


def test_mlp_constant_kernels_by_hand():
    x = _inputs()
    # Biases start at zero; every kernel entry is 0.1.
    h = _relu(x @ np.full((5, 3), 0.1, "float32"))
    expected = _relu(h @ np.full((3, 2), 0.1, "float32"))
    check_layer(
        lambda: MLP((3, 2), kernel_initializer=tf.keras.initializers.Constant(0.1)),
        x,
        expected_output=expected,
        num_trainable_weights=4,
    )


def test_mlp_two_layers_with_set_weights():
    rng = np.random.default_rng(1)
    x = _inputs()
    w0, b0 = rng.normal(size=(5, 3)), rng.normal(size=(3,))
    w1, b1 = rng.normal(size=(3, 2)), rng.normal(size=(2,))
    layer = MLP((3, 2), activation="tanh")
    layer(x)
    layer.set_weights([w0, b0, w1, b1])
    expected = np.tanh(np.tanh(x @ w0 + b0) @ w1 + b1)
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_mlp_on_a_sequence_acts_on_the_last_axis():
    x = np.random.default_rng(3).normal(size=(2, 3, 5)).astype("float32")
    layer = MLP((2,), activation="linear", kernel_initializer="ones")
    out = layer(x).numpy()
    assert out.shape == layer.compute_output_shape(x.shape) == (2, 3, 2)
    expected = np.repeat(x.sum(axis=-1, keepdims=True), 2, axis=-1)  # (2, 3, 2)
    np.testing.assert_allclose(out, expected, rtol=1e-5)


def test_mlp_dropout_only_in_training():
    x = np.abs(_inputs(batch=8, dim=6)) + 0.5  # positive, so relu keeps all
    layer = MLP((16,), dropout=0.5, kernel_initializer="ones")
    reference = _relu(x @ np.ones((6, 16), "float32"))  # bias is zero

    np.testing.assert_allclose(layer(x).numpy(), reference, rtol=1e-5)
    np.testing.assert_allclose(layer(x, training=False).numpy(), reference, rtol=1e-5)

    trained = layer(x, training=True).numpy()
    dropped = trained == 0.0
    assert 0 < dropped.sum() < dropped.size
    # Kept units are scaled by 1 / (1 - rate).
    np.testing.assert_allclose(trained[~dropped], 2.0 * reference[~dropped], rtol=1e-5)


def test_mlp_batch_norm_inference_uses_moving_statistics():
    rng = np.random.default_rng(2)
    x = _inputs()
    layer = MLP((3,), use_batch_norm=True)
    layer(x)
    kernel, bias = rng.normal(size=(5, 3)), rng.normal(size=(3,))
    gamma, beta = rng.uniform(0.5, 2.0, size=(3,)), rng.normal(size=(3,))
    mean, variance = rng.normal(size=(3,)), rng.uniform(0.5, 2.0, size=(3,))
    layer.dense_layers[0].set_weights([kernel, bias])
    layer.norm_layers[0].set_weights([gamma, beta, mean, variance])

    z = x @ kernel + bias
    expected = _relu(gamma * (z - mean) / np.sqrt(variance + BN_EPSILON) + beta)
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-5)

    moving = layer.non_trainable_weights  # moving mean and variance
    assert len(moving) == 2
    assert all(tf.as_dtype(w.dtype) == tf.float32 for w in moving)


def test_mlp_batch_norm_moving_statistics_update_only_in_training():
    x = _inputs()
    layer = MLP((3,), use_batch_norm=True, kernel_initializer="ones")
    layer(x, training=False)
    norm = layer.norm_layers[0]
    np.testing.assert_array_equal(norm.moving_mean.numpy(), np.zeros(3))
    np.testing.assert_array_equal(norm.moving_variance.numpy(), np.ones(3))

    layer(x, training=True)
    z = x @ np.ones((5, 3), "float32")  # bias starts at zero
    momentum = norm.momentum
    np.testing.assert_allclose(
        norm.moving_mean.numpy(), (1 - momentum) * z.mean(axis=0), rtol=1e-4, atol=1e-6
    )
    np.testing.assert_allclose(
        norm.moving_variance.numpy(),
        momentum + (1 - momentum) * z.var(axis=0),
        rtol=1e-4,
    )


@pytest.mark.parametrize(
    "initializer",
    ["glorot_uniform", tf.keras.initializers.GlorotUniform(seed=3)],
    ids=["unseeded", "seeded"],
)
def test_mlp_layers_of_one_shape_start_different(initializer):
    layer = MLP((4, 4), kernel_initializer=initializer)
    layer(np.zeros((2, 4), "float32"))
    first, second = (d.kernel.numpy() for d in layer.dense_layers)
    assert first.shape == second.shape == (4, 4)
    assert not np.allclose(first, second)


def test_mlp_seeded_initializer_is_reproducible():
    kernels = []
    for _ in range(2):
        initializer = tf.keras.initializers.GlorotUniform(seed=3)
        layer = MLP((4, 4), kernel_initializer=initializer)
        layer(np.zeros((2, 4), "float32"))
        kernels.append([d.kernel.numpy() for d in layer.dense_layers])
    for a, b in zip(*kernels):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "kwargs, received",
    [
        ({"units": ()}, "units=()"),
        ({"units": (4, 0)}, "units=(4, 0)"),
        ({"units": (4,), "dropout": 1.0}, "dropout=1.0"),
    ],
)
def test_mlp_invalid_arguments(kwargs, received):
    with pytest.raises(ValueError, match=re.escape(received)):
        MLP(**kwargs)
