"""DenseFeat(buckets=N): validation, the in-graph bucket and its embedding."""

import numpy as np
import pytest
import tensorflow as tf

import keras_mtl
from keras_mtl.features import DenseFeat
from keras_mtl.features import build_inputs
from keras_mtl.features import embed_features
from keras_mtl.features import validate_features

EDGES = (0.0, 10.0, 20.0)


def test_bucket_of_a_value_is_the_count_of_edges_at_or_below_it():
    spec = DenseFeat(
        "x", normalize=True, mean=1.0, variance=4.0, bucket_edges=EDGES, bucket_embedding_dim=2
    )
    inputs = build_inputs([spec])
    model = tf.keras.Model(inputs, embed_features(inputs, [spec]))
    table = np.arange(8, dtype="float32").reshape(4, 2)  # row i = (2i, 2i + 1)
    model.get_layer("x_quantile_bucket_embedding").set_weights([table])
    x = np.array([-1.0, 0.0, 9.9, 10.0, 25.0], "float32")
    out = model({"x": x}).numpy()
    buckets = np.searchsorted(EDGES, x, side="right")  # [0, 1, 1, 2, 3]
    np.testing.assert_allclose(out[:, 0], (x - 1.0) / 2.0)  # the normalised value, kept
    np.testing.assert_array_equal(out[:, 1:], table[buckets])


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
