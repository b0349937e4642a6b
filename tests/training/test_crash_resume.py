"""SIGKILL mid-epoch, restart under BackupAndRestore: same end state as no crash."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STRATEGIES = ("GradNorm", "DWA")  # trainable and epoch-level strategy state

SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    import tensorflow as tf
    import keras_mtl
    from keras_mtl import weighting
    from tests.models import builder_cases

    folder, kill_at = sys.argv[1], int(sys.argv[2])
    for name in sys.argv[3:]:
        tf.keras.utils.set_random_seed(0)
        df = builder_cases.frame(rows=256)
        feats = builder_cases.features(df)
        model, labels = builder_cases.build(keras_mtl.MMoE, feats)
        model.compile(optimizer=tf.keras.optimizers.Adam(0.01),
                      weighting=getattr(weighting, name)())
        ds = keras_mtl.data.df_to_dataset(df, feats, labels, batch_size=32)

        class Kill(tf.keras.callbacks.Callback):
            steps = 0

            def on_train_batch_end(self, batch, logs=None):
                Kill.steps += 1
                if Kill.steps == kill_at:  # epoch 2 of 3, batch 5 of 8
                    os.kill(os.getpid(), signal.SIGKILL)

        callbacks = [Kill()]
        if kill_at >= 0:
            callbacks.insert(0, tf.keras.callbacks.BackupAndRestore(
                os.path.join(folder, "backup_" + name)))
        model.fit(ds, epochs=3, verbose=0, callbacks=callbacks)
        suffix = "resumed" if kill_at >= 0 else "uninterrupted"
        np.savez(os.path.join(folder, f"{name}_{suffix}.npz"), *model.get_weights(),
                 *[w.numpy() for w in model.weighting.weights])
        with open(os.path.join(folder, f"{name}_{suffix}.steps"), "w") as f:
            f.write(str(Kill.steps))
    """
)


def _run(folder, kill_at, *names):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    return subprocess.run(
        [sys.executable, str(folder / "train.py"), str(folder), str(kill_at), *names],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crash")
    (folder / "train.py").write_text(SCRIPT)
    full = _run(folder, -1, *STRATEGIES)  # never killed, no backup
    assert full.returncode == 0, full.stderr[-3000:]
    for name in STRATEGIES:
        killed = _run(folder, 13, name)
        assert killed.returncode == -9, killed.stderr[-3000:]  # SIGKILL
        assert not (folder / f"{name}_resumed.npz").exists()
    resumed = _run(folder, 0, *STRATEGIES)  # kill_at=0: never fires
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    return folder


@pytest.mark.parametrize("name", STRATEGIES)
def test_restart_resumes_and_matches_the_uninterrupted_run(folder, name):
    full = np.load(folder / f"{name}_uninterrupted.npz")
    resumed = np.load(folder / f"{name}_resumed.npz")
    # 3 epochs of 8 steps; the restart redoes epoch 2 (backed up after epoch 1)
    assert (folder / f"{name}_uninterrupted.steps").read_text() == "24"
    assert (folder / f"{name}_resumed.steps").read_text() == "16"
    assert full.files == resumed.files
    for key in full.files:  # model weights, then the strategy's state
        np.testing.assert_allclose(resumed[key], full[key], rtol=1e-6, atol=1e-7)
