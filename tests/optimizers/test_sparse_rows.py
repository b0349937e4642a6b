"""summed_rows: duplicate ids summed in a scratch slot, or in the step under parameter servers."""

import types

import numpy as np
import pytest
import tensorflow as tf

from keras_mtl.optimizers import Adagrad
from keras_mtl.optimizers import LazyAdam
from keras_mtl.optimizers import sparse_rows


def test_parameter_server_slots_are_never_used_as_scratch():
    assert sparse_rows.sums_in_place(types.SimpleNamespace(device="/job:localhost/task:0"))
    assert sparse_rows.sums_in_place(types.SimpleNamespace(device=""))
    assert not sparse_rows.sums_in_place(
        types.SimpleNamespace(device="/job:ps/replica:0/task:1/device:CPU:0")
    )


def test_both_ways_sum_each_id_once_and_read_the_old_rows():
    slot = np.arange(10.0, dtype=np.float32).reshape(5, 2)
    grad = tf.IndexedSlices(
        tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]),
        tf.constant([3, 1, 3]),
        tf.constant([5, 2]),
    )
    results = {}
    for in_place in (True, False):
        scratch = tf.Variable(slot)
        indices, old, summed = sparse_rows.summed_rows(Adagrad(), scratch, grad, in_place)
        results[in_place] = {
            int(i): (o.tolist(), s.tolist())
            for i, o, s in zip(indices.numpy(), old.numpy(), summed.numpy())
        }
        if not in_place:
            np.testing.assert_array_equal(scratch.numpy(), slot)  # only read
    assert (
        results[True]
        == results[False]
        == {3: ([6.0, 7.0], [6.0, 8.0]), 1: ([2.0, 3.0], [3.0, 4.0])}
    )


@pytest.mark.parametrize(
    "make", [lambda: Adagrad(0.1), lambda: LazyAdam(0.01)], ids=["Adagrad", "LazyAdam"]
)
def test_optimizers_step_alike_either_way(make, monkeypatch):
    rng = np.random.default_rng(0)
    start = rng.normal(size=(6, 3)).astype(np.float32)
    steps = [(rng.integers(0, 6, 8), rng.normal(size=(8, 3)).astype(np.float32)) for _ in range(3)]
    tables = {}
    for in_place in (True, False):
        monkeypatch.setattr(sparse_rows, "sums_in_place", lambda scratch, value=in_place: value)
        table, optimizer = tf.Variable(start), make()
        for ids, rows in steps:
            optimizer.apply_gradients([(tf.IndexedSlices(rows, ids, tf.constant([6, 3])), table)])
        tables[in_place] = table.numpy()
    np.testing.assert_allclose(tables[False], tables[True], rtol=1e-6, atol=1e-7)
    assert not np.array_equal(tables[True], start)
