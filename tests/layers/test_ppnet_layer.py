"""Tests of keras_mtl.layers.PPNetLayer."""

import numpy as np
import pytest
import tensorflow as tf

from keras_mtl.layers import PPNetLayer
from tests import fusion_reference as ref
from tests.layer_check import check_layer

RNG = np.random.default_rng(2)
E = RNG.normal(size=(4, 5)).astype("float32")
PRIORS = RNG.normal(size=(4, 3)).astype("float32")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"units": (4, 3), "bias_initializer": "random_normal"},
        {"units": (3,), "gate_hidden_units": 2, "dropout": 0.1, "kernel_regularizer": "l2"},
    ],
)
def test_ppnet_from_every_side_equals_the_formula(kwargs):
    layer = PPNetLayer(2, **kwargs)
    out = layer([E, PRIORS]).numpy()
    np.testing.assert_allclose(out, ref.ppnet(layer, E, PRIORS), rtol=1e-5, atol=1e-5)
    depth = len(kwargs["units"])
    check_layer(
        lambda: PPNetLayer(2, **kwargs), [E, PRIORS], num_trainable_weights=2 * depth + 4 * depth
    )


def test_no_gradient_into_the_embeddings_through_the_gates():
    layer = PPNetLayer(2, units=(4, 3))
    layer([E, PRIORS])
    gate_input = np.concatenate([PRIORS, E], axis=-1)
    gates = [tf.constant(ref.gate_nu(g, gate_input)) for g in layer.gates]  # held constant
    embeddings = tf.Variable(E)
    with tf.GradientTape(persistent=True) as tape:
        loss = tf.reduce_sum(layer([embeddings, PRIORS]))
        # the towers of the formula with every gate a constant
        h = tf.reshape(embeddings @ layer.kernels[0] + layer.biases[0], (-1, 2, 4))
        h = tf.nn.relu(h) * gates[0]
        h = tf.einsum("btu,tuv->btv", h, layer.kernels[1]) + layer.biases[1]
        expected = tf.reduce_sum(tf.nn.relu(h) * gates[1])
    np.testing.assert_allclose(loss.numpy(), expected.numpy(), rtol=1e-5)
    np.testing.assert_allclose(
        tape.gradient(loss, embeddings).numpy(),
        tape.gradient(expected, embeddings).numpy(),
        rtol=1e-5,
        atol=1e-6,
    )


def test_ppnet_rejects_bad_arguments():
    with pytest.raises(ValueError, match="units"):
        PPNetLayer(2, units=())
    with pytest.raises(ValueError, match="embeddings, priors"):
        PPNetLayer(2, units=(3,))(np.ones((4, 5, 2), "float32"))
