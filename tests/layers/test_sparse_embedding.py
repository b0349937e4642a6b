"""SparseEmbedding: Keras' Embedding, looked up row by row on the variable."""

import numpy as np
import tensorflow as tf

from keras_mtl.layers import SparseEmbedding
from tests.layer_check import check_layer

TABLE = np.arange(12, dtype=np.float32).reshape(4, 3) / 10


def test_from_every_side_and_hand_computed_rows():
    ids = np.array([[0, 3], [2, 2]], dtype=np.int64)
    # config round trip needs a serializable initializer; the rows themselves
    # are checked against a constant table below
    check_layer(
        lambda: SparseEmbedding(4, 3, embeddings_initializer="ones"),
        ids,
        expected_output=np.ones((2, 2, 3), np.float32),
        num_trainable_weights=1,
    )
    layer = SparseEmbedding(4, 3, embeddings_initializer=tf.constant_initializer(TABLE))
    np.testing.assert_array_equal(layer(ids).numpy(), TABLE[ids])


def test_equals_keras_embedding_and_its_gradient_is_row_sparse():
    ours = SparseEmbedding(4, 3, embeddings_initializer=tf.constant_initializer(TABLE))
    keras = tf.keras.layers.Embedding(4, 3, embeddings_initializer=tf.constant_initializer(TABLE))
    ids = tf.constant([1, 1, 3])
    for layer in (ours, keras):
        layer.build((None,))
    np.testing.assert_array_equal(ours(ids).numpy(), keras(ids).numpy())
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(ours(ids) * tf.constant([[1.0], [2.0], [3.0]]))
    grad = tape.gradient(loss, ours.trainable_variables)[0]
    assert isinstance(grad, tf.IndexedSlices)
    dense = tf.convert_to_tensor(grad).numpy()
    np.testing.assert_allclose(dense[:, 0], [0.0, 3.0, 0.0, 3.0])


def test_the_step_graph_reads_rows_not_the_whole_table():
    layer = SparseEmbedding(1000, 2)
    layer.build((None,))
    lookup = tf.function(layer).get_concrete_function(tf.TensorSpec((None,), tf.int32))
    ops = {op.type for op in lookup.graph.get_operations()}
    assert "ResourceGather" in ops and "ReadVariableOp" not in ops, sorted(ops)
