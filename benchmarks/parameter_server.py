"""MMoE on a loopback parameter-server cluster next to one process, with peak memory per task.

    python benchmarks/parameter_server.py                         # 2 tables of 20M ids x 16
    python benchmarks/parameter_server.py --ids 500000 --steps 60 # a quick run
    python benchmarks/parameter_server.py --ps 2 --optimizer adam --ids 8000000

Everything runs on this machine, under tf_keras 2 (the script sets
`TF_USE_LEGACY_KERAS=1`; Keras 3 has no ParameterServerStrategy):

- `single`: one process trains the model (no strategy) for `--steps` steps;
- `cluster`: `--ps` parameter-server and two worker processes
  (`tf.distribute.Server` on 127.0.0.1, each its own OS process) and this
  process as the coordinator: the model is built under
  `ParameterServerStrategy` with `MinSizePartitioner(max_shards=ps x
  shards-per-ps)`, so each embedding table is split by rows into that many
  shards placed round robin on the parameter servers, and trains for the same
  number of steps with `model.fit`; the coordinator then exports the
  SavedModel (the tables joined), and a new process loads it and serves
  test rows, checked against the coordinator's predictions.

`--optimizer` is `compile`'s, for every variable: "adagrad" (default; the
tables get keras_mtl's sparse Adagrad, one slot per table row), "adam"
(LazyAdam on the tables' stacks of more than 100,000 rows, two slots; Adam
itself on smaller stacks) or "sgd" (none).
Several shards per parameter server keep the transient initial value of
the shard being created small next to the shards a task holds.

The model: MMoE (4 experts of (64, 32), towers (16,)) over two id features
("user", "item") of `--ids` ids each with `--dim`-wide embeddings, two more
small id features and two numeric ones; two binary tasks. Rows are generated
inside the dataset function (TF ops only, as a worker needs): ids log-uniform
over the vocabulary (a Zipf-like head), labels a function of the ids. Each
process's peak resident memory is VmHWM of /proc/<pid>/status. Rows/s is timed
from the end of the first `fit` call (tracing) over a second one of `--steps`
steps; rows per CPU-second divides by the CPU time of every process of the run.
"""

import argparse
import gc
import json
import os
import socket
import sys

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, ROOT)
import _harness  # noqa: E402
import _report  # noqa: E402

DEFAULT_OUT = os.path.join(HERE, "results", "parameter_server.json")
NUM_WORKERS = 2
#: optimizer slots per table row: LazyAdam m and v, Adagrad's accumulator
SLOTS = {"adam": 2, "adagrad": 1, "sgd": 0}
BATCH = 1024
WARM_STEPS = 10


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ids", type=int, default=20_000_000, help="ids of each large table")
    parser.add_argument("--ps", type=int, default=4, help="parameter-server tasks")
    parser.add_argument(
        "--shards-per-ps",
        type=int,
        default=4,
        help="shards of each large table per parameter server",
    )
    parser.add_argument(
        "--optimizer",
        choices=sorted(SLOTS),
        default="adagrad",
        help="compile's optimizer (the tables get its sparse twin)",
    )
    parser.add_argument("--dim", type=int, default=16)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--no-doc", action="store_true")
    return parser.parse_args(argv)


def vm_hwm_mib(pid="self"):
    """Peak resident memory (VmHWM) of this process or of task `pid`, in MiB."""
    return _harness.peak_bytes(pid) / _harness.MIB


def vm_rss_mib(pid="self"):
    """Resident memory now (VmRSS) of this process or of task `pid`, in MiB."""
    return _harness.rss_bytes(pid) / _harness.MIB


def features(args):
    import keras_mtl

    return [
        keras_mtl.SparseFeat("user", vocabulary_size=args.ids, embedding_dim=args.dim),
        keras_mtl.SparseFeat("item", vocabulary_size=args.ids, embedding_dim=args.dim),
        keras_mtl.SparseFeat("slot", vocabulary_size=100, embedding_dim=8),
        keras_mtl.SparseFeat("hour", vocabulary_size=24, embedding_dim=4),
        keras_mtl.DenseFeat("price"),
        keras_mtl.DenseFeat("age"),
    ]


