"""The SavedModel folder layout: file names, and which version a folder means."""

import os

import pytest

from keras_mtl.export import layout


def _version(base, name):
    folder = os.path.join(base, name)
    os.makedirs(folder)
    with open(os.path.join(folder, "saved_model.pb"), "wb"):
        pass
    return folder


def test_file_names_are_tf_servings():
    assert layout.SAVED_MODEL_FILE == "saved_model.pb"
    assert layout.WARMUP_FILE == os.path.join("assets.extra", "tf_serving_warmup_requests")
    assert layout.BUNDLED_KERAS == os.path.join("assets.extra", "model.keras")


def test_a_base_folder_means_its_newest_version(tmp_path):
    base = str(tmp_path / "ranker")
    for name in ("1", "3", "10"):
        _version(base, name)
    os.makedirs(os.path.join(base, "11"))  # no saved_model.pb: not a version
    _version(base, ".staging-host-1-abc")  # hidden staging folder: not a version
    assert layout.versions_in(base) == [1, 3, 10]
    assert layout.resolve_version(base) == (os.path.join(base, "10"), [1, 3, 10])
    assert layout.resolve_version(os.path.join(base, "3")) == (os.path.join(base, "3"), None)


def test_other_paths_are_refused(tmp_path):
    with pytest.raises(ValueError, match="not a folder"):
        layout.resolve_version(str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="holds no saved_model.pb and no numbered version"):
        layout.resolve_version(str(tmp_path))
