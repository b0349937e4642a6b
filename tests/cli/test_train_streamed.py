"""`keras-mtl train` on streamed TFRecord / Parquet files equals the in-memory run."""

import contextlib
import io
import json
import os

import numpy as np
import pandas as pd
import pytest

import keras_mtl
from keras_mtl.cli.main import main
from tests.cli import cli_cases

SPECS = [
    keras_mtl.SparseFeat("item"),
    keras_mtl.SparseFeat("color"),
    keras_mtl.DenseFeat("price"),
    keras_mtl.VarLenSparseFeat("tags", maxlen=3, dtype="string"),
]


def _config(**data):
    cfg = cli_cases.config(data=data)
    cfg["training"]["shuffle"] = False  # the same batches in the same order
    cfg["output"] = {"dir": "out", "saved_model": None, "keras_model": None}
    return cfg


def _train(folder, cfg):
    import yaml

    path = os.path.join(folder, "run.yaml")
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(cfg, f)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["train", "--config", path])
    metrics = os.path.join(folder, "out", "metrics.json")
    result = json.load(open(metrics, encoding="utf-8")) if code == 0 else None
    return code, out.getvalue(), result


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("streamed"))
    cli_cases.write_run(folder)
    for name in ("train", "valid", "test"):
        df = pd.read_csv(os.path.join(folder, f"{name}.csv"), dtype={"tags": str})
        df["tags"] = [[] if not isinstance(t, str) else t.split("|") for t in df["tags"]]
        keras_mtl.data.write_tfrecords(
            df, os.path.join(folder, name), SPECS, ["click", "spend"]
        )  # one file: the CSV order
        df.to_parquet(os.path.join(folder, f"{name}.parquet"))
    return folder


def test_tfrecord_and_parquet_runs_equal_the_csv_run(folder):
    code, _, in_memory = _train(
        folder, _config(train="train.csv", validation="valid.csv", test="test.csv")
    )
    assert code == 0
    code, out, tfrecord = _train(
        folder,
        _config(train="train-*.tfrecord", validation="valid-*.tfrecord", test="test-*.tfrecord"),
    )
    assert code == 0, out
    assert "streamed, row count unknown" in out
    code, out, parquet = _train(
        folder,
        _config(
            train="train.parquet", validation="valid.parquet", test="test.parquet", stream=True
        ),
    )
    assert code == 0, out
    assert "streamed, 5 batches" in out  # ceil(300 / 64), from the Parquet footer
    for streamed in (tfrecord, parquet):
        for task in ("ctr", "spend"):
            for metric, value in in_memory["tasks"][task].items():
                if isinstance(value, float):  # float32 records vs float64 CSV statistics: 1e-4
                    np.testing.assert_allclose(streamed["tasks"][task][metric], value, rtol=1e-4)


def test_corrupt_tfrecord_is_named(folder, tmp_path):
    data = open(os.path.join(folder, "train-00000-of-00001.tfrecord"), "rb").read()
    (tmp_path / "a.tfrecord").write_bytes(data)
    (tmp_path / "b.tfrecord").write_bytes(data[:-7])
    cfg = _config(train=str(tmp_path / "*.tfrecord"))
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code, out, _ = _train(str(tmp_path), cfg)
    assert code != 0
    assert "b.tfrecord is corrupt" in err.getvalue() + out


def test_streamed_bz2_csv_with_two_separators_equals_the_in_memory_run(tmp_path):
    folder = str(tmp_path)
    cli_cases.write_run(folder)
    for name in ("train", "valid", "test"):
        path = os.path.join(folder, f"{name}.csv")
        df = pd.read_csv(path, dtype={"tags": str}, keep_default_na=False)
        tags = [t.split("|") if t else [] for t in df["tags"]]
        df["tags"] = [";".join(t) for t in tags]
        df["tags2"] = ["/".join(reversed(t)) for t in tags]
        df.to_csv(path, index=False)
        df.to_csv(path + ".bz2", index=False)  # pandas compresses by the suffix
    varlen = [
        {"name": "tags", "maxlen": 3, "embedding_dim": 3, "separator": ";"},
        {"name": "tags2", "maxlen": 3, "embedding_dim": 3, "separator": "/"},
    ]

    def run(suffix, **data):
        cfg = _config(
            train=f"train.csv{suffix}", validation=f"valid.csv{suffix}", test=f"test.csv{suffix}"
        )
        cfg["data"].update(data)
        cfg["features"]["varlen"] = varlen
        return _train(folder, cfg)

    code, out, in_memory = run("")
    assert code == 0, out
    code, out, streamed = run(".bz2", stream=True)
    assert code == 0, out
    assert "train.csv.bz2 (streamed, row count unknown)" in out
    for task in ("ctr", "spend"):
        for metric, value in in_memory["tasks"][task].items():
            if isinstance(value, float):
                np.testing.assert_allclose(streamed["tasks"][task][metric], value, rtol=1e-5)
