"""Dense Adam against LazyAdam on stacked embedding tables of growing size.

The sweep behind `keras_mtl.training.optimizer_groups`' small-table rule:
the throughput benchmark's MMoE (`_config.py`: 16 categorical features × 8
dims, stacked into one table, 8 numeric, experts [256, 128], batch 1024) with
N ids per feature, trained with the tables' update either exact (dense) Adam
or LazyAdam, both in one process, epochs interleaved (so machine load hits
both alike). A row: CPU-ms per step (median of the rounds) and dense ÷ lazy.
Under `jit_compile=False` (Keras' default on CPU) and, with `--jit`, XLA.

    python benchmarks/table_optimizer.py --vocab 1000,4000,16000,64000 --rounds 5

Writes benchmarks/results/table_optimizer.json and the docs/benchmarks.md
section "table_optimizer".
"""

import argparse
import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import _config as cfg  # noqa: E402
import _harness  # noqa: E402

METHODS = ("dense", "lazy")
BATCH = 1024


def measure(vocab, rows, steps, rounds, jit, zipf):
    """`{method: [CPU-ms per step per round]}` for one table size (in a worker)."""
    import tensorflow as tf

    import keras_mtl

    x, y = cfg.synthetic(rows, vocab=vocab, zipf=zipf)
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH)
    data = data.take(steps).cache().prefetch(tf.data.AUTOTUNE)
    models = {}
    for method in METHODS:
        tf.keras.utils.set_random_seed(0)
        model = _harness.config_model("mmoe", _harness.config_features(vocab))
        adam = tf.keras.optimizers.Adam(cfg.LEARNING_RATE)
        tables = (
            tf.keras.optimizers.Adam(cfg.LEARNING_RATE)
            if method == "dense"
            else keras_mtl.optimizers.LazyAdam(cfg.LEARNING_RATE)
        )
        model.compile(optimizer={"embeddings": tables, "towers": adam}, jit_compile=jit)
        model.fit(data, epochs=1, verbose=0)  # traces, warms up
        models[method] = model
    table_rows = sum(int(v.shape[0]) for v in models["dense"].embedding_variables)
    out = {method: [] for method in METHODS}
    for _ in range(rounds):
        for method, model in models.items():
            with _harness.Timer() as timer:
                model.fit(data, epochs=1, verbose=0)
            out[method].append(timer.cpu_s / steps * 1e3)
    return {"table_rows": table_rows, "cpu_ms": out}


def markdown(results, meta):
    lines = [
        "## The small-table optimizer: dense Adam against LazyAdam",
        "",
        f"`{meta['command']}` on {meta['machine']}. {__doc__.splitlines()[2].strip()} "
        "the throughput MMoE, its 16 tables (8 wide) stacked into one; CPU-ms per step, "
        f"median of {meta['rounds']} interleaved rounds of {meta['steps']} steps; "
        f"XLA: {meta['jit']}.",
        "",
        "| ids per feature | stacked rows | values (rows × 8) | dense Adam CPU-ms | "
        "LazyAdam CPU-ms | dense ÷ lazy |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for vocab, result in results.items():
        dense = statistics.median(result["cpu_ms"]["dense"])
        lazy = statistics.median(result["cpu_ms"]["lazy"])
        rows = result["table_rows"]
        lines.append(
            f"| {int(vocab):,} | {rows:,} | {rows * cfg.DIM:,} | {dense:.1f} | {lazy:.1f} | "
            f"{dense / lazy:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vocab", default="1000,4000,16000,64000", help="ids per feature")
    parser.add_argument("--rows", type=int, default=40_960)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--zipf", type=float, default=1.1)
    parser.add_argument("--jit", action="store_true", help="compile with XLA")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "table_optimizer.json"))
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args(argv)
    import _report

    results = {}
    for vocab in (int(v) for v in args.vocab.split(",")):
        results[vocab] = _harness.call(
            __file__,
            "measure",
            {
                "vocab": vocab,
                "rows": args.rows,
                "steps": args.steps,
                "rounds": args.rounds,
                "jit": args.jit,
                "zipf": args.zipf,
            },
        )
        dense = statistics.median(results[vocab]["cpu_ms"]["dense"])
        lazy = statistics.median(results[vocab]["cpu_ms"]["lazy"])
        ratio = dense / lazy
        print(f"{vocab:>10,} ids  dense {dense:6.1f}  lazy {lazy:6.1f} CPU-ms  ({ratio:.2f}×)")
    meta = {
        "command": _report.command(),
        "machine": _report.machine(),
        "rounds": args.rounds,
        "steps": args.steps,
        "jit": args.jit,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1)
    text = markdown(results, meta)
    print(text)
    if not args.no_doc:
        _report.write_section("table_optimizer", text)


if __name__ == "__main__":
    main()
