"""build_inputs / embed_features / validate_features inside functional models.

Embedding tables are set to known values (row r holds r, or a marker value
for the OOV/padding row) so the model output shows which row each raw value
was mapped to. The tables of one width are stacked into one
`StackedEmbedding` layer; `set_table` writes one table's slice of it.
"""

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from keras_mtl.data import features_to_arrays
from keras_mtl.features import DenseFeat
from keras_mtl.features import SparseFeat
from keras_mtl.features import VarLenSparseFeat
from keras_mtl.features import adapt
from keras_mtl.features import build_inputs
from keras_mtl.features import embed_features
from keras_mtl.features import validate_features
from keras_mtl.layers import StackedEmbedding
from tests.embedding_tables import get_table
from tests.embedding_tables import set_table


def bottom_model(features, **kwargs):
    inputs = build_inputs(features)
    return tf.keras.Model(inputs, embed_features(inputs, features, **kwargs))


def row_ids_table(num_embeddings):
    """A (num_embeddings, 1) table whose row r holds the value r."""
    return np.arange(num_embeddings, dtype="float32")[:, None]


def run(model, df, features):
    """Model output for the rows of `df`, through the DataFrame pipeline."""
    arrays = features_to_arrays(df, features)
    return model({k: tf.constant(v) for k, v in arrays.items()}).numpy()


def embedding_layers(model):
    return [layer for layer in model.layers if isinstance(layer, tf.keras.layers.Embedding)]


def test_build_inputs_shapes_and_dtypes():
    features = [
        SparseFeat("s", vocabulary=("a",)),
        SparseFeat("i", vocabulary_size=3),
        VarLenSparseFeat("h", maxlen=4, vocabulary_size=3, weight_name="h_w"),
        DenseFeat("x"),
        DenseFeat("v", dimension=3),
    ]
    inputs = build_inputs(features)
    expected = {
        "s": ((None,), tf.string),
        "i": ((None,), tf.int64),
        "h_w": ((None, 4), tf.float32),
        "h": ((None, 4), tf.int64),
        "x": ((None,), tf.float32),
        "v": ((None, 3), tf.float32),
    }
    assert set(inputs) == set(expected)
    for name, (shape, dtype) in expected.items():
        assert tuple(inputs[name].shape) == shape, name
        assert tf.as_dtype(inputs[name].dtype) == dtype, name


def test_string_lookup_maps_unseen_and_missing_values_to_row_zero():
    features = [SparseFeat("c", vocabulary=("a", "b", "c"), embedding_dim=1)]
    model = bottom_model(features)
    set_table(model, "c", row_ids_table(4))
    df = pd.DataFrame({"c": ["b", "a", "c", "unseen", "", None, np.nan]})
    out = run(model, df, features)
    assert out.shape == (7, 1)
    np.testing.assert_array_equal(out[:, 0], [2, 1, 3, 0, 0, 0, 0])


def test_integer_lookup_maps_unseen_values_to_row_zero():
    features = [SparseFeat("i", vocabulary=(30, 10, 20), embedding_dim=1)]
    model = bottom_model(features)
    set_table(model, "i", row_ids_table(4))
    df = pd.DataFrame({"i": [10, 20, 30, 0, 99, -1]})
    np.testing.assert_array_equal(run(model, df, features)[:, 0], [2, 3, 1, 0, 0, 0])


def test_adapted_spec_builds_a_working_lookup():
    df = pd.DataFrame({"c": ["y", "x", "y", None]})
    features = adapt([SparseFeat("c", embedding_dim=1)], df)
    model = bottom_model(features)
    set_table(model, "c", row_ids_table(3))
    np.testing.assert_array_equal(run(model, df, features)[:, 0], [1, 2, 1, 0])


