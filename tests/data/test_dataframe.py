"""DataFrame -> arrays and batched tf.data pipelines."""

import doctest

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from keras_mtl.data import dataframe
from keras_mtl.data import df_to_dataset
from keras_mtl.data import features_to_arrays
from keras_mtl.data import labels_to_arrays
from keras_mtl.features import DenseFeat
from keras_mtl.features import SparseFeat
from keras_mtl.features import VarLenSparseFeat
from keras_mtl.features import build_inputs
from keras_mtl.features import embed_features

FEATURES = [
    SparseFeat("city", vocabulary=("berlin", "paris"), embedding_dim=2),
    SparseFeat("item", vocabulary_size=10, embedding_dim=2),
    VarLenSparseFeat("history", maxlen=3, vocabulary_size=10, embedding_dim=2),
    DenseFeat("price", log1p=True),
    DenseFeat("vec", dimension=2),
]


def make_df(repeat=1):
    """5 rows (times `repeat`) with a missing city, label and sequence."""
    rng = np.random.RandomState(0)
    rows = 5 * repeat
    return pd.DataFrame(
        {
            "city": ["berlin", "paris", None, "rome", np.nan] * repeat,
            "item": np.arange(rows, dtype="int64"),
            "history": [[1, 2], [3], [], [4, 5, 6, 7], None] * repeat,
            "price": rng.uniform(0, 10, rows),
            "vec": [rng.uniform(size=2) for _ in range(rows)],
            "click": [1.0, 0.0, np.nan, 1.0, 0.0] * repeat,
            "buy": [0, 0, 1, 0, 1] * repeat,
        }
    )


def test_batches_have_the_right_dtypes_and_shapes():
    ds = df_to_dataset(make_df(), FEATURES, labels=["click", "buy"], batch_size=2)
    batches = list(ds)
    assert [len(y["click"]) for _, y in batches] == [2, 2, 1]
    x, y = batches[0]
    expected = {
        "city": ((2,), tf.string),
        "item": ((2,), tf.int64),
        "history": ((2, 3), tf.int64),
        "price": ((2,), tf.float32),
        "vec": ((2, 2), tf.float32),
    }
    assert set(x) == set(expected)
    for name, (shape, dtype) in expected.items():
        assert tuple(x[name].shape) == shape, name
        assert x[name].dtype == dtype, name
    assert set(y) == {"click", "buy"}
    assert all(v.dtype == tf.float32 and tuple(v.shape) == (2,) for v in y.values())


