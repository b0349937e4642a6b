"""AdaTT's forward pass against its formula, with and without shared experts."""

import numpy as np
import pytest

import keras_mtl
from tests import fusion_reference as ref
from tests.layers.test_adatt_layer import _residual
from tests.routing_reference import relu
from tests.routing_reference import sigmoid

X = np.random.default_rng(7).normal(size=(5, 3)).astype("float32")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"num_task_experts": 1, "num_shared_experts": 0},  # AdaTT-sp, unit residual
        {"num_task_experts": 2, "num_shared_experts": 1},
    ],
)
def test_adatt_equals_its_formula(kwargs):
    model = keras_mtl.AdaTT(
        [keras_mtl.DenseFeat("x", dimension=3)],
        task_names=("a", "b"),
        num_levels=3,
        expert_units=(4,),
        tower_units=(2,),
        **kwargs,
    )
    h = X
    for level in (1, 2, 3):
        layer = model.get_layer(f"fusion_{level}")
        h = ref.adatt_level(layer, h, _residual(layer))
    assert h.shape == (5, 2, 4)
    out = model({"x": X})
    for t, task in enumerate(("a", "b")):
        kernel, bias = model.get_layer(f"tower_{task}").get_weights()
        head_kernel, head_bias = model.get_layer(task).get_weights()
        expected = sigmoid(relu(h[:, t] @ kernel + bias) @ head_kernel + head_bias)
        np.testing.assert_allclose(out[task].numpy(), expected, rtol=1e-5, atol=1e-6)


def test_adatt_rejects_negative_shared_experts():
    with pytest.raises(ValueError, match="num_shared_experts=-1"):
        keras_mtl.AdaTT([keras_mtl.DenseFeat("x")], num_shared_experts=-1)
