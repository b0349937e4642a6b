"""Each builder's forward pass equals a NumPy re-implementation of its formula."""

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from tests.routing_reference import relu
from tests.routing_reference import sigmoid
from tests.routing_reference import softmax

X = np.random.RandomState(7).normal(size=(5, 3)).astype("float32")
FEATURES = [keras_mtl.DenseFeat("x", dimension=3)]  # x is the bottom input itself


def mlp(model, name, h):
    weights = model.get_layer(name).get_weights()
    for kernel, bias in zip(weights[::2], weights[1::2]):
        h = relu(h @ kernel + bias)
    return h


def head(model, task, h):
    kernel, bias = model.get_layer(task).get_weights()
    return sigmoid(h @ kernel + bias)


def experts(model, x, num_experts):
    k0, b0, k1, b1 = model.get_layer("experts").get_weights()
    first = relu(x @ k0 + b0).reshape(len(x), num_experts, -1)  # (B, E, u0)
    out = np.stack(
        [relu(first[:, e] @ k1[e] + b1[e]) for e in range(num_experts)], axis=1
    )  # one expert at a time: (B, E, u1)
    return out


def gate(model, name, x, expert_out):
    kernel, bias = model.get_layer(name).get_weights()
    g = softmax(x @ kernel + bias)  # (B, E)
    return (g[:, :, None] * expert_out).sum(axis=1)


def predict(model):
    return {k: np.asarray(v) for k, v in model({"x": tf.constant(X)}).items()}


def test_shared_bottom():
    model = keras_mtl.SharedBottom(
        FEATURES, task_names=("a", "b"), bottom_units=(6, 4), tower_units=(3,)
    )
    shared = mlp(model, "shared_bottom", X)
    out = predict(model)
    for task in ("a", "b"):
        expected = head(model, task, mlp(model, f"tower_{task}", shared))
        np.testing.assert_allclose(out[task], expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("builder", [keras_mtl.MMoE, keras_mtl.OMoE], ids=["MMoE", "OMoE"])
def test_mixture_of_experts(builder):
    model = builder(
        FEATURES, task_names=("a", "b"), num_experts=4, expert_units=(6, 5), tower_units=(3,)
    )
    expert_out = experts(model, X, 4)
    out = predict(model)
    for task in ("a", "b"):
        gate_name = f"gate_{task}" if builder is keras_mtl.MMoE else "gate"
        mixed = gate(model, gate_name, X, expert_out)
        expected = head(model, task, mlp(model, f"tower_{task}", mixed))
        np.testing.assert_allclose(out[task], expected, rtol=1e-5, atol=1e-6)


def test_mmoe_gates_differ_per_task_and_omoe_shares_one():
    mmoe = keras_mtl.MMoE(FEATURES, task_names=("a", "b"), num_experts=2, expert_units=(4,))
    omoe = keras_mtl.OMoE(FEATURES, task_names=("a", "b"), num_experts=2, expert_units=(4,))
    assert {l.name for l in mmoe.layers if "gate" in l.name} == {"gate_a", "gate_b"}
    assert {l.name for l in omoe.layers if "gate" in l.name} == {"gate"}


def test_esmm_products():
    model = keras_mtl.ESMM(
        FEATURES, task_names=("click", "buy"), ctcvr_name="click_buy", tower_units=(4, 3)
    )
    out = predict(model)
    ctr = head(model, "click", mlp(model, "tower_click", X))
    cvr = head(model, "buy", mlp(model, "tower_buy", X))
    np.testing.assert_allclose(out["click"], ctr, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["buy"], cvr, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["click_buy"], ctr * cvr, rtol=1e-5, atol=1e-6)
    assert model.task_names == ("click", "click_buy")
