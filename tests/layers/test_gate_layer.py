"""Tests of keras_mtl.layers.GateLayer."""

import re

import numpy as np
import pytest

from keras_mtl.layers import GateLayer
from tests.layer_check import check_layer

BATCH, GATE_DIM, NUM_EXPERTS, UNITS = 4, 3, 3, 2


def _inputs():
    rng = np.random.default_rng(0)
    gate_input = rng.normal(size=(BATCH, GATE_DIM)).astype("float32")
    experts = rng.normal(size=(BATCH, NUM_EXPERTS, UNITS)).astype("float32")
    return [gate_input, experts]


def _softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _mix(weights, experts):
    """Σ_e weights[:, e] · experts[:, e, :] with an explicit loop."""
    out = np.zeros((experts.shape[0], experts.shape[2]))
    for e in range(experts.shape[1]):
        out += weights[:, e : e + 1] * experts[:, e, :]
    return out  # (batch, units)


@pytest.mark.parametrize(
    "kwargs, num_trainable",
    [
        ({}, 2),
        ({"hidden_units": (4,), "kernel_regularizer": "l2"}, 4),
        ({"hidden_units": (4, 3), "return_weights": True}, 6),
    ],
)
def test_gate_layer_from_every_side(kwargs, num_trainable):
    out = check_layer(
        lambda: GateLayer(NUM_EXPERTS, **kwargs),
        _inputs(),
        num_trainable_weights=num_trainable,
    )
    if kwargs.get("return_weights"):
        mixture, weights = out
        assert mixture.shape == (BATCH, UNITS)
        assert weights.shape == (BATCH, NUM_EXPERTS)
    else:
        assert out.shape == (BATCH, UNITS)


def test_zero_kernel_gate_averages_the_experts():
    # Zero logits → uniform weights 1/E → the mixture is the experts' mean.
    gate_input, experts = _inputs()
    check_layer(
        lambda: GateLayer(NUM_EXPERTS, kernel_initializer="zeros", return_weights=True),
        [gate_input, experts],
        expected_output=(
            experts.mean(axis=1),
            np.full((BATCH, NUM_EXPERTS), 1.0 / NUM_EXPERTS),
        ),
        num_trainable_weights=2,
    )


def test_gate_mixture_by_hand():
    gate_input, experts = _inputs()
    rng = np.random.default_rng(1)
    kernel = rng.normal(size=(GATE_DIM, NUM_EXPERTS))
    bias = rng.normal(size=(NUM_EXPERTS,))
    layer = GateLayer(NUM_EXPERTS, return_weights=True)
    layer([gate_input, experts])
    layer.set_weights([kernel, bias])

    mixture, weights = layer([gate_input, experts])
    expected_weights = _softmax(gate_input @ kernel + bias)
    np.testing.assert_allclose(weights.numpy(), expected_weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        mixture.numpy(), _mix(expected_weights, experts), rtol=1e-5, atol=1e-5
    )
    # Without return_weights the same layer config returns only the mixture.
    plain = GateLayer(NUM_EXPERTS)
    plain([gate_input, experts])
    plain.set_weights([kernel, bias])
    np.testing.assert_allclose(
        plain([gate_input, experts]).numpy(), mixture.numpy(), rtol=1e-6, atol=1e-6
    )


def test_gate_weights_are_a_distribution_per_row():
    gate_input, experts = _inputs()
    layer = GateLayer(NUM_EXPERTS, hidden_units=(4,), return_weights=True)
    _, weights = layer([gate_input * 10.0, experts])
    weights = weights.numpy()
    assert weights.shape == (BATCH, NUM_EXPERTS)
    assert (weights >= 0).all()
    np.testing.assert_allclose(weights.sum(axis=1), np.ones(BATCH), rtol=1e-6)


