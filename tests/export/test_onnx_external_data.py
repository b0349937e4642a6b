"""ONNX tables kept out of tf2onnx: initializers named by variable, bytes in `<path>.data`."""

import os

import numpy as np
import onnx
import onnxruntime
import pytest

import keras_mtl
from keras_mtl.export import onnx_external_data
from keras_mtl.export import table_source
from tests.export import feature_options


@pytest.fixture(scope="module")
def model_and_rows():
    df = feature_options.frame()
    feats = feature_options.features(df)
    # experts of 64 units: kernels above tf2onnx's 1024-element threshold for
    # its own external tensors (the large-model path below)
    model = feature_options.moved(
        keras_mtl.MMoE(
            feats, task_names=("ctr", "cvr"), num_experts=2, expert_units=(64,), tower_units=(4,)
        )
    )
    return model, feature_options.arrays(df.head(16), feats)


def _initializers(path):
    """`{name: numpy value}` of every initializer, external data read from disk."""
    proto = onnx.load(path)
    return {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}


def _table_values(model):
    return {
        f"{layer.name}/embeddings": layer.get_weights()[0]
        for layer in model.layers
        if isinstance(layer, keras_mtl.layers.SparseEmbedding)
    }


def test_weight_bytes_counts_every_weight():
    model = keras_mtl.MMoE(
        [
            keras_mtl.SparseFeat("item", vocabulary_size=9, embedding_dim=2),
            keras_mtl.DenseFeat("price"),
        ],
        task_names=("ctr",),
        num_experts=2,
        expert_units=(3,),
        tower_units=(),
    )
    expected = sum(int(np.prod(w.shape)) * 4 for w in model.get_weights())
    assert onnx_external_data.weight_bytes(model) == expected


def test_each_table_is_one_initializer_named_by_its_variable(model_and_rows, tmp_path):
    """Inline and external, every table variable's initializer holds exactly
    its values: one per width, each feature's and bucket table stacked in
    it; a table shared by `embedding_name` is stacked once and feeds both
    features, through the stack's one gather."""
    model, rows = model_and_rows
    tables = _table_values(model)
    # price's 4 buckets are 8 wide (the default), alone in their stack
    assert {k: v.shape for k, v in tables.items()} == {
        "embedding_tables_2/embeddings": (8 + 9 + 4, 2),  # item_hash, tags, domain
        "embedding_tables_3/embeddings": (6 + 6 + 16 + 21, 3),  # color, size, query, item_id
        "embedding_tables_8/embeddings": (4, 8),
    }
    wide = model.get_layer("embedding_tables_3")
    assert [name for name, _ in wide.tables] == ["color", "size", "query", "item_id"]
    assert wide.input_features == ("color", "size", "query", "item_id", "history")
    assert wide.input_tables == ("color", "size", "query", "item_id", "color")
    inline = keras_mtl.export.export_onnx(model, str(tmp_path / "inline.onnx"), examples=rows)
    external = keras_mtl.export.export_onnx(
        model, str(tmp_path / "ext.onnx"), examples=rows, external_data=True
    )
    assert inline.external_data is None
    assert external.external_data == str(tmp_path / "ext.onnx.data")
    assert inline.tables == external.tables == {k: v.shape for k, v in tables.items()}
    assert sorted(os.listdir(tmp_path)) == ["ext.onnx", "ext.onnx.data", "inline.onnx"]
    for result in (inline, external):
        found = _initializers(result.path)
        for name, value in tables.items():
            assert found[name].dtype == np.float32
            np.testing.assert_array_equal(found[name], value)
    proto = onnx.load(external.path, load_external_data=False)
    gathers = [n.input[0] for n in proto.graph.node if n.op_type == "Gather"]
    assert sorted(name for name in gathers if name in tables) == sorted(tables)  # one each
    stored = {
        t.name: {e.key: e.value for e in t.external_data}
        for t in proto.graph.initializer
        if t.data_location == onnx.TensorProto.EXTERNAL
    }
    assert set(tables) <= set(stored)
    assert all(
        int(e["offset"]) % onnx_external_data.ALIGNMENT == 0 and e["location"] == "ext.onnx.data"
        for e in stored.values()
    )
    assert not any(i.name in tables for i in proto.graph.input)


def test_external_data_serves_equal_to_inline(model_and_rows, tmp_path):
    model, rows = model_and_rows
    options = keras_mtl.export.export_onnx(model, str(tmp_path / "a.onnx"), examples=rows)
    external = keras_mtl.export.export_onnx(
        model, str(tmp_path / "b.onnx"), examples=rows, external_data=True
    )
    feed = feature_options.onnx_feed(rows)
    out_a = onnxruntime.InferenceSession(options.path, options.session_options()).run(None, feed)
    out_b = onnxruntime.InferenceSession(external.path, external.session_options()).run(None, feed)
    for a, b in zip(out_a, out_b):
        np.testing.assert_array_equal(a, b)
    assert max(external.max_abs_diff.values()) <= 1e-5


