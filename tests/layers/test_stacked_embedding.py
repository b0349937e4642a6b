"""StackedEmbedding: several tables in one variable, one gather for all inputs.

The layer below stacks table "a" (2 rows) and table "b" (3 rows) into one
`(5, 2)` variable whose row r is `(2r, 2r + 1)`: "a" is rows 0-1, "b" rows
2-4. Its three inputs look up "a" (rank 1), "b" (a rank-2 sequence) and "a"
again (a second feature sharing the table).
"""

import numpy as np
import pytest
import tensorflow as tf

from keras_mtl.keras_compat import LEGACY_KERAS
from keras_mtl.layers import SparseEmbedding
from keras_mtl.layers import StackedEmbedding
from tests.layer_check import check_layer

STACK = np.arange(10, dtype=np.float32).reshape(5, 2)  # row r = (2r, 2r + 1)
TABLES = [("a", 2), ("b", 3)]
INPUT_TABLES = ["a", "b", "a"]
FEATURES = ["user", "history", "owner"]
A_IDS = np.array([1, 0], np.int64)  # (B,)
B_IDS = np.array([[2, 0, 1], [1, 1, 0]], np.int64)  # (B, L)
A2_IDS = np.array([0, 1], np.int64)  # (B,)


def _layer(initializer=None, **kwargs):
    initializer = initializer or tf.constant_initializer(STACK)
    return StackedEmbedding(
        TABLES,
        INPUT_TABLES,
        2,
        input_features=FEATURES,
        embeddings_initializer=initializer,
        **kwargs,
    )


def _ids():
    return [tf.constant(A_IDS), tf.constant(B_IDS), tf.constant(A2_IDS)]


def test_offsets_and_each_tables_rows():
    layer = _layer()
    layer.build(None)
    assert layer.tables == (("a", 2), ("b", 3))
    assert layer.offsets == {"a": 0, "b": 2}
    assert layer.table_slice("b") == (2, 3)
    assert layer.input_dim == 5 and tuple(layer.embeddings.shape) == (5, 2)
    np.testing.assert_array_equal(layer.table("a").numpy(), STACK[0:2])
    np.testing.assert_array_equal(layer.table("b").numpy(), STACK[2:5])
    np.testing.assert_array_equal(layer.feature_table("history").numpy(), STACK[2:5])
    np.testing.assert_array_equal(layer.feature_table("owner").numpy(), STACK[0:2])
    with pytest.raises(KeyError, match=r"no table 'c' in '.*'. Expected one of \['a', 'b'\]"):
        layer.table("c")
    with pytest.raises(KeyError, match=r"no input 'a' in .*\['user', 'history', 'owner'\]"):
        layer.feature_table("a")


def test_each_input_reads_its_own_tables_rows_at_its_rank():
    """Rank 1 and rank 2 inputs; "a" is read by two inputs, at offset 0,
    and "b"'s ids land 2 rows further down; int32 ids work alike."""
    user, history, owner = _layer()(_ids())
    np.testing.assert_array_equal(user.numpy(), STACK[A_IDS])  # (2, 2)
    np.testing.assert_array_equal(history.numpy(), STACK[B_IDS + 2])  # (2, 3, 2)
    np.testing.assert_array_equal(owner.numpy(), STACK[A2_IDS])  # (2, 2)
    assert history.shape == (2, 3, 2)
    np.testing.assert_array_equal(history.numpy()[0, 0], [8.0, 9.0])  # b's row 2: stack row 4
    as_int32 = _layer()([tf.cast(t, tf.int32) for t in _ids()])
    np.testing.assert_array_equal(as_int32[1].numpy(), STACK[B_IDS + 2])


def test_from_every_side():
    out = check_layer(
        lambda: _layer("ones"),
        [A_IDS, B_IDS, A2_IDS],
        expected_output=[np.ones((2, 2)), np.ones((2, 3, 2)), np.ones((2, 2))],
        num_trainable_weights=1,
    )
    assert [o.dtype for o in out] == [np.float32] * 3


def test_config_round_trip_keeps_the_layout():
    layer = _layer("zeros", name="stack")
    config = layer.get_config()
    assert config["tables"] == [["a", 2], ["b", 3]]
    assert config["input_tables"] == INPUT_TABLES
    assert config["input_features"] == FEATURES
    assert config["input_dim"] == 5 and config["output_dim"] == 2
    clone = StackedEmbedding.from_config(config)
    assert clone.get_config() == config
    assert clone.offsets == {"a": 0, "b": 2} and clone.input_features == tuple(FEATURES)


def test_dynamic_sequence_length():
    """A sequence whose length is known only at run time (None after the
    batch axis): the split and reshape take it from the tensor."""
    layer = _layer()
    spec = [
        tf.TensorSpec((None,), tf.int64),
        tf.TensorSpec((None, None), tf.int64),
        tf.TensorSpec((None,), tf.int64),
    ]
    lookup = tf.function(lambda a, b, c: layer([a, b, c]), input_signature=spec)
    for history in (B_IDS, B_IDS[:, :1], np.zeros((2, 0), np.int64)):
        user, seq, owner = lookup(tf.constant(A_IDS), tf.constant(history), tf.constant(A2_IDS))
        np.testing.assert_array_equal(user.numpy(), STACK[A_IDS])
        np.testing.assert_array_equal(seq.numpy(), STACK[history + 2].reshape(2, -1, 2))
        np.testing.assert_array_equal(owner.numpy(), STACK[A2_IDS])
    inputs = [
        tf.keras.Input((), dtype="int64"),
        tf.keras.Input((None,), dtype="int64"),
        tf.keras.Input((), dtype="int64"),
    ]
    symbolic = _layer()(inputs)
    assert [tuple(s.shape) for s in symbolic] == [(None, 2), (None, None, 2), (None, 2)]
    model = tf.keras.Model(inputs, symbolic)
    np.testing.assert_array_equal(model(_ids())[1].numpy(), STACK[B_IDS + 2])


