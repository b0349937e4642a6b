"""`throughput.py --vocab`: training speed and memory against ids per feature.

The throughput benchmark's MMoE (16 categorical features × 8 dims, 8 numeric,
experts [256, 128], towers [64], batch 1024, Adam 1e-3) with N ids per
feature, drawn uniformly or Zipf-like (`--zipf`). keras_mtl with its default
`compile(optimizer=Adam)` (embedding tables: LazyAdam, rows of the batch only):
`+auto` is compile as users call it (Keras' `jit_compile="auto"`, which is no
XLA for keras_mtl models), plain `keras_mtl` with XLA as the throughput
benchmark runs it; `+dense+auto` (`{"embeddings": adam, "towers": adam}`: dense Adam updates of
the tables, the behaviour before LazyAdam), DeepCTR and torch-rechub, each in
its own process, interleaved per round. Peak RSS is the worker process's
maximum resident set (tables, optimizer slots, data, framework).
"""

import json
import os
import statistics

import _report

LIBRARIES = ("keras_mtl+auto", "keras_mtl", "keras_mtl+dense+auto", "deepctr", "torch_rechub")
BYTES_PER_FLOAT = 4


def memory_notes(dim):
    """Bytes per id per optimizer and the largest table that fits in 24 GB."""
    slots = {"SGD": 0, "Adagrad (keras_mtl)": 1, "Adam / LazyAdam": 2}
    lines = [
        "| optimizer of the tables | float32 copies per row | bytes per id "
        f"({dim} dims) | ids that fit in 24 GB (tables + slots only) |",
        "|---|---:|---:|---:|",
    ]
    for name, extra in slots.items():
        per_id = (1 + extra) * dim * BYTES_PER_FLOAT
        lines.append(f"| {name} | {1 + extra} | {per_id} | {24e9 / per_id / 1e6:,.0f} M |")
    return "\n".join(lines)


def run(args, spawn, available):
    vocabs = [int(v) for v in args.vocab.split(",")]
    libs = (args.libs or ",".join(LIBRARIES)).split(",")
    models = (args.models or "mmoe").split(",")
    out = args.out or os.path.join(
        os.path.dirname(_report.DOC), "..", "benchmarks", "results", "throughput_vocab.json"
    )
    libs, missing = available(libs)
    load_before = os.getloadavg()
    runs, not_run = {}, {}
    for round_ in range(args.repeats):
        for vocab in vocabs:
            for model in models:
                for lib in libs:
                    key = (lib, model, vocab)
                    # above it only keras_mtl's default compile (sparse, no XLA) runs
                    if lib != "keras_mtl+auto" and vocab > args.peer_max_vocab:
                        not_run[f"{lib}/{model}/{vocab}"] = (
                            f"above --peer-max-vocab {args.peer_max_vocab:,}: dense Adam "
                            "updates of every row every step, or (keras_mtl with XLA) "
                            "whole-slot copies per step"
                        )
                        continue
                    result, error = spawn(lib, model, args, vocab=vocab, zipf=args.zipf)
                    if result is None:
                        not_run[f"{lib}/{model}/{vocab}"] = f"failed: {error}"
                        print(
                            f"round {round_ + 1} {vocab:>11,} {lib:18} failed: {error}", flush=True
                        )
                        continue
                    runs.setdefault(key, []).append(result)
                    print(
                        f"round {round_ + 1} {vocab:>11,} {model} {lib:18} "
                        f"{result['rows_per_s']:9,.0f} rows/s "
                        f"{result['rows_per_cpu_s']:9,.0f} rows/CPU-s "
                        f"peak RSS {result['peak_rss_gb']:.2f} GB",
                        flush=True,
                    )
    summary = {
        key: {
            "rows_per_s": statistics.median(r["rows_per_s"] for r in rs),
            "rows_per_cpu_s": statistics.median(r["rows_per_cpu_s"] for r in rs),
            "peak_rss_gb": max(r["peak_rss_gb"] for r in rs),
            "embedding_optimizer": rs[0].get("embedding_optimizer"),
        }
        for key, rs in runs.items()
    }
    meta = {
        "command": _report.command(),
        "machine": _report.machine(),
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "rows": args.rows,
        "batch": args.batch,
        "repeats": args.repeats,
        "zipf": args.zipf,
    }
    table = markdown(summary, libs, models, vocabs, meta, {**missing, **not_run})
    print()
    print(table)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(
            {
                **meta,
                "not_run": {**missing, **not_run},
                "summary": [
                    {"library": l, "model": m, "vocab": v, **s} for (l, m, v), s in summary.items()
                ],
                "runs": [
                    {"library": l, "model": m, "vocab": v, **r}
                    for (l, m, v), rs in runs.items()
                    for r in rs
                ],
            },
            f,
            indent=2,
        )
    if not args.no_report:
        _report.write_section(
            "throughput_vocab", "## Throughput against ids per feature\n\n" + table
        )
    print(f"JSON in {out}")


def markdown(summary, libs, models, vocabs, meta, not_run):
    import _config as cfg

    peers = [lib for lib in libs if not lib.startswith("keras_mtl")]
    ids = f"Zipf-like ids (exponent {meta['zipf']:g})" if meta["zipf"] else "uniform ids"
    lines = [
        f"`{meta['command']}` on {meta['machine']}; load average "
        f"{meta['load_before'][0]:.2f} before, {meta['load_after'][0]:.2f} after. "
        f"MMoE of the throughput benchmark, {ids}; median of {meta['repeats']} "
        f"interleaved rounds, one epoch of {meta['rows']:,} rows (batch {meta['batch']}) "
        "after a warm-up epoch. `÷ own smallest` compares a library's rows/CPU-s with its "
        f"own at {vocabs[0]:,} ids.",
        "",
        "| model | ids per feature | library | tables' optimizer | rows/s | rows/CPU-s | "
        "÷ own smallest (CPU) | " + "".join(f"÷ {p} (CPU) | " for p in peers) + "peak RSS (GB) |",
        "|---|---:|---|---|---:|---:|---:|" + "---:|" * len(peers) + "---:|",
    ]
    for model in models:
        for vocab in vocabs:
            for lib in libs:
                s = summary.get((lib, model, vocab))
                if s is None:
                    continue
                own = summary.get((lib, model, vocabs[0]))
                cells = []
                for peer in peers:
                    p = summary.get((peer, model, vocab))
                    cells.append(
                        f"{s['rows_per_cpu_s'] / p['rows_per_cpu_s']:.2f}×"
                        if p and lib.startswith("keras_mtl")
                        else ""
                    )
                optimizer = s["embedding_optimizer"] or "Adam (dense)"
                lines.append(
                    f"| {model} | {vocab:,} | {lib} | {optimizer} | {s['rows_per_s']:,.0f} | "
                    f"{s['rows_per_cpu_s']:,.0f} | "
                    f"{s['rows_per_cpu_s'] / own['rows_per_cpu_s']:.2f}× | "
                    + "".join(c + " | " for c in cells)
                    + f"{s['peak_rss_gb']:.2f} |"
                )
    lines.append("")
    for key, reason in not_run.items():
        lines.append(f"- {key}: not run ({reason}).")
    lines += [
        "",
        "Memory of the embedding tables (float32) and their optimizer slots:",
        "",
        memory_notes(cfg.DIM),
    ]
    return "\n".join(lines)
