"""The installed `keras-mtl` script end to end on the census example (the one
subprocess test), and argument handling in-process."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import tensorflow as tf

import keras_mtl
from keras_mtl.cli import loading
from keras_mtl.cli.main import main

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "cli", "census.yaml")


def _script():
    beside = os.path.join(os.path.dirname(sys.executable), "keras-mtl")
    return beside if os.path.exists(beside) else shutil.which("keras-mtl")


def test_console_script_trains_the_census_example(tmp_path):
    out = str(tmp_path / "census")
    result = subprocess.run(
        [
            _script(),
            "train",
            "--config",
            EXAMPLE,
            "--set",
            "training.epochs=1",
            "--set",
            f"output.dir={out}",
            "--set",
            "output.onnx=null",
            "--set",
            "training.verbose=2",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "evaluation on data.test (1000 rows)" in result.stdout
    metrics = json.load(open(os.path.join(out, "metrics.json"), encoding="utf-8"))
    assert sorted(metrics["tasks"]) == ["income", "never_married"]

    # the reported AUCs are those of the saved model on the example's test CSV
    model = tf.keras.models.load_model(os.path.join(out, "model.keras"), compile=False)
    test_csv = os.path.join(os.path.dirname(EXAMPLE), "census_test.csv.gz")
    df, arrays = loading.load_rows(model, test_csv)
    predictions = model.predict(arrays, batch_size=1000, verbose=0)
    for task in ("income", "never_married"):
        auc = keras_mtl.evaluation.roc_auc(df[task].to_numpy(), predictions[task])
        np.testing.assert_allclose(metrics["tasks"][task]["auc"], auc, rtol=1e-6)
        line = next(l for l in result.stdout.splitlines() if l.startswith(task + " "))
        assert line.split()[3] == f"{auc:.4f}"
    history = json.load(open(os.path.join(out, "history.json"), encoding="utf-8"))
    assert len(history["loss"]) == 1 and history["weight_income"] == [1.0]
    assert os.path.isfile(os.path.join(out, "saved_model", "1", "saved_model.pb"))


def test_usage_errors_return_2(capsys):
    assert main([]) == 2
    assert main(["train"]) == 2  # --config is required
    assert "--config" in capsys.readouterr().err
    assert main(["--help"]) == 0
    assert "plot-gates" in capsys.readouterr().out
    assert main(["train", "--config", "no_such.yaml"]) == 2
    assert "config file not found: no_such.yaml" in capsys.readouterr().err
