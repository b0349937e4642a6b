"""`throughput.py --precision`: keras_mtl, DeepCTR and torch-rechub by precision and vocabulary.

Every (model, ids per feature, precision, library) configuration trains the
throughput benchmark's model (`benchmarks/_config.py`) in its own worker
process for a warm-up epoch and a timed one. Rounds interleave every
configuration, so a change of machine load hits them alike; a row is the median
over the rounds. `--vocab N[,N...]` sets the ids per feature (default: 1000
only), `--zipf` draws them Zipf-like, and `--peer-max-vocab` leaves DeepCTR and
torch-rechub out above that size.

How each library is driven:

- `keras_mtl`: `model.fit` on a batched, cached, prefetched `tf.data.Dataset`,
  `compile(optimizer=Adam(1e-3), jit_compile=True)` (XLA; the embedding tables
  get keras_mtl's LazyAdam). `keras_mtl+auto` is compile as users call it
  (Keras' `jit_compile="auto"`: no XLA for keras_mtl models on CPU); `+nojit`
  turns XLA off.
- `deepctr`: its `MMOE` / `PLE`, `model.fit` on the NumPy arrays, Adam(1e-3).
- Both Keras libraries train under `tf.keras.mixed_precision.set_global_policy`,
  set before the model is built (`bfloat16` = `mixed_bfloat16`, `float16` =
  `mixed_float16`: float32 variables, 16-bit compute; `compile` wraps the
  optimizer in a `LossScaleOptimizer` under `mixed_float16`).
- `torch_rechub`: its `MMOE` / `PLE` (BatchNorm replaced by identities) in a
  plain loop over pre-built batches with Adam(1e-3). float32 as is; `bfloat16`
  runs the forward pass and the loss under
  `torch.autocast(device_type="cpu", dtype=torch.bfloat16)` with parameters and
  Adam in float32 (autocast, PyTorch's nearest thing to a mixed policy); no
  float16 run.

The matmul peaks (float32 and bfloat16, a large square one and an
expert-shaped batched one, in TensorFlow) are measured in the same run, in
wall time and per CPU-second, and each configuration's dense-layer GFLOP per
CPU-second is set against the square peak of its precision. The check lines
under the table say whether each target (`TARGET_*`) was reached.
"""

import json
import os
import statistics

import _report

LIBRARIES = ("keras_mtl", "keras_mtl+auto", "deepctr", "torch_rechub")
PEERS = ("deepctr", "torch_rechub")
PRECISIONS = ("float32", "bfloat16", "float16")
#: the mixed-precision issue's targets: 16-bit over own float32, over DeepCTR (same policy)
TARGET_OWN, TARGET_PEER = 1.5, 1.3
#: at the smallest vocabulary: keras_mtl over DeepCTR, same policy (rows/CPU-s)
TARGET_SMALL_VOCAB_PEER = 1.25
#: at each larger vocabulary: keras_mtl over its own smallest-vocabulary rate
TARGET_OWN_SCALE = 0.8


def _ours(lib):
    return lib.split("+")[0] == "keras_mtl"


def ids_label(n):
    """`1000` → `1k`, `1000000` → `1M`; sizes that are not whole thousands stay as digits."""
    for size, suffix in ((10**9, "G"), (10**6, "M"), (10**3, "k")):
        if n >= size and n % size == 0:
            return f"{n // size}{suffix}"
    return f"{n:,}"


def key_name(key):
    lib, model, precision, vocab = key
    return f"{lib}/{model}/{precision}/{ids_label(vocab)}"


def configurations(libs, models, precisions, vocabs, peer_max_vocab):
    """`(keys in round order, {key name: why not run})`; a key is (lib, model, precision, vocab)."""
    keys, skipped = [], {}
    for model in models:
        for vocab in vocabs:
            for precision in precisions:
                for lib in libs:
                    key = (lib, model, precision, vocab)
                    if lib.startswith("torch_rechub") and precision == "float16":
                        skipped[key_name(key)] = "torch_rechub runs float32 and bfloat16 only"
                    elif not _ours(lib) and vocab > peer_max_vocab:
                        skipped[key_name(key)] = f"above --peer-max-vocab {peer_max_vocab:,}"
                    else:
                        keys.append(key)
    return keys, skipped


