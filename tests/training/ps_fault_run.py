"""The coordinator of a parameter-server cluster whose tasks get killed; writes a JSON report.

Run by tests/training/test_parameter_server_faults.py in a subprocess with
`TF_USE_LEGACY_KERAS=1` (Keras 3 has no ParameterServerStrategy). The worker
and PS tasks are other processes (tests/training/ps_task.py) that the test
starts, kills and restarts; this process only coordinates:

    python tests/training/ps_fault_run.py CLUSTER_JSON OUT_DIR PLAN_JSON

PLAN_JSON: {"name": RUN, "epochs": E, "steps_per_epoch": S, "pauses": {"STEP":
"NAME", ...}, "backup": DIR or null, "check_step_backups": bool}. It trains
keras_mtl.MMoE (adam; its stack of embedding tables of width 3 sharded across
both PS tasks) with `model.fit` on a `DatasetCreator`. After the step numbered
STEP (from 0, counted over all epochs) has been scheduled it waits for every
scheduled step to finish (`coordinator.join()`), prints "pause NAME STEPS_RUN"
and blocks until a line comes on stdin: the test kills or restarts a task
meanwhile, knowing exactly how many steps ran.

With "backup", `tf.keras.callbacks.BackupAndRestore(DIR)` backs up at every
epoch end; the whole weights of the latest backup are saved as RUN_backup.npz
and those the run started from as RUN_start.npz. OUT_DIR/RUN.json gets the
optimizer's iterations, the History's epochs and losses, where the run started
(epoch, iterations), the error `fit` raised if any, the timeline of what
TensorFlow's ClusterCoordinator logged about failures and recoveries (with the
pauses in it), timings, and with "check_step_backups" whether
`BackupAndRestore` writes a backup under the strategy with `save_freq` in
steps and with `save_freq="epoch"`. The last stdout line is "report PATH".
"""

import json
import logging
import os
import sys
import time

STARTED = time.monotonic()
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from tests.training.ps_task import die_with_parent  # noqa: E402

die_with_parent()  # before the slow imports: never outlive the test

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_mtl  # noqa: E402
from keras_mtl.export import sharding  # noqa: E402
from tests.models import builder_cases  # noqa: E402
from tests.training.parameter_server_run import MIN_SHARD_BYTES  # noqa: E402
from tests.training.parameter_server_run import data  # noqa: E402

#: what TensorFlow's ClusterCoordinator logs when a task fails and when a worker is back
WATCHED = (
    "failed with",
    "recovered",
    "Putting back",
    "Clearing",
    "_on_worker_recovery",
    "Parameter server failure",
    "encountered the following error",
)


class _Name(str):
    __repr__ = str.__str__


def _short(arg):
    """An error by its type's name (its message runs to kilobytes), a long string cut."""
    if isinstance(arg, BaseException):
        return _Name(type(arg).__name__)
    return arg[:100] if isinstance(arg, str) else arg