def test_hashing_gives_a_row_in_range():
    features = [SparseFeat("s", hash_bins=5, embedding_dim=1)]
    model = bottom_model(features)
    set_table(model, "s", row_ids_table(5))
    values = ["a", "b", "a", "long value", ""]
    rows = run(model, pd.DataFrame({"s": values}), features)[:, 0]
    assert np.all((rows >= 0) & (rows < 5))
    assert rows[0] == rows[2]  # same value, same row
    # The Hashing layer without salt is FarmHash64 modulo the bins.
    expected = tf.strings.to_hash_bucket_fast(values, 5).numpy()
    np.testing.assert_array_equal(rows, expected)


def test_hashing_integers():
    features = [SparseFeat("i", hash_bins=3, dtype="int64", embedding_dim=1)]
    model = bottom_model(features)
    set_table(model, "i", row_ids_table(3))
    rows = run(model, pd.DataFrame({"i": [10**12, 7, 10**12, -4]}), features)[:, 0]
    assert np.all((rows >= 0) & (rows < 3))
    assert rows[0] == rows[2]


def test_encoded_ids_use_their_row_and_out_of_range_ids_the_last_row():
    features = [SparseFeat("id", vocabulary_size=4, embedding_dim=2)]
    model = bottom_model(features)
    assert embedding_layers(model)[0].get_weights()[0].shape == (5, 2)
    table = np.array([[0, 0], [1, -1], [2, -2], [3, -3], [99, -99]])
    set_table(model, "id", table)
    out = run(model, pd.DataFrame({"id": [0, 3, 1, 4, -1, 1000]}), features)
    np.testing.assert_array_equal(out, table[[0, 3, 1, 4, 4, 4]])


def test_shared_embedding_name_uses_one_table():
    features = [
        SparseFeat(
            "item",
            vocabulary=("a", "b", "c"),
            embedding_dim=1,
            embedding_name="items",
        ),
        VarLenSparseFeat(
            "history",
            maxlen=3,
            vocabulary=("a", "b", "c"),
            embedding_dim=1,
            embedding_name="items",
            pooling="sum",
        ),
        SparseFeat("other", vocabulary_size=2, embedding_dim=1),
    ]
    model = bottom_model(features)
    (layer,) = embedding_layers(model)  # every table is 1 wide: one stack
    assert layer.name == "embedding_tables_1"
    assert layer.tables == (("items", 4), ("other", 3))  # "items" once, for both features
    assert layer.input_tables == ("items", "items", "other")
    assert layer.input_features == ("item", "history", "other")
    assert len(model.trainable_weights) == 1
    assert tuple(model.trainable_weights[0].shape) == (7, 1)
    set_table(model, "items", [[100.0], [1.0], [2.0], [3.0]])
    set_table(model, "other", [[0.0], [0.5], [-1.0]])
    np.testing.assert_array_equal(
        layer.get_weights()[0][:, 0], [100.0, 1.0, 2.0, 3.0, 0.0, 0.5, -1.0]
    )
    df = pd.DataFrame(
        {"item": ["c", "a"], "history": [["a", "b"], ["c", "zz", "c"]], "other": [1, 7]}
    )
    out = run(model, df, features)
    # Columns follow the feature order: item, history (sum), other.
    np.testing.assert_allclose(out, [[3.0, 3.0, 0.5], [1.0, 106.0, -1.0]])


def test_shared_embedding_name_with_different_settings_raises():
    mismatches = [
        (dict(vocabulary=("a", "b")), dict(vocabulary=("a", "c"))),
        (
            dict(vocabulary=("a",), embedding_dim=4),
            dict(vocabulary=("a",), embedding_dim=8),
        ),
        (dict(hash_bins=4), dict(hash_bins=8)),
        (dict(vocabulary_size=4), dict(hash_bins=4, dtype="int64")),
    ]
    for first, second in mismatches:
        features = [
            SparseFeat("u", embedding_name="t", **first),
            SparseFeat("v", embedding_name="t", **second),
        ]
        with pytest.raises(ValueError, match=r"'u' and 'v' share embedding_name 't'"):
            build_inputs(features)
        with pytest.raises(ValueError, match=r"share embedding_name"):
            validate_features(features)


SEQUENCE_TABLE = [[100.0], [1.0], [2.0], [3.0], [4.0], [5.0]]  # row 0 is padding


