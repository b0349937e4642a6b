"""Tests of HoMELayer, NormalizedExperts and FeatureGate against NumPy formulas."""

import numpy as np
import pytest
import tensorflow as tf

from keras_mtl.layers import FeatureGate
from keras_mtl.layers import HoMELayer
from keras_mtl.layers import NormalizedExperts
from tests.layer_check import check_layer
from tests.routing_reference import sigmoid
from tests.routing_reference import softmax

X = np.random.RandomState(3).normal(size=(6, 4)).astype("float32")
CATEGORIES = ("inter", "inter", "watch")  # tasks 0, 1 interact; task 2 is watch time


def swish(v):
    return v * sigmoid(v)


def layer_norm(v, scale, offset):
    """Per row over the units."""
    mean, var = v.mean(-1, keepdims=True), v.var(-1, keepdims=True)
    return (v - mean) / np.sqrt(var + 1e-3) * scale + offset


def batch_norm_inference(v, norm, e):
    """Expert e's units of a BatchNormalization over (B, E·u), moving statistics."""
    units = v.shape[-1]
    part = slice(e * units, (e + 1) * units)
    gamma, beta = norm.gamma.numpy()[part], norm.beta.numpy()[part]
    mean, var = norm.moving_mean.numpy()[part], norm.moving_variance.numpy()[part]
    return (v - mean) / np.sqrt(var + 1e-3) * gamma + beta


def expert(v, layer, e):
    """Expert e of a NormalizedExperts on its input v (B, d), one layer at a time."""
    for i in range(len(layer.units)):
        h = v @ layer.kernels[i].numpy()[e] + layer.biases[i].numpy()[e]
        if layer.normalization == "layer":
            h = layer_norm(h, layer.scales[i].numpy()[e], layer.offsets[i].numpy()[e])
        else:
            h = batch_norm_inference(h, layer.norms[i], e)
        v = swish(h)
    return v


def mix(gate, gate_input, expert_outputs):
    kernel, bias = gate.logits.kernel.numpy(), gate.logits.bias.numpy()
    g = softmax(gate_input @ kernel + bias)  # (B, n)
    return sum(g[:, [i]] * out for i, out in enumerate(expert_outputs))


def randomize(layer, seed=0):
    rng = np.random.RandomState(seed)
    for v in layer.trainable_weights:
        v.assign(rng.normal(scale=0.5, size=v.shape).astype("float32"))


def reference(layer, x):
    """The HoME formulas, expert by expert and task by task (HoMELayer docstring)."""
    s, m, k = layer.num_shared_experts, layer.num_category_experts, layer.num_task_experts
    cats = list(dict.fromkeys(CATEGORIES))
    down, up = layer.feature_gate.down.numpy(), layer.feature_gate.up.numpy()
    meta = [
        expert(x * 2 * sigmoid(x @ down[e] @ up[e]), layer.meta_experts, e)
        for e in range(s + len(cats) * m)
    ]
    shared = meta[:s]
    z_s = mix(layer.meta_gates[0], x, shared)
    z_c = [
        mix(layer.meta_gates[1 + c], x, shared + meta[s + c * m : s + (c + 1) * m])
        for c in range(len(cats))
    ]
    te = layer.task_experts
    shared2 = [expert(z_s, te, e) for e in range(s)]
    cat2 = [[expert(z_c[c], te, s + c * m + j) for j in range(m)] for c in range(len(cats))]
    out = []
    for t, category in enumerate(CATEGORIES):
        c = cats.index(category)
        own = [expert(z_c[c], te, s + len(cats) * m + t * k + j) for j in range(k)]
        f = mix(layer.task_gates[t], np.concatenate([z_s, z_c[c]], -1), shared2 + cat2[c] + own)
        mean = sum(own) / k
        w, b = layer.self_gates.kernel.numpy()[t], layer.self_gates.bias.numpy()[t]
        out.append(f + mean * 2 * sigmoid(mean @ w + b))
    return np.stack(out, axis=1)  # (B, T, u)


