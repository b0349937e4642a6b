"""Two MultiWorkerMirroredStrategy workers on 127.0.0.1 train in lockstep.

MMoE trains with each weighting strategy (each keeps its own state, which the
workers must agree on): finite losses that fall, most variables moved, both
workers' variables equal. Every builder, and the normalisations that keep
statistics over the replicas' batches, train on two replicas of one process in
tests/training/test_distributed.py.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import keras_mtl
from tests.weighting import strategy_cases

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STRATEGIES = strategy_cases.NAMES

WORKER = textwrap.dedent(
    """
    import json, os, sys
    import numpy as np
    import tensorflow as tf

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    import keras_mtl
    from tests.models import builder_cases
    from tests.weighting import strategy_cases

    out_dir = sys.argv[1]
    index = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
    df = builder_cases.frame()
    feats = builder_cases.features(df)
    for name in sys.argv[2:]:  # MMoE with each weighting strategy
        tf.keras.utils.set_random_seed(0)
        with strategy.scope():
            model, labels = builder_cases.build(keras_mtl.MMoE, feats)
            model.compile(optimizer=tf.keras.optimizers.Adam(0.01),
                          weighting=strategy_cases.make(name))
        ds = keras_mtl.data.df_to_dataset(df, feats, labels, batch_size=16,
                                          drop_remainder=True)
        before = [w.copy() for w in model.get_weights()]
        history = model.fit(ds, epochs=2, verbose=0).history
        history["changed"] = [sum(not np.array_equal(a, b)
                                  for a, b in zip(before, model.get_weights()))]
        np.savez(os.path.join(out_dir, f"{name}_{index}.npz"), *model.get_weights())
        with open(os.path.join(out_dir, f"{name}_{index}.json"), "w") as f:
            json.dump({k: [float(x) for x in v] for k, v in history.items()}, f)
    """
)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def workers(tmp_path_factory):
    out = tmp_path_factory.mktemp("multi_worker")
    script = out / "worker.py"
    script.write_text(WORKER)
    cluster = {"worker": [f"127.0.0.1:{_free_port()}" for _ in range(2)]}
    procs = []
    for index in range(2):
        config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
        env = dict(
            os.environ, TF_CONFIG=json.dumps(config), TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, str(script), str(out), *STRATEGIES],
                env=env,
                cwd=ROOT,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    errors = []
    for proc in procs:
        try:
            _, err = proc.communicate(timeout=1200)
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            raise
        if proc.returncode:
            errors.append(err[-3000:])
    assert not errors, errors
    return out


@pytest.mark.parametrize("name", STRATEGIES)
def test_workers_train_in_lockstep(workers, name):
    """Both workers hold identical variables; their losses are finite and fall."""
    first = np.load(workers / f"{name}_0.npz")
    second = np.load(workers / f"{name}_1.npz")
    assert first.files == second.files and len(first.files) > 10
    for key in first.files:
        np.testing.assert_array_equal(first[key], second[key])
    for index in range(2):
        history = json.loads((workers / f"{name}_{index}.json").read_text())
        loss = history["loss"]
        assert len(loss) == 2 and np.all(np.isfinite(loss)), (name, loss)
        assert loss[1] < loss[0], (name, loss)  # fixed seed: it trains
        # most variables move (some, e.g. an unseen domain's, need not)
        assert history["changed"][0] >= len(first.files) // 2, (name, history["changed"])


def test_workers_ran_every_strategy(workers):
    ran = sorted(path.name[: -len("_0.npz")] for path in workers.glob("*_0.npz"))
    assert ran == sorted(STRATEGIES)
    assert set(keras_mtl.weighting.__all__) - {"WeightingStrategy"} == set(STRATEGIES)
