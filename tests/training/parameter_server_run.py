"""Trains keras_mtl models on a loopback parameter-server cluster; prints a JSON report.

Run by tests/training/test_parameter_servers.py in a subprocess with
`TF_USE_LEGACY_KERAS=1` (tf_keras 2: Keras 3 has no ParameterServerStrategy).
The cluster is TensorFlow's in-process one, as in TF's parameter-server
guide: two worker and two parameter-server `tf.distribute.Server`s on
127.0.0.1 inside this process, which is the coordinator; they end with it.

    python tests/training/parameter_server_run.py OUT_DIR '{"MMoE": "DWA", ...}'

writes OUT_DIR/report.json: per builder (with its weighting strategy) the
epoch losses and how many trainable variables moved; for MMoE (with one
more feature, "big_id", whose table makes its stack larger than
`DENSE_TABLE_MAX_ROWS`) the shard layout of its stacked embedding tables and
the optimizer of each shard, losses over more steps, predictions of the
coordinator's model on test rows, a SavedModel and an ONNX file of it,
checkpoint round trips, a BackupAndRestore resume, and the refusals (MAMDR,
export inside the strategy's scope).
"""

import json
import os
import socket
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_mtl  # noqa: E402
from keras_mtl import keras_compat  # noqa: E402
from keras_mtl.export import sharding  # noqa: E402
from keras_mtl.layers import StackedEmbedding  # noqa: E402
from keras_mtl.training.optimizer_groups import DENSE_TABLE_MAX_ROWS  # noqa: E402
from tests.models import builder_cases  # noqa: E402
from tests.weighting import strategy_cases  # noqa: E402

NUM_WORKERS, NUM_PS = 2, 2
#: small enough that the stack of the tiny tables of width 3 (49 rows x 3
#: floats) is split in two
MIN_SHARD_BYTES = 128
BATCH = 32
#: MMoE's extra feature: its table (one row more: out of vocabulary) and the
#: domain's (4 rows) make the stack of width 2 larger than
#: DENSE_TABLE_MAX_ROWS, though each of its two shards is smaller
BIG = "big_id"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def local_cluster():
    """Starts the servers; returns a cluster resolver for the coordinator."""
    spec = tf.train.ClusterSpec(
        {
            "worker": [f"127.0.0.1:{free_port()}" for _ in range(NUM_WORKERS)],
            "ps": [f"127.0.0.1:{free_port()}" for _ in range(NUM_PS)],
        }
    )
    config = tf.compat.v1.ConfigProto()
    config.inter_op_parallelism_threads = NUM_WORKERS + 1  # as TF's guide, on few cores
    for index in range(NUM_WORKERS):
        tf.distribute.Server(
            spec, job_name="worker", task_index=index, config=config, protocol="grpc"
        )
    for index in range(NUM_PS):
        tf.distribute.Server(spec, job_name="ps", task_index=index, protocol="grpc")
    return tf.distribute.cluster_resolver.SimpleClusterResolver(spec, rpc_layer="grpc")


def data(df, feats, labels):
    """A DatasetCreator: the dataset function runs on each worker."""

    def dataset_fn(context):
        return keras_mtl.data.df_to_dataset(df, feats, labels, batch_size=BATCH).repeat()

    return tf.keras.utils.experimental.DatasetCreator(dataset_fn)


def moved(before, model):
    return sum(not np.array_equal(b, v.numpy()) for b, v in zip(before, model.trainable_variables))


def every_builder(strategy, df, feats, runs):
    report = {}
    for name, weighting in runs.items():
        builder = getattr(keras_mtl.models, name)
        with strategy.scope():
            model, labels = builder_cases.build_replicable(builder, feats)
            model.compile(optimizer="adam", weighting=strategy_cases.make(weighting))
        before = [v.numpy() for v in model.trainable_variables]
        history = model.fit(data(df, feats, labels), epochs=1, steps_per_epoch=3, verbose=0)
        report[name] = {
            "weighting": weighting,
            "loss": history.history["loss"],
            "moved": moved(before, model),
            "variables": len(before),
        }
    return report


def with_big_table(df, feats):
    """`df` and `feats` with the BIG feature: pre-encoded ids of width 2."""
    df = df.assign(**{BIG: np.random.RandomState(7).randint(0, DENSE_TABLE_MAX_ROWS, len(df))})
    big = keras_mtl.SparseFeat(BIG, vocabulary_size=DENSE_TABLE_MAX_ROWS, embedding_dim=2)
    return df, [*feats, big]