@pytest.mark.parametrize(
    "pooling, expected",
    [
        ("mean", [1.5, 3.0, 0.0, 4.0]),
        ("sum", [3.0, 3.0, 0.0, 12.0]),
        ("max", [2.0, 3.0, 0.0, 5.0]),
    ],
)
def test_sequence_pooling_ignores_padding(pooling, expected):
    # Padding rows hold 100, so any padding that leaks in changes the result.
    features = [
        VarLenSparseFeat("h", maxlen=3, vocabulary_size=5, pooling=pooling, embedding_dim=1)
    ]
    model = bottom_model(features)
    set_table(model, "h", SEQUENCE_TABLE)
    df = pd.DataFrame({"h": [[1, 2], [3, 0, 0], None, [5, 4, 3, 1]]})
    np.testing.assert_allclose(run(model, df, features)[:, 0], expected)


def test_string_sequence_pools_oov_but_not_padding():
    features = [VarLenSparseFeat("t", maxlen=3, vocabulary=("a", "b"), embedding_dim=1)]
    model = bottom_model(features)
    set_table(model, "t", [[100.0], [1.0], [2.0]])
    df = pd.DataFrame({"t": [["a", "b"], ["a", "unseen"], [], ["b", ""], None]})
    # An unseen value is a real position on the OOV row; "" is padding, and
    # an empty or missing cell pools to zeros.
    np.testing.assert_allclose(run(model, df, features)[:, 0], [1.5, 50.5, 0.0, 2.0, 0.0])


@pytest.mark.parametrize(
    "pooling, expected",
    [
        # 0.5*1 + 2*2 over 2 positions; 3*3 over 1; nothing.
        ("mean", [2.25, 9.0, 0.0]),
        ("sum", [4.5, 9.0, 0.0]),
    ],
)
def test_weighted_sequence_pooling(pooling, expected):
    features = [
        VarLenSparseFeat(
            "h",
            maxlen=3,
            vocabulary_size=5,
            pooling=pooling,
            embedding_dim=1,
            weight_name="h_weight",
        )
    ]
    model = bottom_model(features)
    set_table(model, "h", SEQUENCE_TABLE)
    df = pd.DataFrame(
        {
            "h": [[1, 2, 0], [3], []],
            "h_weight": [[0.5, 2.0, 9.0], [3.0], [7.0, 7.0]],
        }
    )
    np.testing.assert_allclose(run(model, df, features)[:, 0], expected)


def test_dense_transforms():
    features = [
        DenseFeat("raw"),
        DenseFeat("amount", log1p=True, mean=1.0, variance=4.0),
        DenseFeat("vec", dimension=2, mean=1.0, variance=0.0),
    ]
    model = bottom_model(features)
    assert not embedding_layers(model)
    df = pd.DataFrame(
        {
            "raw": [2.5, -1.0],
            "amount": [-3.0, 10.0],
            "vec": [np.array([1.0, 3.0]), np.array([0.0, -2.0])],
        }
    )
    out = run(model, df, features)
    amount = (np.sign(df["amount"]) * np.log1p(np.abs(df["amount"])) - 1.0) / 2.0
    expected = np.column_stack(
        [df["raw"], amount, [0.0, -1.0], [2.0, -3.0]]  # zero variance divides by 1
    )
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_bottom_width_is_the_sum_of_parts():
    features = [
        SparseFeat("a", vocabulary=("x",), embedding_dim=3),
        VarLenSparseFeat("b", maxlen=2, hash_bins=4, embedding_dim=5),
        DenseFeat("c", dimension=2),
        DenseFeat("d"),
    ]
    model = bottom_model(features)
    assert tuple(model.output.shape) == (None, 3 + 5 + 2 + 1)
    assert [layer.name for layer in model.layers][-1] == "bottom_input"


