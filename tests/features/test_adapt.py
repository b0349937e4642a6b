"""adapt: vocabularies and normalisation statistics learned from a DataFrame."""

import re

import numpy as np
import pandas as pd
import pytest

from keras_mtl.features import DenseFeat
from keras_mtl.features import SparseFeat
from keras_mtl.features import VarLenSparseFeat
from keras_mtl.features import adapt


def test_string_vocabulary_is_ordered_by_frequency_then_value():
    # b x3, a x2, d x1, c x1 (tie broken by value); "" and None are missing.
    df = pd.DataFrame({"c": ["b", "a", "d", "b", "", "c", "a", None, "b"]})
    (spec,) = adapt([SparseFeat("c", embedding_dim=4)], df)
    assert spec.vocabulary == ("b", "a", "c", "d")
    assert spec.dtype == "string"
    assert spec.encoding == "lookup"
    assert spec.num_embeddings == 5
    assert spec.embedding_dim == 4


def test_nullable_string_column():
    df = pd.DataFrame({"c": pd.Series(["b", pd.NA, "b", "a"], dtype="string")})
    (spec,) = adapt([SparseFeat("c")], df)
    assert spec.vocabulary == ("b", "a")
    assert spec.dtype == "string"


def test_integer_column_keeps_int64():
    df = pd.DataFrame({"i": np.array([7, 3, 7, 9, 3, 7, 1], dtype="int64")})
    (spec,) = adapt([SparseFeat("i")], df)
    assert spec.vocabulary == (7, 3, 1, 9)
    assert all(type(v) is int for v in spec.vocabulary)
    assert spec.dtype == "int64"


def test_explicit_string_dtype_on_an_integer_column():
    df = pd.DataFrame({"i": [7, 3, 7]})
    (spec,) = adapt([SparseFeat("i", dtype="string")], df)
    assert spec.vocabulary == ("7", "3")
    assert spec.dtype == "string"


def test_shared_embedding_name_learns_the_union_vocabulary():
    df = pd.DataFrame({"a": ["x", "y", "x"], "b": ["y", "y", "z"]})
    specs = adapt(
        [
            SparseFeat("a", embedding_name="emb"),
            SparseFeat("b", embedding_name="emb"),
            SparseFeat("c_other", vocabulary_size=3),
        ],
        df,
    )
    # y: 1 + 2, x: 2, z: 1 over both columns.
    assert specs[0].vocabulary == specs[1].vocabulary == ("y", "x", "z")
    assert specs[0].embedding_name == specs[1].embedding_name == "emb"


def test_string_sequences_skip_padding_and_missing_cells():
    df = pd.DataFrame({"tags": [["a", "b"], ["b", ""], [], None]})
    (spec,) = adapt([VarLenSparseFeat("tags", maxlen=2)], df)
    assert spec.vocabulary == ("b", "a")
    assert spec.dtype == "string"
    assert spec.pad_value == ""


def test_integer_sequences_keep_int64_and_skip_zero_padding():
    # Regression: integer lists used to be learned as strings, making the
    # padding id "0" the most frequent category.
    df = pd.DataFrame({"hist": [[5, 7, 0], [7, 0, 0], [7, 7, 5]]})
    (spec,) = adapt([VarLenSparseFeat("hist", maxlen=3)], df)
    assert spec.vocabulary == (7, 5)
    assert spec.dtype == "int64"
    assert spec.pad_value == 0


def test_sparse_and_sequence_sharing_a_table():
    df = pd.DataFrame({"item": [4, 2, 4], "hist": [[2, 9], [9, 9], [0, 0]]})
    specs = adapt(
        [
            SparseFeat("item", embedding_name="items"),
            VarLenSparseFeat("hist", maxlen=2, embedding_name="items"),
        ],
        df,
    )
    # 9 x3, 2 x2, 4 x2 (tie: 2 < 4); the sequence padding 0 is not counted.
    assert specs[0].vocabulary == specs[1].vocabulary == (9, 2, 4)
    assert specs[0].dtype == specs[1].dtype == "int64"


def test_dense_statistics_are_the_column_mean_and_variance():
    values = np.array([1.0, 2.0, 4.0, 9.0])
    df = pd.DataFrame({"x": values})
    (spec,) = adapt([DenseFeat("x", normalize=True)], df)
    assert spec.mean == pytest.approx(4.0)
    assert spec.variance == pytest.approx(np.var(values))  # population variance
    assert spec.is_adapted


def test_dense_statistics_after_signed_log1p():
    values = np.array([-3.0, 0.0, 1.0, 100.0])
    df = pd.DataFrame({"amount": values})
    (spec,) = adapt([DenseFeat("amount", log1p=True, normalize=True)], df)
    transformed = np.sign(values) * np.log1p(np.abs(values))
    assert spec.mean == pytest.approx(transformed.mean())
    assert spec.variance == pytest.approx(transformed.var())
    assert spec.log1p is True


def test_dense_statistics_of_vector_cells():
    df = pd.DataFrame({"v": [np.array([0.0, 2.0]), np.array([4.0, 6.0])]})
    (spec,) = adapt([DenseFeat("v", dimension=2, normalize=True)], df)
    assert spec.mean == pytest.approx(3.0)
    assert spec.variance == pytest.approx(5.0)


def test_dense_statistics_reject_missing_values():
    df = pd.DataFrame({"x": [1.0, np.nan]})
    with pytest.raises(ValueError, match=r"Feature 'x'.*NaN or inf"):
        adapt([DenseFeat("x", normalize=True)], df)


def test_complete_specs_are_returned_unchanged():
    specs = (
        SparseFeat("a", vocabulary=("x",)),
        SparseFeat("b", hash_bins=4),
        SparseFeat("c", vocabulary_size=3),
        VarLenSparseFeat("d", maxlen=2, vocabulary_size=3),
        DenseFeat("e"),
        DenseFeat("f", mean=1.0, variance=2.0),
    )
    # None of these columns exists: complete specs never look at the data.
    adapted = adapt(list(specs), pd.DataFrame({"other": [1]}))
    assert isinstance(adapted, tuple)
    assert adapted == specs
    assert all(new is old for new, old in zip(adapted, specs))


def test_order_is_kept_when_mixing_complete_and_learned_specs():
    df = pd.DataFrame({"a": ["u"], "x": [2.0]})
    specs = adapt(
        [DenseFeat("x", normalize=True), SparseFeat("b", hash_bins=4), SparseFeat("a")],
        df,
    )
    assert [s.name for s in specs] == ["x", "b", "a"]
    assert specs[0].mean == 2.0 and specs[0].variance == 0.0
    assert specs[2].vocabulary == ("u",)


def test_missing_column_names_the_feature_and_available_columns():
    df = pd.DataFrame({"y": [1], "x": [2]})
    with pytest.raises(KeyError, match=re.escape("Feature 'c'")) as info:
        adapt([SparseFeat("c")], df)
    assert "['x', 'y']" in str(info.value)


def test_only_missing_values_cannot_make_a_vocabulary():
    df = pd.DataFrame({"c": [None, ""]})
    with pytest.raises(ValueError, match=r"\['c'\].*only missing"):
        adapt([SparseFeat("c")], df)
