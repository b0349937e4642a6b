"""Tests of keras_mtl.layers.EPNetLayer."""

import numpy as np
import pytest
import tensorflow as tf

from keras_mtl.layers import EPNetLayer
from tests import fusion_reference as ref
from tests.layer_check import check_layer

RNG = np.random.default_rng(1)
DOMAIN = RNG.normal(size=(4, 2)).astype("float32")
E = RNG.normal(size=(4, 5)).astype("float32")


def test_epnet_from_every_side_equals_the_formula():
    layer = EPNetLayer(hidden_units=3, bias_initializer="random_normal")
    out = layer([DOMAIN, E]).numpy()
    np.testing.assert_allclose(out, ref.epnet(layer, DOMAIN, E), rtol=1e-5, atol=1e-6)
    check_layer(lambda: EPNetLayer(hidden_units=3), [DOMAIN, E], num_trainable_weights=4)


def test_no_gradient_into_the_embeddings_through_the_gate_input():
    layer = EPNetLayer()
    embeddings = tf.Variable(E)
    weights = RNG.normal(size=E.shape).astype("float32")
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(weights * layer([DOMAIN, embeddings]))
    gate = ref.gate_nu(layer.gate, np.concatenate([DOMAIN, E], axis=-1))[:, 0]
    # d/dE Σ c ⊙ g ⊙ E with g held constant (its input holds stop_gradient(E)): c ⊙ g
    np.testing.assert_allclose(
        tape.gradient(loss, embeddings).numpy(), weights * gate, rtol=1e-5, atol=1e-6
    )


def test_epnet_rejects_bad_inputs():
    with pytest.raises(ValueError, match="domain, embeddings"):
        EPNetLayer()(np.ones((4, 5, 2), "float32"))
