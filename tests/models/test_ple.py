"""CGC and PLE: forward values, routing, shared gates, argument checks."""

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from tests import routing_reference as ref

X = np.random.RandomState(7).normal(size=(6, 3)).astype("float32")
FEATURES = [keras_mtl.DenseFeat("x", dimension=3)]  # x is the bottom input itself
TASKS = ("a", "b", "c")


def _predict(model):
    return {k: np.asarray(v) for k, v in model({"x": tf.constant(X)}).items()}


def _tower_and_head(model, task, h):
    for dense in model.get_layer(f"tower_{task}").dense_layers:
        h = ref.relu(h @ dense.kernel.numpy() + dense.bias.numpy())
    kernel, bias = model.get_layer(task).get_weights()
    return ref.sigmoid(h @ kernel + bias)


def _numpy_model(model, num_levels):
    h = X
    for level in range(1, num_levels + 1):
        h = ref.ple_level(model.get_layer(f"extraction_{level}"), h)
    return {task: _tower_and_head(model, task, h[:, k]) for k, task in enumerate(TASKS)}


@pytest.mark.parametrize("num_levels", [1, 2, 3])
def test_ple_equals_numpy_level_by_level(num_levels):
    model = keras_mtl.PLE(
        FEATURES,
        task_names=TASKS,
        num_levels=num_levels,
        num_specific_experts=(1, 2, 1),
        num_shared_experts=2,
        expert_units=(5, 4),
        gate_units=(3,),
        tower_units=(3,),
    )
    out, expected = _predict(model), _numpy_model(model, num_levels)
    for task in TASKS:
        np.testing.assert_allclose(out[task], expected[task], rtol=1e-5, atol=1e-6)


def test_cgc_is_one_level_ple():
    cgc = keras_mtl.CGC(
        FEATURES, task_names=TASKS, num_specific_experts=2, expert_units=(4,), tower_units=(3,)
    )
    assert cgc.name == "cgc"
    assert [l.name for l in cgc.layers if isinstance(l, keras_mtl.layers.PLELayer)] == [
        "extraction_1"
    ]
    assert cgc.shared_layer == "extraction_1"
    out, expected = _predict(cgc), _numpy_model(cgc, 1)
    for task in TASKS:
        np.testing.assert_allclose(out[task], expected[task], rtol=1e-5, atol=1e-6)


def test_shared_gate_on_every_level_but_the_last():
    model = keras_mtl.PLE(FEATURES, task_names=TASKS, num_levels=3, expert_units=(4,))
    levels = [model.get_layer(f"extraction_{j}") for j in (1, 2, 3)]
    assert [level.shared_gate for level in levels] == [True, True, False]
    assert [level.shared_gate_layer is not None for level in levels] == [True, True, False]
    # tasks, then shared, feed the next level; the last level gives the tasks only
    assert [tuple(level.output.shape) for level in levels] == [
        (None, 4, 4),
        (None, 4, 4),
        (None, 3, 4),
    ]
    assert model.shared_layer == "extraction_3"


def _redraw_moves_only_task_b(model, level):
    """Redraws task b's specific experts on `level`; asserts that only b's
    output changes and returns the new outputs."""
    before = _predict(model)
    ref.redraw_specific_experts(model.get_layer(level), task=1)
    after = _predict(model)
    np.testing.assert_array_equal(after["a"], before["a"])
    np.testing.assert_array_equal(after["c"], before["c"])
    assert not np.allclose(after["b"], before["b"])
    return after


def test_cgc_task_output_does_not_change_with_another_tasks_experts():
    model = keras_mtl.CGC(
        FEATURES, task_names=TASKS, num_specific_experts=2, expert_units=(5, 4), tower_units=(3,)
    )
    _redraw_moves_only_task_b(model, "extraction_1")


def test_ple_routes_other_tasks_experts_only_through_the_shared_gate():
    model = keras_mtl.PLE(
        FEATURES, task_names=TASKS, num_levels=2, expert_units=(5, 4), tower_units=(3,)
    )
    # last level: task b's experts reach task b only
    after = _redraw_moves_only_task_b(model, "extraction_2")
    # first level: task b's experts reach every task, through the shared gate
    ref.redraw_specific_experts(model.get_layer("extraction_1"), task=1)
    moved = _predict(model)
    assert not np.allclose(moved["a"], after["a"])
    assert not np.allclose(moved["c"], after["c"])


@pytest.mark.parametrize(
    "builder, kwargs, message",
    [
        (keras_mtl.PLE, {"num_levels": 0}, "num_levels=0"),
        (keras_mtl.PLE, {"num_specific_experts": (1, 2, 3)}, "one specific expert count per task"),
        (keras_mtl.CGC, {"num_specific_experts": 0}, "num_specific_experts=0"),
        (keras_mtl.CGC, {"num_shared_experts": -1}, "num_shared_experts=-1"),
        (keras_mtl.CGC, {"expert_units": ()}, "expert_units"),
        (keras_mtl.PLE, {"gate_units": (0,)}, "gate_units"),
    ],
)
def test_ple_builders_reject_bad_arguments(builder, kwargs, message):
    with pytest.raises(ValueError, match=message):
        builder(FEATURES, task_names=("a", "b"), **kwargs)
