"""`export_onnx(table_dtype="float16")` on a trained census model: half the table
bytes, outputs within `FLOAT16_ATOL`, test AUC within 1e-4 of float32 tables."""

import numpy as np
import onnx
import onnxruntime
import pytest
import tensorflow as tf

import keras_mtl
from keras_mtl.data import census_income
from keras_mtl.evaluation import roc_auc
from tests.export import feature_options

TASKS = ("income", "never_married")


@pytest.fixture(scope="module")
def census(tmp_path_factory):
    tf.keras.utils.set_random_seed(7)
    train_df, test_df = census_income.load_census_income()
    features = keras_mtl.features.adapt(
        [
            keras_mtl.DenseFeat(c, log1p=True, normalize=True)
            if c in census_income.NUMERIC_COLUMNS
            else keras_mtl.SparseFeat(c, embedding_dim=4)
            for c in census_income.input_columns()
        ],
        train_df,
    )
    model = keras_mtl.MMoE(
        features, task_names=TASKS, num_experts=4, expert_units=(32,), tower_units=(16,)
    )
    model.compile(optimizer=tf.keras.optimizers.Adam(3e-3))
    model.fit(
        keras_mtl.data.df_to_dataset(
            train_df, features, TASKS, batch_size=128, shuffle=True, seed=7
        ),
        epochs=4,
        verbose=0,
    )
    rows = keras_mtl.data.features_to_arrays(test_df, features)
    folder = tmp_path_factory.mktemp("float16")
    exports = {
        dtype: keras_mtl.export.export_onnx(
            model,
            str(folder / f"{dtype}.onnx"),
            examples=rows,
            table_dtype=dtype,
            external_data=True,
        )
        for dtype in ("float32", "float16")
    }
    labels = {t: test_df[t].to_numpy() for t in TASKS}
    return exports, rows, labels


def _predict(export, rows):
    session = onnxruntime.InferenceSession(export.path, export.session_options())
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feature_options.onnx_feed(rows))))


def test_float16_tables_keep_census_auc(census):
    exports, rows, labels = census
    full, half = (_predict(exports[d], rows) for d in ("float32", "float16"))
    for task in TASKS:
        auc_full = roc_auc(labels[task], full[task].ravel())
        auc_half = roc_auc(labels[task], half[task].ravel())
        assert auc_full > 0.75
        assert abs(auc_half - auc_full) < 1e-4, (task, auc_full, auc_half)
    worst = max(float(np.max(np.abs(full[t] - half[t]))) for t in TASKS)
    assert 0 < worst <= keras_mtl.export.onnx_export.FLOAT16_ATOL
    limit = keras_mtl.export.onnx_export.FLOAT16_ATOL
    assert max(exports["float16"].max_abs_diff.values()) <= limit


def test_float16_tables_are_stored_in_half_the_bytes(census):
    exports, _, _ = census
    sizes = {}
    for dtype, export in exports.items():
        proto = onnx.load(export.path, load_external_data=False)
        sizes[dtype] = sum(
            int({e.key: e.value for e in t.external_data}["length"])
            for t in proto.graph.initializer
            if t.name in export.tables
        )
        assert {t.data_type for t in proto.graph.initializer if t.name in export.tables} == {
            onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
        }
    rows = sum(r * d for r, d in exports["float32"].tables.values())
    assert sizes == {"float32": 4 * rows, "float16": 2 * rows}
