"""Tests of keras_mtl.layers.StarTopology."""

import re

import numpy as np
import pytest
import tensorflow as tf

from keras_mtl.layers import StarTopology
from tests.layer_check import check_layer

NUM_DOMAINS, INPUT_DIM, UNITS = 2, 3, (4, 2)
# rows of domain 0, 1, and two unknown ids (2 = the OOV row of an encoded
# feature, -1 corrupt): they get the shared weights only
DOMAINS = np.array([0, 1, 1, 0, 2, -1], "int64")


def _relu(z):
    return np.maximum(z, 0.0)


def _x(rows=len(DOMAINS)):
    return np.random.default_rng(0).normal(size=(rows, INPUT_DIM)).astype("float32")


def _weights(seed=1):
    """[kernel, bias, domain_kernel, domain_bias] per layer, random."""
    rng = np.random.default_rng(seed)
    out, fan_in = [], INPUT_DIM
    for width in UNITS:
        out += [
            rng.normal(size=(fan_in, width)),
            rng.normal(size=(width,)),
            rng.normal(size=(NUM_DOMAINS, fan_in, width)),
            rng.normal(size=(NUM_DOMAINS, width)),
        ]
        fan_in = width
    return out


def _by_hand(x, domains, weights, combine, linear_output):
    """Row by row, with each domain's weights written out."""
    out = []
    for row, p in zip(x, domains):
        known = 0 <= p < NUM_DOMAINS
        shared, own = row, row
        for i in range(len(UNITS)):
            w, b, wd, bd = weights[4 * i : 4 * i + 4]
            last = linear_output and i == len(UNITS) - 1
            act = (lambda z: z) if last else _relu
            if combine == "multiply":
                kernel, bias = (w * wd[p], b + bd[p]) if known else (w, b)
                shared = act(shared @ kernel + bias)
            else:
                shared = act(shared @ w + b)
                own = act(own @ wd[p] + bd[p]) if known else own
        out.append(shared + (own if combine == "add" and known else 0.0))
    return np.stack(out)


@pytest.mark.parametrize(
    "kwargs, num_trainable",
    [
        ({}, 8),
        ({"combine": "add", "linear_output": True, "kernel_regularizer": "l2"}, 8),
        ({"units": (3,), "dropout": 0.2}, 4),
    ],
)
def test_star_topology_from_every_side(kwargs, num_trainable):
    kwargs = {"num_domains": NUM_DOMAINS, "units": UNITS, **kwargs}
    out = check_layer(
        lambda: StarTopology(**kwargs), [_x(), DOMAINS], num_trainable_weights=num_trainable
    )
    assert out.shape == (len(DOMAINS), kwargs["units"][-1])


@pytest.mark.parametrize("combine", ["multiply", "add"])
@pytest.mark.parametrize("linear_output", [False, True])
def test_two_domains_equal_a_hand_computation(combine, linear_output):
    x, weights = _x(), _weights()
    layer = StarTopology(NUM_DOMAINS, UNITS, combine=combine, linear_output=linear_output)
    layer([x, DOMAINS])
    layer.set_weights(weights)
    expected = _by_hand(x, DOMAINS, weights, combine, linear_output)
    np.testing.assert_allclose(layer([x, DOMAINS]).numpy(), expected, rtol=1e-5, atol=1e-5)
    if linear_output:
        assert (expected < 0).any()  # the last layer is not activated


def test_domains_start_as_the_shared_network():
    # "multiply": domain kernels start at 1, domain biases at 0
    x = _x()
    layer = StarTopology(NUM_DOMAINS, UNITS, bias_initializer="ones")
    out = layer([x, DOMAINS]).numpy()
    shared_only = layer([x, np.full_like(DOMAINS, 9)]).numpy()
    np.testing.assert_allclose(out, shared_only, rtol=1e-6)
    for kernel, bias in zip(layer.domain_kernels, layer.domain_biases):
        np.testing.assert_array_equal(kernel.numpy(), 1.0)
        np.testing.assert_array_equal(bias.numpy(), 0.0)


def test_add_mode_domain_networks_start_different():
    layer = StarTopology(
        NUM_DOMAINS,
        UNITS,
        combine="add",
        kernel_initializer=tf.keras.initializers.GlorotUniform(seed=3),
    )
    layer([_x(), DOMAINS])
    first = layer.domain_kernels[0].numpy()
    assert not np.allclose(first[0], first[1])
    assert not np.allclose(first[0], layer.kernels[0].numpy())


def test_a_row_trains_only_its_domains_weights():
    x = _x()
    layer = StarTopology(NUM_DOMAINS, UNITS)
    layer([x, DOMAINS])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer([x[1:2], DOMAINS[1:2]]))  # one row of domain 1
    grads = tape.gradient(loss, layer.domain_variables)
    for grad in grads:
        grad = tf.convert_to_tensor(grad).numpy()
        assert np.all(grad[0] == 0.0) and np.any(grad[1] != 0.0)
    assert layer.domain_variables == layer.domain_kernels + layer.domain_biases


def test_regularizer_spares_multiplicative_domain_kernels():
    x = _x()
    multiply = StarTopology(
        NUM_DOMAINS,
        (2,),
        kernel_initializer="ones",
        kernel_regularizer=tf.keras.regularizers.L2(0.1),
    )
    multiply([x, DOMAINS])
    np.testing.assert_allclose(float(tf.add_n(multiply.losses)), 0.1 * INPUT_DIM * 2, rtol=1e-6)
    add = StarTopology(
        NUM_DOMAINS,
        (2,),
        combine="add",
        kernel_initializer="ones",
        kernel_regularizer=tf.keras.regularizers.L2(0.1),
    )
    add([x, DOMAINS])
    np.testing.assert_allclose(float(tf.add_n(add.losses)), 0.1 * INPUT_DIM * 2 * 3, rtol=1e-6)


def test_domain_ids_of_shape_batch_by_one():
    x, weights = _x(), _weights()
    layer = StarTopology(NUM_DOMAINS, UNITS)
    layer([x, DOMAINS[:, None]])
    layer.set_weights(weights)
    np.testing.assert_allclose(
        layer([x, DOMAINS[:, None]]).numpy(), layer([x, DOMAINS]).numpy(), rtol=1e-6
    )


@pytest.mark.parametrize(
    "kwargs, received",
    [
        ({"num_domains": 0, "units": (4,)}, "num_domains=0"),
        ({"num_domains": 2, "units": ()}, "units=()"),
        ({"num_domains": 2, "units": (4,), "combine": "concat"}, "combine='concat'"),
        ({"num_domains": 2, "units": (4,), "dropout": 1.0}, "dropout=1.0"),
    ],
)
def test_star_topology_invalid_arguments(kwargs, received):
    with pytest.raises(ValueError, match=re.escape(received)):
        StarTopology(**kwargs)


def test_star_topology_needs_x_and_domain():
    with pytest.raises(ValueError, match=r"\[x, domain\]"):
        StarTopology(2, (4,))(_x())
    with pytest.raises(ValueError, match=r"domain ids of shape \(batch,\)"):
        StarTopology(2, (4,))([_x(), np.zeros((6, 2), "int64")])
