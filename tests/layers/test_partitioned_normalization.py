"""Tests of keras_mtl.layers.PartitionedNormalization."""

import re

import numpy as np
import pytest
import tensorflow as tf

from keras_mtl.layers import PartitionedNormalization
from tests.layer_check import check_layer

NUM_DOMAINS, WIDTH, EPS = 2, 3, 1e-3
DOMAINS = np.array([0, 0, 0, 1, 1, 5], "int64")  # 5: unknown domain


def _x():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(len(DOMAINS), WIDTH))
    x[DOMAINS == 1] = 10.0 + 3.0 * x[DOMAINS == 1]  # domain 1 lives elsewhere
    return x.astype("float32")


def _params(seed=1):
    """gamma, beta, domain_gamma, domain_beta, moving_mean, moving_variance."""
    rng = np.random.default_rng(seed)
    return [
        rng.uniform(0.5, 1.5, WIDTH),
        rng.normal(size=WIDTH),
        rng.uniform(0.5, 1.5, (NUM_DOMAINS, WIDTH)),
        rng.normal(size=(NUM_DOMAINS, WIDTH)),
        rng.normal(size=(NUM_DOMAINS + 1, WIDTH)),
        rng.uniform(0.5, 4.0, (NUM_DOMAINS + 1, WIDTH)),
    ]


def _layer(params, **kwargs):
    layer = PartitionedNormalization(NUM_DOMAINS, epsilon=EPS, **kwargs)
    layer([_x(), DOMAINS])
    layer.set_weights(params)
    return layer


def _affine(p, gamma, beta, domain_gamma, domain_beta):
    if 0 <= p < NUM_DOMAINS:
        return gamma * domain_gamma[p], beta + domain_beta[p]
    return gamma, beta


def test_partitioned_normalization_from_every_side():
    out = check_layer(
        lambda: PartitionedNormalization(NUM_DOMAINS),
        [_x(), DOMAINS],
        num_trainable_weights=4,
        num_non_trainable_weights=2,
    )
    assert out.shape == (len(DOMAINS), WIDTH)


def test_inference_uses_the_domains_moving_statistics():
    params = _params()
    gamma, beta, domain_gamma, domain_beta, mean, variance = params
    x = _x()
    expected = []
    for row, p in zip(x, DOMAINS):
        slot = p if 0 <= p < NUM_DOMAINS else NUM_DOMAINS  # unknown: the last slot
        scale, offset = _affine(p, gamma, beta, domain_gamma, domain_beta)
        expected.append(scale * (row - mean[slot]) / np.sqrt(variance[slot] + EPS) + offset)
    layer = _layer(params)
    out = layer([x, DOMAINS], training=False).numpy()
    np.testing.assert_allclose(out, np.stack(expected), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.moving_mean.numpy(), mean, rtol=1e-6)  # not updated

    # plain BatchNormalization with the same γ, β has one set of statistics
    norm = tf.keras.layers.BatchNormalization(epsilon=EPS)
    norm(x)
    norm.set_weights([gamma, beta, mean[-1], variance[-1]])
    plain = norm(x, training=False).numpy()
    assert not np.allclose(out[DOMAINS < NUM_DOMAINS], plain[DOMAINS < NUM_DOMAINS], atol=1e-2)
    np.testing.assert_allclose(out[-1], plain[-1], rtol=1e-5, atol=1e-5)  # unknown domain


def test_training_uses_each_domains_batch_statistics_and_updates_moving_ones():
    params = _params()
    gamma, beta, domain_gamma, domain_beta, mean, variance = params
    x, momentum = _x(), 0.9
    layer = _layer(params, momentum=momentum)
    out = layer([x, DOMAINS], training=True).numpy()
    expected_mean, expected_variance = mean.copy(), variance.copy()
    for slot in range(NUM_DOMAINS + 1):
        rows = x[DOMAINS == slot] if slot < NUM_DOMAINS else x  # last slot: all rows
        batch_mean, batch_variance = rows.mean(0), rows.var(0)
        expected_mean[slot] = momentum * mean[slot] + (1 - momentum) * batch_mean
        expected_variance[slot] = momentum * variance[slot] + (1 - momentum) * batch_variance
        if slot < NUM_DOMAINS:
            scale, offset = _affine(slot, gamma, beta, domain_gamma, domain_beta)
            normalized = (rows - batch_mean) / np.sqrt(batch_variance + EPS)
            np.testing.assert_allclose(
                out[DOMAINS == slot], scale * normalized + offset, rtol=1e-4, atol=1e-4
            )
    unknown = (x[-1] - x.mean(0)) / np.sqrt(x.var(0) + EPS) * gamma + beta
    np.testing.assert_allclose(out[-1], unknown, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.moving_mean.numpy(), expected_mean, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        layer.moving_variance.numpy(), expected_variance, rtol=1e-5, atol=1e-5
    )


def test_absent_domains_keep_their_moving_statistics():
    params = _params()
    layer = _layer(params)
    only_zero = DOMAINS == 0
    layer([_x()[only_zero], DOMAINS[only_zero]], training=True)
    np.testing.assert_array_equal(layer.moving_mean.numpy()[1], params[4][1].astype("float32"))
    assert not np.allclose(layer.moving_mean.numpy()[0], params[4][0])


def test_frozen_or_inference_calls_leave_statistics_alone():
    params = _params()
    frozen = _layer(params)
    frozen.trainable = False
    inference = frozen([_x(), DOMAINS], training=False).numpy()
    np.testing.assert_allclose(frozen([_x(), DOMAINS], training=True).numpy(), inference)
    np.testing.assert_allclose(frozen.moving_mean.numpy(), params[4], rtol=1e-6)


def test_fit_updates_moving_statistics_and_predict_does_not():
    x_in = tf.keras.Input((WIDTH,))
    domain_in = tf.keras.Input((), dtype="int64")
    norm = PartitionedNormalization(NUM_DOMAINS, momentum=0.5)
    model = tf.keras.Model([x_in, domain_in], tf.keras.layers.Dense(1)(norm([x_in, domain_in])))
    model.compile(optimizer="sgd", loss="mse")
    before = norm.moving_mean.numpy().copy()
    model.predict([_x(), DOMAINS], verbose=0)
    np.testing.assert_array_equal(norm.moving_mean.numpy(), before)
    model.fit([_x(), DOMAINS], np.zeros((len(DOMAINS), 1)), epochs=1, verbose=0)
    assert not np.allclose(norm.moving_mean.numpy(), before)
    np.testing.assert_allclose(
        norm.moving_mean.numpy()[0], 0.5 * _x()[DOMAINS == 0].mean(0), rtol=1e-5, atol=1e-6
    )


def test_empty_batch_is_finite_and_updates_nothing():
    params = _params()
    layer = _layer(params)
    out = layer([_x()[:0], DOMAINS[:0]], training=True)
    assert out.shape == (0, WIDTH)
    np.testing.assert_allclose(layer.moving_mean.numpy(), params[4], rtol=1e-6)
    assert np.all(np.isfinite(layer.moving_variance.numpy()))


@pytest.mark.parametrize(
    "kwargs, received",
    [
        ({"num_domains": 0}, "num_domains=0"),
        ({"num_domains": 2, "momentum": 1.0}, "momentum=1.0"),
        ({"num_domains": 2, "epsilon": 0}, "epsilon=0"),
    ],
)
def test_partitioned_normalization_invalid_arguments(kwargs, received):
    with pytest.raises(ValueError, match=re.escape(received)):
        PartitionedNormalization(**kwargs)
