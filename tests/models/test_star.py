"""The STAR builder: forward pass by hand, auxiliary logit, routing, checks."""

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from tests import routing_reference
from tests.routing_reference import relu
from tests.routing_reference import sigmoid

X = np.random.RandomState(7).normal(size=(6, 3)).astype("float32")
DOMAIN = np.array([0, 1, 2, 1, 0, 7], "int64")  # 7: unknown domain
FEATURES = [
    keras_mtl.DenseFeat("x", dimension=3),
    keras_mtl.SparseFeat("domain", vocabulary_size=3, embedding_dim=2),
]
INPUTS = {"x": X, "domain": DOMAIN}
EPS = 1e-3


def _randomize(model, seed=0):
    """Random weights everywhere (moving variances kept positive)."""
    rng = np.random.default_rng(seed)
    weights = [
        rng.uniform(0.5, 1.5, w.shape) if "variance" in _name(w) else rng.normal(size=w.shape)
        for w in model.weights
    ]
    model.set_weights(weights)


def _name(variable):
    return getattr(variable, "path", None) or variable.name


def _star(model, name, h, slots, linear_output=False):
    return routing_reference.star_multiply(model.get_layer(name), h, slots, 3, linear_output)


def test_forward_pass_equals_the_formula():
    model = keras_mtl.STAR(FEATURES, star_units=(4,), tower_units=(3,), auxiliary_units=(2,))
    _randomize(model)
    slots = np.where(DOMAIN < 3, DOMAIN, 3)
    gamma, beta, domain_gamma, domain_beta, mean, variance = model.get_layer(
        "partitioned_norm"
    ).get_weights()
    scale = np.concatenate([gamma * domain_gamma, gamma[None]])
    offset = np.concatenate([beta + domain_beta, beta[None]])
    h = scale[slots] * (X - mean[slots]) / np.sqrt(variance[slots] + EPS) + offset[slots]
    h = _star(model, "star_fcn", h, slots)
    main = _star(model, "star_tower_ctr", h, slots, linear_output=True)
    embedding = model.get_layer("domain_embedding").get_weights()[0][slots]
    k0, b0 = model.get_layer("auxiliary_ctr").get_weights()
    k1, b1 = model.get_layer("auxiliary_logit_ctr").get_weights()
    auxiliary = relu(embedding @ k0 + b0) @ k1 + b1
    np.testing.assert_allclose(
        model(INPUTS)["ctr"].numpy(), sigmoid(main + auxiliary), rtol=1e-5, atol=1e-6
    )


def test_auxiliary_logit_is_added_to_the_main_logit():
    model = keras_mtl.STAR(FEATURES, task_names=("ctr", "cvr"), star_units=(4,))
    _randomize(model, seed=1)
    logits = tf.keras.Model(
        model.inputs,
        [model.get_layer("star_tower_cvr").output, model.get_layer("auxiliary_logit_cvr").output],
    )
    main, auxiliary = (t.numpy() for t in logits(INPUTS))
    assert np.abs(auxiliary).min() > 0
    np.testing.assert_allclose(
        model(INPUTS)["cvr"].numpy(), sigmoid(main + auxiliary), rtol=1e-5, atol=1e-6
    )
    head = model.get_layer("auxiliary_logit_cvr")
    kernel, bias = head.get_weights()
    head.set_weights([kernel, bias + 2.0])
    np.testing.assert_allclose(
        model(INPUTS)["cvr"].numpy(), sigmoid(main + auxiliary + 2.0), rtol=1e-5, atol=1e-6
    )


def test_without_auxiliary_network_and_regression_task():
    model = keras_mtl.STAR(
        FEATURES,
        task_types="regression",
        auxiliary_units=None,
        partitioned_norm=False,
        star_units=(4,),
    )
    names = [layer.name for layer in model.layers]
    assert not any(n.startswith("auxiliary") or n == "partitioned_norm" for n in names)
    main = tf.keras.Model(model.inputs, model.get_layer("star_tower_ctr").output)
    np.testing.assert_allclose(model(INPUTS)["ctr"].numpy(), main(INPUTS).numpy(), rtol=1e-6)


def test_auxiliary_features_feed_x_too():
    model = keras_mtl.STAR(FEATURES, star_units=(4,), auxiliary_features=True)
    assert model.get_layer("auxiliary_input").output.shape[-1] == 2 + 3


@pytest.mark.parametrize("combine", ["multiply", "add"])
def test_unknown_domain_is_served_by_shared_weights(combine):
    model = keras_mtl.STAR(FEATURES, star_units=(4,), combine=combine)
    _randomize(model, seed=2)
    same_x = {"x": np.repeat(X[:1], 5, 0), "domain": np.array([3, 7, -1, 100, 0], "int64")}
    out = model(same_x)["ctr"].numpy()
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out[:4], np.repeat(out[:1], 4, 0), rtol=1e-6)  # one OOV path
    assert not np.allclose(out[4], out[0])
    # domain 0 with neutral domain weights and the OOV statistics = the OOV path
    for name in ("star_fcn", "star_tower_ctr"):
        layer = model.get_layer(name)
        for kernel, bias in zip(layer.domain_kernels, layer.domain_biases):
            kernel.assign(np.full(kernel.shape, 1.0 if combine == "multiply" else 0.0))
            bias.assign(np.zeros(bias.shape))
    norm = model.get_layer("partitioned_norm")
    norm.domain_gamma.assign(np.ones(norm.domain_gamma.shape))
    norm.domain_beta.assign(np.zeros(norm.domain_beta.shape))
    for stats in (norm.moving_mean, norm.moving_variance):
        stats.assign(np.repeat(stats.numpy()[-1:], 4, 0))
    table = model.get_layer("domain_embedding").embeddings
    table.assign(np.repeat(table.numpy()[-1:], 4, 0))
    out = model(same_x)["ctr"].numpy()
    np.testing.assert_allclose(out[4], out[0], rtol=1e-5)


@pytest.mark.parametrize(
    "features, kwargs, message",
    [
        (FEATURES, {"domain_feature": "country"}, "domain_feature='country' is not among"),
        (
            [keras_mtl.DenseFeat("x"), keras_mtl.SparseFeat("domain", vocabulary=("a", "b"))],
            {},
            "pre-encoded integer domain ids",
        ),
        (FEATURES, {"num_domains": 4}, "num_domains=4 differs"),
        (FEATURES[1:], {}, "features besides the domain feature"),
        (FEATURES, {"combine": "concat"}, "combine='concat'"),
        (FEATURES, {"star_units": ()}, "star_units"),
        (FEATURES, {"auxiliary_units": (0,)}, "auxiliary_units"),
    ],
)
def test_star_rejects_bad_arguments(features, kwargs, message):
    with pytest.raises(ValueError, match=message):
        keras_mtl.STAR(features, **kwargs)
