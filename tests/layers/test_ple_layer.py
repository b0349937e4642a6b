"""Tests of keras_mtl.layers.PLELayer."""

import re

import numpy as np
import pytest

from keras_mtl.layers import PLELayer
from tests import routing_reference as ref
from tests.layer_check import check_layer

BATCH, DIM, TASKS = 4, 5, 2


def _x(shape=(BATCH, DIM), seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _num_weights(depth, gates, gate_depth=0):
    return 2 * depth + gates * 2 * (gate_depth + 1)


@pytest.mark.parametrize(
    "kwargs, input_shape, num_trainable",
    [
        # first level: one ExpertLayer, 2 task gates and the shared gate
        ({"expert_units": (4, 3)}, (BATCH, DIM), _num_weights(2, 3)),
        # last level on the previous level's branches: BranchDense experts
        ({"expert_units": (4,), "shared_gate": False}, (BATCH, TASKS + 1, DIM), _num_weights(1, 2)),
        (
            {
                "num_specific_experts": (1, 3),
                "num_shared_experts": 2,
                "expert_units": (4, 3),
                "gate_units": (3,),
                "dropout": 0.1,
                "kernel_regularizer": "l2",
            },
            (BATCH, TASKS + 1, DIM),
            _num_weights(2, 3, gate_depth=1),
        ),
    ],
)
def test_ple_layer_from_every_side(kwargs, input_shape, num_trainable):
    out = check_layer(
        lambda: PLELayer(TASKS, **kwargs),
        _x(input_shape),
        num_trainable_weights=num_trainable,
    )
    branches = TASKS + int(kwargs.get("shared_gate", True))
    assert out.shape == (BATCH, branches, kwargs["expert_units"][-1])


@pytest.mark.parametrize(
    "input_shape", [(BATCH, DIM), (BATCH, TASKS + 1, DIM)], ids=["first_level", "deeper_level"]
)
@pytest.mark.parametrize("gate_units", [(), (3,)], ids=["linear_gates", "gate_mlp"])
def test_ple_layer_equals_expert_by_expert_numpy(input_shape, gate_units):
    x = _x(input_shape)
    layer = PLELayer(
        TASKS,
        num_specific_experts=(2, 1),
        num_shared_experts=2,
        expert_units=(4, 3),
        gate_units=gate_units,
    )
    out = layer(x).numpy()
    np.testing.assert_allclose(out, ref.ple_level(layer, x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "input_shape", [(BATCH, DIM), (BATCH, 4, DIM)], ids=["first_level", "deeper_level"]
)
def test_task_output_ignores_other_tasks_specific_experts(input_shape):
    layer = PLELayer(3, num_specific_experts=2, num_shared_experts=1, expert_units=(4, 3))
    x = _x(input_shape)
    before = layer(x).numpy()  # (B, 3 tasks + shared, 3)
    ref.redraw_specific_experts(layer, task=1, seed=5)
    after = layer(x).numpy()
    for k in (0, 2):  # the other tasks' outputs do not move
        np.testing.assert_array_equal(after[:, k], before[:, k])
    assert not np.allclose(after[:, 1], before[:, 1])  # task 1 reads them
    assert not np.allclose(after[:, 3], before[:, 3])  # the shared gate reads all


def test_deeper_level_task_output_ignores_other_branches():
    layer = PLELayer(TASKS, expert_units=(4,))
    x = _x((BATCH, TASKS + 1, DIM))
    before = layer(x).numpy()
    moved = x.copy()
    moved[:, 1] += 3.0  # task 1's branch
    after = layer(moved).numpy()
    np.testing.assert_array_equal(after[:, 0], before[:, 0])
    assert not np.allclose(after[:, 1], before[:, 1])
    assert not np.allclose(after[:, 2], before[:, 2])  # the shared gate mixes all experts


def test_shared_gate_only_when_asked():
    x = _x()
    middle = PLELayer(TASKS, expert_units=(4,))
    last = PLELayer(TASKS, expert_units=(4,), shared_gate=False)
    assert middle(x).shape == (BATCH, TASKS + 1, 4)
    assert last(x).shape == (BATCH, TASKS, 4)
    assert middle.shared_gate_layer is not None and last.shared_gate_layer is None
    assert middle.shared_gate_layer.num_experts == middle.num_experts == 3
    assert [g.num_experts for g in middle.task_gates] == [2, 2]


def test_experts_of_a_level_start_different():
    layer = PLELayer(TASKS, num_specific_experts=2, expert_units=(4,))
    layer(_x((BATCH, TASKS + 1, DIM)))
    kernels = layer.expert_layers[0].kernel.numpy()  # (E, d, 4)
    for i in range(len(kernels)):
        for j in range(i + 1, len(kernels)):
            assert not np.allclose(kernels[i], kernels[j])


def test_ple_layer_wrong_branch_count_raises():
    layer = PLELayer(TASKS, expert_units=(4,))
    with pytest.raises(ValueError, match=re.escape("(batch, 3, features)") + ".*(4, 2, 5)"):
        layer(_x((BATCH, TASKS, DIM)))


@pytest.mark.parametrize(
    "kwargs, received",
    [
        ({"num_tasks": 0}, "num_tasks=0"),
        ({"num_tasks": 2, "num_specific_experts": 0}, "num_specific_experts=(0, 0)"),
        ({"num_tasks": 2, "num_specific_experts": (1, 2, 3)}, "num_specific_experts=(1, 2, 3)"),
        ({"num_tasks": 2, "num_shared_experts": 0}, "num_shared_experts=0"),
        ({"num_tasks": 2, "expert_units": ()}, "expert_units=()"),
        ({"num_tasks": 2, "dropout": 1.0}, "dropout=1.0"),
    ],
)
def test_ple_layer_invalid_arguments(kwargs, received):
    with pytest.raises(ValueError, match=re.escape(received)):
        PLELayer(**kwargs)


@pytest.mark.parametrize(
    "input_shape", [(BATCH, DIM), (BATCH, TASKS + 1, DIM)], ids=["first_level", "deeper_level"]
)
def test_gate_weights_by_hand_with_nan_at_unroutable_experts(input_shape):
    x = _x(input_shape)
    layer = PLELayer(
        TASKS, num_specific_experts=(2, 1), num_shared_experts=2, expert_units=(3,), name="level"
    )
    layer(x)
    (group,) = layer.gate_weights(x, task_names=("ctr", "cvr"))
    assert (group.title, group.rows) == ("level experts", ["ctr", "cvr", "shared gate"])
    assert group.columns == ["ctr 0", "ctr 1", "cvr 0", "shared 0", "shared 1"]
    weights = group.weights.numpy()  # (B, T + 1, E)
    assert weights.shape == (BATCH, TASKS + 1, 5)
    routes = [[0, 1, 3, 4], [2, 3, 4], [0, 1, 2, 3, 4]]  # own + shared; the shared gate: all
    gates = layer.task_gates + [layer.shared_gate_layer]
    for k, (gate, columns) in enumerate(zip(gates, routes)):
        branch = x if x.ndim == 2 else x[:, k]
        expected = ref.softmax(branch @ gate.logits.kernel.numpy() + gate.logits.bias.numpy())
        np.testing.assert_allclose(weights[:, k, columns], expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(weights[:, k, columns].sum(axis=-1), 1.0, rtol=1e-6)
        unroutable = [c for c in range(5) if c not in columns]
        assert np.isnan(weights[:, k, unroutable]).all()
        # To the bit what a copy of the gate with return_weights=True gives.
        copy = type(gate).from_config({**gate.get_config(), "return_weights": True})
        experts = np.zeros((BATCH, len(columns), 1), "float32")
        copy([branch, experts])
        copy.set_weights(gate.get_weights())
        np.testing.assert_array_equal(weights[:, k, columns], copy([branch, experts])[1].numpy())


def test_gate_weights_of_the_last_level_without_task_names():
    layer = PLELayer(TASKS, expert_units=(3,), gate_units=(4,), shared_gate=False)
    (group,) = layer.gate_weights(_x((BATCH, TASKS + 1, DIM)))  # built on the way
    assert group.rows == ["task 0", "task 1"]
    assert group.columns == ["task 0 0", "task 1 0", "shared 0"]
    np.testing.assert_allclose(np.nansum(group.weights.numpy(), axis=-1), 1.0, rtol=1e-6)
    assert np.isnan(group.weights.numpy()[:, [0, 1], [1, 0]]).all()
