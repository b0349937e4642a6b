"""Serving latency: Keras predict / direct call, loaded SavedModel, ONNX Runtime.

Configuration (as in the MMoE training benchmark): 16 categorical features of
vocabulary 1000 embedded in 8 dimensions, 8 numeric features, 8 experts of
[256, 128], towers [64], two binary tasks; PLE with the same widths when the
package has it. Each path takes the raw feature arrays (numpy, as a server
receives them) and returns every task's output; TF paths include turning the
arrays into tensors. Latency is per call, single stream; throughput is
rows / mean latency.

    python benchmarks/serving.py                       # ids, batch 1 and 256
    python benchmarks/serving.py --encoding strings    # in-graph StringLookup
    python benchmarks/serving.py --out results.json --seconds 3

Weights are untrained (latency does not depend on them). ONNX Runtime runs with
all graph optimisations and one intra-op thread by default (`--ort-threads`;
0 is ORT's default, one per core): on a shared 2-core machine one thread was
faster and steadier at both batch sizes.
"""

import argparse
import inspect
import json
import os
import platform
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import onnxruntime
import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import keras_mtl

NUM_CATEGORICAL, VOCAB, DIM, NUM_NUMERIC = 16, 1000, 8, 8
EXPERT_UNITS, TOWER_UNITS, NUM_EXPERTS = (256, 128), (64,), 8
TASKS = ("ctr", "cvr")


def features(encoding):
    cats = []
    for i in range(NUM_CATEGORICAL):
        if encoding == "ids":
            cats.append(keras_mtl.SparseFeat(f"c{i}", vocabulary_size=VOCAB, embedding_dim=DIM))
        else:
            vocab = tuple(f"v{j}" for j in range(VOCAB))
            cats.append(keras_mtl.SparseFeat(f"c{i}", vocabulary=vocab, embedding_dim=DIM))
    nums = [keras_mtl.DenseFeat(f"n{i}") for i in range(NUM_NUMERIC)]
    return cats + nums


def rows(encoding, n, seed=0):
    rng = np.random.RandomState(seed)
    x = {}
    for i in range(NUM_CATEGORICAL):
        ids = rng.randint(0, VOCAB, n)
        x[f"c{i}"] = (
            ids.astype("int64")
            if encoding == "ids"
            else np.array([f"v{j}" for j in ids], dtype=object)
        )
    for i in range(NUM_NUMERIC):
        x[f"n{i}"] = rng.normal(size=n).astype("float32")
    return x


def build(name, feats):
    common = {"task_names": TASKS, "expert_units": EXPERT_UNITS, "tower_units": TOWER_UNITS}
    if name == "mmoe":
        return keras_mtl.MMoE(feats, num_experts=NUM_EXPERTS, **common)
    builder = keras_mtl.PLE
    # 8 experts per level as in MMoE: 4 shared + 2 per task, two levels
    wanted = {
        "num_levels": 2,
        "num_shared_experts": 4,
        "num_task_experts": 2,
        "num_specific_experts": 2,
        **common,
    }
    accepted = inspect.signature(builder).parameters
    return builder(feats, **{k: v for k, v in wanted.items() if k in accepted})


def timed(fn, seconds, min_calls=50):
    """Per-call latencies (ms) of `fn()` for about `seconds`, after warmup."""
    for _ in range(10):
        fn()
    latencies, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds or len(latencies) < min_calls:
        t = time.perf_counter_ns()
        fn()
        latencies.append((time.perf_counter_ns() - t) / 1e6)
    return np.array(latencies)


def ort_session(path, threads):
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def paths(model, saved_model_dir, onnx_path, threads):
    serving = tf.saved_model.load(saved_model_dir).signatures["serving_default"]
    session = ort_session(onnx_path, threads)
    names = [o.name for o in session.get_outputs()]

    def tensors(x):
        return {k: tf.constant(v) for k, v in x.items()}

    return {
        "keras_predict": lambda x: model.predict(x, batch_size=len(x["n0"]), verbose=0),
        "keras_call": lambda x: model(tensors(x), training=False),
        "saved_model": lambda x: serving(**tensors(x)),
        "onnxruntime": lambda x: session.run(names, x),
    }


