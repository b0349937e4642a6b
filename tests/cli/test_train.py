"""`keras-mtl train` end to end in-process on a tiny config: outputs checked
against the saved Keras model and independently computed metrics."""

import contextlib
import io
import json
import os

import numpy as np
import onnxruntime
import pandas as pd
import pytest
import tensorflow as tf
from sklearn import metrics as sk_metrics

import keras_mtl  # noqa: F401  (registers the layers load_model revives)
from keras_mtl.cli.main import main
from tests.cli import cli_cases


def _padded(cell, maxlen):
    """ "a|b" -> ["a", "b", ""]; an empty CSV cell (NaN) -> all padding."""
    values = cell.split("|") if isinstance(cell, str) else []
    return (values + [""] * maxlen)[:maxlen]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("train"))
    cfg = cli_cases.config()
    cfg["output"] = {"dir": "out", "onnx": "out/model.onnx"}
    cfg["training"]["early_stopping_patience"] = 1  # monitors the validation loss
    path = cli_cases.write_run(folder, cfg)
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = main(["train", "--config", path])
    test_df = pd.read_csv(os.path.join(folder, "test.csv"))
    model = tf.keras.models.load_model(os.path.join(folder, "out", "model.keras"), compile=False)
    arrays = {  # the raw values a client sends, built by hand
        "item": test_df["item"].to_numpy("int64"),
        "color": test_df["color"].to_numpy(object),
        "price": test_df["price"].to_numpy("float32"),
        "tags": np.array([_padded(cell, 3) for cell in test_df["tags"]], dtype=object),
    }
    predictions = {
        k: v.numpy()
        for k, v in model({k: tf.constant(v) for k, v in arrays.items()}, training=False).items()
    }
    return {
        "code": code,
        "out": stdout.getvalue(),
        "dir": os.path.join(folder, "out"),
        "test": test_df,
        "arrays": arrays,
        "predictions": predictions,
        "model": model,
    }


def test_trains_and_prints_the_per_task_table(run):
    assert run["code"] == 0
    version = os.path.join(run["dir"], "saved_model", "1")
    onnx = os.path.join(run["dir"], "model.onnx")
    lines = run["out"].splitlines()
    (saved_line,) = [line for line in lines if line.startswith("SavedModel: ")]
    (onnx_line,) = [line for line in lines if line.startswith("ONNX: ")]
    assert saved_line.startswith(
        f"SavedModel: {version} (serving_default vs Keras on 16 rows: max |diff| "
    )
    assert onnx_line.startswith(f"ONNX: {onnx}, opset 18 (ONNX Runtime vs Keras on 16 rows: ")
    assert float(saved_line.split()[-1][:-1]) <= 1e-5 and float(onnx_line.split()[-1][:-1]) <= 1e-5
    table = run["out"].split("evaluation on data.test (100 rows)\n")[1].splitlines()
    assert table[0].split() == ["task", "type", "rows", "auc", "logloss", "mse", "mae"]
    assert table[1].split()[:3] == ["ctr", "binary", "100"] and table[1].split()[5:] == ["-", "-"]
    assert table[2].split()[:5] == ["spend", "regression", "100", "-", "-"]
    history = json.load(open(os.path.join(run["dir"], "history.json"), encoding="utf-8"))
    for key in ("loss", "ctr_loss", "spend_loss", "weight_ctr", "weight_spend", "val_loss"):
        assert len(history[key]) == 1, key
    assert sorted(run["model"].input) == ["color", "item", "price", "tags"]


def test_metrics_match_independent_computation(run):
    saved = json.load(open(os.path.join(run["dir"], "metrics.json"), encoding="utf-8"))
    assert saved["split"] == "test"
    ctr, spend = run["predictions"]["ctr"].ravel(), run["predictions"]["spend"].ravel()
    click, target = run["test"]["click"].to_numpy(), run["test"]["spend"].to_numpy()
    np.testing.assert_allclose(
        saved["tasks"]["ctr"]["auc"], sk_metrics.roc_auc_score(click, ctr), rtol=1e-6
    )
    np.testing.assert_allclose(
        saved["tasks"]["ctr"]["logloss"], sk_metrics.log_loss(click, ctr), rtol=1e-5
    )
    np.testing.assert_allclose(
        saved["tasks"]["spend"]["mse"], sk_metrics.mean_squared_error(target, spend), rtol=1e-5
    )
    np.testing.assert_allclose(
        saved["tasks"]["spend"]["mae"], sk_metrics.mean_absolute_error(target, spend), rtol=1e-5
    )


