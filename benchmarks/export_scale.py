"""Export at scale: ONNX and SavedModel of MMoEs with large tables, side by side.

The throughput benchmark's MMoE (16 categorical features × 8 dims, 8 numeric,
8 experts [256, 128], towers [64]) with N ids per feature, trained for a few
steps with `compile(optimizer=Adagrad)` (keras_mtl's sparse Adagrad on the
tables: one slot per row, so 10M ids per feature train within 24 GB) in one
process, which saves its weights (`save_weights`: no optimizer state). Each
export runs in a new process that builds the model and loads those weights,
so its memory holds the model and nothing of the training:

- `export_onnx` (external data) or `export_saved_model`: seconds, peak RSS
  above the RSS before that export (VmHWM reset before it), bytes on disk;
- each served by a fresh process: load seconds, RSS after loading,
  batch-1 and batch-256 latency p50 / p99 over repeated calls on raw numpy
  rows (ONNX Runtime with one intra-op thread, TensorFlow's defaults), and
  max |served - Keras| on 1,000 rows.

    python benchmarks/export_scale.py --vocab 1000,1000000,5000000,10000000

Figures go to benchmarks/results/export_scale.json and the `export_scale`
section of docs/benchmarks.md.
"""

import argparse
import gc
import itertools
import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import _config as cfg  # noqa: E402
import _harness  # noqa: E402

TEST_ROWS = 1000
GB = 1e9


def _disk_bytes(*paths):
    total = 0
    for path in paths:
        if os.path.isfile(path):
            total += os.path.getsize(path)
        for root, _, files in os.walk(path):
            total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return total


def _build(vocab):
    return _harness.config_model("mmoe", _harness.config_features(vocab))


def train_worker(vocab, steps, workdir):
    """Trains the model and saves its weights (no optimizer state)."""
    import tensorflow as tf

    from keras_mtl.export import onnx_external_data  # a submodule: `keras_mtl.export` is lazy

    tf.keras.utils.set_random_seed(0)
    model = _build(vocab)
    model.compile(optimizer=tf.keras.optimizers.Adagrad(0.05))
    x, y = cfg.synthetic(steps * 1024, vocab=vocab, zipf=1.1)
    with _harness.Timer() as timer:
        model.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(1024), verbose=0)
    out = {
        "train_s": timer.wall_s,
        "peak_training_bytes": _harness.peak_bytes(),
        "table_bytes": 16 * vocab * cfg.DIM * 4,
        "weight_bytes": onnx_external_data.weight_bytes(model),
    }
    model.save_weights(os.path.join(workdir, "trained.weights.h5"))
    return out


def export_worker(vocab, workdir, kind):
    """Loads the trained weights into a new model, exports `kind` ("onnx" or "saved_model")."""
    import numpy as np

    import keras_mtl

    model = _build(vocab)
    model.load_weights(os.path.join(workdir, "trained.weights.h5"))
    out = {}
    test, _ = cfg.synthetic(TEST_ROWS, seed=1, vocab=vocab, zipf=1.1)
    expected = model.predict(test, batch_size=TEST_ROWS, verbose=0)
    np.savez(
        os.path.join(workdir, f"keras_{kind}.npz"),
        **{f"x/{k}": v for k, v in test.items()},
        **{f"y/{k}": np.asarray(v) for k, v in expected.items()},
    )
    gc.collect()
    before = _harness.rss_bytes()
    anonymous = _harness.PeakSampler("RssAnon")
    _harness.reset_peak()
    timer = _harness.Timer().start()
    with anonymous:
        if kind == "onnx":
            path = os.path.join(workdir, "onnx", "mmoe.onnx")
            result = keras_mtl.export.export_onnx(model, path, examples=test, external_data=True)
            paths = (path, result.external_data)
        else:
            path = keras_mtl.export.export_saved_model(
                model, os.path.join(workdir, "saved", "mmoe")
            )
            paths = (path,)
    out[kind] = {
        "rss_before_export_bytes": before,
        "export_s": timer.wall_s,
        "peak_over_before_bytes": _harness.peak_bytes() - before,
        "peak_anonymous_over_before_bytes": anonymous.peak - anonymous.start,
        "disk_bytes": _disk_bytes(*paths),
        "path": path,
    }
    return out


def _latency(call, rows, batch, calls):
    """p50 / p99 of `calls` calls, each on the next `batch` rows (cycling), so
    the calls read different table rows, as a server's requests do."""
    import numpy as np

    count = len(next(iter(rows.values())))
    feeds = [
        {
            k: np.take(v, range(i * batch, (i + 1) * batch), axis=0, mode="wrap")
            for k, v in rows.items()
        }
        for i in range(count)
    ]
    for feed in feeds[:5]:
        call(feed)
    feed = itertools.cycle(feeds)
    times = _harness.latencies_ms(lambda: call(next(feed)), calls)
    return {"p50_ms": float(np.percentile(times, 50)), "p99_ms": float(np.percentile(times, 99))}


