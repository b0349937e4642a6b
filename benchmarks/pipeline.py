"""Training from files larger than memory: TFRecord and Parquet next to in-memory arrays.

    python benchmarks/pipeline.py         # 10M rows, files under /tmp/keras_mtl_pipeline
    python benchmarks/pipeline.py --rows 1000000       # a smaller run

Rows follow the throughput benchmark's schema (`benchmarks/_config.py`: 16
pre-encoded categorical features of vocabulary 1000, 8 numeric, two binary
tasks), generated in chunks of `--chunk-rows` (chunk i from seed i) and written
once as TFRecord files of `tf.Example` (`keras_mtl.data.write_tfrecords`) and as
Parquet files (one file per chunk), under `--dir/rows<N>/`.

Then, each in its own subprocess (so its peak resident memory, ru_maxrss, is
that pipeline's):

- `memory`: the chunks concatenated in memory, `from_tensor_slices(...).batch()
  .cache().prefetch()` (the throughput benchmark's pipeline);
- `tfrecord`: `keras_mtl.data.tfrecord_dataset` over the files;
- `parquet`: `keras_mtl.data.parquet_dataset` over the files;

each trains the throughput benchmark's MMoE (Adam 1e-3, batch 1024,
`jit_compile=True`) for one epoch; rows/s and rows per CPU-second are timed
from the 20th step to the end of the epoch. `adapt` learns vocabularies (the
categorical features without `vocabulary_size`) and normalisation statistics
in one streaming pass over the TFRecord files, then from the same rows held in
one DataFrame; the vocabularies are compared.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import _config as cfg  # noqa: E402
import _harness  # noqa: E402
import _report  # noqa: E402

DEFAULT_DIR = "/tmp/keras_mtl_pipeline"
DEFAULT_OUT = os.path.join(HERE, "results", "pipeline.json")
BATCH, WARM_STEPS = 1024, 20
PIPELINES = ("memory", "tfrecord", "parquet")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--chunk-rows", type=int, default=500_000)
    parser.add_argument("--dir", default=DEFAULT_DIR, help="where the files are written (once)")
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--no-doc", action="store_true")
    return parser.parse_args(argv)


def _peak_rss_mib():
    return _harness.max_rss_bytes() / _harness.MIB


def _chunks(args):
    import pandas as pd

    for index, start in enumerate(range(0, args.rows, args.chunk_rows)):
        x, y = cfg.synthetic(min(args.chunk_rows, args.rows - start), seed=index)
        yield index, pd.DataFrame({**x, **y})


def _paths(args):
    return (
        os.path.join(args.dir, f"rows{args.rows}", "tfrecord"),
        os.path.join(args.dir, f"rows{args.rows}", "parquet"),
    )


def write(args):
    import keras_mtl

    tfrecord_dir, parquet_dir = _paths(args)
    os.makedirs(tfrecord_dir, exist_ok=True)
    os.makedirs(parquet_dir, exist_ok=True)
    seconds = {"tfrecord": 0.0, "parquet": 0.0}
    for index, df in _chunks(args):
        with _harness.Timer() as timer:
            keras_mtl.data.write_tfrecords(
                df,
                os.path.join(tfrecord_dir, f"part{index:04d}"),
                _harness.config_features(),
                list(cfg.TASKS),
            )
        seconds["tfrecord"] += timer.wall_s
        with _harness.Timer() as timer:
            df.to_parquet(os.path.join(parquet_dir, f"part{index:04d}.parquet"))
        seconds["parquet"] += timer.wall_s
    sizes = {
        kind: sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
        for kind, folder in (("tfrecord", tfrecord_dir), ("parquet", parquet_dir))
    }
    return {"write_seconds": seconds, "bytes": sizes}


def train(args, pipeline):
    import numpy as np
    import tensorflow as tf

    import keras_mtl

    tf.keras.utils.set_random_seed(0)
    specs = _harness.config_features()
    tfrecord_dir, parquet_dir = _paths(args)
    if pipeline == "memory":
        parts = [
            (df[list(cfg.CATEGORICAL + cfg.NUMERIC)], df[list(cfg.TASKS)])
            for _, df in _chunks(args)
        ]
        x = {c: np.concatenate([p[0][c].to_numpy() for p in parts]) for c in parts[0][0]}
        y = {t: np.concatenate([p[1][t].to_numpy() for p in parts]) for t in cfg.TASKS}
        del parts
        data = (
            tf.data.Dataset.from_tensor_slices((x, y))
            .batch(BATCH)
            .cache()
            .prefetch(tf.data.AUTOTUNE)
        )
    elif pipeline == "tfrecord":
        data = keras_mtl.data.tfrecord_dataset(
            os.path.join(tfrecord_dir, "*.tfrecord"),
            specs,
            list(cfg.TASKS),
            batch_size=BATCH,
            num_rows=args.rows,
        )
    else:
        data = keras_mtl.data.parquet_dataset(
            os.path.join(parquet_dir, "*.parquet"), specs, list(cfg.TASKS), batch_size=BATCH
        )
    model = _harness.config_model("mmoe", specs)
    model.compile(optimizer=tf.keras.optimizers.Adam(cfg.LEARNING_RATE), jit_compile=True)
    timer = _harness.fit_timer(skip_steps=WARM_STEPS)
    with _harness.Timer() as epoch:
        history = model.fit(data, epochs=1, verbose=0, callbacks=[timer])
    timed = timer.epochs[-1]
    timed.rows = (timer.steps - WARM_STEPS) * BATCH
    return {
        "pipeline": pipeline,
        "rows": args.rows,
        "steps": timer.steps,
        "epoch_seconds": epoch.wall_s,
        "rows_per_s": timed.rows_per_s,
        "rows_per_cpu_s": timed.rows_per_cpu_s,
        "loss": float(history.history["loss"][-1]),
        "peak_rss_mib": _peak_rss_mib(),
    }


def adapt(args):
    import pandas as pd

    import keras_mtl

    specs = [keras_mtl.SparseFeat(c) for c in cfg.CATEGORICAL] + [
        keras_mtl.DenseFeat(n, normalize=True) for n in cfg.NUMERIC
    ]
    tfrecord_dir, _ = _paths(args)
    with _harness.Timer() as stream_timer:
        streamed = keras_mtl.features.adapt(specs, os.path.join(tfrecord_dir, "*.tfrecord"))
    stream_rss = _peak_rss_mib()
    df = pd.concat([df for _, df in _chunks(args)], ignore_index=True)
    with _harness.Timer() as memory_timer:
        in_memory = keras_mtl.features.adapt(specs, df)
    vocabularies_equal = all(
        a.vocabulary == b.vocabulary
        for a, b in zip(streamed, in_memory)
        if isinstance(a, keras_mtl.SparseFeat)
    )
    mean_gap = max(
        abs(a.mean - b.mean)
        for a, b in zip(streamed, in_memory)
        if isinstance(a, keras_mtl.DenseFeat)
    )
    return {
        "rows": args.rows,
        "stream_seconds": stream_timer.wall_s,
        "stream_peak_rss_mib": stream_rss,
        "in_memory_seconds": memory_timer.wall_s,
        "vocabularies_equal": vocabularies_equal,
        "max_mean_gap": mean_gap,
        "peak_rss_mib": _peak_rss_mib(),
    }


def worker(role, settings):
    """`role` ("write", "adapt" or a pipeline) in its own process; `settings` as `args`."""
    args = argparse.Namespace(**settings)
    if role == "write":
        return write(args)
    if role == "adapt":
        return adapt(args)
    return train(args, role)


def _subprocess(args, role):
    settings = {key: getattr(args, key) for key in ("rows", "chunk_rows", "dir")}
    return _harness.call(__file__, "worker", {"role": role, "settings": settings})


def table(results):
    memory = results["train"]["memory"]["rows_per_s"]
    lines = [
        "| pipeline | rows/s | × in-memory | rows/CPU-s | epoch s | peak RSS MiB |",
        "|---|---|---|---|---|---|",
    ]
    for name in PIPELINES:
        r = results["train"][name]
        lines.append(
            f"| {name} | {r['rows_per_s']:,.0f} | {r['rows_per_s'] / memory:.2f} | "
            f"{r['rows_per_cpu_s']:,.0f} | {r['epoch_seconds']:.0f} | "
            f"{r['peak_rss_mib']:,.0f} |"
        )
    a = results["adapt"]
    w = results["write"]
    lines += [
        "",
        f"adapt over the {a['rows']:,} rows: streaming pass over the TFRecord files "
        f"{a['stream_seconds']:.0f} s (peak RSS {a['stream_peak_rss_mib']:,.0f} MiB), in-memory "
        f"DataFrame {a['in_memory_seconds']:.0f} s; vocabularies equal: "
        f"{a['vocabularies_equal']}; largest gap between the means {a['max_mean_gap']:.1e} "
        "(float32 records vs float64 frame).",
        "",
        f"Writing the files: TFRecord {w['write_seconds']['tfrecord']:.0f} s "
        f"({w['bytes']['tfrecord'] / 2**20:,.0f} MiB), Parquet "
        f"{w['write_seconds']['parquet']:.0f} s ({w['bytes']['parquet'] / 2**20:,.0f} MiB).",
    ]
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    results = {"rows": args.rows, "write": _subprocess(args, "write"), "train": {}}
    print(f"files written: {results['write']}", flush=True)
    for name in PIPELINES:
        results["train"][name] = _subprocess(args, name)
        print(f"{name}: {results['train'][name]}", flush=True)
    results["adapt"] = _subprocess(args, "adapt")
    print(f"adapt: {results['adapt']}", flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)
    markdown = table(results)
    print(markdown)
    if not args.no_doc:
        _report.write_section(
            "pipeline",
            (
                "## Input pipelines: TFRecord and Parquet files vs in-memory arrays\n\n"
                f"Command: `{_report.command()}`  \nMachine: {_report.machine()}\n\n"
                "Setup: the docstring of `benchmarks/pipeline.py` (the throughput benchmark's "
                "MMoE, one "
                "epoch, each pipeline in its own process).\n\n" + markdown
            ),
        )
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
