"""LazyAdam against a NumPy reference of its update rule."""

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from keras_mtl.optimizers import LazyAdam

LR, B1, B2, EPS = 0.05, 0.8, 0.9, 1e-7


def reference(table, steps, amsgrad=False):
    """Lazy Adam in NumPy: `steps` is a list of (ids, rows) with duplicates."""
    table = table.astype(np.float64).copy()
    m, v, v_hat = np.zeros_like(table), np.zeros_like(table), np.zeros_like(table)
    for t, (ids, rows) in enumerate(steps, start=1):
        unique = sorted(set(ids))
        grad = {i: sum(np.array(r) for j, r in zip(ids, rows) if j == i) for i in unique}
        alpha = LR * np.sqrt(1 - B2**t) / (1 - B1**t)
        for i in unique:
            m[i] = B1 * m[i] + (1 - B1) * grad[i]
            v[i] = B2 * v[i] + (1 - B2) * grad[i] ** 2
            v_hat[i] = np.maximum(v_hat[i], v[i])
            table[i] -= alpha * m[i] / (np.sqrt(v_hat[i] if amsgrad else v[i]) + EPS)
    return table, m, v


def sparse(ids, rows, num_rows):
    return tf.IndexedSlices(
        tf.constant(rows, tf.float32), tf.constant(ids), tf.constant([num_rows, len(rows[0])])
    )


STEPS = [
    ([1, 3, 1], [[1.0, -2.0], [0.5, 0.5], [3.0, 1.0]]),  # id 1 twice
    ([0, 3], [[-1.0, 0.2], [2.0, -0.1]]),
    ([3, 3, 3], [[0.1, 0.1], [0.2, 0.2], [-0.4, 0.3]]),
]


@pytest.mark.parametrize("amsgrad", [False, True])
def test_sparse_steps_match_the_reference_on_touched_and_untouched_rows(amsgrad):
    start = np.arange(10, dtype=np.float32).reshape(5, 2) / 10
    table = tf.Variable(start)
    optimizer = LazyAdam(LR, beta_1=B1, beta_2=B2, epsilon=EPS, amsgrad=amsgrad)
    for ids, rows in STEPS:
        optimizer.apply_gradients([(sparse(ids, rows, 5), table)])
    expected, m, v = reference(start, STEPS, amsgrad)
    np.testing.assert_allclose(table.numpy(), expected, rtol=1e-5, atol=1e-6)
    # rows 2 and 4 were never in a batch: value and moments untouched
    np.testing.assert_array_equal(table.numpy()[[2, 4]], start[[2, 4]])
    moments = optimizer.variables
    assert any(np.allclose(s.numpy(), m) for s in moments if tuple(s.shape) == (5, 2))
    assert any(np.allclose(s.numpy(), v) for s in moments if tuple(s.shape) == (5, 2))


@pytest.mark.parametrize("rows", [6, 70_000])
def test_under_xla_duplicates_are_summed_as_the_reference(rows):
    """The in-place sum of duplicate ids (scatter-add into a slot's rows) is
    exact under XLA too, on small and large tables."""
    start = np.linspace(-1, 1, rows * 2, dtype=np.float32).reshape(rows, 2)
    table = tf.Variable(start)
    optimizer = LazyAdam(LR, beta_1=B1, beta_2=B2, epsilon=EPS)
    optimizer.build([table])
    step = tf.function(lambda grad: optimizer.apply_gradients([(grad, table)]), jit_compile=True)
    for ids, values in STEPS:
        step(sparse(ids, values, rows))
    expected, _, _ = reference(start, STEPS)
    np.testing.assert_allclose(table.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_untouched_rows_keep_their_moments_where_adam_decays_them():
    start = np.zeros((3, 1), np.float32)
    lazy, dense = tf.Variable(start), tf.Variable(start)
    lazy_opt, adam = LazyAdam(LR), tf.keras.optimizers.Adam(LR)
    for ids in ([0], [1]):
        grad = sparse(ids, [[1.0]], 3)
        lazy_opt.apply_gradients([(grad, lazy)])
        adam.apply_gradients([(grad, dense)])
    # step 2 touched only row 1: Adam still moved row 0 (its momentum), LazyAdam did not
    assert lazy.numpy()[0, 0] == pytest.approx(-LR, rel=1e-4)
    assert dense.numpy()[0, 0] < lazy.numpy()[0, 0]
    np.testing.assert_array_equal(lazy.numpy()[2], [0.0])


def test_duplicate_ids_are_summed_once():
    once, twice = tf.Variable(tf.zeros((2, 2))), tf.Variable(tf.zeros((2, 2)))
    opt_once, opt_twice = LazyAdam(LR), LazyAdam(LR)
    for _ in range(3):
        opt_once.apply_gradients([(sparse([1], [[3.0, -1.0]], 2), once)])
        opt_twice.apply_gradients([(sparse([1, 1], [[1.0, -2.0], [2.0, 1.0]], 2), twice)])
    np.testing.assert_allclose(twice.numpy(), once.numpy(), rtol=1e-6)


def test_dense_variables_are_updated_exactly_as_adam():
    start = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    lazy, dense = tf.Variable(start), tf.Variable(start)
    lazy_opt = LazyAdam(LR, beta_1=B1, amsgrad=True)
    adam = tf.keras.optimizers.Adam(LR, beta_1=B1, amsgrad=True)
    for step in range(3):
        grad = tf.constant(np.cos(start * (step + 1)))
        lazy_opt.apply_gradients([(grad, lazy)])
        adam.apply_gradients([(grad, dense)])
    np.testing.assert_array_equal(lazy.numpy(), dense.numpy())


def test_a_sparse_gradient_over_every_row_equals_adam():
    start = np.ones((3, 2), np.float32)
    lazy, dense = tf.Variable(start), tf.Variable(start)
    lazy_opt, adam = LazyAdam(LR), tf.keras.optimizers.Adam(LR)
    for step in range(3):
        grad = sparse([2, 0, 1], [[1.0, step], [0.5, -1.0], [2.0, 0.0]], 3)
        lazy_opt.apply_gradients([(grad, lazy)])
        adam.apply_gradients([(tf.convert_to_tensor(grad), dense)])
    # the same rule; float32 rounding differs by the order of operations
    np.testing.assert_allclose(lazy.numpy(), dense.numpy(), rtol=1e-5)


def test_serializes_with_its_settings():
    optimizer = LazyAdam(0.01, beta_1=0.7, amsgrad=True)
    restored = tf.keras.optimizers.deserialize(tf.keras.optimizers.serialize(optimizer))
    assert type(restored) is LazyAdam
    assert restored.get_config()["beta_1"] == pytest.approx(0.7)
    assert restored.get_config()["amsgrad"] is True
    assert keras_mtl.optimizers.LazyAdam is LazyAdam


def test_trains_an_embedding_inside_tf_function():
    layer = tf.keras.layers.Embedding(50, 2, embeddings_initializer="ones")
    layer.build((None,))
    optimizer = LazyAdam(LR)

    @tf.function
    def step(ids):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(ids))
        grads = tape.gradient(loss, layer.trainable_variables)
        optimizer.apply_gradients(zip(grads, layer.trainable_variables))

    step(tf.constant([4, 4, 7]))
    table = layer.embeddings.numpy()
    np.testing.assert_allclose(table[[4, 7]], 1.0 - LR, rtol=1e-4)
    assert (table[np.setdiff1d(np.arange(50), [4, 7])] == 1.0).all()
