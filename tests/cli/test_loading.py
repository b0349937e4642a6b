"""What the commands read: rows as a model's inputs, models, SavedModel versions,
a run config's splits."""

import os

import numpy as np
import pandas as pd
import pytest

import keras_mtl
from keras_mtl.cli import config
from keras_mtl.cli import loading
from keras_mtl.cli.command_error import CommandError
from keras_mtl.cli.config_error import ConfigError
from keras_mtl.export import layout
from tests.cli import cli_cases

FEATURES = [
    keras_mtl.SparseFeat("zip", vocabulary=("007", "120"), embedding_dim=2),
    keras_mtl.DenseFeat("price"),
    keras_mtl.VarLenSparseFeat("tags", maxlen=3, vocabulary=("a", "b"), embedding_dim=2),
]


@pytest.fixture(scope="module")
def model():
    return keras_mtl.MMoE(FEATURES, task_names=("ctr",), num_experts=2, expert_units=(4,))


def test_rows_are_read_as_the_model_inputs(model, tmp_path):
    path = str(tmp_path / "rows.csv")
    pd.DataFrame({"zip": ["007", "120"], "price": [1.5, 2.0], "tags": ["a|b|c|d", None]}).to_csv(
        path, index=False
    )
    df, arrays = loading.load_rows(model, path)
    assert len(df) == 2 and sorted(arrays) == ["price", "tags", "zip"]
    assert arrays["zip"].tolist() == ["007", "120"]  # text, not the integer 7
    np.testing.assert_array_equal(arrays["price"], np.array([1.5, 2.0], "float32"))
    assert arrays["tags"].tolist() == [["a", "b", "c"], ["", "", ""]]  # cut / padded to maxlen
    pd.DataFrame({"zip": []}).to_csv(path, index=False)
    with pytest.raises(CommandError, match="has no rows"):
        loading.load_rows(model, path)


def test_file_formats_by_name():
    assert loading.format_of("a/rows.CSV.gz") == "csv"
    assert loading.format_of("rows.pq") == "parquet"
    with pytest.raises(CommandError, match=r"cannot tell the format of 'rows.txt'"):
        loading.format_of("rows.txt")


def test_models_from_a_keras_file_or_a_bundling_savedmodel(model, tmp_path):
    base = tmp_path / "ranker"
    bundled = base / "4" / layout.BUNDLED_KERAS
    os.makedirs(bundled.parent)
    (base / "4" / layout.SAVED_MODEL_FILE).write_bytes(b"")
    model.save(str(bundled))
    notes = []
    loaded = loading.load_model(str(base), notes.append)
    assert sorted(loaded.input) == ["price", "tags", "zip"]
    assert notes == [f"{base} holds versions 4; showing the newest, 4 ({base / '4'})"]
    assert sorted(loading.load_model(str(bundled)).input) == ["price", "tags", "zip"]
    os.remove(bundled)
    with pytest.raises(CommandError, match="is a SavedModel without a bundled Keras model"):
        loading.load_model(str(base / "4"))
    with pytest.raises(CommandError, match="expected a .keras file or a SavedModel folder"):
        loading.load_model(str(tmp_path / "model.h5"))
    with pytest.raises(CommandError, match="holds no saved_model.pb"):
        loading.resolve_version(str(tmp_path))


def test_run_config_splits_have_list_cells_and_every_column(tmp_path):
    cfg = config.load_config(cli_cases.write_run(str(tmp_path), rows=(5, 4, 3)), [])
    frames = loading.read_splits(cfg)
    assert [len(frames[s]) for s in ("train", "validation", "test")] == [5, 4, 3]
    expected = pd.read_csv(tmp_path / "train.csv")["tags"]
    assert frames["train"]["tags"].tolist() == [
        cell.split("|") if isinstance(cell, str) else [] for cell in expected
    ]
    pd.read_csv(tmp_path / "test.csv").drop(columns="spend").to_csv(
        tmp_path / "test.csv", index=False
    )
    with pytest.raises(ConfigError, match=r"tasks\[1\]\.label: column 'spend' is not in data.test"):
        loading.read_splits(cfg)
