"""keras_mtl's Adagrad: row-wise sparse updates, duplicate ids summed once."""

import numpy as np
import tensorflow as tf

from keras_mtl.optimizers import Adagrad

LR, INIT, EPS = 0.1, 0.1, 1e-7


def test_sparse_steps_match_the_reference_with_duplicates():
    start = np.ones((4, 2), np.float32)
    table = tf.Variable(start)
    optimizer = Adagrad(LR, initial_accumulator_value=INIT, epsilon=EPS)
    steps = [([1, 1], [[1.0, 2.0], [3.0, 4.0]]), ([1, 3], [[-1.0, 0.5], [2.0, 2.0]])]
    expected, acc = start.astype(np.float64).copy(), np.full((4, 2), INIT)
    for ids, rows in steps:
        grad = tf.IndexedSlices(tf.constant(rows), tf.constant(ids), tf.constant([4, 2]))
        optimizer.apply_gradients([(grad, table)])
        for i in sorted(set(ids)):
            g = sum(np.array(r) for j, r in zip(ids, rows) if j == i)
            acc[i] += g**2
            expected[i] -= LR * g / np.sqrt(acc[i] + EPS)
    np.testing.assert_allclose(table.numpy(), expected, rtol=1e-5)
    np.testing.assert_array_equal(table.numpy()[[0, 2]], start[[0, 2]])


def test_dense_variables_are_updated_exactly_as_keras_adagrad():
    start = np.random.default_rng(1).normal(size=(3, 2)).astype(np.float32)
    ours, keras = tf.Variable(start), tf.Variable(start)
    mine, theirs = Adagrad(LR), tf.keras.optimizers.Adagrad(LR)
    for step in range(3):
        grad = tf.constant(np.sin(start + step))
        mine.apply_gradients([(grad, ours)])
        theirs.apply_gradients([(grad, keras)])
    np.testing.assert_array_equal(ours.numpy(), keras.numpy())