def dataset_fn(args, labels=True):
    """`(input_context) -> dataset`: rows generated with TF ops (workers run it)."""
    import tensorflow as tf

    ids = args.ids

    def rows(step):
        seed = tf.stack([step, tf.constant(7, tf.int64)])
        u = tf.random.stateless_uniform((BATCH, 6), seed=seed)
        log_ids = tf.math.log(float(ids))
        user = tf.minimum(tf.cast(tf.exp(u[:, 0] * log_ids), tf.int64) - 1, ids - 1)
        item = tf.minimum(tf.cast(tf.exp(u[:, 1] * log_ids), tf.int64) - 1, ids - 1)
        x = {
            "user": user,
            "item": item,
            "slot": tf.cast(u[:, 2] * 100, tf.int64),
            "hour": tf.cast(u[:, 3] * 24, tf.int64),
            "price": u[:, 4] * 10.0,
            "age": u[:, 5] * 60.0,
        }
        if not labels:
            return x
        click = tf.cast((user + item) % 3 == 0, tf.float32)
        buy = click * tf.cast(item % 5 == 0, tf.float32)
        return x, {"ctr": click, "cvr": buy}

    def make(context=None):
        offset = 0 if context is None else context.input_pipeline_id * 1_000_000
        return tf.data.Dataset.range(offset, offset + 1_000_000).map(rows).prefetch(2)

    return make


def build(args):
    model = _harness.build(
        "MMoE", features(args), num_experts=4, expert_units=(64, 32), tower_units=(16,)
    )
    model.compile(optimizer=args.optimizer)
    return model


def table_bytes(model):
    """Bytes of the embedding tables (float32) and of the other variables."""
    tables = sum(v.shape.num_elements() * 4 for v in model.embedding_variables)
    everything = sum(v.shape.num_elements() * 4 for v in model.trainable_variables)
    return tables, everything - tables


def timed_fit(model, data, steps):
    """Trains `WARM_STEPS` (tracing), then `steps`; returns (seconds, own CPU seconds)."""
    model.fit(data, epochs=1, steps_per_epoch=WARM_STEPS, verbose=0)
    with _harness.Timer() as timer:
        model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
    return timer.wall_s, timer.cpu_s


def run_single(settings):
    """`single`, in its own process: `settings` are the run's ids, dim, steps and optimizer."""
    import tensorflow as tf

    args = argparse.Namespace(**settings)
    model = build(args)
    wall, cpu = timed_fit(model, dataset_fn(args)(), args.steps)
    tables, dense = table_bytes(model)
    return {
        "rows_per_s": args.steps * BATCH / wall,
        "cpu_s": cpu,
        "wall_s": wall,
        "peak_rss_mib": vm_hwm_mib(),
        "table_bytes": tables,
        "dense_bytes": dense,
        "tf": tf.__version__,
    }


def serve_task(role, index, cluster):
    """A parameter-server or worker task of `cluster`: serves until it is killed."""
    import tensorflow as tf

    spec = tf.train.ClusterSpec(cluster)
    config = tf.compat.v1.ConfigProto()
    if role == "worker":
        config.inter_op_parallelism_threads = 4
    server = tf.distribute.Server(
        spec, job_name=role, task_index=index, config=config, protocol="grpc"
    )
    server.join()


