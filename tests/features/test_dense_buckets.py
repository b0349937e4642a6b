"""DenseFeat(buckets=N): validation, the in-graph bucket and its embedding."""

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from keras_mtl.features import DenseFeat
from keras_mtl.features import build_inputs
from keras_mtl.features import embed_features
from keras_mtl.features import validate_features
from tests.embedding_tables import get_table
from tests.embedding_tables import set_table

EDGES = (0.0, 10.0, 20.0)


def test_bucket_of_a_value_is_the_count_of_edges_at_or_below_it():
    spec = DenseFeat(
        "x", normalize=True, mean=1.0, variance=4.0, bucket_edges=EDGES, bucket_embedding_dim=2
    )
    inputs = build_inputs([spec])
    model = tf.keras.Model(inputs, embed_features(inputs, [spec]))
    table = np.arange(8, dtype="float32").reshape(4, 2)  # row i = (2i, 2i + 1)
    stack = model.get_layer("embedding_tables_2")  # the bucket table alone
    assert stack.tables == (("x/buckets", 4),)
    stack.set_weights([table])
    x = np.array([-1.0, 0.0, 9.9, 10.0, 25.0], "float32")
    out = model({"x": x}).numpy()
    buckets = np.searchsorted(EDGES, x, side="right")  # [0, 1, 1, 2, 3]
    np.testing.assert_allclose(out[:, 0], (x - 1.0) / 2.0)  # the normalised value, kept
    np.testing.assert_array_equal(out[:, 1:], table[buckets])


def test_bucket_table_shares_the_stack_of_its_width():
    """A bucket table of the features' width is stacked after the tables
    before it, as `"<feature>/buckets"`; each lookup reads its own rows."""
    feats = [
        keras_mtl.SparseFeat("i", vocabulary_size=2, embedding_dim=2),
        DenseFeat("x", bucket_edges=EDGES, bucket_embedding_dim=2, keep_value=False),
    ]
    inputs = build_inputs(feats)
    model = tf.keras.Model(inputs, embed_features(inputs, feats))
    stack = model.get_layer("embedding_tables_2")
    assert stack.tables == (("i", 3), ("x/buckets", 4))
    assert stack.offsets == {"i": 0, "x/buckets": 3}
    assert stack.input_features == ("i", "x/buckets")
    set_table(model, "x/buckets", [[10, 11], [12, 13], [14, 15], [16, 17]])
    set_table(model, "i", [[0, -1], [1, -2], [2, -3]])
    np.testing.assert_array_equal(get_table(model, "x/buckets")[:, 0], [10, 12, 14, 16])
    out = model({"i": np.array([1, 0, 9]), "x": np.array([15.0, -2.0, 20.0], "float32")})
    np.testing.assert_array_equal(out.numpy(), [[1, -2, 14, 15], [0, -1, 10, 11], [2, -3, 16, 17]])


def test_keep_value_false_gives_only_the_embedding():
    spec = DenseFeat("x", bucket_edges=EDGES, bucket_embedding_dim=3, keep_value=False)
    inputs = build_inputs([spec])
    assert embed_features(inputs, [spec]).shape[-1] == 3


def test_save_reload_equal(tmp_path):
    feats = [
        DenseFeat("x", log1p=True, bucket_edges=EDGES),
        keras_mtl.SparseFeat("i", vocabulary_size=4),
    ]
    model = keras_mtl.MMoE(feats, num_experts=2, expert_units=(4,))
    x = {"x": np.array([-3.0, 5.0, 50.0], "float32"), "i": np.array([0, 1, 3])}
    model.save(tmp_path / "m.keras")
    reloaded = tf.keras.models.load_model(tmp_path / "m.keras")
    for task, value in model(x).items():
        np.testing.assert_array_equal(value.numpy(), reloaded(x)[task].numpy())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"buckets": 1}, "integer >= 2. Received: buckets=1"),
        ({"bucket_edges": (1.0, 1.0)}, "strictly increasing"),
        ({"bucket_edges": (1.0, float("nan"))}, "strictly increasing"),
        ({"buckets": 4, "dimension": 2}, "dimension=1"),
        ({"keep_value": False}, "keep_value=False needs buckets"),
        ({"buckets": 4, "bucket_embedding_dim": 0}, "bucket_embedding_dim=0"),
    ],
)
def test_bad_bucket_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DenseFeat("x", **kwargs)


def test_unadapted_buckets_are_refused_with_the_fix():
    spec = DenseFeat("x", buckets=4)
    assert not spec.is_adapted and spec.num_buckets is None
    with pytest.raises(ValueError, match="buckets=4 but no bucket_edges.*adapt"):
        validate_features([spec])


def test_config_round_trip():
    spec = DenseFeat("x", buckets=3, bucket_edges=EDGES, keep_value=False)
    assert DenseFeat.from_config(spec.get_config()) == spec
    assert spec.get_config()["bucket_edges"] == list(EDGES)