def serve_worker(kind, path, workdir, calls):
    """Loads one export in this fresh process and times it."""
    import numpy as np

    data = np.load(os.path.join(workdir, f"keras_{kind}.npz"))
    rows = {k[2:]: data[k] for k in data.files if k.startswith("x/")}
    expected = {k[2:]: data[k] for k in data.files if k.startswith("y/")}
    before = _harness.rss_bytes()
    timer = _harness.Timer().start()
    if kind == "onnx":
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        names = [o.name for o in session.get_outputs()]

        def call(feed):
            return dict(zip(names, session.run(names, feed)))
    else:
        import tensorflow as tf

        serve = tf.saved_model.load(path).signatures["serving_default"]

        def call(feed):
            out = serve(**{n: tf.constant(a) for n, a in feed.items()})
            return {k: v.numpy() for k, v in out.items()}

    out = {
        "load_s": timer.wall_s,
        "rss_after_load_bytes": _harness.rss_bytes() - before,
    }
    got = call(rows)
    out["max_abs_diff"] = max(
        float(np.max(np.abs(np.ravel(got[t]) - np.ravel(v)))) for t, v in expected.items()
    )
    out["batch_1"] = _latency(call, rows, 1, calls)
    out["batch_256"] = _latency(call, rows, 256, max(calls // 4, 20))
    return out


def _run(function, **kwargs):
    """`function(**kwargs)` in a fresh process; `{"error": its stderr's tail}` when it fails."""
    try:
        return _harness.call(__file__, function, kwargs)
    except _harness.WorkerError as error:
        return {"error": " ".join(error.tail(3))[-600:]}


def _row(r, kind):
    name = "ONNX" if kind == "onnx" else "SavedModel"
    e, s = r.get(kind), r.get(f"{kind}_served", {})
    if not e or "error" in s:
        return f"| {name} | failed: {s.get('error', '')[:300]} |" + " |" * 10
    t = r["table_bytes"]
    return (
        f"| {name} | {e['export_s']:.1f} | {e['rss_before_export_bytes'] / GB:.2f} | "
        f"{e['peak_over_before_bytes'] / GB:.2f} ({e['peak_over_before_bytes'] / t:.2f}×) | "
        f"{e['peak_anonymous_over_before_bytes'] / GB:.2f} | "
        f"{e['disk_bytes'] / GB:.2f} ({e['disk_bytes'] / r['weight_bytes']:.2f}×) | "
        f"{s['load_s']:.2f} | {s['rss_after_load_bytes'] / GB:.2f} | "
        f"{s['batch_1']['p50_ms']:.2f} / {s['batch_1']['p99_ms']:.2f} | "
        f"{s['batch_256']['p50_ms']:.2f} / {s['batch_256']['p99_ms']:.2f} | "
        f"{s['max_abs_diff']:.1e} |"
    )


def markdown(results, meta):
    lines = [
        f"`{meta['command']}` on {meta['machine']}.",
        "",
        "The throughput MMoE with N ids per feature, trained 5 steps of 1,024 rows with "
        "keras_mtl's sparse Adagrad in one process (`save_weights`: no optimizer state); each "
        "export runs in a new process that loads those weights. Peak = peak RSS during "
        "the export (VmHWM, mapped "
        "file pages included: ONNX Runtime maps the data file for the parity run) minus the "
        "RSS before it, and × the tables' bytes; anonymous = the process's own memory "
        "(RssAnon, sampled every 5 ms) over its level before. Disk × the model's weight "
        "bytes. Load, RSS after load and latency in a fresh process (ONNX Runtime with 1 "
        "intra-op thread, TensorFlow's defaults; each call on the next rows of the 1,000, "
        "Zipf ids), max |diff| of the served outputs vs Keras on those "
        f"{TEST_ROWS:,} rows.",
        "",
    ]
    header = (
        "| export | export s | RSS before, GB | peak over before, GB | anonymous peak over "
        "before, GB | disk, GB | load s | RSS after load, GB | batch 1 p50 / p99 ms "
        "| batch 256 p50 / p99 ms | max abs diff |"
    )
    for r in results:
        if "error" in r:
            lines += [f"**{r['vocab']:,} ids per feature**: failed: {r['error'][:400]}", ""]
            continue
        lines += [
            f"**{r['vocab']:,} ids per feature**: tables {r['table_bytes'] / GB:.2f} GB; "
            f"training {r['train_s']:.1f} s, "
            f"peak RSS {r['peak_training_bytes'] / GB:.2f} GB.",
            "",
            header,
            "|---|" + "---:|" * 10,
        ]
        lines += [_row(r, "onnx"), _row(r, "saved_model"), ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vocab", default="1000,1000000,5000000,10000000")
    parser.add_argument("--steps", type=int, default=5, help="training steps of 1,024 rows")
    parser.add_argument("--calls", type=int, default=400, help="timed batch-1 calls")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "export_scale.json"))
    parser.add_argument("--no-report", action="store_true")
    args = parser.parse_args(argv)
    import _report

    results = []
    for vocab in (int(v) for v in args.vocab.split(",")):
        workdir = tempfile.mkdtemp(prefix="export_scale_")
        try:
            result = {
                "vocab": vocab,
                **_run("train_worker", vocab=vocab, steps=args.steps, workdir=workdir),
            }
            for kind in ("onnx", "saved_model"):
                exported = _run("export_worker", vocab=vocab, workdir=workdir, kind=kind)
                if kind not in exported:
                    result[kind + "_served"] = exported  # the error
                    continue
                result.update(exported)
                result[f"{kind}_served"] = _run(
                    "serve_worker",
                    kind=kind,
                    path=exported[kind]["path"],
                    workdir=workdir,
                    calls=args.calls,
                )
                shutil.rmtree(
                    os.path.dirname(exported[kind]["path"])
                    if kind == "onnx"
                    else os.path.dirname(os.path.dirname(exported[kind]["path"])),
                    ignore_errors=True,
                )
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        results.append(result)
        print(json.dumps(result), flush=True)
    meta = {"command": _report.command(), "machine": _report.machine()}
    table = markdown(results, meta)
    print(table)
    if not args.no_report:
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump({"meta": meta, "results": results}, f, indent=1)
        _report.write_section(
            "export_scale", "## Export at scale (ONNX and SavedModel)\n\n" + table
        )
    return results


if __name__ == "__main__":
    main()
