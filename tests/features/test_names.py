"""The feature-name rule, checked where specs are made and models are built."""

import pytest
from tensorflow.core.function.polymorphism.function_type import sanitize_arg_name

import keras_mtl
from keras_mtl.features import names

AWKWARD = ("capital-loss", "work class", "2nd_id", "_id", "x.y z(1)", " a ", "-", "a:b")


@pytest.mark.parametrize("name", AWKWARD + ("plain",))
def test_internal_name_is_the_rewrite_tensorflow_applies_to_keywords(name):
    # a Python caller's keyword `name` reaches the input TensorFlow names so
    assert names.internal_name(name) == sanitize_arg_name(name)
    assert names.check_name(name) == name


@pytest.mark.parametrize(
    "name, held, suggestion",
    [
        ("naïve", "'ï'", "'naive'"),
        ("x/y", "'/'", "'x_y'"),
        ("名前", "'前', '名'", "'__'"),
        ("tab\there", "'\\t'", "'tab_here'"),
    ],
)
def test_every_spec_refuses_names_outside_the_rule(name, held, suggestion):
    makers = [
        lambda: keras_mtl.SparseFeat(name, vocabulary_size=3),
        lambda: keras_mtl.DenseFeat(name),
        lambda: keras_mtl.VarLenSparseFeat(name, maxlen=2, vocabulary_size=3),
    ]
    for make in makers:
        with pytest.raises(ValueError) as info:
            make()
        message = str(info.value)
        assert message.startswith(f"Feature name {name!r} (name=): expected {names.NAME_RULE}")
        assert f"It holds {held}." in message
        assert f"df = df.rename(columns={{{name!r}: {suggestion}}})" in message


def test_embedding_and_weight_names_follow_the_rule():
    with pytest.raises(ValueError, match=r"\(embedding_name=\)"):
        keras_mtl.SparseFeat("item", vocabulary_size=3, embedding_name="é")
    with pytest.raises(ValueError, match=r"\(weight_name=\)"):
        keras_mtl.VarLenSparseFeat("h", maxlen=2, vocabulary_size=3, weight_name="w/1")
    with pytest.raises(ValueError, match="non-empty string feature name. Received: name=''"):
        keras_mtl.DenseFeat("")


def test_names_tensorflow_cannot_tell_apart_are_refused_at_build():
    with pytest.raises(ValueError, match="'a-b' and 'a_b' both become 'a_b'"):
        keras_mtl.features.validate_features(
            [keras_mtl.DenseFeat("a_b"), keras_mtl.DenseFeat("a-b")]
        )
    shared = [
        keras_mtl.SparseFeat("u", vocabulary_size=3, embedding_name="t-1"),
        keras_mtl.SparseFeat("v", vocabulary_size=3, embedding_name="t_1"),
    ]
    with pytest.raises(ValueError, match="Embedding names 't-1' and 't_1'"):
        keras_mtl.features.validate_features(shared)


def test_inputs_keep_the_names_and_layers_take_internal_ones():
    feats = [
        keras_mtl.DenseFeat("capital-loss"),
        keras_mtl.SparseFeat("work class", vocabulary=("a", "b"), embedding_dim=2),
    ]
    inputs = keras_mtl.features.build_inputs(feats)
    assert sorted(inputs) == ["capital-loss", "work class"]
    model = keras_mtl.SharedBottom(feats, task_names=("y",), bottom_units=(2,))
    layer_names = {layer.name for layer in model.layers}
    assert {"capital_loss_transform", "work_class_index", "embedding_tables_2"} <= layer_names
    # the table and input keep the feature's own name inside the stack
    stack = model.get_layer("embedding_tables_2")
    assert stack.tables == (("work class", 3),)
    assert stack.input_features == ("work class",)
    assert model.embedding_table("work class").shape == (3, 2)