def summarise(runs, flops):
    """`{key: medians}` of rows/s, rows/CPU-s and GFLOP/CPU-s, and the largest peak RSS."""
    out = {}
    for key, results in runs.items():
        cpu = statistics.median(r["rows_per_cpu_s"] for r in results)
        out[key] = {
            "rows_per_s": statistics.median(r["rows_per_s"] for r in results),
            "rows_per_cpu_s": cpu,
            "gflops_per_cpu_s": cpu * flops[key[1]] / 1e9,
            "peak_rss_gb": max(r["peak_rss_gb"] for r in results),
            "rounds": [r["rows_per_cpu_s"] for r in results],
            "final_loss": results[-1].get("final_loss"),
        }
    return out


def ratio(summary, key, base):
    """rows/CPU-s of `key` over that of `base`, or None if either did not run."""
    if key not in summary or base not in summary:
        return None
    return summary[key]["rows_per_cpu_s"] / summary[base]["rows_per_cpu_s"]


def peak_per_cpu_s(peak, precision):
    """The matmul GFLOP/CPU-s a model under `precision` is compared with."""
    return peak["tf_bf16_gflops_per_cpu_s" if precision == "bfloat16" else "tf_gflops_per_cpu_s"]


def _verdict(value, target):
    return "reached" if value >= target else "not reached"


def _best(summary, ours, model, precision, vocab):
    """`(rows/CPU-s, lib)` of the fastest keras_mtl variant, or None."""
    found = [
        (summary[(lib, model, precision, vocab)]["rows_per_cpu_s"], lib)
        for lib in ours
        if (lib, model, precision, vocab) in summary
    ]
    return max(found) if found else None


def precision_checks(summary, libs, models, precisions, vocabs):
    """Each 16-bit run's best keras_mtl variant against its float32 and DeepCTR, per vocab."""
    lines, ours = [], [lib for lib in libs if _ours(lib)]
    for model in models:
        for vocab in vocabs:
            base = _best(summary, ours, model, "float32", vocab)
            for precision in (p for p in precisions if p != "float32"):
                at = f"{model} {precision} {_at_ids(vocab)}"
                mixed = _best(summary, ours, model, precision, vocab)
                if mixed is None:
                    continue
                if base is not None:
                    r = mixed[0] / base[0]
                    lines.append(
                        f"- {at}: keras_mtl ({mixed[1]}) {mixed[0]:,.0f} rows/CPU-s "
                        f"= {r:.2f}× its float32 ({base[1]}, {base[0]:,.0f}); target "
                        f"{TARGET_OWN}×: {_verdict(r, TARGET_OWN)}"
                    )
                peer = summary.get(("deepctr", model, precision, vocab))
                if peer is not None:
                    r = mixed[0] / peer["rows_per_cpu_s"]
                    lines.append(
                        f"- {at}: keras_mtl ({mixed[1]}) = {r:.2f}× DeepCTR's "
                        f"{peer['rows_per_cpu_s']:,.0f} rows/CPU-s under the same policy; "
                        f"target {TARGET_PEER}×: {_verdict(r, TARGET_PEER)}"
                    )
    return lines


def _at_ids(vocab):
    return f"at {ids_label(vocab)} ids"


def _peer_target(summary, lib, model, precision, small):
    at = f"{model} {precision} {_at_ids(small)}"
    r = ratio(summary, (lib, model, precision, small), ("deepctr", model, precision, small))
    if r is None:
        return f"- {at}: {lib} ÷ DeepCTR not measured (one of them did not run)"
    return (
        f"- {at}: {lib} {summary[(lib, model, precision, small)]['rows_per_cpu_s']:,.0f} "
        f"rows/CPU-s = {r:.2f}× DeepCTR's under the same policy; target "
        f"≥ {TARGET_SMALL_VOCAB_PEER}×: {_verdict(r, TARGET_SMALL_VOCAB_PEER)}"
    )


def _scale_target(summary, lib, model, precision, small, vocab):
    at = f"{model} {precision} {_at_ids(vocab)}"
    r = ratio(summary, (lib, model, precision, vocab), (lib, model, precision, small))
    if r is None:
        return f"- {at}: {lib} × own {ids_label(small)} not measured (a run is missing)"
    return (
        f"- {at}: {lib} {summary[(lib, model, precision, vocab)]['rows_per_cpu_s']:,.0f} "
        f"rows/CPU-s = {r:.2f}× its own at {ids_label(small)} ids; target "
        f"≥ {TARGET_OWN_SCALE}×: {_verdict(r, TARGET_OWN_SCALE)}"
    )


