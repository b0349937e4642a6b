"""`keras-mtl train --warm-start`: day 2 refreshes day 1's vocabularies, continues its
training and exports version 2 beside version 1; `inspect` shows the refresh."""

import contextlib
import hashlib
import io
import os

import numpy as np
import pytest
import tensorflow as tf
import yaml

import keras_mtl  # noqa: F401  (registers the layers load_model revives)
from keras_mtl.cli.main import main
from tests.cli import cli_cases

BUDGET = 16


def _run(argv):
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(argv)
    return code, stdout.getvalue(), stderr.getvalue()


def _write_config(folder, name, cfg):
    path = os.path.join(folder, name)
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(cfg, f)
    return path


def _digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@pytest.fixture(scope="module")
def days(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("days"))
    cfg = cli_cases.config(vocabulary={"max_tokens": BUDGET})
    day1 = cli_cases.write_run(folder, cfg)
    code1, out1, err1 = _run(["train", "--config", day1])
    assert code1 == 0, err1
    keras_file = os.path.join(folder, "out", "model.keras")
    before = _digest(keras_file)
    day1_model = tf.keras.models.load_model(keras_file)
    # day 2: items 10..29 (half of them new), the same colours and tags
    df = cli_cases.frame(300, seed=9)
    df["item"] = df["item"] + 10
    df.to_csv(os.path.join(folder, "train2.csv"), index=False)
    cfg2 = dict(cfg, data=dict(cfg["data"], train="train2.csv"))
    day2 = _write_config(folder, "day2.yaml", cfg2)
    code2, out2, err2 = _run(["train", "--config", day2, "--warm-start", keras_file + ".day1"])
    assert code2 == 1 and "expected an existing .keras file" in err2  # no such file
    os.replace(keras_file, os.path.join(folder, "day1.keras"))
    code2, out2, err2 = _run(
        ["train", "--config", day2, "--warm-start", os.path.join(folder, "day1.keras")]
    )
    assert code2 == 0, err2
    return dict(
        folder=folder,
        cfg=cfg,
        out1=out1,
        out2=out2,
        day1=day1_model,
        day1_digest=before,
        day2=tf.keras.models.load_model(keras_file),
    )


def test_day_two_reports_the_refresh_and_the_carried_state(days):
    assert "vocabulary refresh 1" in days["out2"]
    assert "carried over" in days["out2"]
    item = next(s for s in days["day2"].features if s.name == "item")
    old_item = next(s for s in days["day1"].features if s.name == "item")
    assert item.refreshes == 1
    kept, admitted, evicted, _ = item.refresh_counts
    assert admitted > 0
    assert kept + evicted == len(old_item.vocabulary)
    assert len(item.vocabulary) == kept + admitted <= BUDGET
    for i, value in enumerate(old_item.vocabulary):  # kept ids keep their index
        if value in item.vocabulary:
            assert item.vocabulary.index(value) == i


def test_training_continues_from_day_one_s_step(days):
    steps = -(-300 // 64)  # one epoch of 300 rows, batch 64
    assert int(days["day1"].optimizer.iterations.numpy()) == steps
    assert int(days["day2"].optimizer.iterations.numpy()) == 2 * steps


def test_version_two_is_exported_beside_version_one_and_serves(days):
    base = os.path.join(days["folder"], "out", "saved_model")
    assert sorted(os.listdir(base)) == ["1", "2"]
    served = tf.saved_model.load(os.path.join(base, "2")).signatures["serving_default"]
    rows = {
        "item": tf.constant([10, 25], tf.int64),
        "color": tf.constant(["red", "blue"]),
        "price": tf.constant([1.5, 0.2]),
        "tags": tf.constant([["a", "", ""], ["b", "c", ""]]),
    }
    keras_out = days["day2"](rows, training=False)
    out = served(**rows)
    for task in ("ctr", "spend"):
        np.testing.assert_allclose(
            out[task].numpy().ravel(), keras_out[task].numpy().ravel(), atol=1e-5
        )


def test_inspect_shows_vocabulary_sizes_and_the_last_refresh(days):
    path = os.path.join(days["folder"], "out", "model.keras")
    code, out, err = _run(["inspect", path])
    assert code == 0, err
    item = next(s for s in days["day2"].features if s.name == "item")
    line = next(line for line in out.splitlines() if line.strip().startswith("item"))
    assert line.split()[1] == str(len(item.vocabulary))
    assert line.split()[2] == "1"
    assert " / ".join(str(c) for c in item.refresh_counts) in line


def test_a_warm_start_with_other_widths_fails_before_training(days):
    folder = days["folder"]
    cfg = days["cfg"]
    sparse = [{"name": "item", "embedding_dim": 5}, "color"]
    wider = dict(cfg, features=dict(cfg["features"], sparse=sparse), output={"dir": "out3"})
    path = _write_config(folder, "wider.yaml", wider)
    code, out, err = _run(
        ["train", "--config", path, "--warm-start", os.path.join(folder, "day1.keras")]
    )
    assert code == 1
    assert "feature 'item' differs in embedding_dim: 5" in err
    assert not os.path.exists(os.path.join(folder, "out3", "saved_model"))
    assert _digest(os.path.join(folder, "day1.keras")) == days["day1_digest"]