def test_gate_hidden_units_by_hand():
    gate_input, experts = _inputs()
    rng = np.random.default_rng(2)
    w_h, b_h = rng.normal(size=(GATE_DIM, 4)), rng.normal(size=(4,))
    w_g, b_g = rng.normal(size=(4, NUM_EXPERTS)), rng.normal(size=(NUM_EXPERTS,))
    layer = GateLayer(NUM_EXPERTS, hidden_units=(4,), activation="relu", return_weights=True)
    layer([gate_input, experts])
    layer.set_weights([w_h, b_h, w_g, b_g])  # hidden MLP first, then the logits

    mixture, weights = layer([gate_input, experts])
    hidden = np.maximum(gate_input @ w_h + b_h, 0.0)
    expected_weights = _softmax(hidden @ w_g + b_g)
    np.testing.assert_allclose(weights.numpy(), expected_weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        mixture.numpy(), _mix(expected_weights, experts), rtol=1e-5, atol=1e-5
    )


def test_gate_wrong_expert_count_raises():
    gate_input, experts = _inputs()
    layer = GateLayer(NUM_EXPERTS + 1)
    shape_error = r"GateLayer expected experts of shape \(batch, 4, units\)\. Received: \(4, 3, 2\)"
    with pytest.raises(ValueError, match=shape_error):
        layer([gate_input, experts])


def test_gate_needs_two_inputs():
    gate_input, _ = _inputs()
    with pytest.raises(ValueError, match=r"GateLayer expected inputs \[gate_input, experts\]"):
        GateLayer(NUM_EXPERTS).build([gate_input.shape])


@pytest.mark.parametrize(
    "kwargs, received",
    [
        ({"num_experts": 0}, "num_experts=0"),
        ({"num_experts": 2, "hidden_units": (0,)}, "hidden_units=(0,)"),
    ],
)
def test_gate_invalid_arguments(kwargs, received):
    with pytest.raises(ValueError, match=re.escape(received)):
        GateLayer(**kwargs)


def _gate_with(kernel, bias, **kwargs):
    layer = GateLayer(NUM_EXPERTS, **kwargs)
    layer(_inputs())
    layer.set_weights([kernel, bias])
    return layer


def test_gate_weights_equal_the_softmax_by_hand_and_return_weights():
    gate_input, experts = _inputs()
    rng = np.random.default_rng(3)
    kernel = rng.normal(size=(GATE_DIM, NUM_EXPERTS)).astype("float32")
    bias = rng.normal(size=(NUM_EXPERTS,)).astype("float32")
    layer = _gate_with(kernel, bias, name="gate_cvr")
    (group,) = layer.gate_weights([gate_input, experts], task_names=("ctr", "cvr"))
    assert (group.title, group.rows) == ("gates", ["cvr"])
    assert group.columns == ["expert 0", "expert 1", "expert 2"]
    weights = group.weights.numpy()
    assert weights.shape == (BATCH, 1, NUM_EXPERTS)
    np.testing.assert_allclose(
        weights[:, 0], _softmax(gate_input @ kernel + bias), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(weights.sum(axis=-1), np.ones((BATCH, 1)), rtol=1e-6)
    # The same numbers as a copy built with return_weights=True, to the bit.
    _, returned = _gate_with(kernel, bias, return_weights=True)([gate_input, experts])
    np.testing.assert_array_equal(weights[:, 0], returned.numpy())


def test_gate_weights_row_labels():
    inputs = _inputs()
    omoe_gate = GateLayer(NUM_EXPERTS, name="gate")
    assert omoe_gate.gate_weights(inputs, task_names=("ctr",))[0].rows == ["gate (all tasks)"]
    other = GateLayer(NUM_EXPERTS, name="gate_ctr")  # built by gate_weights itself
    assert other.gate_weights(inputs)[0].rows == ["gate_ctr (all tasks)"]
    assert other.gate_weights(inputs, task_names=("cvr",))[0].rows == ["gate_ctr (all tasks)"]