def test_tf2onnx_large_path_shares_the_data_file(model_and_rows, tmp_path, monkeypatch):
    """Rest-of-model weights over the threshold (lowered here) go through
    tf2onnx's large-model path; they land in the same data file as the tables."""
    model, rows = model_and_rows
    monkeypatch.setattr(onnx_external_data, "LARGE_MODEL_BYTES", 0)
    result = keras_mtl.export.export_onnx(model, str(tmp_path / "large.onnx"), examples=rows)
    assert result.external_data == str(tmp_path / "large.onnx.data")
    proto = onnx.load(result.path, load_external_data=False)
    external = [
        t.name for t in proto.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL
    ]
    assert set(result.tables) < set(external)  # tables plus tf2onnx's kernels
    assert max(result.max_abs_diff.values()) <= 1e-5
    assert not hasattr(np, "product") or np.lib.NumpyVersion(np.__version__) < "2.0.0"


def test_tables_are_written_block_by_block(model_and_rows, tmp_path, monkeypatch):
    """Blocks of one row: the data file is the same as with whole tables."""
    model, rows = model_and_rows
    whole = keras_mtl.export.export_onnx(
        model, str(tmp_path / "a.onnx"), examples=rows, external_data=True
    )
    monkeypatch.setattr(table_source, "BLOCK_BYTES", 1)
    rowwise = keras_mtl.export.export_onnx(
        model, str(tmp_path / "b.onnx"), examples=rows, external_data=True
    )
    with open(whole.external_data, "rb") as a, open(rowwise.external_data, "rb") as b:
        assert a.read() == b.read()


def test_float16_tables_halve_the_tables_and_stay_close(model_and_rows, tmp_path):
    model, rows = model_and_rows
    full = keras_mtl.export.export_onnx(
        model, str(tmp_path / "f32.onnx"), examples=rows, external_data=True
    )
    half = keras_mtl.export.export_onnx(
        model, str(tmp_path / "f16.onnx"), examples=rows, external_data=True, table_dtype="float16"
    )
    assert half.table_dtype == "float16"
    found = _initializers(half.path)
    for name, value in _table_values(model).items():
        assert found[name].dtype == np.float16
        np.testing.assert_array_equal(found[name], value.astype(np.float16))
    table_bytes = sum(v.nbytes for v in _table_values(model).values())
    shrink = os.path.getsize(full.external_data) - os.path.getsize(half.external_data)
    assert shrink >= table_bytes / 2 - len(found) * onnx_external_data.ALIGNMENT
    assert 0 < max(half.max_abs_diff.values()) <= keras_mtl.export.onnx_export.FLOAT16_ATOL


def test_ids_reach_the_gathers_as_int64(model_and_rows, tmp_path):
    """Row indices of every id feature (vocabulary, hashing, pre-encoded, sequence)
    stay int64 from the feature to the gather, offsets added and stacks
    concatenated: no int32 cast caps a table at 2^31 rows (the Keras side:
    test_encoded_id_lookup)."""
    model, rows = model_and_rows
    result = keras_mtl.export.export_onnx(model, str(tmp_path / "m.onnx"), examples=rows)
    proto = onnx.shape_inference.infer_shapes(onnx.load(result.path))
    types = {v.name: v.type.tensor_type.elem_type for v in proto.graph.value_info}
    gathers = [n for n in proto.graph.node if n.op_type == "Gather" and n.input[0] in result.tables]
    # the id features' stacks of widths 2 and 3, and the bucket stack
    assert sorted(n.input[0] for n in gathers) == sorted(result.tables) and len(gathers) == 3
    assert {types[n.input[1]] for n in gathers} == {onnx.TensorProto.INT64}


def test_a_conversion_that_would_not_fit_in_memory_is_refused_with_the_fix(monkeypatch):
    model = keras_mtl.MMoE(
        [keras_mtl.SparseFeat("item", vocabulary_size=9, embedding_dim=2)],
        task_names=("ctr",),
        num_experts=2,
        expert_units=(3,),
        tower_units=(),
    )
    tables = table_source.TableSource.of_model(model)
    need = onnx_external_data.conversion_bytes(model, tables)
    rest = onnx_external_data.weight_bytes(model) - tables[0].nbytes()
    assert need == 64 * rest + 2 * table_source.BLOCK_BYTES  # the table is streamed, not converted
    monkeypatch.setattr(onnx_external_data, "available_memory_bytes", lambda: need - 1)
    with pytest.raises(
        keras_mtl.export.OnnxExportError,
        match=r"would need about .* GB of memory .*export_saved_model"
        r".*check_memory=False",
    ):
        keras_mtl.export.export_onnx(model, "/nonexistent/m.onnx")
    monkeypatch.setattr(onnx_external_data, "available_memory_bytes", lambda: need)
    assert onnx_external_data.check_memory(model, tables) is None
