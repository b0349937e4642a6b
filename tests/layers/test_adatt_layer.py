"""Tests of keras_mtl.layers.AdaTTLayer."""

import numpy as np
import pytest

from keras_mtl.layers import AdaTTLayer
from tests import fusion_reference as ref
from tests.layer_check import check_layer

TASKS = 2
RNG = np.random.default_rng(4)
X = RNG.normal(size=(4, 5)).astype("float32")


def _residual(layer):
    """The w_{k,j} of each module, from the layer's variable (ones if unit, zeros if off)."""
    counts = [layer.num_task_experts] * TASKS + [layer.num_shared_experts] * (
        layer.num_modules - TASKS
    )
    if not layer.self_residual:
        return [np.zeros(c) for c in counts]
    if layer.residual_weights is None:
        return [np.ones(c) for c in counts]
    flat, out = layer.residual_weights.numpy(), []
    for c in counts:
        out.append(flat[:c])
        flat = flat[c:]
    return out


@pytest.mark.parametrize(
    "kwargs, x_shape, num_trainable",
    [
        # first level with shared experts: 3 modules, learned residual (m = 2)
        (
            {
                "num_task_experts": 2,
                "num_shared_experts": 1,
                "expert_units": (4, 3),
                "bias_initializer": "random_normal",
            },
            (4, 5),
            4 + 3 * 2 + 1,
        ),
        # AdaTT-sp, one expert per task: the unit residual f_t = g_t·O + E_t(x_t)
        ({"expert_units": (4,)}, (4, TASKS, 5), 2 + 2 * 2),
        # the last level on T + 1 branches: no shared module
        (
            {
                "num_task_experts": 2,
                "num_shared_experts": 2,
                "expert_units": (3,),
                "shared_gate": False,
                "dropout": 0.1,
                "kernel_regularizer": "l2",
            },
            (4, TASKS + 1, 5),
            2 + 2 * 2 + 1,
        ),
        ({"num_task_experts": 2, "expert_units": (3,), "self_residual": False}, (4, 5), 2 + 2 * 2),
    ],
)
def test_adatt_layer_from_every_side_equals_the_formula(kwargs, x_shape, num_trainable):
    x = RNG.normal(size=x_shape).astype("float32")
    layer = AdaTTLayer(TASKS, **kwargs)
    out = layer(x).numpy()
    np.testing.assert_allclose(
        out, ref.adatt_level(layer, x, _residual(layer)), rtol=1e-5, atol=1e-5
    )
    check_layer(lambda: AdaTTLayer(TASKS, **kwargs), x, num_trainable_weights=num_trainable)


def test_residual_weights_start_in_their_range():
    layer = AdaTTLayer(TASKS, num_task_experts=4, expert_units=(3,))
    layer(X)
    weights = layer.residual_weights.numpy()
    assert weights.shape == (TASKS * 4,)
    assert np.all(np.abs(weights) <= np.sqrt(1 / 4)) and np.unique(weights).size == weights.size


def test_adatt_layer_rejects_bad_arguments():
    with pytest.raises(ValueError, match="num_shared_experts=-1"):
        AdaTTLayer(TASKS, num_shared_experts=-1)
    with pytest.raises(ValueError, match=r"\(batch, 2, features\)"):
        AdaTTLayer(TASKS)(np.ones((4, 3, 5), "float32"))
