"""The export targets table: every row writes its format, and its parity check
runs what was written against Keras (and catches a model that differs)."""

import os

import numpy as np
import pytest
import tensorflow as tf

from keras_mtl.cli import config
from keras_mtl.export import layout
from keras_mtl.export import targets
from tests.export import parity_cases

PATHS = {"saved_model": "ranker", "onnx": "ranker.onnx"}  # where each target writes


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """`{target name: (what write returned, its parity)}`, plus the model and folder."""
    tmp = tmp_path_factory.mktemp("targets")
    model = parity_cases.model()
    keras_file = str(tmp / "model.keras")
    model.save(keras_file)
    out = {"model": model, "tmp": tmp, "keras_file": keras_file}
    for target in targets.TARGETS:
        result = target.write(
            model, str(tmp / PATHS[target.name]), parity_cases.examples(), keras_file=keras_file
        )
        out[target.name] = (result, target.parity(model, result, parity_cases.examples()))
    return out


def test_the_table_rows_are_the_config_outputs():
    assert [t.name for t in targets.TARGETS] == ["saved_model", "onnx"]
    assert [t.title for t in targets.TARGETS] == ["SavedModel", "ONNX"]
    # the run config's output: keys come from the table (ONNX is written only when asked)
    assert {k: config.DEFAULTS["output"][k] for k in ("saved_model", "onnx")} == {
        "saved_model": "{dir}/saved_model",
        "onnx": None,
    }


def test_every_target_matches_keras_at_batch_one_and_all_rows(written):
    for target in targets.TARGETS:
        _, diffs = written[target.name]
        assert sorted(diffs) == [1, parity_cases.ROWS], target.name
        assert max(diffs.values()) <= 1e-5, target.name


def test_saved_model_row_writes_a_version_with_warmup_and_the_keras_file(written):
    version, _ = written["saved_model"]
    base = str(written["tmp"] / "ranker")
    assert version == os.path.join(base, "1")
    assert targets.TARGETS[0].describe(version) == version
    warmup = tf.data.TFRecordDataset(os.path.join(version, layout.WARMUP_FILE))
    assert len(list(warmup)) == targets.WARMUP_ROWS + 1  # one request per row, then all rows
    with open(os.path.join(version, layout.BUNDLED_KERAS), "rb") as bundled:
        with open(written["keras_file"], "rb") as saved:
            assert bundled.read() == saved.read()  # the .keras file, copied


def test_saved_model_row_saves_the_model_when_no_keras_file_is_given(written):
    model = written["model"]
    target = targets.TARGETS[0]
    version = target.write(model, str(written["tmp"] / "ranker"), parity_cases.examples())
    assert os.path.basename(version) == "2"
    bundled = tf.keras.models.load_model(os.path.join(version, layout.BUNDLED_KERAS), compile=False)
    rows = {k: tf.constant(v) for k, v in parity_cases.examples().items()}
    expected, got = model(rows, training=False), bundled(rows, training=False)
    for task in ("ctr", "spend"):
        np.testing.assert_allclose(got[task].numpy(), expected[task].numpy(), atol=1e-6)


def test_onnx_row_writes_the_file_it_describes(written):
    result, diffs = written["onnx"]
    assert result.path == str(written["tmp"] / "ranker.onnx") and os.path.isfile(result.path)
    assert targets.TARGETS[1].describe(result) == f"{result.path}, opset 18"
    assert sorted(result.max_abs_diff) == sorted(diffs)  # the export's own check, same rows


@pytest.mark.parametrize("name", ["saved_model", "onnx"])
def test_parity_fails_on_a_model_that_differs(written, name):
    target = next(t for t in targets.TARGETS if t.name == name)
    moved = parity_cases.moved(written["model"], 0.25)
    with pytest.raises(targets.ExportError, match=r"differs from the Keras model by 0\.25"):
        target.parity(moved, written[name][0], parity_cases.examples())
