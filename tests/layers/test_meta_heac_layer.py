"""Tests of keras_mtl.layers.MetaHeacLayer."""

import re

import numpy as np
import pytest

from keras_mtl.layers import MetaHeacLayer
from tests.layer_check import check_layer

BATCH, DIM, EXPERTS, UNITS, TASKS, CRITICS, EMBED = 4, 3, 3, 2, 2, 3, 2


def _inputs():
    rng = np.random.default_rng(0)
    return [
        rng.normal(size=(BATCH, DIM)).astype("float32"),
        rng.normal(size=(BATCH, EXPERTS, UNITS)).astype("float32"),
    ]


def _layer(**kwargs):
    return MetaHeacLayer(TASKS, num_critics=CRITICS, task_embedding_dim=EMBED, **kwargs)


@pytest.mark.parametrize(
    "kwargs, num_trainable",
    [
        ({"critic_units": ()}, 1 + 2 + 2 + 2),  # embeddings, two gates, one critic layer
        (
            {"critic_units": (4, 3), "kernel_regularizer": "l2", "return_weights": True},
            1 + 2 + 2 + 6,
        ),
    ],
)
def test_meta_heac_layer_from_every_side(kwargs, num_trainable):
    out = check_layer(lambda: _layer(**kwargs), _inputs(), num_trainable_weights=num_trainable)
    if kwargs.get("return_weights"):
        scores, expert_weights, critic_weights = out
        assert expert_weights.shape == (BATCH, TASKS, EXPERTS)
        assert critic_weights.shape == (BATCH, TASKS, CRITICS)
        np.testing.assert_allclose(expert_weights.sum(-1), 1.0, rtol=1e-6)
        np.testing.assert_allclose(critic_weights.sum(-1), 1.0, rtol=1e-6)
    else:
        scores = out
    assert scores.shape == (BATCH, TASKS, 1)


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def test_scores_by_hand_with_loops():
    x, experts = _inputs()
    layer = _layer(critic_units=(4,), return_weights=True)
    layer([x, experts])
    rng = np.random.default_rng(1)
    values = [rng.normal(size=tuple(w.shape)).astype("float32") for w in layer.weights]
    layer.set_weights(values)
    by_name = {w.name.split("/")[-1].split(":")[0]: v for w, v in zip(layer.weights, values)}
    embeddings = by_name["task_embeddings"]
    scores, expert_weights, critic_weights = (o.numpy() for o in layer([x, experts]))
    for b in range(BATCH):
        for t in range(TASKS):
            gate_input = np.concatenate([x[b], embeddings[t]])
            a = _softmax(gate_input @ by_name["expert_gate_kernel"] + by_name["expert_gate_bias"])
            h = sum(a[e] * experts[b, e] for e in range(EXPERTS))
            c = _softmax(gate_input @ by_name["critic_gate_kernel"] + by_name["critic_gate_bias"])
            critic_scores = []
            for m in range(CRITICS):
                hidden = np.maximum(
                    h @ by_name["critic_kernel_0"][m] + by_name["critic_bias_0"][m], 0
                )
                critic_scores.append(
                    hidden @ by_name["critic_kernel_1"][m] + by_name["critic_bias_1"][m]
                )
            expected = sum(c[m] * critic_scores[m] for m in range(CRITICS))
            np.testing.assert_allclose(expert_weights[b, t], a, rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(critic_weights[b, t], c, rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(scores[b, t], expected, rtol=1e-4, atol=1e-5)


def test_tasks_differ_only_through_their_embeddings():
    x, experts = _inputs()
    layer = _layer(critic_units=(4,))
    layer([x, experts])
    layer.task_embeddings.assign(np.zeros((TASKS, EMBED), "float32"))
    scores = layer([x, experts]).numpy()
    np.testing.assert_allclose(scores[:, 0], scores[:, 1], rtol=1e-6)


def test_meta_heac_layer_checks_inputs_and_arguments():
    with pytest.raises(ValueError, match=re.escape("[x, experts]")):
        _layer().build([(None, DIM)])
    with pytest.raises(ValueError, match=re.escape("num_critics=0")):
        MetaHeacLayer(TASKS, num_critics=0)


def test_gate_weights_equal_the_softmax_by_hand_and_return_weights():
    x, experts = _inputs()
    layer = _layer(critic_units=(4,))
    layer([x, experts])
    rng = np.random.default_rng(2)
    layer.set_weights([rng.normal(size=tuple(w.shape)).astype("float32") for w in layer.weights])
    expert_group, critic_group = layer.gate_weights([x, experts], task_names=("ctr", "cvr"))
    assert (expert_group.title, expert_group.rows, expert_group.columns) == (
        f"{layer.name} expert gates",
        ["ctr", "cvr"],
        ["expert 0", "expert 1", "expert 2"],
    )
    assert (critic_group.title, critic_group.rows, critic_group.columns) == (
        f"{layer.name} critic gates",
        ["ctr", "cvr"],
        ["critic 0", "critic 1", "critic 2"],
    )
    for group, kernel, bias in (
        (expert_group, layer.expert_gate[0], layer.expert_gate[1]),
        (critic_group, layer.critic_gate[0], layer.critic_gate[1]),
    ):
        weights = group.weights.numpy()  # (B, T, width)
        for t in range(TASKS):
            gate_input = np.concatenate(
                [x, np.repeat(layer.task_embeddings.numpy()[t : t + 1], BATCH, axis=0)], axis=1
            )
            logits = gate_input @ kernel.numpy() + bias.numpy()
            expected = np.stack([_softmax(row) for row in logits])
            np.testing.assert_allclose(weights[:, t], expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(weights.sum(axis=-1), np.ones((BATCH, TASKS)), rtol=1e-6)
    # The same numbers as the layer returns with return_weights=True, to the bit.
    copy = _layer(critic_units=(4,), return_weights=True)
    copy([x, experts])
    copy.set_weights(layer.get_weights())
    _, returned_experts, returned_critics = copy([x, experts])
    np.testing.assert_array_equal(expert_group.weights.numpy(), returned_experts.numpy())
    np.testing.assert_array_equal(critic_group.weights.numpy(), returned_critics.numpy())
    assert layer.gate_weights([x, experts])[0].rows == ["task 0", "task 1"]
    with pytest.raises(ValueError, match=re.escape("task_names=('ctr',)")):
        layer.gate_weights([x, experts], task_names=("ctr",))
