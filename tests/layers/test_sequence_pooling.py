"""Tests of keras_mtl.layers.SequencePooling."""

import re

import numpy as np
import pytest
import tensorflow as tf

from keras_mtl.layers import SequencePooling
from tests.layer_check import check_layer

# (batch=3, maxlen=4, dim=2); negative values so "max" cannot hide behind 0.
EMBEDDINGS = np.array(
    [
        [[1.0, -2.0], [3.0, -4.0], [100.0, 100.0], [100.0, 100.0]],
        [[-5.0, -1.0], [-2.0, -3.0], [-4.0, -6.0], [-50.0, 50.0]],
        [[7.0, 7.0], [7.0, 7.0], [7.0, 7.0], [7.0, 7.0]],
    ],
    dtype="float32",
)
# Row 0: 2 values, row 1: 3 values, row 2: only padding.
STRING_VALUES = np.array([["a", "b", "", ""], ["c", "d", "e", ""], ["", "", "", ""]])
INT_VALUES = np.array([[4, 9, 0, 0], [1, 2, 3, 0], [0, 0, 0, 0]], dtype="int64")
MASK = INT_VALUES != 0  # the same positions in both encodings

PADS = {"string": ("", STRING_VALUES), "int": (0, INT_VALUES)}


def _numpy_pool(mode, embeddings, mask, weights=None):
    out = np.zeros((embeddings.shape[0], embeddings.shape[2]), "float32")
    for row in range(embeddings.shape[0]):
        kept = embeddings[row][mask[row]]  # (values, dim)
        if not len(kept):
            continue  # an all-padding row pools to zeros
        if mode == "max":
            out[row] = kept.max(axis=0)
            continue
        w = np.ones(len(kept)) if weights is None else weights[row][mask[row]]
        out[row] = (kept * w[:, None]).sum(axis=0)
        if mode == "mean":
            out[row] /= len(kept)
    return out


@pytest.mark.parametrize("pad", sorted(PADS))
@pytest.mark.parametrize("mode", ["mean", "sum", "max"])
def test_pooling_over_non_padded_positions(mode, pad):
    pad_value, values = PADS[pad]
    expected = _numpy_pool(mode, EMBEDDINGS, MASK)
    out = SequencePooling(mode, pad_value=pad_value)([EMBEDDINGS, values]).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[2], [0.0, 0.0])  # all-padding row


@pytest.mark.parametrize("mode, pad", [("mean", "string"), ("max", "int"), ("sum", "int")])
def test_sequence_pooling_from_every_side(mode, pad):
    pad_value, values = PADS[pad]
    out = check_layer(
        lambda: SequencePooling(mode, pad_value=pad_value),
        [EMBEDDINGS, values],
        expected_output=_numpy_pool(mode, EMBEDDINGS, MASK),
    )
    assert out.shape == (3, 2)


# Non-zero weights on padded positions must be ignored.
WEIGHTS = np.array(
    [[0.5, 2.0, 9.0, 9.0], [1.0, 0.0, 3.0, 9.0], [9.0, 9.0, 9.0, 9.0]], dtype="float32"
)


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_weighted_pooling(mode):
    expected = _numpy_pool(mode, EMBEDDINGS, MASK, WEIGHTS)
    # By hand for row 0: 0.5·[1, -2] + 2·[3, -4] = [6.5, -9]; mean divides by 2.
    np.testing.assert_allclose(expected[0], [6.5, -9.0] if mode == "sum" else [3.25, -4.5])
    out = check_layer(
        lambda: SequencePooling(mode, pad_value=""),
        [EMBEDDINGS, STRING_VALUES, WEIGHTS],
        expected_output=expected,
    )
    np.testing.assert_array_equal(out[2], [0.0, 0.0])


def test_max_of_all_padding_row_is_zero_not_minus_inf():
    embeddings = -np.ones((2, 3, 2), "float32")
    values = tf.constant([[0, 0, 0], [1, 0, 0]])
    out = SequencePooling("max", pad_value=0)([embeddings, values]).numpy()
    np.testing.assert_array_equal(out, [[0.0, 0.0], [-1.0, -1.0]])


@pytest.mark.parametrize(
    "kwargs, received",
    [
        ({"mode": "min"}, "mode='min'"),
        ({"mode": "mean", "pad_value": 0.5}, "0.5"),
        ({"mode": "mean", "pad_value": None}, "None"),
    ],
)
def test_sequence_pooling_invalid_arguments(kwargs, received):
    with pytest.raises(ValueError, match=re.escape(received)):
        SequencePooling(**kwargs)


def test_sequence_pooling_needs_two_or_three_inputs():
    with pytest.raises(ValueError, match=re.escape("[embeddings, values]")):
        SequencePooling("sum").build([(3, 4, 2)])