def test_savedmodel_and_onnx_outputs_equal_the_model(run):
    version = os.path.join(run["dir"], "saved_model", "1")
    serving = tf.saved_model.load(version).signatures["serving_default"]
    served = serving(**{k: tf.constant(v) for k, v in run["arrays"].items()})
    assert sorted(served) == ["ctr", "spend"]
    for task, expected in run["predictions"].items():
        np.testing.assert_allclose(served[task].numpy(), expected, atol=1e-5)
    session = onnxruntime.InferenceSession(
        os.path.join(run["dir"], "model.onnx"), providers=["CPUExecutionProvider"]
    )
    names = [o.name for o in session.get_outputs()]
    feed = {i.name: run["arrays"][i.name] for i in session.get_inputs()}
    for name, value in zip(names, session.run(names, feed)):
        np.testing.assert_allclose(value.reshape(-1), run["predictions"][name].ravel(), atol=1e-5)
    assert os.path.isfile(os.path.join(version, "assets.extra", "model.keras"))


def test_plot_gates_reads_the_model_bundled_in_the_savedmodel(run, tmp_path, capsys):
    out = str(tmp_path / "gates.png")
    data = str(tmp_path / "test.csv")
    run["test"].to_csv(data, index=False)
    assert (
        main(
            [
                "plot-gates",
                "--model",
                os.path.join(run["dir"], "saved_model"),
                "--data",
                data,
                "--history",
                os.path.join(run["dir"], "history.json"),
                "--out",
                out,
            ]
        )
        == 0
    )
    assert "showing the newest, 1" in capsys.readouterr().out
    numbers = json.load(open(str(tmp_path / "gates.json"), encoding="utf-8"))
    assert numbers["builder"] == "MMoE" and numbers["rows"] == 100
    (group,) = numbers["gates"]
    assert group["rows"] == ["ctr", "spend"] and len(group["columns"]) == 3
    np.testing.assert_allclose(np.sum(group["mean"], axis=1), [1.0, 1.0], atol=1e-6)
    history = json.load(open(os.path.join(run["dir"], "history.json"), encoding="utf-8"))
    assert numbers["task_weights"] == {
        "ctr": history["weight_ctr"],
        "spend": history["weight_spend"],
    }


def test_builder_with_outputs_of_its_own_and_no_evaluation_data(tmp_path, capsys):
    cfg = cli_cases.config(
        data={"train": "train.csv"},
        tasks=[{"name": "ctr", "label": "click"}, {"name": "ctcvr", "label": "click"}],
        model={"builder": "ESMM", "tower_units": [4]},
        output={"dir": "out", "saved_model": None, "keras_model": None},
    )
    path = cli_cases.write_run(str(tmp_path), cfg, rows=(80, 10, 10))
    assert main(["train", "--config", path]) == 2  # ESMM names ctcvr itself
    err = capsys.readouterr().err
    assert "config error at model: expected unique task names" in err
    assert "takes model.task_names, e.g. [ctr, cvr]" in err
    assert main(["train", "--config", path, "--set", "model.task_names=[ctr, cvr]"]) == 0
    assert "no data.test or data.validation: evaluation skipped" in capsys.readouterr().out
    history = json.load(open(str(tmp_path / "out" / "history.json"), encoding="utf-8"))
    assert sorted(k for k in history if k.startswith("weight_")) == ["weight_ctcvr", "weight_ctr"]
    assert not (tmp_path / "out" / "model.keras").exists()
    assert not (tmp_path / "out" / "metrics.json").exists()
