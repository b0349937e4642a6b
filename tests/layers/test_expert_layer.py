"""Tests of keras_mtl.layers.ExpertLayer."""

import re

import numpy as np
import pytest
import tensorflow as tf

from keras_mtl.layers import MLP
from keras_mtl.layers import ExpertLayer
from tests.layer_check import check_layer

NUM_EXPERTS, INPUT_DIM, UNITS = 3, 5, (4, 2)


def _relu(x):
    return np.maximum(x, 0.0)


def _inputs(batch=4):
    return np.random.default_rng(0).normal(size=(batch, INPUT_DIM)).astype("float32")


def _numpy_experts(x, w0, b0, w1, b1):
    """E separate 2-layer relu MLPs; expert e owns columns [e*u0:(e+1)*u0]."""
    u0 = UNITS[0]
    outputs = []
    for e in range(NUM_EXPERTS):
        cols = slice(e * u0, (e + 1) * u0)
        h = _relu(x @ w0[:, cols] + b0[cols])  # (batch, u0)
        outputs.append(_relu(h @ w1[e] + b1[e]))  # (batch, u1)
    return np.stack(outputs, axis=1)  # (batch, E, u1)


def _random_weights(seed=1):
    rng = np.random.default_rng(seed)
    e, (u0, u1) = NUM_EXPERTS, UNITS
    return [
        rng.normal(size=(INPUT_DIM, e * u0)),  # kernel_0
        rng.normal(size=(e * u0,)),  # bias_0
        rng.normal(size=(e, u0, u1)),  # kernel_1
        rng.normal(size=(e, u1)),  # bias_1
    ]


@pytest.mark.parametrize(
    "kwargs, num_trainable",
    [
        ({"num_experts": 3, "units": (4, 2)}, 4),
        ({"num_experts": 2, "units": (3,), "kernel_regularizer": "l2"}, 2),
        ({"num_experts": 2, "units": (8, 6, 4), "dropout": 0.1}, 6),
    ],
)
def test_expert_layer_from_every_side(kwargs, num_trainable):
    out = check_layer(lambda: ExpertLayer(**kwargs), _inputs(), num_trainable_weights=num_trainable)
    assert out.shape == (4, kwargs["num_experts"], kwargs["units"][-1])


def test_expert_layer_weight_shapes():
    layer = ExpertLayer(NUM_EXPERTS, UNITS)
    layer(_inputs())
    assert [tuple(w.shape) for w in layer.weights] == [
        (INPUT_DIM, NUM_EXPERTS * UNITS[0]),
        (NUM_EXPERTS * UNITS[0],),
        (NUM_EXPERTS, UNITS[0], UNITS[1]),
        (NUM_EXPERTS, UNITS[1]),
    ]


def test_expert_layer_equals_separate_numpy_mlps():
    x = _inputs()
    weights = _random_weights()
    layer = ExpertLayer(NUM_EXPERTS, UNITS)
    layer(x)
    layer.set_weights(weights)
    np.testing.assert_allclose(layer(x).numpy(), _numpy_experts(x, *weights), rtol=1e-5, atol=1e-5)


def test_each_expert_equals_an_mlp_with_its_slice_of_weights():
    x = _inputs()
    w0, b0, w1, b1 = _random_weights(seed=2)
    layer = ExpertLayer(NUM_EXPERTS, UNITS)
    layer(x)
    layer.set_weights([w0, b0, w1, b1])
    out = layer(x).numpy()
    u0 = UNITS[0]
    for e in range(NUM_EXPERTS):
        mlp = MLP(UNITS)
        mlp(x)
        cols = slice(e * u0, (e + 1) * u0)
        mlp.set_weights([w0[:, cols], b0[cols], w1[e], b1[e]])
        np.testing.assert_allclose(out[:, e], mlp(x).numpy(), rtol=1e-5, atol=1e-5)


def test_expert_layer_constant_initializer_by_hand():
    x = _inputs()
    e, (u0, u1) = NUM_EXPERTS, UNITS
    expected = _numpy_experts(
        x,
        np.full((INPUT_DIM, e * u0), 0.2),
        np.full((e * u0,), 0.1),
        np.full((e, u0, u1), 0.2),
        np.full((e, u1), 0.1),
    )
    out = check_layer(
        lambda: ExpertLayer(
            NUM_EXPERTS,
            UNITS,
            kernel_initializer=tf.keras.initializers.Constant(0.2),
            bias_initializer=tf.keras.initializers.Constant(0.1),
        ),
        x,
        expected_output=expected,
        num_trainable_weights=4,
    )
    # Constant initializers give identical experts.
    for i in range(1, NUM_EXPERTS):
        np.testing.assert_array_equal(out[:, i], out[:, 0])