def serve_check(path):
    """Serves the rows saved beside the SavedModel at `path`; returns the largest difference."""
    import numpy as np
    import tensorflow as tf

    saved = np.load(os.path.join(os.path.dirname(path), "rows.npz"))
    serve = tf.saved_model.load(path).signatures["serving_default"]
    served = serve(**{k[2:]: tf.constant(saved[k]) for k in saved.files if k.startswith("x_")})
    diff = max(
        float(np.abs(saved[f"y_{t}"].reshape(-1) - served[t].numpy().reshape(-1)).max())
        for t in ("ctr", "cvr")
    )
    return {"max_abs_diff": diff, "peak_rss_mib": vm_hwm_mib()}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_cluster(args):
    import numpy as np
    import tensorflow as tf

    import keras_mtl

    cluster = {
        "worker": [f"127.0.0.1:{free_port()}" for _ in range(NUM_WORKERS)],
        "ps": [f"127.0.0.1:{free_port()}" for _ in range(args.ps)],
    }
    tasks = {}
    for role in ("ps", "worker"):
        for index in range(len(cluster[role])):
            tasks[f"{role}{index}"] = _harness.Worker(
                __file__, "serve_task", {"role": role, "index": index, "cluster": cluster}
            )
    try:
        resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
            tf.train.ClusterSpec(cluster), rpc_layer="grpc"
        )
        strategy = tf.distribute.experimental.ParameterServerStrategy(
            resolver,
            variable_partitioner=tf.distribute.experimental.partitioners.MinSizePartitioner(
                max_shards=args.ps * args.shards_per_ps
            ),
        )
        # what a task holds before the model exists (TensorFlow, gRPC server)
        idle_rss = {name: vm_rss_mib(task.pid) for name, task in tasks.items()}
        with strategy.scope():
            model = build(args)
        # the user and item tables (both --dim wide) are one stack, sharded by rows;
        # a stack under MinSizePartitioner's 256 KiB stays whole
        table = model.get_layer(f"embedding_tables_{args.dim}").embeddings
        shards = [[list(p.shape), p.device] for p in keras_mtl.keras_compat.shards(table)]
        data = tf.keras.utils.experimental.DatasetCreator(dataset_fn(args))
        cpu_before = {name: _harness.cpu_seconds(task.pid) for name, task in tasks.items()}
        wall, cpu = timed_fit(model, data, args.steps)
        task_cpu = {
            name: _harness.cpu_seconds(task.pid) - cpu_before[name] for name, task in tasks.items()
        }
        rss = {name: vm_hwm_mib(task.pid) for name, task in tasks.items()}
        coordinator_rss = vm_hwm_mib()
        tables, dense = table_bytes(model)
        # export on the coordinator, outside the scope: the tables joined
        rows = {
            k: v.numpy()
            for k, v in dataset_fn(args, labels=False)().take(1).get_single_element().items()
        }
        rows = {k: v[:256] for k, v in rows.items()}
        expected = model.predict(rows, verbose=0)
        gc.collect()
        before_export = vm_rss_mib()
        _harness.reset_peak()  # the export's own peak, from here
        with _harness.Timer() as export_timer:
            path = keras_mtl.export.export_saved_model(
                model, os.path.join("/tmp", f"keras_mtl_ps_{os.getpid()}", "ranker")
            )
        export_s = export_timer.wall_s
        # the parameter servers send their shards during the export: their peaks so far
        rss_export = {name: vm_hwm_mib(task.pid) for name, task in tasks.items()}
        coordinator_export = vm_hwm_mib()
        export_over_tables = (coordinator_export - before_export) * 2**20 / tables
        del model
        # served by a fresh process, as TF Serving would load it
        check = os.path.join(os.path.dirname(path), "rows.npz")
        np.savez(
            check,
            **{f"x_{k}": v for k, v in rows.items()},
            **{f"y_{t}": np.asarray(expected[t]) for t in ("ctr", "cvr")},
        )
        served = _harness.call(__file__, "serve_check", {"path": path})
    finally:
        for task in tasks.values():
            task.kill()
    return {
        "rows_per_s": args.steps * BATCH / wall,
        "wall_s": wall,
        "cpu_s": cpu + sum(task_cpu.values()),
        "task_cpu_s": task_cpu,
        "peak_rss_mib_after_training": rss,
        "peak_rss_mib": rss_export,
        "idle_rss_mib": idle_rss,
        "coordinator_peak_rss_mib_before_export": coordinator_rss,
        "coordinator_rss_mib_before_export": before_export,
        "coordinator_export_peak_rss_mib": coordinator_export,
        "coordinator_export_peak_over_tables": export_over_tables,
        "table_bytes": tables,
        "dense_bytes": dense,
        "item_shards": shards,
        "export_s": export_s,
        "export_max_abs_diff": served["max_abs_diff"],
        "serving_peak_rss_mib": served["peak_rss_mib"],
        "saved_model": path,
    }


