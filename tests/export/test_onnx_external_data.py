"""ONNX export past protobuf's 2 GB limit: weights in `<path>.data`, checked from there."""

import os

import numpy as np
import onnx
import pytest

import keras_mtl
from keras_mtl.export import onnx_external_data
from tests.export.test_serving import convertible_features
from tests.export.test_serving import hashed_query
from tests.models import builder_cases


def test_weight_bytes_counts_every_weight():
    model = keras_mtl.MMoE([keras_mtl.SparseFeat("item", vocabulary_size=9, embedding_dim=2),
                            keras_mtl.DenseFeat("price")],
                           task_names=("ctr",), num_experts=2, expert_units=(3,), tower_units=())
    expected = sum(int(np.prod(w.shape)) * 4 for w in model.get_weights())
    assert onnx_external_data.weight_bytes(model) == expected


def test_large_model_path_writes_external_data_and_serves_equal(tmp_path, monkeypatch):
    """Over the threshold (lowered here so a tiny model takes the path the
    large ones take): tf2onnx's large-model conversion, the weights in one
    `.data` file beside the model, ONNX Runtime parity checked from disk."""
    raw = builder_cases.frame()
    feats = convertible_features(raw)
    df = hashed_query(raw)
    # experts of 64 units: kernels above tf2onnx's 1024-element threshold for
    # external tensors
    model = keras_mtl.MMoE(feats, task_names=("ctr", "cvr"), num_experts=2,
                           expert_units=(64,), tower_units=(4,))
    rows = keras_mtl.data.features_to_arrays(df.head(16), feats)
    small = keras_mtl.export.export_onnx(model, str(tmp_path / "small.onnx"), examples=rows)
    assert small.external_data is None
    monkeypatch.setattr(onnx_external_data, "LARGE_MODEL_BYTES", 0)
    path = str(tmp_path / "large.onnx")
    result = keras_mtl.export.export_onnx(model, path, examples=rows)
    assert result.external_data == path + ".data"
    assert sorted(os.listdir(tmp_path)) == ["large.onnx", "large.onnx.data", "small.onnx"]
    assert max(result.max_abs_diff.values()) <= 1e-5
    # the weights live in the data file; the model file holds the graph
    proto = onnx.load(path, load_external_data=False)
    external = [t for t in proto.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    assert external and all(
        {e.key: e.value for e in t.external_data}["location"] == "large.onnx.data"
        for t in external)
    assert os.path.getsize(path + ".data") >= sum(
        int({e.key: e.value for e in t.external_data}["length"]) for t in external)
    import onnxruntime

    feed = {k: np.asarray(v) for k, v in rows.items()}
    feed = {k: (v.astype(object) if v.dtype.kind in "OUS" else v) for k, v in feed.items()}
    names = ["ctr", "cvr"]
    large_out = onnxruntime.InferenceSession(path).run(names, feed)
    small_out = onnxruntime.InferenceSession(small.path).run(names, feed)
    for a, b in zip(large_out, small_out):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert not hasattr(np, "product") or np.lib.NumpyVersion(np.__version__) < "2.0.0"


def test_a_conversion_that_would_not_fit_in_memory_is_refused_with_the_fix(monkeypatch):
    model = keras_mtl.MMoE([keras_mtl.SparseFeat("item", vocabulary_size=9, embedding_dim=2)],
                           task_names=("ctr",), num_experts=2, expert_units=(3,), tower_units=())
    need = onnx_external_data.weight_bytes(model) * onnx_external_data.CONVERSION_MEMORY_FACTOR
    monkeypatch.setattr(onnx_external_data, "available_memory_bytes", lambda: need - 1)
    with pytest.raises(keras_mtl.export.OnnxExportError,
                       match=r"would need about .* GB of memory .*export_saved_model.*check_memory=False"):
        keras_mtl.export.export_onnx(model, "/nonexistent/m.onnx")
    monkeypatch.setattr(onnx_external_data, "available_memory_bytes", lambda: need)
    assert onnx_external_data.check_memory(model) is None
