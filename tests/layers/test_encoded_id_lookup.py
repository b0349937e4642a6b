"""Tests of keras_mtl.layers.EncodedIdLookup."""

import re

import numpy as np
import pytest
import tensorflow as tf

from keras_mtl.layers import EncodedIdLookup
from tests.layer_check import check_layer

VOCABULARY_SIZE = 5


def test_encoded_id_lookup_from_every_side():
    ids = np.array([[0, 4], [5, -1], [2, 99]], dtype="int64")
    out = check_layer(
        lambda: EncodedIdLookup(VOCABULARY_SIZE),
        ids,
        expected_output=np.array([[0, 4], [5, 5], [2, 5]], dtype="int64"),
    )
    assert out.dtype == np.int64


@pytest.mark.parametrize("dtype", [tf.int32, tf.int64])
def test_in_range_ids_pass_and_others_map_to_oov(dtype):
    ids = tf.constant([0, 1, 4, 5, 6, -1, -100, 2**30], dtype=dtype)
    out = EncodedIdLookup(VOCABULARY_SIZE)(ids)
    assert out.dtype == tf.int64
    np.testing.assert_array_equal(out.numpy(), [0, 1, 4, 5, 5, 5, 5, 5])


def test_ids_beyond_two_to_the_31_keep_their_row():
    """A table of more than 2^31 rows: ids past int32 pass unchanged, the
    OOV row is the vocabulary size itself (no int32 wrap-around)."""
    size = 2**33 + 5
    ids = tf.constant([2**31, 2**32 + 1, size - 1, size, -1], tf.int64)
    out = EncodedIdLookup(size)(ids)
    assert out.dtype == tf.int64
    np.testing.assert_array_equal(out.numpy(), [2**31, 2**32 + 1, size - 1, size, size])


def test_symbolic_output_is_int64_and_feeds_an_embedding():
    ids = tf.keras.Input(shape=(2,), dtype="int64")
    rows = EncodedIdLookup(VOCABULARY_SIZE)(ids)
    assert tf.as_dtype(rows.dtype) == tf.int64
    # The extra OOV row is index VOCABULARY_SIZE: the table has size + 1 rows.
    table = tf.keras.layers.Embedding(
        VOCABULARY_SIZE + 1,
        1,
        embeddings_initializer=tf.keras.initializers.Constant(
            np.arange(VOCABULARY_SIZE + 1, dtype="float32")[:, None]
        ),
    )
    model = tf.keras.Model(ids, table(rows))
    out = model(np.array([[3, 7], [-2, 0]], dtype="int64")).numpy()
    np.testing.assert_array_equal(out[..., 0], [[3, 5], [5, 0]])


@pytest.mark.parametrize("vocabulary_size", [0, -3, 2.5, True])
def test_invalid_vocabulary_size(vocabulary_size):
    received = f"vocabulary_size={vocabulary_size!r}"
    with pytest.raises(ValueError, match=re.escape(received)):
        EncodedIdLookup(vocabulary_size)
