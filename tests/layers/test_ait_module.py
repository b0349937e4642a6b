"""Tests of keras_mtl.layers.AITModule."""

import re

import numpy as np
import pytest

from keras_mtl.layers import AITModule
from tests.layer_check import check_layer

BATCH, PREVIOUS_DIM, OWN_DIM, UNITS = 4, 3, 5, 2


def _inputs():
    rng = np.random.default_rng(0)
    return [
        rng.normal(size=(BATCH, PREVIOUS_DIM)).astype("float32"),
        rng.normal(size=(BATCH, OWN_DIM)).astype("float32"),
    ]


@pytest.mark.parametrize(
    "kwargs, num_trainable",
    [
        ({}, 2 + 6),  # transfer Dense, h1, h2, h3
        ({"transfer_units": (4,), "kernel_regularizer": "l2", "return_attention": True}, 4 + 6),
    ],
)
def test_ait_module_from_every_side(kwargs, num_trainable):
    out = check_layer(
        lambda: AITModule(UNITS, **kwargs), _inputs(), num_trainable_weights=num_trainable
    )
    if kwargs.get("return_attention"):
        fused, weights = out
        assert weights.shape == (BATCH, 2)
    else:
        fused = out
    assert fused.shape == (BATCH, UNITS)


def test_attention_weights_sum_to_one_per_row():
    previous, own = _inputs()
    layer = AITModule(UNITS, transfer_units=(4,), return_attention=True)
    _, weights = layer([previous * 10.0, own])
    weights = weights.numpy()
    assert (weights >= 0).all()
    np.testing.assert_allclose(weights.sum(axis=1), np.ones(BATCH), rtol=1e-6)


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_fused_representation_by_hand():
    previous, own = _inputs()
    rng = np.random.default_rng(1)
    w_g, b_g = rng.normal(size=(PREVIOUS_DIM, OWN_DIM)), rng.normal(size=(OWN_DIM,))
    projections = [(rng.normal(size=(OWN_DIM, UNITS)), rng.normal(size=(UNITS,))) for _ in range(3)]
    layer = AITModule(UNITS, activation="relu", return_attention=True)
    layer([previous, own])
    layer.set_weights([w_g, b_g] + [w for pair in projections for w in pair])

    fused, weights = layer([previous, own])
    transferred = np.maximum(previous @ w_g + b_g, 0.0)  # p = g(z_prev)
    expected_z = np.zeros((BATCH, UNITS))
    for row in range(BATCH):
        candidates = [transferred[row], own[row]]
        h1, h2, h3 = ([u @ w + b for u in candidates] for w, b in projections)
        scores = np.array([h2[i] @ h3[i] for i in range(2)]) / np.sqrt(UNITS)
        w = _softmax(scores)
        np.testing.assert_allclose(weights.numpy()[row], w, rtol=1e-5, atol=1e-6)
        expected_z[row] = w[0] * h1[0] + w[1] * h1[1]
    np.testing.assert_allclose(fused.numpy(), expected_z, rtol=1e-4, atol=1e-5)


def test_ait_module_needs_two_inputs():
    with pytest.raises(ValueError, match=re.escape("[previous, own]")):
        AITModule(UNITS).build([(None, OWN_DIM)])


def test_ait_module_rejects_bad_units():
    with pytest.raises(ValueError, match=re.escape("units=0")):
        AITModule(0)
