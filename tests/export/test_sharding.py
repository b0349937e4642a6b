"""Joining a sharded variable's parts (`keras_mtl.export.sharding`), without a cluster.

The parameter-server run (tests/training/test_parameter_servers.py, tf_keras)
exports real sharded models; here the joining rule is checked on variables
named as TensorFlow names a partitioned variable's parts.
"""

import types

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from keras_mtl.export import sharding


def holder(*named):
    return types.SimpleNamespace(weights=[tf.Variable(v, name=n) for n, v in named])


def test_parts_are_joined_by_rows_in_order_and_whole_variables_kept():
    a0, a1 = np.arange(6.0).reshape(3, 2), np.arange(6.0, 10.0).reshape(2, 2)
    b0, b1 = np.ones((1, 2)), np.zeros((2, 2))
    model = holder(
        ("t/emb/part_0", a0),
        ("t/emb/part_1", a1),
        ("bias", np.array([7.0])),
        ("u/emb/part_0", b0),
        ("u/emb/part_1", b1),
    )
    assert sharding.is_sharded(model)
    whole = sharding.whole_weights(model)
    assert [w.shape for w in whole] == [(5, 2), (1,), (3, 2)]
    np.testing.assert_array_equal(whole[0], np.arange(10.0).reshape(5, 2))
    np.testing.assert_array_equal(whole[1], [7.0])
    np.testing.assert_array_equal(whole[2], np.concatenate([b0, b1]))


def test_two_sharded_variables_back_to_back_stay_apart():
    model = holder(
        ("a/part_0", np.ones((1, 2))),
        ("a/part_1", np.ones((1, 2))),
        ("b/part_0", np.zeros((2, 2))),
        ("b/part_1", np.zeros((1, 2))),
    )
    assert [w.shape for w in sharding.whole_weights(model)] == [(2, 2), (3, 2)]


def test_parts_out_of_order_are_an_error():
    model = holder(("a/part_1", np.ones((1, 2))), ("a/part_0", np.ones((1, 2))))
    with pytest.raises(ValueError, match=r"expected the parts of 'a' in order from part_0"):
        sharding.whole_weights(model)


def test_an_unsharded_model_is_its_own_twin():
    model = keras_mtl.MMoE(
        [keras_mtl.SparseFeat("item", vocabulary_size=5)], num_experts=2, expert_units=(4,)
    )
    assert not sharding.is_sharded(model)
    assert sharding.unsharded_twin(model) is model


def test_a_missing_part_is_an_error():
    model = holder(("a/part_0", np.ones((1, 2))), ("a/part_2", np.ones((1, 2))))
    with pytest.raises(ValueError, match=r"expected the parts of 'a' in order from part_0"):
        sharding.whole_weights(model)


class _ShardedStandIn:
    """A model's weights as a partitioner would have split them (no cluster needed).

    Each weight with more than one row is split by rows into `part_<i>`
    variables; `get_config` / `from_config` are the real model's (a `MultiTaskModel`'s).
    """

    @classmethod
    def from_config(cls, config):
        return keras_mtl.MultiTaskModel.from_config(config)

    def __init__(self, model, parts):
        self.config = model.get_config()
        self.weights = []
        for index, value in enumerate(model.get_weights()):
            if value.ndim and value.shape[0] >= parts:
                for i, chunk in enumerate(np.array_split(value, parts)):
                    self.weights.append(tf.Variable(chunk, name=f"w{index}/part_{i}"))
            else:
                self.weights.append(tf.Variable(value, name=f"w{index}"))

    def get_config(self):
        return self.config


def test_the_twin_gets_every_part_in_its_rows():
    model = keras_mtl.MMoE(
        [
            keras_mtl.SparseFeat("item", vocabulary_size=11, embedding_dim=3),
            keras_mtl.DenseFeat("price"),
        ],
        num_experts=2,
        expert_units=(4,),
        tower_units=(3,),
    )
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in model.get_weights()])
    stand_in = _ShardedStandIn(model, parts=3)
    assert sharding.is_sharded(stand_in)
    assert len(stand_in.weights) > len(model.weights)
    twin = sharding.unsharded_twin(stand_in)
    assert twin is not model
    for got, expected in zip(twin.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, expected)
    rows = {"item": np.array([0, 5, 10]), "price": np.array([0.5, -1.0, 2.0], np.float32)}
    for task, value in model.predict(rows, verbose=0).items():
        np.testing.assert_allclose(twin.predict(rows, verbose=0)[task], value, atol=1e-6)
