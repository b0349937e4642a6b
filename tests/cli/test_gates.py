"""Mean gate weights read from trained layers equal a numpy recomputation."""

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from keras_mtl.cli import gates
from keras_mtl.cli.command_error import CommandError

ROWS = 20
FEATURES = [
    keras_mtl.SparseFeat("item", vocabulary_size=6, embedding_dim=3),
    keras_mtl.DenseFeat("price"),
]


def _arrays():
    rng = np.random.RandomState(5)
    return {
        "item": rng.randint(0, 8, size=ROWS),  # 6, 7: the OOV row
        "price": rng.normal(size=ROWS).astype("float32"),
    }


def _softmax(logits):
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _output_of(model, layer_name, arrays):
    probe = tf.keras.Model(model.input, model.get_layer(layer_name).output)
    return probe({k: tf.constant(v) for k, v in arrays.items()}).numpy()


def _gate_mean(gate, h):
    """mean_rows softmax(h · W + b) of a GateLayer without hidden units."""
    kernel, bias = gate.get_weights()
    return _softmax(h.astype("float64") @ kernel + bias).mean(axis=0)


def test_mmoe_gate_means_match_numpy():
    model = keras_mtl.MMoE(
        FEATURES, task_names=("ctr", "cvr"), num_experts=4, expert_units=(5,), tower_units=()
    )
    arrays = _arrays()
    (group,) = gates.mean_gate_weights(model, arrays, batch_size=7)  # 3 uneven batches
    assert (group["rows"], group["columns"]) == (["ctr", "cvr"], [f"expert {i}" for i in range(4)])
    x = _output_of(model, "bottom_input", arrays)  # (rows, d): what every gate reads
    expected = [_gate_mean(model.get_layer(f"gate_{t}"), x) for t in ("ctr", "cvr")]
    np.testing.assert_allclose(group["mean"], expected, atol=1e-6)
    np.testing.assert_allclose(group["mean"].sum(axis=1), [1.0, 1.0], atol=1e-6)


def test_ple_gates_route_to_own_and_shared_experts_only():
    model = keras_mtl.PLE(
        FEATURES,
        task_names=("ctr", "cvr"),
        num_levels=2,
        num_specific_experts=[1, 2],
        num_shared_experts=1,
        expert_units=(4,),
        tower_units=(),
    )
    arrays = _arrays()
    level1, level2 = gates.mean_gate_weights(model, arrays, batch_size=64)
    columns = ["ctr 0", "cvr 0", "cvr 1", "shared 0"]
    assert (level1["rows"], level1["columns"]) == (["ctr", "cvr", "shared gate"], columns)
    assert (level2["rows"], level2["columns"]) == (["ctr", "cvr"], columns)
    x = _output_of(model, "bottom_input", arrays)
    h = _output_of(model, "extraction_1", arrays)  # (rows, T + 1, units)
    first, second = model.get_layer("extraction_1"), model.get_layer("extraction_2")
    expected1 = np.full((3, 4), np.nan)  # NaN: experts a gate cannot route to
    expected1[0, [0, 3]] = _gate_mean(first.task_gates[0], x)
    expected1[1, [1, 2, 3]] = _gate_mean(first.task_gates[1], x)
    expected1[2, :] = _gate_mean(first.shared_gate_layer, x)
    expected2 = np.full((2, 4), np.nan)
    expected2[0, [0, 3]] = _gate_mean(second.task_gates[0], h[:, 0])
    expected2[1, [1, 2, 3]] = _gate_mean(second.task_gates[1], h[:, 1])
    np.testing.assert_allclose(level1["mean"], expected1, atol=1e-6)  # NaN where equal NaN
    np.testing.assert_allclose(level2["mean"], expected2, atol=1e-6)
    np.testing.assert_allclose(np.nansum(level1["mean"], axis=1), [1.0] * 3, atol=1e-6)


