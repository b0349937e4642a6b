"""Tests of keras_mtl.layers.HardConcreteGate."""

import re

import numpy as np
import pytest
import tensorflow as tf

from keras_mtl.layers import HardConcreteGate
from tests import routing_reference as ref
from tests.layer_check import check_layer

LOG_ALPHA = np.array([[-1.5, 0.0, 0.7], [2.0, -0.3, 1.2]], dtype="float32")


def _gate(**kwargs):
    return HardConcreteGate(
        LOG_ALPHA.shape,
        log_alpha_initializer=tf.keras.initializers.Constant(LOG_ALPHA.tolist()),
        **kwargs,
    )


def test_hard_concrete_gate_from_every_side():
    expected = np.broadcast_to(ref.hard_concrete_estimator(LOG_ALPHA), (4,) + LOG_ALPHA.shape)
    check_layer(
        _gate, np.ones((4, 7), "float32"), expected_output=expected, num_trainable_weights=1
    )


def test_inference_is_deterministic_and_the_closed_form():
    gate = _gate()
    x = tf.ones((3, 1))
    expected = ref.hard_concrete_estimator(LOG_ALPHA)
    for training in (False, None):
        out = gate(x, training=training).numpy()
        assert out.shape == (3,) + LOG_ALPHA.shape
        np.testing.assert_allclose(out, np.broadcast_to(expected, out.shape), rtol=1e-6)
    np.testing.assert_array_equal(gate(x).numpy(), gate(x).numpy())
    # by hand: sigmoid(−1.5)·1.2 − 0.1 = 0.182426·1.2 − 0.1 = 0.118911; sigmoid(0) → 0.5
    np.testing.assert_allclose(gate(x)[0, 0, :2].numpy(), [0.118911, 0.5], atol=1e-5)


def test_samples_hit_zero_and_one_with_the_expected_frequencies():
    """Empirical P(z = 0), P(z = 1) within 5 standard errors of the CDF at the ends.

    P(z = 0) = P(s̄ <= 0) = sigmoid(β·log(−γ/ζ) − log α),
    P(z = 1) = P(s̄ >= 1) = sigmoid(log α − β·log((1 − γ)/(ζ − 1))).
    """
    tf.keras.utils.set_random_seed(3)
    rows = 20000
    z = _gate(seed=11)(tf.zeros((rows, 1)), training=True).numpy()  # (rows, 2, 3)
    beta, gamma, zeta = ref.BETA, ref.GAMMA, ref.ZETA
    p_zero = ref.sigmoid(beta * np.log(-gamma / zeta) - LOG_ALPHA)
    p_one = ref.sigmoid(LOG_ALPHA - beta * np.log((1 - gamma) / (zeta - 1)))
    for observed, p in (((z == 0).mean(axis=0), p_zero), ((z == 1).mean(axis=0), p_one)):
        tolerance = 5 * np.sqrt(p * (1 - p) / rows)
        assert np.all(np.abs(observed - p) < tolerance), (observed, p)
    assert np.all((z >= 0) & (z <= 1))
    inside = (z > 0) & (z < 1)
    np.testing.assert_allclose(inside.mean(axis=0), 1 - p_zero - p_one, atol=0.02)
    # rows draw their own gates
    assert len(np.unique(z[:, 1, 1])) > rows // 2


def test_training_samples_follow_the_seed():
    def draw():
        tf.keras.utils.set_random_seed(5)
        return _gate(seed=1)(tf.zeros((8, 1)), training=True).numpy()

    np.testing.assert_array_equal(draw(), draw())


def test_l0_penalty_equals_its_formula():
    gate = _gate(l0_coefficient=0.25)
    gate(tf.ones((2, 1)))
    expected = ref.expected_l0(LOG_ALPHA)
    assert float(gate.l0_norm()) == pytest.approx(expected, rel=1e-6)
    assert len(gate.losses) == 1
    assert float(gate.losses[0]) == pytest.approx(0.25 * expected, rel=1e-6)
    # the penalty's gradient lowers every log α
    with tf.GradientTape() as tape:
        gate(tf.ones((2, 1)), training=True)
        penalty = tf.add_n(gate.losses)
    assert np.all(tape.gradient(penalty, gate.log_alpha).numpy() > 0)


def test_zero_coefficient_adds_no_loss():
    gate = _gate(l0_coefficient=0.0)
    gate(tf.ones((2, 1)))
    assert gate.losses == []


def test_sampled_gates_pass_gradients_to_log_alpha():
    gate = _gate()
    with tf.GradientTape() as tape:
        z = gate(tf.ones((64, 1)), training=True)
        total = tf.reduce_sum(z)
    grad = tape.gradient(total, gate.log_alpha).numpy()
    assert np.all(np.isfinite(grad)) and np.all(grad >= 0) and np.any(grad > 0)


@pytest.mark.parametrize(
    "kwargs, received",
    [
        ({"gate_shape": ()}, "gate_shape=()"),
        ({"gate_shape": (2,), "l0_coefficient": -1.0}, "l0_coefficient=-1.0"),
        ({"gate_shape": (2,), "beta": 0}, "beta=0"),
        ({"gate_shape": (2,), "gamma": 0.1}, "gamma=0.1"),
        ({"gate_shape": (2,), "zeta": 1.0}, "zeta=1.0"),
        ({"gate_shape": (2,), "seed": 1.5}, "seed=1.5"),
    ],
)
def test_hard_concrete_gate_invalid_arguments(kwargs, received):
    with pytest.raises(ValueError, match=re.escape(received)):
        HardConcreteGate(**kwargs)