def benchmark(name, encoding, batches, seconds, threads, tmp):
    feats = features(encoding)
    model = build(name, feats)
    sample = rows(encoding, 256, seed=1)
    saved = keras_mtl.export.export_saved_model(model, os.path.join(tmp, f"{name}_{encoding}"))
    onnx_path = os.path.join(tmp, f"{name}_{encoding}.onnx")
    export = keras_mtl.export.export_onnx(model, onnx_path, examples=sample)
    results = []
    for batch in batches:
        x = rows(encoding, batch, seed=2)
        for path, fn in paths(model, saved, onnx_path, threads).items():
            ms = timed(lambda fn=fn, x=x: fn(x), seconds)
            results.append(
                {
                    "model": name,
                    "encoding": encoding,
                    "batch": batch,
                    "path": path,
                    "p50_ms": float(np.percentile(ms, 50)),
                    "p99_ms": float(np.percentile(ms, 99)),
                    "mean_ms": float(ms.mean()),
                    "calls": int(ms.size),
                    "rows_per_s": float(batch / (ms.mean() / 1e3)),
                }
            )
    return results, export


def table(results):
    lines = [
        f"{'model':6} {'enc':7} {'batch':>5} {'path':14} {'p50 ms':>9} {'p99 ms':>9} "
        f"{'rows/s':>10} {'p50 vs SM':>9}"
    ]
    by_key = {(r["model"], r["encoding"], r["batch"], r["path"]): r for r in results}
    for r in results:
        saved = by_key[(r["model"], r["encoding"], r["batch"], "saved_model")]
        lines.append(
            f"{r['model']:6} {r['encoding']:7} {r['batch']:>5} {r['path']:14} "
            f"{r['p50_ms']:9.3f} {r['p99_ms']:9.3f} {r['rows_per_s']:10.0f} "
            f"{r['p50_ms'] / saved['p50_ms']:9.2f}"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="mmoe,ple", help="comma-separated: mmoe, ple")
    parser.add_argument(
        "--encoding",
        default="ids",
        choices=("ids", "strings"),
        help="pre-encoded ids (vocabulary_size) or raw strings (StringLookup)",
    )
    parser.add_argument("--batches", default="1,256")
    parser.add_argument("--seconds", type=float, default=2.0, help="timed seconds per path")
    parser.add_argument(
        "--ort-threads", type=int, default=1, help="ONNX Runtime intra-op threads; 0: ORT default"
    )
    parser.add_argument("--out", default="serving_benchmark.json")
    args = parser.parse_args(argv)
    tf.keras.utils.set_random_seed(0)
    load_before = os.getloadavg()
    results, exports, skipped = [], {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models.split(","):
            if name == "ple" and not hasattr(keras_mtl, "PLE"):
                skipped[name] = "keras_mtl has no PLE builder yet"
                continue
            batches = [int(b) for b in args.batches.split(",")]
            timings, export = benchmark(
                name, args.encoding, batches, args.seconds, args.ort_threads, tmp
            )
            results += timings
            exports[name] = export.max_abs_diff
    report = {
        "command": " ".join([os.path.basename(sys.executable)] + sys.argv),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
        },
        "versions": {
            "tensorflow": tf.__version__,
            "keras": tf.keras.__name__,
            "onnxruntime": onnxruntime.__version__,
        },
        "onnx_max_abs_diff": {k: {str(b): d for b, d in v.items()} for k, v in exports.items()},
        "skipped": skipped,
        "results": results,
    }
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
    print(table(results))
    for name, reason in skipped.items():
        print(f"{name}: skipped ({reason})")
    print(
        f"load average before {load_before}, after {report['machine']['loadavg_after']}; "
        f"JSON in {args.out}"
    )


if __name__ == "__main__":
    main()
