"""conversion_twin: float32, one-row stand-in tables, the other weights the model's."""

import types

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from keras_mtl.export.conversion_twin import conversion_twin
from keras_mtl.export.table_config import with_tables


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
    stand_in = twin.get_layer("embedding_tables_3")  # item's table, alone at width 3
    assert stand_in.get_weights()[0].shape == (1, 3)
    # a stand-in keeps its tables' layout: the fed rows are looked up where they lie
    assert stand_in.tables == (("item", 12),) and stand_in.offsets == {"item": 0}
    for layer in model.layers:
        if layer.weights and layer.name != "embedding_tables_3":
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
    assert twin.get_layer("embedding_tables_3").input_dim == 1


def test_a_stand_in_stack_fed_the_tables_looks_up_each_tables_rows():
    """The twin's stack has one row of its own; fed the model's stacked
    variable, it reads every table's rows at that table's offset."""
    feats = [
        keras_mtl.SparseFeat("a", vocabulary_size=2, embedding_dim=1),
        keras_mtl.SparseFeat("b", vocabulary_size=3, embedding_dim=1),
    ]
    model = keras_mtl.MMoE(feats, num_experts=2, expert_units=(4,), tower_units=())
    stacked = np.arange(7, dtype=np.float32)[:, None]  # a: rows 0-2, b: rows 3-6
    model.get_layer("embedding_tables_1").set_weights([stacked])
    twin = type(model).from_config(with_tables(model.get_config(), input_dim=1))
    layer = twin.get_layer("embedding_tables_1")
    assert layer.get_weights()[0].shape == (1, 1)
    with keras_mtl.layers.SparseEmbedding.feeding_tables({layer: tf.constant(stacked)}):
        a, b = layer([tf.constant([1, 2]), tf.constant([0, 3])])
    np.testing.assert_array_equal(a.numpy()[:, 0], [1.0, 2.0])
    np.testing.assert_array_equal(b.numpy()[:, 0], [3.0, 6.0])


def test_a_table_inside_another_layer_is_refused():
    inner = tf.keras.Sequential([keras_mtl.layers.SparseEmbedding(5, 2, name="hidden_table")])
    outer = tf.keras.Sequential([inner])
    outer.build((None,))
    with pytest.raises(ValueError, match=r"among the model's own layers.*\['hidden_table'\]"):
        conversion_twin(outer)
