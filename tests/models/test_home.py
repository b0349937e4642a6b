"""HoME builder: categories, forward values through the towers; DSelect-k gates in builders."""

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from tests.layers.test_home_layer import randomize
from tests.models.test_forward_values import FEATURES
from tests.models.test_forward_values import X
from tests.models.test_forward_values import head
from tests.models.test_forward_values import mlp


def test_towers_read_the_hierarchy_outputs():
    model = keras_mtl.HoME(
        FEATURES,
        task_names=("a", "b", "c"),
        task_categories={"inter": ["a", "b"], "watch": "c"},
        expert_units=(4,),
        tower_units=(3,),
        feature_gate_rank=2,
    )
    layer = model.get_layer("home")
    assert layer.task_categories == ("inter", "inter", "watch")
    randomize(layer)
    h = layer(X, training=False).numpy()  # (B, T, u), checked in tests/layers
    out = model({"x": tf.constant(X)}, training=False)
    for t, task in enumerate(("a", "b", "c")):
        expected = head(model, task, mlp(model, f"tower_{task}", h[:, t]))
        np.testing.assert_allclose(out[task].numpy(), expected, rtol=1e-5, atol=1e-6)
    assert model.shared_layer == "home"


def test_categories_default_and_errors():
    model = keras_mtl.HoME(FEATURES, expert_units=(4,))
    assert model.get_layer("home").categories == ("ctr", "cvr")
    assert keras_mtl.HoME(FEATURES, task_categories=("x", "x"), expert_units=(4,)).get_layer(
        "home"
    ).categories == ("x",)
    for categories, message in [
        ({"i": ["ctr"]}, r"leaves tasks \['cvr'\]"),
        ({"i": ["ctr", "cvr"], "j": ["cvr"]}, "exactly one category"),
        (("i",), "one category per task"),
    ]:
        with pytest.raises(ValueError, match=message):
            keras_mtl.HoME(FEATURES, task_categories=categories)


@pytest.mark.parametrize("builder", [keras_mtl.MMoE, keras_mtl.CGC, keras_mtl.PLE])
def test_dselect_k_gates_in_builders(builder):
    model = builder(
        FEATURES,
        task_names=("a", "b"),
        expert_units=(4,),
        gate="dselect_k",
        k=1,
        **(
            {"num_experts": 4}
            if builder is keras_mtl.MMoE
            else {"num_specific_experts": 2, "num_shared_experts": 2}
        ),
    )
    gates = [l for l in model.layers if isinstance(l, keras_mtl.layers.DSelectKGate)]
    nested = [g for l in model.layers for g in getattr(l, "task_gates", [])]
    assert all(isinstance(g, keras_mtl.layers.DSelectKGate) for g in gates + nested)
    assert len(gates + nested) >= 2 and all(g.k == 1 for g in gates + nested)
    with pytest.raises(ValueError, match="gate='top_k'"):
        builder(FEATURES, gate="top_k")