def test_values_are_kept_in_row_order():
    df = make_df()
    ds = df_to_dataset(df, FEATURES, labels=["click", "buy"], batch_size=5)
    x, y = next(iter(ds))
    assert x["city"].numpy().tolist() == [b"berlin", b"paris", b"", b"rome", b""]
    np.testing.assert_array_equal(x["item"], [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(
        x["history"], [[1, 2, 0], [3, 0, 0], [0, 0, 0], [4, 5, 6], [0, 0, 0]]
    )
    np.testing.assert_allclose(x["price"], df["price"], rtol=1e-6)
    np.testing.assert_allclose(x["vec"], np.stack(df["vec"]), rtol=1e-6)
    np.testing.assert_array_equal(y["buy"], [0, 0, 1, 0, 1])


def test_missing_labels_stay_nan():
    ds = df_to_dataset(make_df(), FEATURES, labels=["click"], batch_size=5)
    _, y = next(iter(ds))
    click = y["click"].numpy()
    assert np.isnan(click[2])
    np.testing.assert_array_equal(click[[0, 1, 3, 4]], [1.0, 0.0, 1.0, 0.0])


def test_label_mapping_renames_columns_to_task_names():
    ds = df_to_dataset(make_df(), FEATURES, labels={"ctr": "click", "cvr": "buy"}, batch_size=5)
    _, y = next(iter(ds))
    assert set(y) == {"ctr", "cvr"}
    np.testing.assert_array_equal(y["cvr"], [0.0, 0.0, 1.0, 0.0, 1.0])
    np.testing.assert_array_equal(np.isnan(y["ctr"]), [False, False, True, False, False])


def test_single_label_column_and_no_labels():
    df = make_df()
    _, y = next(iter(df_to_dataset(df, FEATURES, labels="buy", batch_size=5)))
    assert list(y) == ["buy"]
    x = next(iter(df_to_dataset(df, FEATURES, batch_size=5)))
    assert isinstance(x, dict) and set(x) == {f.name for f in FEATURES}


def test_drop_remainder():
    ds = df_to_dataset(make_df(), FEATURES, labels=["buy"], batch_size=2, drop_remainder=True)
    assert [len(y["buy"]) for _, y in ds] == [2, 2]
    assert ds.element_spec[1]["buy"].shape.as_list() == [2]


def test_shuffle_with_a_seed_is_reproducible():
    df = make_df(repeat=4)

    def items(seed):
        ds = df_to_dataset(df, FEATURES, batch_size=20, shuffle=True, seed=seed)
        return next(iter(ds))["item"].numpy().tolist()

    first = items(seed=3)
    assert items(seed=3) == first
    assert sorted(first) == list(range(20))  # a permutation of all rows
    assert first != list(range(20))
    assert items(seed=4) != first


def test_dataset_feeds_a_model():
    model_inputs = build_inputs(FEATURES)
    model = tf.keras.Model(model_inputs, embed_features(model_inputs, FEATURES))
    x = next(iter(df_to_dataset(make_df(), FEATURES, batch_size=4)))
    out = model(x).numpy()
    assert out.shape == (4, 2 + 2 + 2 + 1 + 2)
    assert np.all(np.isfinite(out))


def test_empty_dataframe_and_bad_batch_size_raise():
    with pytest.raises(ValueError, match=r"at least one row. Received 0 rows"):
        df_to_dataset(make_df().iloc[:0], FEATURES)
    for batch_size in (0, -1, 2.5, "8"):
        with pytest.raises(ValueError, match=rf"Received: batch_size={batch_size!r}"):
            df_to_dataset(make_df(), FEATURES, batch_size=batch_size)


def test_string_columns_with_missing_values_become_empty_strings():
    features = [SparseFeat("s", hash_bins=4)]
    for column in (
        ["a", None, "b"],
        ["a", np.nan, "b"],
        pd.Series(["a", None, "b"], dtype=object),
        pd.Series(["a", None, "b"], dtype="string"),
    ):
        arrays = features_to_arrays(pd.DataFrame({"s": column}), features)
        assert arrays["s"].tolist() == ["a", "", "b"]


def test_string_feature_on_a_numeric_column_uses_its_text():
    df = pd.DataFrame({"s": [3, 12]})
    arrays = features_to_arrays(df, [SparseFeat("s", hash_bins=4)])
    assert arrays["s"].tolist() == ["3", "12"]


def test_sequences_are_padded_and_truncated():
    features = [
        VarLenSparseFeat("tags", maxlen=2, vocabulary=("a", "b")),
        VarLenSparseFeat("ids", maxlen=3, vocabulary_size=9, weight_name="w"),
    ]
    df = pd.DataFrame(
        {
            "tags": [["a", "b", "a"], ["b"], pd.NA],
            "ids": [[1], np.array([2, 3, 4, 5]), []],
            "w": [[0.5], [1.0, 2.0, 3.0, 4.0], None],
        }
    )
    arrays = features_to_arrays(df, features)
    assert arrays["tags"].tolist() == [["a", "b"], ["b", ""], ["", ""]]
    np.testing.assert_array_equal(arrays["ids"], [[1, 0, 0], [2, 3, 4], [0, 0, 0]])
    assert arrays["ids"].dtype == np.int64
    np.testing.assert_array_equal(arrays["w"], [[0.5, 0, 0], [1, 2, 3], [0, 0, 0]])
    assert arrays["w"].dtype == np.float32


def test_integer_feature_with_missing_values_raises():
    df = pd.DataFrame({"i": [1.0, np.nan]})
    with pytest.raises(ValueError, match=r"Feature 'i'.*1 missing values"):
        features_to_arrays(df, [SparseFeat("i", vocabulary_size=3)])


def test_dense_vector_of_the_wrong_width_raises():
    df = pd.DataFrame({"v": [np.zeros(3), np.zeros(3)]})
    with pytest.raises(ValueError, match=r"Feature 'v'.*cells of 2 values.*\(3,\)"):
        features_to_arrays(df, [DenseFeat("v", dimension=2)])


def test_missing_columns_raise_key_errors():
    with pytest.raises(KeyError, match=r"Feature 'price'"):
        features_to_arrays(pd.DataFrame({"x": [1]}), [DenseFeat("price")])
    with pytest.raises(KeyError, match=r"Feature 'click'"):
        labels_to_arrays(pd.DataFrame({"x": [1]}), {"ctr": "click"})


def test_labels_to_arrays():
    df = pd.DataFrame({"a": [1, 0], "b": [0.5, np.nan], "text": ["x", "y"]})
    labels = labels_to_arrays(df, ("a", "b"))
    assert list(labels) == ["a", "b"]
    assert labels["a"].dtype == np.float32
    np.testing.assert_array_equal(labels["a"], [1.0, 0.0])
    assert labels["b"][0] == 0.5 and np.isnan(labels["b"][1])
    with pytest.raises(ValueError):
        labels_to_arrays(df, ["text"])


def test_docstring_example():
    globs = {"pd": pd, "SparseFeat": SparseFeat, "df_to_dataset": df_to_dataset}
    result = doctest.testmod(dataframe, extraglobs=globs, verbose=False)
    assert result.attempted == 3 and result.failed == 0


def test_missing_values_inside_string_sequences_become_padding():
    spec = VarLenSparseFeat("tags", maxlen=3, vocabulary=("a", "b"))
    df = pd.DataFrame({"tags": [["a", None, "b"], [np.nan]]})
    arrays = features_to_arrays(df, [spec])
    assert arrays["tags"].tolist() == [["a", "", "b"], ["", "", ""]]


def test_boolean_batch_size_is_rejected():
    df = pd.DataFrame({"item": [1, 2]})
    with pytest.raises(ValueError, match="batch_size=True"):
        df_to_dataset(df, [SparseFeat("item", vocabulary_size=5)], batch_size=True)