def shard_layout(shards):
    """ "16 shards of [1250000, 16] or [1250001, 16]; 4 on /job:ps/..." from `[[shape, device]]`."""
    shapes = sorted({tuple(shape) for shape, _ in shards})
    per_task = {}
    for _, device in shards:
        task = device.split("/device")[0]
        per_task[task] = per_task.get(task, 0) + 1
    return (
        f"{len(shards)} shards of "
        + " or ".join(str(list(s)) for s in shapes)
        + "; "
        + ", ".join(f"{n} on {task}" for task, n in sorted(per_task.items()))
    )


def span(values):
    """ "2,082–2,229" (or one value when they round alike)."""
    low, high = f"{min(values):,.0f}", f"{max(values):,.0f}"
    return low if low == high else f"{low}–{high}"


def markdown(result, args):
    single, cluster = result["single"], result["cluster"]
    export_growth = (
        cluster["coordinator_export_peak_rss_mib"] - cluster["coordinator_rss_mib_before_export"]
    )
    mib = 1 << 20
    tables = cluster["table_bytes"] / mib
    slots = SLOTS[args.optimizer]
    with_slots = (1 + slots) * tables
    names = [f"ps{i}" for i in range(args.ps)]
    ps = [cluster["peak_rss_mib"][n] for n in names]
    idle = [cluster["idle_rss_mib"][n] for n in names]
    step_bytes = 2 * (cluster["dense_bytes"] + BATCH * (2 * args.dim + 12) * 4)
    network_ms = step_bytes / 1.1e9 * 1e3
    per_cpu = args.steps * BATCH / single["cpu_s"]
    compute_ms = BATCH / (16 * per_cpu) * 1e3
    optimizer = {
        "adam": "LazyAdam (m and v per row)",
        "adagrad": "keras_mtl's sparse Adagrad (one accumulator per row)",
        "sgd": "SGD (no slots)",
    }[args.optimizer]
    below = max(ps) < tables
    lines = [
        "## Parameter servers (loopback cluster)",
        "",
        f"`{_report.command()}`; {result['machine']}.",
        "",
        f"MMoE over two tables of {args.ids:,} ids × {args.dim} (plus two small tables, two "
        f"numeric features), batch {BATCH}, {args.steps} timed steps after {WARM_STEPS} "
        f'(tracing), `compile(optimizer="{args.optimizer}")`: {optimizer} on the tables. '
        f"`cluster`: {args.ps} parameter-server and {NUM_WORKERS} worker processes on 127.0.0.1 "
        "and the coordinator, each table split by rows into "
        f"`MinSizePartitioner(max_shards={args.ps * args.shards_per_ps})` shards placed round "
        "robin on the parameter servers; `single`: one process, no strategy. All processes "
        "share this machine's cores. Peak RSS is each process's VmHWM (everything it has "
        "mapped, TensorFlow's libraries included), read after the export.",
        "",
        "| run | rows/s | rows per CPU-s (all its processes) | peak RSS per process (MiB) |",
        "|---|---|---|---|",
        f"| single | {single['rows_per_s']:,.0f} | {args.steps * BATCH / single['cpu_s']:,.0f} | "
        f"{single['peak_rss_mib']:,.0f} |",
        f"| cluster | {cluster['rows_per_s']:,.0f} | "
        f"{args.steps * BATCH / cluster['cpu_s']:,.0f} | "
        + ", ".join(f"{k} {v:,.0f}" for k, v in cluster["peak_rss_mib"].items())
        + f", coordinator {cluster['coordinator_peak_rss_mib_before_export']:,.0f} "
        f"(export peak {cluster['coordinator_export_peak_rss_mib']:,.0f}) |",
        "",
        f"**Embedding tables {tables:,.0f} MiB** in float32 ({with_slots:,.0f} MiB with the "
        f"optimizer's slots; the largest, {args.ids:,} × {args.dim}, "
        f"{args.ids * args.dim * 4 / mib:,.0f} MiB, is the largest table trained here). "
        f"Every parameter-server task's whole peak, {span(ps)} MiB, is "
        f"{'below' if below else 'not below'} the tables' {tables:,.0f} MiB"
        + (
            ": no task holds the tables, let alone their slots. "
            if below
            else " (tables this small do not show it: see the default run). "
        )
        + "Of a task's peak, "
        + f"{span(idle)} MiB were there before the model was built "
        "(TensorFlow and its gRPC server); the rest, "
        + ", ".join(f"{p - i:,.0f}" for p, i in zip(ps, idle))
        + f" MiB, is its share of the tables and slots ({with_slots / args.ps:,.0f} MiB at an "
        "even split), the dense variables, a shard's initial value while it is created and "
        "what it sent during training and export. Peaks right after training (before the "
        "export): "
        + ", ".join(f"{cluster['peak_rss_mib_after_training'][n]:,.0f}" for n in names)
        + f" MiB. The single process peaked at {single['peak_rss_mib']:,.0f} MiB. The "
        "coordinator holds no table until it exports, then the whole model once (the "
        "unsharded twin, zero-initialized tables filled shard by shard in place) while the "
        "SavedModel is written: its peak during the export was "
        f"{export_growth:,.0f} MiB above its RSS before "
        f"({cluster['coordinator_export_peak_over_tables']:.2f}× the tables' bytes). "
        f"User and item tables' stack: {shard_layout(cluster['item_shards'])}. "
        "The SavedModel exported by the "
        f"coordinator (tables joined, {cluster['export_s']:.1f} s), loaded and served by a new "
        f"process (peak RSS {cluster['serving_peak_rss_mib']:,.0f} MiB), equals the "
        f"coordinator's model to {cluster['export_max_abs_diff']:.1e} on 256 rows.",
        "",
        f"Cluster / single rows/s: {cluster['rows_per_s'] / single['rows_per_s']:.2f}×. On one "
        "machine the cluster only adds work (gRPC between processes, every step's rows and "
        "dense variables copied between them); it exists for tables that do not fit one "
        "machine and for more CPU than one has.",
        "",
        "**Paper estimate for a real cluster** (assumptions, not measured): each worker step "
        "pulls the dense variables and the batch's embedding rows and pushes their gradients, "
        f"≈ 2 × ({cluster['dense_bytes'] / 1e6:.2f} MB dense + {BATCH} rows × "
        f"(2×{args.dim}+12) floats ≈ {BATCH * (2 * args.dim + 12) * 4 / 1e6:.2f} MB) = "
        f"{2 * (cluster['dense_bytes'] + BATCH * (2 * args.dim + 12) * 4) / 1e6:.2f} MB per step; "
        f"on 10 Gbit/s (≈ 1.1 GB/s usable) that is {network_ms:.1f} ms "
        "per step per worker. A worker with the single process's rows per CPU-second "
        f"({per_cpu:,.0f}) on 16 cores would compute a step in {compute_ms:.1f} ms, so "
        + ("its compute" if compute_ms >= network_ms else "the network")
        + " bounds a worker, not the parameter servers' memory; workers add throughput until "
        "the parameter servers' NICs saturate (their traffic is the sum of the workers').",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = parse_args(argv)
    settings = {key: getattr(args, key) for key in ("ids", "dim", "steps", "optimizer")}
    single = _harness.call(__file__, "run_single", {"settings": settings})
    print("single", json.dumps(single), flush=True)
    cluster = run_cluster(args)
    print("cluster", json.dumps(cluster), flush=True)
    result = {
        "args": vars(args),
        "machine": _report.machine(),
        "single": single,
        "cluster": cluster,
        "coordinator_export_peak_over_tables": cluster["coordinator_export_peak_over_tables"],
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    text = markdown(result, args)
    if not args.no_doc:
        _report.write_section("parameter_server", text)
    print(text)


if __name__ == "__main__":
    main()
