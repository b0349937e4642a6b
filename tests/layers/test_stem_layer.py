"""Tests of keras_mtl.layers.STEMLayer."""

import numpy as np
import pytest
import tensorflow as tf

from keras_mtl.layers import STEMLayer
from tests import fusion_reference as ref
from tests.layer_check import check_layer

TASKS = 2
X = np.random.default_rng(3).normal(size=(4, TASKS + 1, 5)).astype("float32")


@pytest.mark.parametrize(
    "kwargs, num_trainable",
    [
        ({"expert_units": (4, 3), "bias_initializer": "random_normal"}, 4 + 3 * 2),
        (
            {
                "num_specific_experts": 2,
                "num_shared_experts": 2,
                "expert_units": (4,),
                "shared_gate": False,
                "dropout": 0.1,
                "kernel_regularizer": "l2",
            },
            2 + 2 * 2,
        ),
    ],
)
def test_stem_layer_from_every_side_equals_the_formula(kwargs, num_trainable):
    layer = STEMLayer(TASKS, **kwargs)
    out = layer(X).numpy()
    np.testing.assert_allclose(out, ref.stem_level(layer, X), rtol=1e-5, atol=1e-5)
    check_layer(lambda: STEMLayer(TASKS, **kwargs), X, num_trainable_weights=num_trainable)


def test_task_loss_reaches_no_other_tasks_experts_or_branch():
    layer = STEMLayer(TASKS, num_specific_experts=2, num_shared_experts=1, expert_units=(4, 3))
    x = tf.Variable(X)
    for task in range(TASKS):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(x)[:, task] ** 2)
        variables = [v for l in layer.expert_layers for v in (l.kernel, l.bias)]
        grads = tape.gradient(loss, [x] + variables)
        other = 1 - task
        assert np.all(grads[0].numpy()[:, other] == 0)  # the other task's branch
        assert np.any(grads[0].numpy()[:, task] != 0)
        assert np.any(grads[0].numpy()[:, TASKS] != 0)  # shared branch
        for grad in grads[1:]:  # (E, ...): experts 2·other, 2·other + 1 are the other's
            grad = grad.numpy()
            assert np.all(grad[2 * other : 2 * other + 2] == 0)
            assert np.any(grad[2 * task : 2 * task + 2] != 0)
            assert np.any(grad[2 * TASKS :] != 0)


def test_the_shared_gate_trains_every_expert():
    layer = STEMLayer(TASKS, expert_units=(4,))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(X)[:, TASKS] ** 2)
    grad = tape.gradient(loss, layer.expert_layers[0].kernel).numpy()
    assert all(np.any(grad[e] != 0) for e in range(TASKS + 1))


def test_stem_layer_rejects_a_wrong_branch_count():
    with pytest.raises(ValueError, match="3 branches"):
        STEMLayer(TASKS)(np.ones((4, 2, 5), "float32"))
