"""conversion_twin: float32, one-row stand-in tables, the other weights the model's."""

import types

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from keras_mtl.export.conversion_twin import conversion_twin


class _Sharded:
    """A model's layers with every weight of more than `parts` rows split by
    rows into `<name>/part_<i>` variables, as a partitioner places them."""

    def __init__(self, model, parts):
        self.model, self.layers = model, model.layers
        self.split = {
            layer.name: types.SimpleNamespace(
                weights=[
                    variable
                    for i, value in enumerate(layer.get_weights())
                    for variable in self._parts(f"{layer.name}_{i}", value, parts)
                ]
            )
            for layer in model.layers
        }
        self.weights = [w for group in self.split.values() for w in group.weights]

    @staticmethod
    def _parts(name, value, parts):
        if not value.ndim or value.shape[0] < parts:
            return [tf.Variable(value, name=name)]
        return [
            tf.Variable(chunk, name=f"{name}/part_{k}")
            for k, chunk in enumerate(np.array_split(value, parts))
        ]

    @classmethod
    def from_config(cls, config):
        return keras_mtl.MultiTaskModel.from_config(config)

    def get_config(self):
        return self.model.get_config()

    def get_layer(self, name):
        return self.split[name]


def _model():
    feats = [
        keras_mtl.SparseFeat("item", vocabulary_size=11, embedding_dim=3),
        keras_mtl.DenseFeat("price"),
    ]
    return keras_mtl.MMoE(feats, num_experts=2, expert_units=(4,), tower_units=(3,))


def test_a_float32_unsharded_model_is_traced_as_it_is():
    model = _model()
    assert conversion_twin(model) is model


def test_a_sharded_model_gets_stand_in_tables_and_its_joined_weights():
    model = _model()
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in model.get_weights()])
    twin = conversion_twin(_Sharded(model, parts=3))
    assert twin.get_layer("item_embedding").get_weights()[0].shape == (1, 3)
    for layer in model.layers:
        if layer.weights and layer.name != "item_embedding":
            for got, expected in zip(twin.get_layer(layer.name).get_weights(), layer.get_weights()):
                np.testing.assert_array_equal(got, expected)


def test_a_mixed_model_computes_in_float32():
    tf.keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = _model()
    finally:
        tf.keras.mixed_precision.set_global_policy("float32")
    twin = conversion_twin(model)
    assert {layer.compute_dtype for layer in twin.layers if layer.weights} == {"float32"}
    assert twin.get_layer("item_embedding").input_dim == 1


def test_a_table_inside_another_layer_is_refused():
    inner = tf.keras.Sequential([keras_mtl.layers.SparseEmbedding(5, 2, name="hidden_table")])
    outer = tf.keras.Sequential([inner])
    outer.build((None,))
    with pytest.raises(ValueError, match=r"among the model's own layers.*\['hidden_table'\]"):
        conversion_twin(outer)