class Timeline(logging.Handler):
    """The coordinator's log lines about failures and the pauses, in order, with their time."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.events = []

    def add(self, message):
        self.events.append([round(time.monotonic() - STARTED, 2), message])

    def emit(self, record):
        if isinstance(record.msg, str) and any(key in record.msg for key in WATCHED):
            args = record.args if isinstance(record.args, tuple) else ()
            try:
                self.add(record.msg % tuple(_short(a) for a in args))
            except (TypeError, ValueError):  # never fail the coordinator's thread
                self.add(record.msg)


class Pause(tf.keras.callbacks.Callback):
    """After the steps named in `pauses`: join, say how many ran, wait for the test."""

    def __init__(self, pauses, steps_per_epoch, timeline):
        super().__init__()
        self._supports_tf_logs = True  # takes RemoteValue logs: allowed under the strategy
        self.pauses, self.steps_per_epoch, self.timeline = pauses, steps_per_epoch, timeline
        self.epoch, self.ran = 0, {}

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        name = self.pauses.get(self.epoch * self.steps_per_epoch + batch)
        if name is None:
            return
        self.model._cluster_coordinator.join()  # every step scheduled so far has run
        self.ran[name] = int(self.model.optimizer.iterations.numpy())
        self.timeline.add(f"pause {name} after {self.ran[name]} steps")
        print(f"pause {name} {self.ran[name]}", flush=True)
        if not sys.stdin.readline():
            raise RuntimeError("the test closed stdin: stopping")
        self.timeline.add(f"resume after {name}")


class Backups(tf.keras.callbacks.Callback):
    """Saves what each epoch-end backup holds and what the run started from.

    Listed after `BackupAndRestore`: its `on_epoch_end` runs after the backup
    (the coordinator has joined every step of the epoch; nothing runs until
    the next epoch) and its first `on_epoch_begin` after the restore.
    """

    def __init__(self, path):
        super().__init__()
        self.path, self.start, self.last = path, None, None

    def _save(self, suffix):
        np.savez(f"{self.path}_{suffix}.npz", *sharding.whole_weights(self.model))
        return int(self.model.optimizer.iterations.numpy())

    def on_epoch_begin(self, epoch, logs=None):
        if self.start is None:
            self.start = {"epoch": epoch, "iterations": self._save("start")}

    def on_epoch_end(self, epoch, logs=None):
        self.last = {"epoch": epoch, "iterations": self._save("backup")}


def backups_written(model, train, folder):
    """{save_freq: whether BackupAndRestore left a checkpoint} for 1 step and "epoch"."""
    written = {}
    for save_freq in (1, "epoch"):
        path = os.path.join(folder, str(save_freq))
        model.fit(
            train,
            epochs=2,
            steps_per_epoch=2,
            verbose=0,
            callbacks=[
                tf.keras.callbacks.BackupAndRestore(
                    path, save_freq=save_freq, delete_checkpoint=False
                )
            ],
        )
        written[str(save_freq)] = any(
            name.endswith(".index") for _, _, names in os.walk(path) for name in names
        )
    return written


def main(cluster, out, plan):
    timeline = Timeline()
    tf.get_logger().addHandler(timeline)
    tf.get_logger().setLevel(logging.INFO)
    timings = {"imports_s": round(time.monotonic() - STARTED, 2)}
    strategy = tf.distribute.experimental.ParameterServerStrategy(
        tf.distribute.cluster_resolver.SimpleClusterResolver(
            tf.train.ClusterSpec(cluster), rpc_layer="grpc"
        ),
        variable_partitioner=tf.distribute.experimental.partitioners.MinSizePartitioner(
            min_shard_bytes=MIN_SHARD_BYTES, max_shards=len(cluster["ps"])
        ),
    )
    tf.keras.utils.set_random_seed(0)
    df = builder_cases.frame(256)
    feats = builder_cases.features(df)
    with strategy.scope():
        model = keras_mtl.MMoE(feats, **builder_cases.TINY["MMoE"])
        model.compile(optimizer="adam")
    train = data(df, feats, ["ctr", "cvr"])
    table = model.get_layer("embedding_tables_3").embeddings  # item, color, size, query
    path = os.path.join(out, plan["name"])
    pause = Pause(
        {int(step): name for step, name in plan["pauses"].items()},
        plan["steps_per_epoch"],
        timeline,
    )
    backups = Backups(path)
    callbacks = [pause, backups]
    if plan["backup"]:
        callbacks.insert(0, tf.keras.callbacks.BackupAndRestore(plan["backup"]))
    report = {
        "shard_devices": [part.device for part in table.variables],
        "error": None,
        "history": None,
        "iterations": None,
    }
    timings["setup_s"] = round(time.monotonic() - STARTED - timings["imports_s"], 2)
    start = time.monotonic()
    try:
        history = model.fit(
            train,
            epochs=plan["epochs"],
            steps_per_epoch=plan["steps_per_epoch"],
            verbose=0,
            callbacks=callbacks,
        )
        report["history"] = {"epochs": history.epoch, "loss": history.history["loss"]}
        report["iterations"] = int(model.optimizer.iterations.numpy())
    except Exception as error:
        timeline.add(f"fit raised {type(error).__name__}")
        report["error"] = {
            "type": f"{type(error).__module__}.{type(error).__name__}",
            "message": str(error)[:3000],
        }
    timings["fit_s"] = round(time.monotonic() - start, 2)
    report.update(
        pauses=pause.ran,
        start=backups.start,
        last_backup=backups.last,
        timeline=timeline.events,
        timings=timings,
    )
    if plan.get("check_step_backups") and report["error"] is None:
        start = time.monotonic()
        report["backups_written"] = backups_written(model, train, path + "_backup_check")
        timings["backup_check_s"] = round(time.monotonic() - start, 2)
    with open(path + ".json", "w") as f:
        json.dump(report, f, indent=1)
    print(f"report {path}.json", flush=True)
    # after a task failure the coordinator's threads may still wait on it:
    # exit without joining them
    os._exit(0)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]))
