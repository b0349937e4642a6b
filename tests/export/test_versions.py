"""Versions that appear whole: staging, claiming, failures, files replaced in place."""

import os

import numpy as np
import onnx
import onnxruntime
import pytest

import keras_mtl
from keras_mtl.export import versions
from tests.export import export_loop


@pytest.fixture(scope="module")
def model_and_rows():
    return export_loop.model_and_rows()


def _visible(folder):
    return sorted(n for n in os.listdir(folder) if not n.startswith("."))


def test_a_failed_export_leaves_nothing(model_and_rows, tmp_path):
    model, rows = model_and_rows

    def fail(folder):
        assert os.path.isfile(os.path.join(folder, "saved_model.pb"))  # written, not yet public
        assert os.path.basename(folder).startswith(versions.STAGING_PREFIX)
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        keras_mtl.export.export_saved_model(
            model, str(tmp_path / "m"), examples=rows, add_files=fail
        )
    assert os.listdir(tmp_path / "m") == []


def test_a_version_claimed_meanwhile_is_skipped(model_and_rows, tmp_path):
    """Another export publishing version 1 while this one writes: this one
    lands in 2, the other's files untouched."""
    model, rows = model_and_rows
    base = tmp_path / "m"

    def race(folder):
        (base / "1").mkdir()
        (base / "1" / "saved_model.pb").write_bytes(b"the other export")

    path = keras_mtl.export.export_saved_model(model, str(base), add_files=race)
    assert path == str(base / "2") and _visible(base) == ["1", "2"]
    assert (base / "1" / "saved_model.pb").read_bytes() == b"the other export"
    with pytest.raises(FileExistsError, match="exists already"):
        keras_mtl.export.export_saved_model(model, str(base), version=2)


def test_each_variable_is_stored_once(model_and_rows, tmp_path):
    model, _ = model_and_rows
    path = keras_mtl.export.export_saved_model(model, str(tmp_path / "m"))
    weights = keras_mtl.export.onnx_external_data.weight_bytes(model)
    variables = sum(
        os.path.getsize(os.path.join(path, "variables", f))
        for f in os.listdir(os.path.join(path, "variables"))
    )
    assert weights <= variables < 1.05 * weights


def test_onnx_versions_and_a_file_replaced_in_place(model_and_rows, tmp_path):
    model, rows = model_and_rows
    first = keras_mtl.export.export_onnx_version(
        model, str(tmp_path / "v"), examples=rows, external_data=True
    )
    second = keras_mtl.export.export_onnx_version(model, str(tmp_path / "v"), examples=rows)
    assert first.path == str(tmp_path / "v" / "1" / "model.onnx")
    assert first.external_data == first.path + ".data" and os.path.isfile(first.external_data)
    assert second.path == str(tmp_path / "v" / "2" / "model.onnx") and second.external_data is None
    # in place: each new data file takes a fresh name while the old .onnx names
    # the old one, which goes once the new .onnx is in place
    path = str(tmp_path / "f" / "model.onnx")
    names = []
    for external in (True, True, False):
        result = keras_mtl.export.export_onnx(model, path, examples=rows, external_data=external)
        names.append(_visible(tmp_path / "f"))
        if external:
            proto = onnx.load(path, load_external_data=False)
            named = {
                e.value
                for t in proto.graph.initializer
                for e in t.external_data
                if e.key == "location"
            }
            assert named == {os.path.basename(result.external_data)}
        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        np.testing.assert_allclose(
            session.run(["ctr"], rows)[0], model.predict(rows, verbose=0)["ctr"], atol=1e-5
        )
    assert names[0] == ["model.onnx", "model.onnx.data"]
    assert len(names[1]) == 2 and names[1][1] != "model.onnx.data"
    assert names[2] == ["model.onnx"]


def test_replacing_file_moves_a_whole_file_over(tmp_path):
    target = tmp_path / "model.keras"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with versions.replacing_file(str(target)) as temporary:
            assert temporary.endswith(".keras") and os.path.dirname(temporary) == str(tmp_path)
            with open(temporary, "wb") as f:
                f.write(b"half")
            raise RuntimeError("killed")
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["model.keras"]
    with versions.replacing_file(str(target)) as temporary:
        with open(temporary, "wb") as f:
            f.write(b"new")
    assert target.read_bytes() == b"new" and os.listdir(tmp_path) == ["model.keras"]