def test_one_gather_and_one_indexed_slices_gradient():
    layer = _layer()
    layer.build(None)
    rank_1, rank_2 = tf.TensorSpec((None,), tf.int64), tf.TensorSpec((None, 3), tf.int64)
    lookup = tf.function(lambda a, b, c: layer([a, b, c]))
    graph = lookup.get_concrete_function(rank_1, rank_2, rank_1).graph
    ops = [op.type for op in graph.get_operations()]
    assert ops.count("ResourceGather") == 1 and "ReadVariableOp" not in ops, sorted(ops)
    with tf.GradientTape() as tape:
        user, history, owner = layer(_ids())
        loss = tf.reduce_sum(user) + 2 * tf.reduce_sum(history) + 3 * tf.reduce_sum(owner)
    (grad,) = tape.gradient(loss, layer.trainable_variables)
    assert isinstance(grad, tf.IndexedSlices)
    # one gather over each batch row's ids, offsets added: [a, b + 2 (x3), a2]
    np.testing.assert_array_equal(grad.indices.numpy(), [1, 4, 2, 3, 0, 0, 3, 3, 2, 1])
    # row 0: a once (x1) + a2 once (x3); row 3 ("b" row 1): three times (x2)
    dense = tf.convert_to_tensor(grad).numpy()
    np.testing.assert_array_equal(dense[:, 0], [4.0, 4.0, 4.0, 6.0, 2.0])
    np.testing.assert_array_equal(dense[:, 1], dense[:, 0])


def test_feeding_tables_gathers_from_the_fed_rows():
    """A one-row stand-in (the ONNX twin's, `input_dim=1`) fed the stacked
    rows reads each table at its offset; a layer reads its own variable
    again after the block."""
    stand_in = _layer("zeros", input_dim=1)
    stand_in.build(None)
    assert tuple(stand_in.embeddings.shape) == (1, 2)
    with SparseEmbedding.feeding_tables({stand_in: tf.constant(STACK)}):
        assert stand_in.is_fed()
        user, history, owner = stand_in(_ids())
    np.testing.assert_array_equal(user.numpy(), STACK[A_IDS])
    np.testing.assert_array_equal(history.numpy(), STACK[B_IDS + 2])
    np.testing.assert_array_equal(owner.numpy(), STACK[A2_IDS])
    assert not stand_in.is_fed()
    layer = _layer()  # its own table outside the block, the fed one inside
    with SparseEmbedding.feeding_tables({layer: tf.constant(-STACK)}):
        np.testing.assert_array_equal(layer(_ids())[1].numpy(), -STACK[B_IDS + 2])
    np.testing.assert_array_equal(layer(_ids())[1].numpy(), STACK[B_IDS + 2])
    with pytest.raises(ValueError, match=r"expected a table of shape \(rows, 2\). Received shape"):
        with SparseEmbedding.feeding_tables({stand_in: tf.zeros((5, 3))}):
            pass


@pytest.mark.skipif(LEGACY_KERAS, reason="LoRA is a Keras 3 Embedding feature")
def test_lora_adds_its_low_rank_update_to_every_tables_rows():
    layer = _layer()
    layer.build(None)
    layer.enable_lora(1)
    layer.lora_embeddings_a.assign(np.array([[1.0], [0.0], [2.0], [0.0], [3.0]]))  # (5, 1)
    layer.lora_embeddings_b.assign(np.array([[1.0, 10.0]]))  # (1, 2)
    update = np.array([[1.0], [0.0], [2.0], [0.0], [3.0]]) * [1.0, 10.0]  # (5, 2)
    # Keras scales the update by lora_alpha / rank (1 here)
    user, history, owner = layer(_ids())
    np.testing.assert_array_equal(user.numpy(), (STACK + update)[A_IDS])
    np.testing.assert_array_equal(history.numpy(), (STACK + update)[B_IDS + 2])
    np.testing.assert_array_equal(layer.table("b").numpy(), (STACK + update)[2:5])


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        (([("a", 2)], ["a", "c"], 2), {}, r"among \['a'\] for each input. .*\['a', 'c'\]"),
        (([("a", 2)], [], 2), {}, r"expected a table name among \['a'\] for each input"),
        (([("a", 0)], ["a"], 2), {}, r"Table 'a': expected a positive .* Received: 0"),
        (([("a", -3)], ["a"], 2), {}, r"Table 'a': expected a positive .* Received: -3"),
        (([("a", 2.0)], ["a"], 2), {}, r"Table 'a': expected a positive .* Received: 2.0"),
        (([("a", True)], ["a"], 2), {}, r"Table 'a': expected a positive .* Received: True"),
        (([], [], 2), {}, r"expected at least one table. Received: tables=\(\)"),
        (([("a", 2), ("a", 3)], ["a"], 2), {}, r"distinct table names. .*\['a', 'a'\]"),
        (
            ([("a", 2)], ["a"], 2),
            {"input_features": ["x", "y"]},
            r"one feature name per input \(1\). Received 2: \['x', 'y'\]",
        ),
        (([("a", 2)], ["a"], 2), {"mask_zero": True}, r"does not support mask_zero=True"),
    ],
)
def test_bad_arguments_are_refused(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        StackedEmbedding(*args, **kwargs)


def test_the_wrong_number_of_inputs_is_refused():
    layer = _layer(name="stack")
    with pytest.raises(
        ValueError,
        match=r"Layer 'stack': expected a list of 3 id tensors "
        r"\(\['user', 'history', 'owner'\]\)",
    ):
        layer(_ids()[:2])
