"""SparseFeat: validation, dtype inference, index layout, config."""

import dataclasses
import doctest

import numpy as np
import pytest

from keras_mtl.features import SparseFeat
from keras_mtl.features import sparse_feat
from tests.spec_check import check_config_round_trip
from tests.spec_check import check_invalid_arguments


def test_defaults_and_inferred_fields():
    spec = SparseFeat("country", vocabulary=["DE", "FR"])
    assert spec.vocabulary == ("DE", "FR")
    assert spec.dtype == "string"
    assert spec.embedding_dim == 8
    assert spec.embedding_name == "country"
    assert spec.encoding == "lookup"
    assert spec.hash_bins is None and spec.vocabulary_size is None


ENCODINGS = [
    # lookup: row 0 is OOV, rows 1..len(vocabulary) the values.
    ({"vocabulary": ("a", "b", "c")}, "lookup", "string", 4),
    ({"vocabulary": (30, 10)}, "lookup", "int64", 3),
    # hash: exactly hash_bins rows, no OOV row.
    ({"hash_bins": 10}, "hash", "string", 10),
    ({"hash_bins": 10, "dtype": "int64"}, "hash", "int64", 10),
    # pre-encoded: ids 0..vocabulary_size-1 plus the OOV row at the end.
    ({"vocabulary_size": 7}, "encoded", "int64", 8),
    ({"vocabulary_size": 1}, "encoded", "int64", 2),
]


def test_encoding_dtype_and_num_embeddings(subtests):
    for kwargs, encoding, dtype, num_embeddings in ENCODINGS:
        with subtests.test(**kwargs):
            spec = SparseFeat("f", **kwargs)
            assert spec.encoding == encoding
            assert spec.dtype == dtype
            assert spec.num_embeddings == num_embeddings


def test_not_adapted_spec_has_no_encoding_and_points_to_adapt():
    spec = SparseFeat("f")
    assert spec.encoding is None
    assert spec.dtype is None
    with pytest.raises(ValueError, match=r"Feature 'f' has no vocabulary.*adapt"):
        _ = spec.num_embeddings


def test_numpy_integer_vocabulary_becomes_python_ints():
    spec = SparseFeat("f", vocabulary=np.array([5, 2], dtype="int64"))
    assert spec.vocabulary == (5, 2)
    assert all(type(v) is int for v in spec.vocabulary)
    assert spec.dtype == "int64"


def test_spec_is_immutable_and_hashable():
    spec = SparseFeat("f", vocabulary=("a",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.embedding_dim = 4
    assert spec.embedding_dim == 8
    assert hash(spec) == hash(SparseFeat("f", vocabulary=["a"]))
    assert spec == SparseFeat("f", vocabulary=["a"])


def test_replace_returns_a_new_validated_spec():
    spec = SparseFeat("f", vocabulary=("a", "b"))
    wider = spec.replace(embedding_dim=16)
    assert wider.embedding_dim == 16 and spec.embedding_dim == 8
    with pytest.raises(ValueError, match=r"embedding_dim=0"):
        spec.replace(embedding_dim=0)


INVALID = [
    ({"vocabulary_size": 5, "embedding_dim": 0}, r"Received: embedding_dim=0"),
    ({"vocabulary_size": 5, "embedding_dim": 2.5}, r"embedding_dim=2\.5"),
    ({"vocabulary": ("a",), "hash_bins": 4}, r"Received: vocabulary, hash_bins\."),
    ({"hash_bins": 4, "vocabulary_size": 3}, r"Received: hash_bins, vocabulary_size\."),
    ({"hash_bins": 1}, r"expected an integer >= 2\. Received: hash_bins=1"),
    ({"vocabulary_size": 0}, r"Received: vocabulary_size=0"),
    ({"vocabulary": ()}, r"Received: vocabulary=\(\)"),
    ({"vocabulary": ("a", "b", "a", "a")}, r"4 entries with duplicates \['a'\]"),
    ({"vocabulary": ("a", 1)}, r"mix of both, e\.g\. 'a' and 1"),
    ({"vocabulary": (1.5, 2)}, r"non-integer values \[1\.5\]"),
    # Would silently truncate to the duplicates (1, 1) without the check.
    ({"vocabulary": (1.2, 1.7)}, r"non-integer values \[1\.2, 1\.7\]"),
    ({"hash_bins": 4, "dtype": "float32"}, r"Received: dtype='float32'"),
    ({"vocabulary": ("a",), "dtype": "int64"}, r"dtype='int64' does not match"),
    ({"vocabulary_size": 4, "dtype": "string"}, r"Received: dtype='string'"),
]


def test_invalid_arguments_name_the_feature_and_received_value(subtests):
    check_invalid_arguments(subtests, SparseFeat, "f", INVALID)


def test_invalid_name(subtests):
    for name in ["", 3, None]:
        with subtests.test(name=name):
            with pytest.raises(ValueError, match=rf"Received: name={name!r}"):
                SparseFeat(name, vocabulary_size=3)


CONFIG_CASES = [
    SparseFeat("a", vocabulary=("x", "y"), embedding_dim=4),
    SparseFeat("b", vocabulary=(3, 1), embedding_name="shared"),
    SparseFeat("c", hash_bins=16, dtype="int64"),
    SparseFeat("d", vocabulary_size=9),
    SparseFeat("e"),
]


def test_config_round_trip(subtests):
    # The config is plain JSON (vocabulary as a list).
    check_config_round_trip(subtests, CONFIG_CASES)


def test_docstring_example():
    result = doctest.testmod(sparse_feat, verbose=False)
    assert result.attempted == 1 and result.failed == 0