def test_omoe_and_metaheac_rows_sum_to_one():
    omoe = keras_mtl.OMoE(FEATURES, task_names=("ctr", "cvr"), num_experts=3, expert_units=(4,))
    (group,) = gates.mean_gate_weights(omoe, _arrays())
    assert group["rows"] == ["gate (all tasks)"]
    np.testing.assert_allclose(
        group["mean"][0],
        _gate_mean(omoe.get_layer("gate"), _output_of(omoe, "bottom_input", _arrays())),
        atol=1e-6,
    )
    metaheac = keras_mtl.MetaHeac(
        FEATURES, task_names=("ctr", "cvr"), num_experts=3, expert_units=(4,), num_critics=2
    )
    experts, critics = gates.mean_gate_weights(metaheac, _arrays())
    assert experts["mean"].shape == (2, 3) and critics["mean"].shape == (2, 2)
    np.testing.assert_allclose(experts["mean"].sum(axis=1), [1.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(critics["mean"].sum(axis=1), [1.0, 1.0], atol=1e-6)


def test_model_without_gates_names_its_builder():
    model = keras_mtl.SharedBottom(FEATURES, bottom_units=(4,))
    with pytest.raises(
        CommandError,
        match=r"model 'shared_bottom' \(builder SharedBottom\) "
        "has no softmax gates",
    ):
        gates.mean_gate_weights(model, _arrays())


def test_metaheac_gate_means_match_numpy():
    model = keras_mtl.MetaHeac(
        FEATURES, task_names=("ctr", "cvr"), num_experts=3, expert_units=(4,), num_critics=2
    )
    arrays = _arrays()
    experts, critics = gates.mean_gate_weights(model, arrays, batch_size=8)
    layer = model.get_layer("hybrid_experts_critics")
    assert (experts["title"], experts["rows"], experts["columns"]) == (
        "hybrid_experts_critics expert gates",
        ["ctr", "cvr"],
        ["expert 0", "expert 1", "expert 2"],
    )
    assert critics["columns"] == ["critic 0", "critic 1"]
    probe = tf.keras.Model(model.input, layer.input[0])
    x = probe({k: tf.constant(v) for k, v in arrays.items()}).numpy().astype("float64")
    embeddings = layer.task_embeddings.numpy()
    for group, (kernel, bias) in ((experts, layer.expert_gate), (critics, layer.critic_gate)):
        expected = [
            _softmax(
                np.concatenate([x, np.repeat(embeddings[t : t + 1], ROWS, axis=0)], 1)
                @ kernel.numpy()
                + bias.numpy()
            ).mean(axis=0)
            for t in range(2)
        ]
        np.testing.assert_allclose(group["mean"], expected, atol=1e-6)


class _FixedGate(tf.keras.layers.Layer):
    """A gated layer the command has never heard of: fixed weights per task."""

    def call(self, inputs):
        return inputs

    def gate_weights(self, inputs, task_names=None, training=False):
        del training
        weights = tf.constant([[0.5, 0.25, 0.25]])  # (1 task, 3 experts)
        batch = tf.shape(inputs)[0]
        return [
            keras_mtl.layers.GateGroup(
                "fixed", list(task_names), ["a", "b", "c"], tf.tile(weights[None], (batch, 1, 1))
            )
        ]  # (B, 1, 3)


def test_any_layer_with_gate_weights_is_read():
    x = tf.keras.Input((1,), name="price")
    out = tf.keras.layers.Dense(1, name="ctr")(_FixedGate(name="fixed_gate")(x))
    model = tf.keras.Model({"price": x}, {"ctr": out}, name="custom")
    (group,) = gates.mean_gate_weights(model, {"price": np.ones((5, 1), "float32")}, batch_size=2)
    assert (group["title"], group["rows"], group["columns"]) == ("fixed", ["ctr"], ["a", "b", "c"])
    np.testing.assert_allclose(group["mean"], [[0.5, 0.25, 0.25]], atol=1e-7)
    # the command knows no gated layer class
    assert not {"GateLayer", "PLELayer", "MetaHeacLayer"} & set(vars(gates))


def test_gated_layer_names_are_read_from_the_layer_classes(monkeypatch):
    assert gates.gated_layer_names() == [
        "AdaTTLayer",
        "DSelectKGate",
        "GateLayer",
        "HoMELayer",
        "MetaHeacLayer",
        "PLELayer",
        "STEMLayer",
    ]
    monkeypatch.setattr(keras_mtl.layers, "FixedGate", _FixedGate, raising=False)
    assert "FixedGate" in gates.gated_layer_names()  # a new gated layer is listed at once
    monkeypatch.undo()
    model = keras_mtl.SharedBottom(FEATURES, bottom_units=(4,))
    with pytest.raises(CommandError) as caught:
        gates.gated_layers(model)
    assert str(caught.value).endswith(f"(in keras_mtl: {', '.join(gates.gated_layer_names())}).")
