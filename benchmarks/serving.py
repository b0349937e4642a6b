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
import json
import os
import platform
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import onnxruntime
import tensorflow as tf

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
import _config as cfg  # noqa: E402
import _harness  # noqa: E402

import keras_mtl  # noqa: E402


def features(encoding):
    """The throughput benchmark's features, ids pre-encoded or raw strings (StringLookup)."""
    if encoding == "ids":
        return _harness.config_features()
    vocab = tuple(f"v{j}" for j in range(cfg.VOCAB))
    cats = [
        keras_mtl.SparseFeat(c, vocabulary=vocab, embedding_dim=cfg.DIM) for c in cfg.CATEGORICAL
    ]
    return cats + [keras_mtl.DenseFeat(n) for n in cfg.NUMERIC]


def rows(encoding, n, seed=0):
    rng = np.random.RandomState(seed)
    x = {}
    for c in cfg.CATEGORICAL:
        ids = rng.randint(0, cfg.VOCAB, n)
        x[c] = (
            ids.astype("int64")
            if encoding == "ids"
            else np.array([f"v{j}" for j in ids], dtype=object)
        )
    for name in cfg.NUMERIC:
        x[name] = rng.normal(size=n).astype("float32")
    return x


def timed(fn, seconds, min_calls=50):
    """Per-call latencies (ms) of `fn()` for about `seconds`, after warmup."""
    for _ in range(10):
        fn()
    return _harness.latencies_ms(fn, min_calls, seconds)


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
    # PLE: 8 experts per level as in MMoE, 4 shared + 2 per task, two levels
    model = _harness.config_model(name, feats)
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
