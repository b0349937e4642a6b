"""`buckets=` and `hash_bins=` in ONNX: the bucket and the hash bucket TF computes."""

import numpy as np
import onnxruntime
import pytest
import tensorflow as tf

import keras_mtl
from keras_mtl.export import onnx_farmhash
from tests.export import feature_options

EDGES = (-1.5, 0.0, 0.25, 3.0, 1e6)


def _served(export, rows):
    session = onnxruntime.InferenceSession(export.path, export.session_options())
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feature_options.onnx_feed(rows))))


@pytest.fixture(scope="module")
def bucket_model(tmp_path_factory):
    """The bucket alone decides the output (keep_value=False), one distinct
    embedding row per bucket, passed on by the bottom (identity, all
    positive so the ReLU keeps it) and summed by the head: bucket b gives
    sigmoid(0.4 b + 0.06), each bucket's output its own."""
    feats = [
        keras_mtl.DenseFeat("price", bucket_edges=EDGES, keep_value=False, bucket_embedding_dim=4)
    ]
    model = keras_mtl.SharedBottom(feats, task_names=("ctr",), bottom_units=(4,), tower_units=())
    table = model.get_layer("embedding_tables_4")
    assert table.tables == (("price/buckets", len(EDGES) + 1),)
    buckets = np.arange(len(EDGES) + 1, dtype="float32")[:, None]
    table.set_weights([0.1 * buckets + np.array([0.0, 0.01, 0.02, 0.03], "float32")])
    model.get_layer("shared_bottom").set_weights(
        [np.eye(4, dtype="float32"), np.zeros(4, "float32")]
    )
    model.get_layer("ctr").set_weights([np.ones((4, 1), "float32"), np.zeros(1, "float32")])
    return model, tmp_path_factory.mktemp("buckets")


def test_values_on_an_edge_land_in_tfs_bucket(bucket_model):
    model, folder = bucket_model
    edges = np.array(EDGES, np.float32)
    values = np.concatenate(
        [
            edges,
            np.nextafter(edges, -np.inf),
            np.nextafter(edges, np.inf),
            [-np.inf, np.inf, -1e30, 1e30, -0.0],
        ]
    ).astype(np.float32)
    rows = {"price": values}
    export = keras_mtl.export.export_onnx(model, str(folder / "m.onnx"), examples=rows, atol=1e-6)
    keras_out = model.predict(rows, verbose=0)["ctr"].ravel()
    onnx_out = _served(export, rows)["ctr"].ravel()
    np.testing.assert_allclose(onnx_out, keras_out, atol=1e-6)
    # TF's rule: bucket i holds edges[i-1] <= x < edges[i]; an edge opens the bucket above it
    buckets = tf.keras.layers.Discretization(bin_boundaries=list(EDGES))(values).numpy()
    np.testing.assert_array_equal(buckets[: len(EDGES)], np.arange(1, len(EDGES) + 1))
    # just below an edge: the bucket below it, except -1e-45 below the edge 0.0,
    # a subnormal, which TF's CPU reads as 0.0 (on the edge)
    np.testing.assert_array_equal(buckets[len(EDGES) : 2 * len(EDGES)], [0, 2, 2, 3, 4])
    # each bucket gives its own output, 1e-3 or more from any other: outputs
    # within 1e-6 of Keras' are TF's buckets
    by_bucket = np.array([keras_out[buckets == b][0] for b in range(len(EDGES) + 1)])
    np.testing.assert_allclose(by_bucket, 1 / (1 + np.exp(-(0.4 * np.arange(6) + 0.06))), rtol=1e-6)
    assert np.min(np.diff(np.sort(by_bucket))) > 1e-3
    np.testing.assert_allclose(onnx_out, by_bucket[buckets], atol=1e-6)


def test_nan_lands_where_tf_puts_it(bucket_model):
    """The Keras model does not refuse NaN (the SavedModel signature does):
    TF's upper-bound search puts it in the last bucket, and so does ONNX."""
    model, folder = bucket_model
    rows = {"price": np.array([np.nan, 0.1], np.float32)}
    export = keras_mtl.export.export_onnx(model, str(folder / "nan.onnx"), examples=rows, atol=1e-6)
    np.testing.assert_allclose(
        _served(export, rows)["ctr"].ravel(),
        model.predict(rows, verbose=0)["ctr"].ravel(),
        atol=1e-6,
    )
    discretize = tf.keras.layers.Discretization(bin_boundaries=list(EDGES))
    assert discretize(rows["price"]).numpy()[0] == len(EDGES)


def test_hashed_features_hash_10k_strings_as_tf(tmp_path):
    """hash_bins= end to end: 10,000 random strings (non-ASCII, empty, long)
    through the exported model's own hashing nodes land in TF's buckets.

    Each bucket's embedding row is its index and the bottom passes it on, so
    the output is an affine function of the bucket: outputs within 1e-6 of
    Keras' (whose graph hashes with TF's op) are the same buckets."""
    bins = 97
    feats = [keras_mtl.SparseFeat("query", hash_bins=bins, embedding_dim=1)]
    model = keras_mtl.SharedBottom(
        feats, task_names=("ctr",), bottom_units=(1,), tower_units=(), task_types=("regression",)
    )
    table = model.get_layer("embedding_tables_1")
    assert table.tables == (("query", bins),)
    table.set_weights([np.arange(bins, dtype="float32")[:, None]])
    model.get_layer("shared_bottom").set_weights(
        [np.ones((1, 1), "float32"), np.zeros(1, "float32")]
    )
    strings = _random_strings(10_000)
    rows = {"query": np.array(strings, dtype=object)}
    export = keras_mtl.export.export_onnx(model, str(tmp_path / "h.onnx"), examples=rows)
    assert export.custom_ops == "onnxruntime_extensions"
    served = _served(export, rows)["ctr"].ravel()
    expected = tf.strings.to_hash_bucket_fast([s.encode() for s in strings], bins).numpy()
    assert len(set(expected)) == bins
    by_bucket = np.array(
        [
            model.predict(
                {"query": np.array([strings[int(np.argmax(expected == b))]], dtype=object)},
                verbose=0,
            )["ctr"][0, 0]
            for b in range(bins)
        ]
    )
    assert np.min(np.diff(np.sort(by_bucket))) > 1e-4
    np.testing.assert_allclose(served, by_bucket[expected], atol=1e-6)


def _random_strings(n, seed=0):
    rng = np.random.RandomState(seed)
    alphabet = list("abcXYZ019 _-.") + ["é", "ß", "ж", "名", "🙂", "\t"]
    lengths = rng.choice([0, 1, 3, 8, 16, 17, 33, 64, 65, 130], n)
    return ["".join(rng.choice(alphabet, k)) for k in lengths]


def test_hashing_needs_opset_18(tmp_path):
    feats = [keras_mtl.SparseFeat("query", hash_bins=8)]
    model = keras_mtl.SharedBottom(feats, task_names=("ctr",), bottom_units=(2,), tower_units=())
    with pytest.raises(keras_mtl.export.OnnxExportError, match=r"opset 18 .*Received: opset=17"):
        keras_mtl.export.export_onnx(model, str(tmp_path / "m.onnx"), opset=17)
    assert onnx_farmhash.OPSET_IMPORTS[""] == 18