def stacks(model):
    """Per `StackedEmbedding` layer: its variable's type, rows, tables and
    shards (shape, device, optimizer group, optimizer class)."""
    groups = model.training_state.optimizer_groups
    found = {}
    for layer in model.layers:
        if not isinstance(layer, StackedEmbedding):
            continue
        table = layer.embeddings
        parts = keras_compat.shards(table)
        found[layer.name] = {
            "type": type(table).__name__,
            "rows": int(table.shape[0]),
            "tables": dict(layer.tables),
            "shards": [
                {
                    "shape": list(part.shape),
                    "device": getattr(part, "device", None),  # Keras 3 variables have none
                    "group": groups.group_of(part),
                    "optimizer": type(groups.optimizer_of(part)).__name__,
                }
                for part in parts
            ],
        }
    return found


def _kept_rows(model, table):
    """`{id: (row, {slot: row})}` of the ids of a vocabulary table (whole values)."""
    spec = next(s for s in model.features if s.embedding_name == table and s.encoding == "lookup")
    layer = next(layer for layer in model.layers if table in getattr(layer, "offsets", {}))
    offset, _ = layer.table_slice(table)
    parts = keras_compat.shards(layer.embeddings)
    optimizer = model.training_state.optimizer_of(parts[0])
    by_part = [keras_compat.slot_variables(optimizer, p) for p in parts]
    slots = {
        name: keras_compat.rows_value([s[name] for s in by_part])
        for name in ("_momentums", "_velocities")
    }
    rows = keras_compat.rows_value(parts)
    return {
        value: (rows[offset + i + 1], {k: v[offset + i + 1] for k, v in slots.items()})
        for i, value in enumerate(spec.vocabulary)
    }


def warm_started(strategy, model, feats, kwargs):
    """Day 2: `model`'s features refreshed on rows with new sizes (budget 6),
    a new MMoE in the strategy's scope, warm started from `model`."""
    df2 = builder_cases.frame(256, seed=3)
    df2["size"] = df2["size"] + 3  # sizes 3..7: 5, 6 and 7 are new
    df2, _ = with_big_table(df2, feats)
    refreshed, vocab_report = keras_mtl.features.refresh_vocabularies(
        model.features, df2, max_tokens={"size": 6}
    )
    with strategy.scope():
        new = keras_mtl.MMoE(refreshed, **kwargs)
        new.compile(optimizer="adam")
        summary = keras_mtl.training.warm_start(new, model)
    old_rows, new_rows = _kept_rows(model, "size"), _kept_rows(new, "size")
    kept = [v for v in new_rows if v in old_rows]
    return {
        "size_counts": vocab_report.tables["size"],
        "kept": len(kept),
        "row_diff": max(float(np.abs(new_rows[v][0] - old_rows[v][0]).max()) for v in kept),
        "slot_diff": max(
            float(np.abs(new_rows[v][1][k] - old_rows[v][1][k]).max())
            for v in kept
            for k in new_rows[v][1]
        ),
        "old_slot_max": max(float(np.abs(old_rows[v][1]["_velocities"]).max()) for v in kept),
        "stacks": stacks(new),
        "iterations": [int(model.optimizer.iterations.numpy()), summary["iterations"]],
        "new_iterations": int(new.optimizer.iterations.numpy()),
    }


def refusal(call):
    try:
        call()
    except (ValueError, RuntimeError) as error:
        return f"{type(error).__name__}: {error}"
    return None