def target_lines(summary, libs, models, precisions, vocabs):
    """Per model, precision and keras_mtl variant: the DeepCTR target at the
    smallest vocabulary and the own-scaling target at every larger one."""
    lines, small = [], min(vocabs)
    for model in models:
        for precision in precisions:
            for lib in filter(_ours, libs):
                lines.append(_peer_target(summary, lib, model, precision, small))
                lines += [
                    _scale_target(summary, lib, model, precision, small, vocab)
                    for vocab in sorted(vocabs)
                    if vocab != small
                ]
    return lines


def _cells(summary, key, peers, small):
    """The table's ratio cells: × own float32, ÷ each peer, × own smallest vocab."""
    lib, model, precision, vocab = key

    def fmt(r, show=True):
        return f"{r:.2f}×" if r is not None and show else ""

    own32 = ratio(summary, key, (lib, model, "float32", vocab))
    cells = [fmt(own32, precision != "float32")]
    cells += [fmt(ratio(summary, key, (p, model, precision, vocab)), p != lib) for p in peers]
    cells.append(fmt(ratio(summary, key, (lib, model, precision, small)), vocab != small))
    return cells


def _peak_table(peak):
    return [
        "| matmul | float32 GFLOP/s | float32 GFLOP/CPU-s | bfloat16 GFLOP/s | "
        "bfloat16 GFLOP/CPU-s |",
        "|---|---:|---:|---:|---:|",
        f"| square | {peak['tf_gflops']:.0f} | {peak['tf_gflops_per_cpu_s']:.0f} | "
        f"{peak['tf_bf16_gflops']:.0f} | {peak['tf_bf16_gflops_per_cpu_s']:.0f} |",
        f"| expert-shaped | {peak['expert_tf_gflops']:.0f} | "
        f"{peak['expert_tf_gflops_per_cpu_s']:.0f} | {peak['expert_tf_bf16_gflops']:.0f} | "
        f"{peak['expert_tf_bf16_gflops_per_cpu_s']:.0f} |",
    ]


def markdown(summary, libs, models, precisions, vocabs, flops, peak, meta):
    peers = [lib for lib in libs if not _ours(lib)]
    small = min(vocabs)
    ids = f"Zipf-like ids (exponent {meta['zipf']:g})" if meta["zipf"] else "uniform ids"
    lines = [
        f"Command: `{meta['command']}`  ",
        f"Machine: {meta['machine']}; load average {meta['load_before'][0]:.2f} before, "
        f"{meta['load_after'][0]:.2f} after.",
        "",
        f"Setup: `benchmarks/_precision_sweep.py` (median of {meta['repeats']} interleaved "
        f"rounds, one epoch of {meta['rows']:,} rows, batch {meta['batch']}, after a warm-up "
        f'epoch; {ids}). keras_mtl with XLA, `+auto` with Keras\' `jit_compile="auto"` (no '
        "XLA on CPU); Keras libraries under the dtype policy of the precision, torch_rechub's "
        "bfloat16 is `torch.autocast` (CPU) over float32 parameters. Matmul peaks in this run "
        "(TensorFlow; 1024×2048 by 2048×2048; expert-shaped 8 × 1024×136 by 136×256), "
        "GFLOP/s wall and per CPU-second:",
        "",
        *_peak_table(peak),
        "",
        "| model | ids per feature | precision | library | rows/s | rows/CPU-s | peak RSS (GB) "
        "| GFLOP/CPU-s | % of the square matmul's GFLOP/CPU-s | × own float32 (CPU) | "
        + "".join(f"÷ {p}, same policy and ids (CPU) | " for p in peers)
        + f"× own {ids_label(small)} (CPU) |",
        "|---|---:|---|---|---:|---:|---:|---:|---:|---:|" + "---:|" * (len(peers) + 1),
    ]
    for key in sorted(summary, key=lambda k: _row_order(k, libs, models, precisions)):
        s = summary[key]
        lib, model, precision, vocab = key
        lines.append(
            f"| {model} | {vocab:,} | {precision} | {lib} | {s['rows_per_s']:,.0f} | "
            f"{s['rows_per_cpu_s']:,.0f} | {s['peak_rss_gb']:.2f} | {s['gflops_per_cpu_s']:.1f} | "
            f"{100 * s['gflops_per_cpu_s'] / peak_per_cpu_s(peak, precision):.0f}% | "
            + " | ".join(_cells(summary, key, peers, small))
            + " |"
        )
    lines += [
        "",
        "Training FLOPs per row (dense layers, 3 × forward): "
        + ", ".join(f"{m} {flops[m] / 1e6:.2f} M" for m in models)
        + ".",
        "",
        *meta["checks"],
    ]
    lines += [f"- {key}: not run ({reason})." for key, reason in meta["missing"].items()]
    return "\n".join(lines)


