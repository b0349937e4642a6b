"""`keras-mtl inspect`: inputs by feature, outputs by task, newest version."""

import os

import keras_mtl
from keras_mtl.cli.main import main

FEATURES = [
    keras_mtl.SparseFeat("item", vocabulary_size=10, embedding_dim=2),
    keras_mtl.SparseFeat("color", vocabulary=("red", "blue"), embedding_dim=2),
    keras_mtl.DenseFeat("price"),
    keras_mtl.VarLenSparseFeat("tags", maxlen=3, vocabulary=("a", "b"), embedding_dim=2),
]


def _rows(text, title):
    """`{name: (dtype, shape)}` of the lines under `title` in inspect's summary."""
    lines = text.split(f"{title}:\n")[1].splitlines()
    rows = {}
    for line in lines:
        if not line.startswith("  "):
            break
        name, dtype, shape = line.split(None, 2)
        rows[name] = (dtype, shape)
    return rows


def test_inspect_base_folder_shows_the_newest_version(tmp_path, capsys):
    model = keras_mtl.MMoE(
        FEATURES,
        task_names=("ctr", "watch_time"),
        task_types=("binary", "regression"),
        num_experts=2,
        expert_units=(4,),
    )
    base = str(tmp_path / "ranker")
    keras_mtl.export.export_saved_model(model, base)
    keras_mtl.export.export_saved_model(model, base)
    assert main(["inspect", base]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"{base} holds versions 1, 2; showing the newest, 2")
    assert _rows(text, "inputs (features)") == {
        "color": ("string", "(batch)"),
        "item": ("int64", "(batch)"),
        "price": ("float", "(batch)"),
        "tags": ("string", "(batch, 3)"),
    }
    assert _rows(text, "outputs (tasks)") == {
        "ctr": ("float", "(batch, 1)"),
        "watch_time": ("float", "(batch, 1)"),
    }
    assert "REST POST /v1/models/ranker/versions/2:predict" in text  # show_signature's part

    assert main(["inspect", os.path.join(base, "1")]) == 0
    text = capsys.readouterr().out
    assert "showing the newest" not in text and "/versions/1:predict" in text


def test_inspect_errors(tmp_path, capsys):
    assert main(["inspect", str(tmp_path)]) == 1
    assert "holds no saved_model.pb and no numbered version folders" in capsys.readouterr().err
    assert main(["inspect", str(tmp_path / "missing")]) == 1
    assert "not a folder" in capsys.readouterr().err