def mmoe(strategy, df, feats, out):
    """MMoE in detail: shards, training, export, checkpoints, resume, refusals."""
    kwargs = builder_cases.TINY["MMoE"]
    labels = ["ctr", "cvr"]
    with strategy.scope():
        model = keras_mtl.MMoE(feats, **kwargs)
        model.compile(optimizer="adam")
    layout = stacks(model)
    history = model.fit(data(df, feats, labels), epochs=6, steps_per_epoch=4, verbose=0)
    rows = keras_mtl.data.features_to_arrays(df.head(16), feats)
    predictions = {k: np.asarray(v).tolist() for k, v in model.predict(rows, verbose=0).items()}

    report = {
        "stacks": layout,
        "loss": history.history["loss"],
        "predictions": predictions,
        "rows": {k: v.tolist() for k, v in rows.items()},
        "compiled_optimizer": type(model.optimizer).__name__,
    }
    report["saved_model"] = keras_mtl.export.export_saved_model(model, os.path.join(out, "ranker"))
    report["warm_start"] = warm_started(strategy, model, feats, kwargs)
    onnx = keras_mtl.export.export_onnx(
        model, os.path.join(out, "ranker.onnx"), examples=rows, external_data=True
    )
    report["onnx_max_abs_diff"] = max(onnx.max_abs_diff.values())
    # each table's initializer holds its shards' rows, joined in order
    import onnx as onnx_lib

    stored = {
        t.name: onnx_lib.numpy_helper.to_array(t)
        for t in onnx_lib.load(onnx.path).graph.initializer
    }
    report["onnx_tables"] = {
        name: float(
            np.max(
                np.abs(
                    stored[name]
                    - np.concatenate(
                        [v.numpy() for v in model.get_layer(name.split("/")[0]).weights]
                    )
                )
            )
        )
        for name in onnx.tables
    }

    def export_in_scope():
        with strategy.scope():
            keras_mtl.export.export_saved_model(model, os.path.join(out, "in_scope"))

    report["export_in_scope"] = refusal(export_in_scope)
    report["mamdr"] = refusal(lambda: keras_mtl.training.MAMDR(model, "domain", num_domains=3))

    # checkpoint: the shards are saved whole: they restore into an unsharded model too
    path = os.path.join(out, "checkpoint", "weights")
    model.save_weights(path)
    whole = sharding.whole_weights(model)
    flat = keras_mtl.MMoE(feats, **kwargs)
    flat.compile(optimizer="adam")
    flat.load_weights(path)
    with strategy.scope():
        resharded = keras_mtl.MMoE(feats, **kwargs)
        resharded.compile(optimizer="adam")
    resharded.load_weights(path)
    report["checkpoint_to_unsharded"] = max(
        float(np.abs(a - b).max()) for a, b in zip(whole, flat.get_weights())
    )
    report["checkpoint_to_sharded"] = max(
        float(np.abs(a - b).max()) for a, b in zip(whole, sharding.whole_weights(resharded))
    )
    report["checkpoint_steps"] = [
        int(model.optimizer.iterations),
        int(flat.optimizer.iterations),
        int(resharded.optimizer.iterations),
    ]

    # resume: a run stopped after its 2nd epoch's backup; a new model given
    # the same backup goes on from the 3rd epoch with the saved state
    backup = os.path.join(out, "backup")

    class Stop(tf.keras.callbacks.Callback):  # after BackupAndRestore in the list
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.weights = sharding.whole_weights(self.model)
                self.state = [v.numpy().tolist() for v in self.model.weighting.variables]
                raise KeyboardInterrupt("stopped after epoch 2")

    class Seen(tf.keras.callbacks.Callback):  # the state the resumed run starts from
        def on_epoch_begin(self, epoch, logs=None):
            if not hasattr(self, "epoch"):
                self.epoch = epoch
                self.weights = sharding.whole_weights(self.model)
                self.state = [v.numpy().tolist() for v in self.model.weighting.variables]

    watchers = {"stopped": Stop(), "resumed": Seen()}
    for watcher in watchers.values():
        with strategy.scope():
            run = keras_mtl.MMoE(feats, **kwargs)
            run.compile(optimizer="adam", weighting=keras_mtl.weighting.UncertaintyWeighting())
        callbacks = [tf.keras.callbacks.BackupAndRestore(backup), watcher]
        try:
            history = run.fit(
                data(df, feats, labels), epochs=4, steps_per_epoch=2, verbose=0, callbacks=callbacks
            )
        except KeyboardInterrupt:
            continue
    stopped, resumed = watchers["stopped"], watchers["resumed"]
    report["resume"] = {
        "resumed_epochs": len(history.history["loss"]),
        "first_resumed_epoch": resumed.epoch,
        "max_diff_at_resume": max(
            float(np.abs(a - b).max()) for a, b in zip(stopped.weights, resumed.weights)
        ),
        "strategy_state": [stopped.state, resumed.state],
        "loss": history.history["loss"],
    }
    return report


def main(out, runs):
    resolver = local_cluster()
    strategy = tf.distribute.experimental.ParameterServerStrategy(
        resolver,
        variable_partitioner=tf.distribute.experimental.partitioners.MinSizePartitioner(
            min_shard_bytes=MIN_SHARD_BYTES, max_shards=NUM_PS
        ),
    )
    tf.keras.utils.set_random_seed(0)
    df = builder_cases.frame(256)
    feats = builder_cases.features(df)
    report = {
        "mmoe": mmoe(strategy, *with_big_table(df, feats), out),
        "builders": every_builder(strategy, df, feats, runs),
    }
    with open(os.path.join(out, "report.json"), "w") as f:
        json.dump(report, f)


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]))