def _expert_kernels(layer):
    """Per-expert kernels of both layers: [[(d, u0), (u0, u1)] for each expert]."""
    u0 = UNITS[0]
    k0, k1 = layer.kernels[0].numpy(), layer.kernels[1].numpy()
    return [[k0[:, e * u0 : (e + 1) * u0], k1[e]] for e in range(layer.num_experts)]


@pytest.mark.parametrize(
    "initializer",
    ["glorot_uniform", tf.keras.initializers.GlorotUniform(seed=3)],
    ids=["unseeded", "seeded"],
)
def test_experts_start_with_different_weights(initializer):
    layer = ExpertLayer(NUM_EXPERTS, UNITS, kernel_initializer=initializer)
    layer(_inputs())
    kernels = _expert_kernels(layer)
    for i in range(NUM_EXPERTS):
        for j in range(i + 1, NUM_EXPERTS):
            for depth in range(len(UNITS)):
                assert not np.allclose(kernels[i][depth], kernels[j][depth]), (
                    f"experts {i} and {j} start equal in layer {depth}"
                )
    # The experts' outputs differ too.
    out = layer(_inputs()).numpy()
    assert not np.allclose(out[:, 0], out[:, 1])


def test_seeded_expert_layer_is_reproducible():
    initializer = tf.keras.initializers.GlorotUniform(seed=3)
    first = ExpertLayer(NUM_EXPERTS, UNITS, kernel_initializer=initializer)
    second = ExpertLayer(NUM_EXPERTS, UNITS, kernel_initializer=initializer)
    first(_inputs())
    second(_inputs())
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)


class _RecordingInitializer(tf.keras.initializers.Initializer):
    """Zeros; remembers the shapes it was asked for."""

    def __init__(self):
        self.shapes = []

    def __call__(self, shape, dtype=None):
        self.shapes.append(tuple(int(d) for d in shape))
        return tf.zeros(shape, dtype=dtype or "float32")

    def get_config(self):
        return {}


def test_kernel_initializer_sees_one_experts_fans():
    recorder = _RecordingInitializer()
    layer = ExpertLayer(NUM_EXPERTS, UNITS, kernel_initializer=recorder)
    layer(_inputs())
    u0, u1 = UNITS
    assert recorder.shapes == [(INPUT_DIM, u0)] * NUM_EXPERTS + [(u0, u1)] * NUM_EXPERTS


def test_expert_layer_dropout_only_in_training():
    x = np.abs(_inputs(batch=8)) + 0.5
    layer = ExpertLayer(2, (16,), dropout=0.5, kernel_initializer="ones")
    reference = np.repeat(_relu(x @ np.ones((INPUT_DIM, 16), "float32"))[:, None, :], 2, axis=1)
    np.testing.assert_allclose(layer(x).numpy(), reference, rtol=1e-5)
    trained = layer(x, training=True).numpy()
    dropped = trained == 0.0
    assert 0 < dropped.sum() < dropped.size
    np.testing.assert_allclose(trained[~dropped], 2.0 * reference[~dropped], rtol=1e-5)


def test_kernel_regularizer_applies_to_every_kernel_not_biases():
    layer = ExpertLayer(
        NUM_EXPERTS,
        UNITS,
        kernel_initializer=tf.keras.initializers.Constant(0.5),
        bias_initializer="ones",
        kernel_regularizer=tf.keras.regularizers.L2(0.1),
    )
    layer(_inputs())
    e, (u0, u1) = NUM_EXPERTS, UNITS
    kernel_entries = INPUT_DIM * e * u0 + e * u0 * u1
    assert len(layer.losses) == 2
    np.testing.assert_allclose(
        float(tf.add_n(layer.losses)), 0.1 * 0.25 * kernel_entries, rtol=1e-5
    )


@pytest.mark.parametrize(
    "kwargs, received",
    [
        ({"num_experts": 0, "units": (4,)}, "num_experts=0"),
        ({"num_experts": 2.5, "units": (4,)}, "num_experts=2.5"),
        ({"num_experts": 2, "units": ()}, "units=()"),
        ({"num_experts": 2, "units": (4, -1)}, "units=(4, -1)"),
        ({"num_experts": 2, "units": (4,), "dropout": -0.1}, "dropout=-0.1"),
    ],
)
def test_expert_layer_invalid_arguments(kwargs, received):
    with pytest.raises(ValueError, match=re.escape(received)):
        ExpertLayer(**kwargs)
