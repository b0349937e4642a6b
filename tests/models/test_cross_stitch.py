"""Cross-Stitch: forward values against a hand computation of columns and mixing."""

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from tests import routing_reference as ref

X = np.random.RandomState(7).normal(size=(6, 3)).astype("float32")
FEATURES = [keras_mtl.DenseFeat("x", dimension=3)]  # x is the bottom input itself
TASKS = ("a", "b", "c")


def test_cross_stitch_equals_numpy_columns_and_mixing():
    model = keras_mtl.CrossStitch(FEATURES, task_names=TASKS, column_units=(5, 4), tower_units=(3,))
    rng = np.random.default_rng(0)
    for level in (1, 2):  # move α away from its initial value
        unit = model.get_layer(f"cross_stitch_{level}")
        unit.alpha.assign(rng.normal(size=(3, 3)))
    first = model.get_layer("columns_1")
    kernel, bias = first.kernels[0].numpy(), first.biases[0].numpy()
    h = np.stack(
        [
            ref.relu(X @ kernel[:, 5 * k : 5 * (k + 1)] + bias[5 * k : 5 * (k + 1)])
            for k in range(3)
        ],
        axis=1,
    )  # column k's first layer: (B, 3, 5)
    h = ref.cross_stitch(model.get_layer("cross_stitch_1").alpha.numpy(), h)
    second = model.get_layer("columns_2")
    h = np.stack(
        [ref.relu(h[:, k] @ second.kernel.numpy()[k] + second.bias.numpy()[k]) for k in range(3)],
        axis=1,
    )  # (B, 3, 4)
    h = ref.cross_stitch(model.get_layer("cross_stitch_2").alpha.numpy(), h)
    out = model({"x": tf.constant(X)})
    for k, task in enumerate(TASKS):
        t = h[:, k]
        for dense in model.get_layer(f"tower_{task}").dense_layers:
            t = ref.relu(t @ dense.kernel.numpy() + dense.bias.numpy())
        head_kernel, head_bias = model.get_layer(task).get_weights()
        np.testing.assert_allclose(
            np.asarray(out[task]), ref.sigmoid(t @ head_kernel + head_bias), rtol=1e-5, atol=1e-6
        )


def test_identity_stitches_keep_the_columns_apart():
    model = keras_mtl.CrossStitch(
        FEATURES, task_names=("a", "b"), column_units=(4,), tower_units=(), self_weight=1.0
    )
    before = model({"x": tf.constant(X)})
    kernel = model.get_layer("columns_1").kernels[0]
    value = kernel.numpy()
    value[:, 4:] += 1.0  # column b only
    kernel.assign(value)
    after = model({"x": tf.constant(X)})
    np.testing.assert_array_equal(np.asarray(after["a"]), np.asarray(before["a"]))
    assert not np.allclose(np.asarray(after["b"]), np.asarray(before["b"]))


def test_cross_stitch_layers_and_shared_layer():
    model = keras_mtl.CrossStitch(FEATURES, task_names=TASKS, column_units=(4, 4, 2))
    names = [l.name for l in model.layers if isinstance(l, keras_mtl.layers.CrossStitchUnit)]
    assert names == ["cross_stitch_1", "cross_stitch_2", "cross_stitch_3"]
    assert model.shared_layer == "cross_stitch_3"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"task_names": ("a",)}, "at least 2 task names"),
        ({"column_units": ()}, "column_units"),
        ({"self_weight": 0.0}, "self_weight=0.0"),
    ],
)
def test_cross_stitch_rejects_bad_arguments(kwargs, message):
    kwargs = {"task_names": ("a", "b"), **kwargs}
    with pytest.raises(ValueError, match=message):
        keras_mtl.CrossStitch(FEATURES, **kwargs)