@pytest.mark.parametrize("normalization", ["layer", "batch"])
def test_forward_pass_equals_the_formulas(normalization):
    layer = HoMELayer(
        CATEGORIES,
        num_shared_experts=1,
        num_category_experts=2,
        num_task_experts=2,
        expert_units=(5, 3),
        feature_gate_rank=2,
        normalization=normalization,
    )
    layer(X)
    randomize(layer)
    for v in layer.non_trainable_weights:  # moving statistics of "batch"
        v.assign(np.random.RandomState(1).uniform(0.5, 1.5, size=v.shape).astype("float32"))
    np.testing.assert_allclose(
        layer(X, training=False).numpy(), reference(layer, X), rtol=1e-4, atol=1e-5
    )


def test_gates_route_through_the_hierarchy_only():
    layer = HoMELayer(CATEGORIES, num_category_experts=2, expert_units=(3,))
    meta, tasks = layer.gate_weights(X, task_names=("ctr", "like", "time"))
    assert meta.columns == ["shared 0", "inter 0", "inter 1", "watch 0", "watch 1"]
    assert tasks.columns[-3:] == ["ctr 0", "like 0", "time 0"]
    w = tasks.weights.numpy()  # (B, T, E2)
    routed = ~np.isnan(w)
    # ctr: shared 0, inter 0-1, ctr 0; time: shared 0, watch 0-1, time 0
    np.testing.assert_array_equal(routed[0, 0], [1, 1, 1, 0, 0, 1, 0, 0])
    np.testing.assert_array_equal(routed[0, 2], [1, 0, 0, 1, 1, 0, 0, 1])
    np.testing.assert_allclose(np.nansum(w, axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.nansum(meta.weights.numpy(), axis=-1), 1.0, rtol=1e-6)
    (_, _, level1), (_, cols2, level2) = layer.expert_outputs(X)
    assert level1.shape == (6, 5, 3) and level2.shape == (6, len(cols2), 3)


@pytest.mark.parametrize(
    "kwargs, trainable, non_trainable",
    [
        (dict(normalization="batch", feature_gate_rank=2), 22, 4),
        (dict(normalization="layer", feature_gate_rank=0, self_gate=False), 18, 0),
    ],
)
def test_home_layer_from_every_side(kwargs, trainable, non_trainable):
    check_layer(
        lambda: HoMELayer(("a", "b"), expert_units=(4,), **kwargs),
        X,
        num_trainable_weights=trainable,
        num_non_trainable_weights=non_trainable,
    )


def test_parts_from_every_side_and_by_hand():
    check_layer(lambda: FeatureGate(3, rank=2), X, num_trainable_weights=2)
    check_layer(
        lambda: NormalizedExperts(3, (4,), normalization="layer"), X, num_trainable_weights=4
    )
    check_layer(
        lambda: NormalizedExperts(3, (4, 2)),
        np.stack([X] * 3, axis=1),
        num_trainable_weights=8,
        num_non_trainable_weights=4,
    )
    gate = FeatureGate(2, rank=3)
    gate(X)
    randomize(gate, seed=1)
    down, up = gate.down.numpy(), gate.up.numpy()
    expected = np.stack([X * 2 * sigmoid(X @ down[i] @ up[i]) for i in range(2)], axis=1)
    np.testing.assert_allclose(gate(X).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_batch_normalised_experts_use_batch_statistics_in_training():
    layer = NormalizedExperts(2, (3,))
    out = layer(X, training=True).numpy()  # (B, E, u): each unit normalised over the batch
    pre = np.stack([X @ layer.kernels[0].numpy()[e] for e in range(2)], axis=1)
    z = (pre - pre.mean(0)) / np.sqrt(pre.var(0) + 1e-3)
    np.testing.assert_allclose(out, swish(z), rtol=1e-4, atol=1e-5)


def test_refuses_bad_arguments():
    for kwargs, message in [
        (dict(task_categories="inter"), "one category name"),
        (dict(task_categories=("a",), normalization="group"), "normalization"),
        (dict(task_categories=("a",), feature_gate_rank=-1), "feature_gate_rank=-1"),
    ]:
        with pytest.raises(ValueError, match=message):
            HoMELayer(**kwargs)
    with pytest.raises(ValueError, match="batch, features"):
        HoMELayer(("a",))(tf.ones((2, 3, 4)))
