"""VarLenSparseFeat: validation, padding value, index layout, config."""

import dataclasses
import doctest

import pytest

from keras_mtl.features import VarLenSparseFeat
from keras_mtl.features import var_len_sparse_feat
from tests.spec_check import check_config_round_trip
from tests.spec_check import check_invalid_arguments


def test_defaults():
    spec = VarLenSparseFeat("history", maxlen=5, vocabulary_size=100)
    assert spec.pooling == "mean"
    assert spec.dtype == "int64"
    assert spec.embedding_name == "history"
    assert spec.weight_name is None
    assert spec.pad_value == 0


def test_string_sequences_pad_with_empty_string():
    spec = VarLenSparseFeat("tags", maxlen=3, vocabulary=("a", "b"))
    assert spec.dtype == "string"
    assert spec.pad_value == ""


def test_num_embeddings_follows_the_shared_layout():
    # lookup: OOV row 0 + values; hash: hash_bins; encoded: ids + OOV row.
    lookup = VarLenSparseFeat("s", maxlen=2, vocabulary=("a", "b", "c"))
    assert lookup.num_embeddings == 4
    assert VarLenSparseFeat("s", maxlen=2, hash_bins=32).num_embeddings == 32
    assert VarLenSparseFeat("s", maxlen=2, vocabulary_size=10).num_embeddings == 11


def test_valid_poolings():
    for pooling in ("mean", "sum", "max"):
        assert VarLenSparseFeat("s", maxlen=2, pooling=pooling).pooling == pooling


INVALID = [
    ({"maxlen": 0}, r"Received: maxlen=0"),
    ({"maxlen": -2}, r"Received: maxlen=-2"),
    ({"maxlen": "3"}, r"Received: maxlen='3'"),
    ({"maxlen": 3, "pooling": "avg"}, r"Received: pooling='avg'"),
    ({"maxlen": 3, "embedding_dim": 0}, r"Received: embedding_dim=0"),
    (
        {"maxlen": 3, "vocabulary": (1, 2), "vocabulary_size": 3},
        r"Received: vocabulary, vocabulary_size\.",
    ),
    ({"maxlen": 3, "vocabulary": (1, 2, 2)}, r"duplicates \[2\]"),
]


def test_invalid_arguments_name_the_feature_and_received_value(subtests):
    check_invalid_arguments(subtests, VarLenSparseFeat, "s", INVALID)


def test_spec_is_immutable():
    spec = VarLenSparseFeat("s", maxlen=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.maxlen = 4
    assert spec.maxlen == 2


def test_config_round_trip(subtests):
    specs = [
        VarLenSparseFeat("a", maxlen=4, vocabulary=("x", "y"), pooling="max"),
        VarLenSparseFeat("b", maxlen=2, vocabulary_size=50, weight_name="b_w"),
        VarLenSparseFeat("c", maxlen=3, hash_bins=8, embedding_name="items"),
        VarLenSparseFeat("d", maxlen=3, pooling="sum"),
    ]
    check_config_round_trip(subtests, specs)


def test_docstring_example():
    result = doctest.testmod(var_len_sparse_feat, verbose=False)
    assert result.attempted == 1 and result.failed == 0
