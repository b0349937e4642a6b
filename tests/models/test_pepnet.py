"""PEPNet's forward pass against its formula, and its arguments."""

import numpy as np
import pytest

import keras_mtl
from tests import fusion_reference as ref
from tests.routing_reference import sigmoid
from tests.routing_reference import star_multiply

RNG = np.random.default_rng(5)
X = RNG.normal(size=(6, 3)).astype("float32")
DOMAIN = np.array([0, 1, 2, 1, 0, 7], dtype="int64")  # 7: an unseen domain (OOV slot)
USER = np.array([0, 3, 2, 1, 3, 0], dtype="int64")
FEATURES = [
    keras_mtl.DenseFeat("x", dimension=3),  # E is x itself
    keras_mtl.SparseFeat("domain", vocabulary_size=3, embedding_dim=2),
    keras_mtl.SparseFeat("user", vocabulary_size=4, embedding_dim=2),
]
INPUTS = {"x": X, "domain": DOMAIN, "user": USER}


def _slots():
    return np.where(DOMAIN < 3, DOMAIN, 3)


def _inner(model):
    """E, E', the priors and PPNet's (B, T, u) output, by the formulas."""
    table = model.get_layer("domain_embedding").get_weights()[0]
    e_p = table[_slots()]
    user = model.embedding_table("user", layer_name="embedding_tables_2").numpy()
    embeddings = np.concatenate([X, user[USER]], axis=-1)
    personalised = ref.epnet(model.get_layer("epnet"), e_p, embeddings)
    if any(layer.name == "domain_layers" for layer in model.layers):
        personalised = star_multiply(model.get_layer("domain_layers"), personalised, _slots(), 3)
    # the priors' tables are PEPNet's own, apart from E's
    priors = model.embedding_table("user", layer_name="personal_embedding_tables_2").numpy()[USER]
    return ref.ppnet(model.get_layer("ppnet"), personalised, priors)


def _assert_equals_formula(model, tasks):
    towers = _inner(model)
    out = model(INPUTS)
    for t, task in enumerate(tasks):
        kernel, bias = model.get_layer(task).get_weights()
        np.testing.assert_allclose(
            out[task].numpy(), sigmoid(towers[:, t] @ kernel + bias), rtol=1e-5, atol=1e-6
        )


def test_pepnet_equals_its_formula():
    model = keras_mtl.PEPNet(
        FEATURES, personal_features=("user",), task_names=("a", "b"), tower_units=(4, 3)
    )
    _assert_equals_formula(model, ("a", "b"))


def test_domain_units_put_per_domain_layers_before_the_towers():
    model = keras_mtl.PEPNet(
        FEATURES,
        personal_features=("user",),
        task_names=("a", "b"),
        tower_units=(3,),
        domain_units=(4,),
    )
    star = model.get_layer("domain_layers")
    assert model.shared_layer == "domain_layers"
    rng = np.random.default_rng(1)  # domain weights off their start (ones, zeros)
    star.set_weights([rng.normal(size=w.shape).astype("float32") for w in star.get_weights()])
    _assert_equals_formula(model, ("a", "b"))
    with pytest.raises(ValueError, match="domain_units"):
        keras_mtl.PEPNet(FEATURES, domain_units=(0,))


def test_domain_towers_add_a_per_domain_logit():
    model = keras_mtl.PEPNet(
        FEATURES, personal_features="user", task_names=("a",), tower_units=(3,), domain_towers=True
    )
    head = model.get_layer("domain_tower_a")
    rng = np.random.default_rng(0)
    head.set_weights([rng.normal(size=w.shape).astype("float32") for w in head.get_weights()])
    kernel, bias, domain_kernel, domain_bias = head.get_weights()
    h = _inner(model)[:, 0]
    logit = h @ kernel + bias
    for row, slot in enumerate(_slots()):
        if slot < 3:  # a known domain adds its own linear logit; the unseen one does not
            logit[row] += h[row] @ domain_kernel[slot] + domain_bias[slot]
    np.testing.assert_allclose(model(INPUTS)["a"].numpy(), sigmoid(logit), rtol=1e-5, atol=1e-6)


def test_without_personal_features_the_domain_embedding_is_the_prior():
    model = keras_mtl.PEPNet(FEATURES, task_names=("a",), tower_units=(3,))
    assert model.get_layer("ppnet").input[1].shape[-1] == 2  # the domain embedding
    assert not [l for l in model.layers if l.name.startswith("personal_")]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"personal_features": ("nope",)}, "nope"),
        ({"personal_features": ("domain",)}, "domain"),
        ({"domain_feature": "user2"}, "user2"),
        ({"tower_units": ()}, "tower_units"),
        ({"gamma": -1.0}, "gamma=-1.0"),
    ],
)
def test_pepnet_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        keras_mtl.PEPNet(FEATURES, **kwargs)


def test_pepnet_needs_the_domain_feature():
    with pytest.raises(ValueError, match="domain_feature='domain' is not among the features"):
        keras_mtl.PEPNet([keras_mtl.DenseFeat("x", dimension=3)])
