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
    model = holder(("t/emb/part_0", a0), ("t/emb/part_1", a1), ("bias", np.array([7.0])),
                   ("u/emb/part_0", b0), ("u/emb/part_1", b1))
    assert sharding.is_sharded(model)
    whole = sharding.whole_weights(model)
    assert [w.shape for w in whole] == [(5, 2), (1,), (3, 2)]
    np.testing.assert_array_equal(whole[0], np.arange(10.0).reshape(5, 2))
    np.testing.assert_array_equal(whole[1], [7.0])
    np.testing.assert_array_equal(whole[2], np.concatenate([b0, b1]))


def test_two_sharded_variables_back_to_back_stay_apart():
    model = holder(("a/part_0", np.ones((1, 2))), ("a/part_1", np.ones((1, 2))),
                   ("b/part_0", np.zeros((2, 2))), ("b/part_1", np.zeros((1, 2))))
    assert [w.shape for w in sharding.whole_weights(model)] == [(2, 2), (3, 2)]


def test_parts_out_of_order_are_an_error():
    model = holder(("a/part_1", np.ones((1, 2))), ("a/part_0", np.ones((1, 2))))
    with pytest.raises(ValueError, match=r"expected the parts of 'a' in order from part_0"):
        sharding.whole_weights(model)


def test_an_unsharded_model_is_its_own_twin():
    model = keras_mtl.MMoE([keras_mtl.SparseFeat("item", vocabulary_size=5)],
                           num_experts=2, expert_units=(4,))
    assert not sharding.is_sharded(model)
    assert sharding.unsharded_twin(model) is model


def test_a_missing_part_is_an_error():
    model = holder(("a/part_0", np.ones((1, 2))), ("a/part_2", np.ones((1, 2))))
    with pytest.raises(ValueError, match=r"expected the parts of 'a' in order from part_0"):
        sharding.whole_weights(model)
