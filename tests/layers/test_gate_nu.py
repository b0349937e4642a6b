"""Tests of keras_mtl.layers.GateNU."""

import numpy as np
import pytest

from keras_mtl.layers import GateNU
from tests import fusion_reference as ref
from tests.layer_check import check_layer

X = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")


@pytest.mark.parametrize(
    "kwargs, shape",
    [
        ({"units": 5}, (4, 5)),
        (
            {
                "units": 5,
                "hidden_units": 2,
                "num_gates": 3,
                "gamma": 1.5,
                "bias_initializer": "random_normal",
                "kernel_regularizer": "l2",
            },
            (4, 3, 5),
        ),
    ],
)
def test_gate_nu_from_every_side_equals_the_formula(kwargs, shape):
    layer = GateNU(**kwargs)
    out = layer(X).numpy()
    assert out.shape == shape
    expected = ref.gate_nu(layer, X)  # (B, G, units)
    np.testing.assert_allclose(out, expected.reshape(shape), rtol=1e-5, atol=1e-6)
    assert np.all((out > 0) & (out < layer.gamma))
    check_layer(lambda: GateNU(**kwargs), X, num_trainable_weights=4)


def test_gate_nu_at_zero_logits_is_gamma_half():
    layer = GateNU(3, gamma=2.0, kernel_initializer="zeros")
    np.testing.assert_allclose(layer(X).numpy(), np.ones((4, 3)))  # 2 · sigmoid(0)


def test_gates_start_different():
    layer = GateNU(4, num_gates=2)
    layer(X)
    kernels = layer.kernel_1.numpy()
    assert not np.allclose(kernels[0], kernels[1])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"units": 0}, "units=0"),
        ({"units": 2, "gamma": 0}, "gamma=0"),
        ({"units": 2, "num_gates": 0}, "num_gates=0"),
    ],
)
def test_gate_nu_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GateNU(**kwargs)