def test_tables_of_one_width_share_one_variable_in_order_of_first_appearance():
    features = [
        SparseFeat("a", vocabulary=("x", "y"), embedding_dim=2),  # 3 rows
        SparseFeat("b", vocabulary_size=2, embedding_dim=1),  # 3 rows
        DenseFeat("p", bucket_edges=(0.0,), bucket_embedding_dim=2, keep_value=False),
        VarLenSparseFeat("c", maxlen=2, vocabulary_size=2, embedding_dim=2, pooling="sum"),
    ]
    model = bottom_model(features)
    layers = {layer.name: layer for layer in embedding_layers(model)}
    assert sorted(layers) == ["embedding_tables_1", "embedding_tables_2"]
    assert all(isinstance(layer, StackedEmbedding) for layer in layers.values())
    wide, narrow = layers["embedding_tables_2"], layers["embedding_tables_1"]
    assert wide.tables == (("a", 3), ("p/buckets", 2), ("c", 3))
    assert wide.offsets == {"a": 0, "p/buckets": 3, "c": 5}
    assert narrow.tables == (("b", 3),)
    assert sorted(tuple(w.shape) for w in model.trainable_weights) == [(3, 1), (8, 2)]
    rows = np.arange(16, dtype="float32").reshape(8, 2)  # row r = (2r, 2r + 1)
    wide.set_weights([rows])
    set_table(model, "b", [[-1.0], [-2.0], [-3.0]])
    np.testing.assert_array_equal(get_table(model, "p/buckets"), rows[3:5])
    np.testing.assert_array_equal(get_table(model, "c"), rows[5:8])
    df = pd.DataFrame({"a": ["y", "q"], "b": [1, 5], "p": [-1.0, 0.0], "c": [[1, 1], [0]]})
    out = run(model, df, features)
    # The parts follow the features' order (a, b, p, c), not the stacks':
    # a -> its row 2 / OOV row 0, b -> row 1 / OOV row 2, p -> bucket 0 / 1
    # (stack rows 3 / 4), c -> twice its row 1 (stack row 6) / only padding.
    expected = [
        [*rows[2], -2.0, *rows[3], *(2 * rows[6])],
        [*rows[0], -3.0, *rows[4], 0.0, 0.0],
    ]
    np.testing.assert_array_equal(out, expected)


def test_embeddings_regularizer_applies_to_every_table():
    features = [
        SparseFeat("a", vocabulary_size=1, embedding_dim=1),
        SparseFeat("b", vocabulary_size=1, embedding_dim=2),
    ]
    model = bottom_model(features, embeddings_regularizer=tf.keras.regularizers.L2(0.5))
    set_table(model, "a", [[1.0], [2.0]])
    set_table(model, "b", [[1.0, 1.0], [0.0, 3.0]])
    # 0.5 * (1 + 4) + 0.5 * (1 + 1 + 9)
    assert float(tf.add_n(model.losses)) == pytest.approx(8.0)


def test_not_adapted_specs_raise_and_point_to_adapt():
    with pytest.raises(ValueError, match=r"Feature 'c' has no vocabulary.*adapt\("):
        build_inputs([SparseFeat("c")])
    with pytest.raises(ValueError, match=r"Feature 'h' has no vocabulary.*adapt\("):
        embed_features({}, [VarLenSparseFeat("h", maxlen=2)])
    with pytest.raises(ValueError, match=r"Feature 'x' has normalize=True.*adapt\("):
        build_inputs([DenseFeat("x", normalize=True)])


def test_validate_features_rejects_bad_lists():
    spec = SparseFeat("a", vocabulary_size=2)
    assert validate_features([spec]) == (spec,)
    with pytest.raises(ValueError, match=r"non-empty list.*Received: features=\[\]"):
        validate_features([])
    with pytest.raises(ValueError, match=r"Received: features=SparseFeat"):
        validate_features(spec)
    with pytest.raises(TypeError, match=r"Received: 'a' of type str"):
        validate_features(["a"])
    with pytest.raises(ValueError, match=r"unique input names. Received 'a' twice"):
        validate_features([spec, DenseFeat("a")])
    with pytest.raises(ValueError, match=r"Received 'w' twice"):
        validate_features(
            [
                VarLenSparseFeat("h", maxlen=2, vocabulary_size=3, weight_name="w"),
                DenseFeat("w"),
            ]
        )