def _row_order(key, libs, models, precisions):
    lib, model, precision, vocab = key
    return models.index(model), vocab, precisions.index(precision), libs.index(lib)


def parse(args, default_vocab):
    """`(precisions, vocabs ascending, libs, models)` of the command line."""
    precisions = args.precision.split(",")
    unknown = [p for p in precisions if p not in PRECISIONS]
    if unknown:
        raise SystemExit(f"expected --precision from {', '.join(PRECISIONS)}. Received: {unknown}")
    vocabs = sorted({int(v) for v in args.vocab.split(",")}) if args.vocab else [default_vocab]
    libs = (args.libs or ",".join(LIBRARIES)).split(",")
    models = (args.models or "mmoe,ple").split(",")
    return precisions, vocabs, libs, models


def sweep(args, spawn, keys, missing):
    """`{key: [worker results]}` of `args.repeats` rounds over the keys; failures to `missing`."""
    runs = {}
    for round_ in range(args.repeats):
        for key in keys:
            lib, model, precision, vocab = key
            result, error = spawn(
                lib, model, args, precision=precision, vocab=vocab, zipf=args.zipf
            )
            head = f"round {round_ + 1} {model:4} {ids_label(vocab):>5} {precision:8} {lib:16}"
            if result is None:
                missing.setdefault(key_name(key), f"failed: {error}")
                print(f"{head} failed: {error}", flush=True)
                continue
            runs.setdefault(key, []).append(result)
            print(
                f"{head} {result['rows_per_s']:9,.0f} rows/s "
                f"{result['rows_per_cpu_s']:9,.0f} rows/CPU-s "
                f"peak RSS {result['peak_rss_gb']:.2f} GB",
                flush=True,
            )
    return runs


def _write_json(out, meta, peak, flops, precisions, vocabs, summary, runs):
    def named(key):
        lib, model, precision, vocab = key
        return {"library": lib, "model": model, "precision": precision, "vocab": vocab}

    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(
            {
                **{k: v for k, v in meta.items() if k != "missing"},
                "not_run": meta["missing"],
                "peak": peak,
                "train_flops_per_row": flops,
                "precisions": precisions,
                "vocabs": vocabs,
                "summary": [{**named(key), **s} for key, s in summary.items()],
                "runs": [{**named(key), **r} for key, rs in runs.items() for r in rs],
            },
            f,
            indent=2,
        )


def run(args, spawn, available, cfg):
    precisions, vocabs, libs, models = parse(args, cfg.VOCAB)
    libs, missing = available(libs)
    if not libs:
        raise SystemExit(f"no library to run: {missing}")
    keys, skipped = configurations(libs, models, precisions, vocabs, args.peer_max_vocab)
    missing.update(skipped)
    out = args.out or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "results", "throughput_precision.json"
    )
    load_before = os.getloadavg()
    peak, error = spawn("peak", "mmoe", args)
    if peak is None:
        raise SystemExit(f"matmul peak failed: {error}")
    flops = {m: cfg.train_flops_per_row(m) for m in models}
    runs = sweep(args, spawn, keys, missing)
    summary = summarise(runs, flops)
    meta = {
        "command": _report.command(),
        "machine": _report.machine(),
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "repeats": args.repeats,
        "rows": args.rows,
        "batch": args.batch,
        "zipf": args.zipf,
        "peer_max_vocab": args.peer_max_vocab,
        "checks": precision_checks(summary, libs, models, precisions, vocabs)
        + target_lines(summary, libs, models, precisions, vocabs),
        "missing": missing,
    }
    table = markdown(summary, libs, models, precisions, vocabs, flops, peak, meta)
    print()
    print(table)
    _write_json(out, meta, peak, flops, precisions, vocabs, summary, runs)
    if not args.no_report:
        _report.write_section(
            "throughput_precision", "## Training throughput by precision\n\n" + table + "\n"
        )
    print(f"JSON in {out}")
