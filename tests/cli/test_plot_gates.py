"""`keras-mtl plot-gates`: a PNG plus the numbers, which match a numpy
recomputation; clear errors without matplotlib, gates or a Keras model."""

import json
import sys

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from matplotlib import image as mpl_image

import keras_mtl
from keras_mtl.cli.main import main
from tests.cli import cli_cases

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _features(df):
    return keras_mtl.features.adapt(
        [
            keras_mtl.SparseFeat("item", embedding_dim=3),
            keras_mtl.SparseFeat("color", embedding_dim=3),
            keras_mtl.DenseFeat("price", normalize=True),
            keras_mtl.VarLenSparseFeat("tags", maxlen=3, embedding_dim=3),
        ],
        df.assign(tags=df["tags"].map(lambda c: c.split("|") if isinstance(c, str) else [])),
    )


@pytest.fixture()
def saved(tmp_path):
    df = cli_cases.frame(60, seed=4)
    data = tmp_path / "rows.csv"
    df.to_csv(data, index=False)
    features = _features(df)
    model = keras_mtl.MMoE(
        features,
        task_names=("ctr", "spend"),
        task_types=("binary", "regression"),
        num_experts=3,
        expert_units=(4,),
        tower_units=(),
    )
    model.compile(optimizer="adam")
    path = tmp_path / "mmoe.keras"
    model.save(str(path))
    arrays = keras_mtl.data.features_to_arrays(
        pd.read_csv(data).assign(
            tags=lambda d: d["tags"].map(lambda c: c.split("|") if isinstance(c, str) else [])
        ),
        features,
    )
    return {"model": model, "path": str(path), "data": str(data), "arrays": arrays, "dir": tmp_path}


def _softmax(logits):
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_png_and_numbers(saved, capsys):
    history = saved["dir"] / "history.json"
    history.write_text(
        json.dumps(
            {
                "loss": [1.0, 0.7],
                "weight_ctr": [1.0, 0.8],
                "weight_spend": [1.0, 1.3],
                "val_weight_ctr": [9, 9],
            }
        )
    )
    out = str(saved["dir"] / "plots" / "gates.png")
    assert (
        main(
            [
                "plot-gates",
                "--model",
                saved["path"],
                "--data",
                saved["data"],
                "--history",
                str(history),
                "--out",
                out,
                "--batch-size",
                "16",
            ]
        )
        == 0
    )
    assert "wrote" in capsys.readouterr().out
    with open(out, "rb") as f:
        assert f.read(8) == PNG_MAGIC
    height, width, channels = mpl_image.imread(out).shape
    assert height > 300 and width > 300 and channels in (3, 4)

    numbers = json.load(open(str(saved["dir"] / "plots" / "gates.json"), encoding="utf-8"))
    assert (numbers["builder"], numbers["rows"]) == ("MMoE", 60)
    assert numbers["task_weights"] == {"ctr": [1.0, 0.8], "spend": [1.0, 1.3]}
    (group,) = numbers["gates"]
    model = saved["model"]
    probe = tf.keras.Model(model.input, model.get_layer("bottom_input").output)
    x = probe({k: tf.constant(v) for k, v in saved["arrays"].items()}).numpy().astype("float64")
    expected = []
    for task in ("ctr", "spend"):
        kernel, bias = model.get_layer(f"gate_{task}").get_weights()
        expected.append(_softmax(x @ kernel + bias).mean(axis=0))
    np.testing.assert_allclose(group["mean"], expected, atol=1e-6)
    assert group["rows"] == ["ctr", "spend"]
    # expert health: each task's mean gate entropy / log E, and the experts' zeros
    (gate_health,) = numbers["health"]["gates"]
    entropy = [
        np.mean(-np.sum(p * np.log(p), axis=1)) / np.log(3)
        for p in (
            _softmax(
                x @ model.get_layer(f"gate_{t}").get_weights()[0]
                + model.get_layer(f"gate_{t}").get_weights()[1]
            )
            for t in ("ctr", "spend")
        )
    ]
    np.testing.assert_allclose(gate_health["normalized_entropy"], entropy, rtol=1e-5)
    experts = tf.keras.Model(model.input, model.get_layer("experts").output)
    outputs = experts({k: tf.constant(v) for k, v in saved["arrays"].items()}).numpy()
    (expert_health,) = numbers["health"]["experts"]
    np.testing.assert_allclose(
        expert_health["zero_fraction"], (outputs == 0).mean(axis=(0, 2)), atol=1e-9
    )
    np.testing.assert_allclose(
        expert_health["dead_fraction"], (outputs == 0).all(axis=0).mean(axis=1), atol=1e-9
    )


def test_inspect_prints_expert_health(saved, capsys):
    assert main(["inspect", saved["path"], "--data", saved["data"]]) == 0
    text = capsys.readouterr().out
    assert "expert health of 'mmoe' over 60 rows" in text
    assert "ctr: entropy" in text and "zero outputs / dead units" in text
    base = str(saved["dir"] / "served")
    keras_mtl.export.export_saved_model(saved["model"], base)
    assert main(["inspect", base, "--data", saved["data"]]) == 1  # no bundled .keras
    assert "without a bundled Keras model" in capsys.readouterr().err


def test_without_history_and_errors(saved, capsys, monkeypatch):
    out = str(saved["dir"] / "g.png")
    assert (
        main(["plot-gates", "--model", saved["path"], "--data", saved["data"], "--out", out]) == 0
    )
    assert json.load(open(str(saved["dir"] / "g.json"), encoding="utf-8"))["task_weights"] is None
    capsys.readouterr()

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    assert (
        main(["plot-gates", "--model", saved["path"], "--data", saved["data"], "--out", out]) == 1
    )
    assert 'pip install "keras_mtl[plot]"' in capsys.readouterr().err
    monkeypatch.undo()

    plain = keras_mtl.SharedBottom(
        _features(cli_cases.frame(20)), task_names=("ctr",), bottom_units=(4,)
    )
    plain.save(str(saved["dir"] / "plain.keras"))
    assert (
        main(
            [
                "plot-gates",
                "--model",
                str(saved["dir"] / "plain.keras"),
                "--data",
                saved["data"],
                "--out",
                out,
            ]
        )
        == 1
    )
    assert "(builder SharedBottom) has no softmax gates" in capsys.readouterr().err

    base = str(saved["dir"] / "served")
    keras_mtl.export.export_saved_model(saved["model"], base)
    assert main(["plot-gates", "--model", base, "--data", saved["data"], "--out", out]) == 1
    assert "without a bundled Keras model" in capsys.readouterr().err
