"""Exports killed (SIGKILL) at random moments leave no partial version.

One process (tests/export/export_loop.py) exports a seeded model in a loop:
SavedModel versions, ONNX versions, and one ONNX file replaced in place.
It is killed at seeded random moments, restarted, killed again; then every
numeric version left must be whole and serve the model's predictions, the
ONNX file must load with the data file it names, and the next export must
clear the hidden staging folders the killed ones left.
"""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import onnxruntime
import pytest
import tensorflow as tf

import keras_mtl
from keras_mtl.export import versions
from tests.export import export_loop

KILLS = 5
LOOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "export_loop.py")


def _run_and_kill(base, delay):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.Popen(
        [sys.executable, LOOP, str(base)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = proc.stdout.readline()
        assert line.strip() == "READY", proc.stderr.read()[-3000:]
        time.sleep(delay)
        assert proc.poll() is None, proc.stderr.read()[-3000:]  # still exporting
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)


@pytest.fixture(scope="module")
def killed(tmp_path_factory):
    base = tmp_path_factory.mktemp("killed")
    rng = np.random.RandomState(0)
    for delay in rng.uniform(0.2, 6.0, KILLS):
        _run_and_kill(base, delay)
    return base, dict(np.load(base / "expected.npz")), None


def _numeric(folder):
    return sorted(int(n) for n in os.listdir(folder) if n.isdigit()) if folder.is_dir() else []


def test_every_saved_model_version_left_is_whole_and_serves(killed):
    base, expected, _ = killed
    _, rows = export_loop.model_and_rows()
    found = _numeric(base / "saved")
    assert found == list(range(1, len(found) + 1))  # versions claimed in order, none torn
    for version in found:
        path = base / "saved" / str(version)
        assert (path / "saved_model.pb").is_file() and (path / "fingerprint.pb").is_file()
        assert (path / keras_mtl.export.warmup.WARMUP_FILE).is_file()
        assert (path / "variables" / "variables.index").is_file()
        serve = tf.saved_model.load(str(path)).signatures["serving_default"]
        out = serve(**{k: tf.constant(v) for k, v in rows.items()})
        np.testing.assert_allclose(out["ctr"].numpy(), expected["ctr"], atol=1e-6)


def test_every_onnx_version_and_the_replaced_file_load_whole(killed):
    base, expected, _ = killed
    _, rows = export_loop.model_and_rows()
    paths = [base / "onnx" / str(v) / "model.onnx" for v in _numeric(base / "onnx")]
    if (base / "file" / "model.onnx").exists():
        paths.append(base / "file" / "model.onnx")
        data = [n for n in os.listdir(base / "file") if n.endswith(".data")]
        assert len(data) == 1  # the one the .onnx file names; replaced ones are gone
    for path in paths:
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        out = session.run(["ctr"], rows)[0]
        np.testing.assert_allclose(out, expected["ctr"], atol=1e-5)


def test_the_next_export_clears_staging_folders_of_dead_exports(killed):
    """Hidden folders of killed exports (a dead process of this host) go; a
    live process's stays; a version is claimed past the ones left."""
    base, _, _ = killed
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    host = versions.socket.gethostname()
    stale = base / "saved" / f"{versions.STAGING_PREFIX}{host}-{dead}-abcdefgh"
    live = base / "saved" / f"{versions.STAGING_PREFIX}{host}-{os.getpid()}-abcdefgh"
    for folder in (stale, live):
        folder.mkdir(parents=True)
        (folder / "saved_model.pb").write_bytes(b"partial")
    model, rows = export_loop.model_and_rows()
    before = _numeric(base / "saved")
    path = keras_mtl.export.export_saved_model(model, str(base / "saved"), examples=rows)
    assert os.path.basename(path) == str(max(before, default=0) + 1)
    assert not stale.exists() and live.exists()
