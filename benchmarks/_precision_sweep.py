"""`throughput.py --precision`: keras_mtl and DeepCTR under float32 and mixed policies, one run.

Every (model, library, precision) trains the throughput benchmark's model
(`benchmarks/_config.py`) in its own process for a warm-up epoch and a timed
one, the policy set with `tf.keras.mixed_precision.set_global_policy` before
the model is built (`bfloat16` = `mixed_bfloat16`, `float16` =
`mixed_float16`: float32 variables, 16-bit compute; Keras' `compile` wraps the
optimizer in a `LossScaleOptimizer` under `mixed_float16`). Rounds interleave
every configuration, so a change of machine load hits them alike; a row is the
median over the rounds. The matmul peaks (float32 and bfloat16, a large square
one and an expert-shaped batched one) are measured in the same run, in wall
time and per CPU-second, and the models' dense-layer GFLOP per CPU-second is
set against the peak of their precision.
"""

import json
import os
import statistics

import _report

LIBRARIES = ("keras_mtl", "keras_mtl+nojit", "deepctr")
#: what the done-when of the mixed-precision issue asks, per model
TARGET_OWN, TARGET_PEER = 1.5, 1.3


def _ours(lib):
    return lib.split("+")[0] == "keras_mtl"


def summarise(runs, flops):
    """`{(lib, model, precision): medians}` of rows/s, rows/CPU-s and GFLOP/CPU-s."""
    out = {}
    for (lib, model, precision), results in runs.items():
        cpu = statistics.median(r["rows_per_cpu_s"] for r in results)
        out[(lib, model, precision)] = {
            "rows_per_s": statistics.median(r["rows_per_s"] for r in results),
            "rows_per_cpu_s": cpu,
            "gflops_per_cpu_s": cpu * flops[model] / 1e9,
            "rounds": [r["rows_per_cpu_s"] for r in results],
            "final_loss": results[-1].get("final_loss"),
        }
    return out


def peak_per_cpu_s(peak, precision):
    """The matmul GFLOP/CPU-s a model under `precision` is compared with."""
    return peak["tf_bf16_gflops_per_cpu_s" if precision == "bfloat16" else "tf_gflops_per_cpu_s"]


def checks(summary, libs, models, precisions):
    """Lines comparing each 16-bit run with float32 and DeepCTR, best keras_mtl variant each."""
    lines = []
    ours = [lib for lib in libs if _ours(lib)]
    for model in models:

        def best(precision, model=model):
            found = [
                (summary[(lib, model, precision)]["rows_per_cpu_s"], lib)
                for lib in ours
                if (lib, model, precision) in summary
            ]
            return max(found) if found else None

        base = best("float32")
        for precision in (p for p in precisions if p != "float32"):
            mixed = best(precision)
            if mixed is None:
                continue
            if base is not None:
                ratio = mixed[0] / base[0]
                lines.append(
                    f"- {model} {precision}: keras_mtl ({mixed[1]}) {mixed[0]:,.0f} rows/CPU-s "
                    f"= {ratio:.2f}× its float32 ({base[1]}, {base[0]:,.0f}); target "
                    f"{TARGET_OWN}×: {'reached' if ratio >= TARGET_OWN else 'not reached'}"
                )
            peer = summary.get(("deepctr", model, precision))
            if peer is not None:
                ratio = mixed[0] / peer["rows_per_cpu_s"]
                lines.append(
                    f"- {model} {precision}: keras_mtl ({mixed[1]}) = {ratio:.2f}× DeepCTR's "
                    f"{peer['rows_per_cpu_s']:,.0f} rows/CPU-s under the same policy; target "
                    f"{TARGET_PEER}×: {'reached' if ratio >= TARGET_PEER else 'not reached'}"
                )
    return lines


def markdown(summary, libs, models, precisions, flops, peak, meta):
    lines = [
        f"Command: `{meta['command']}`  ",
        f"Machine: {meta['machine']}; load average {meta['load_before'][0]:.2f} before, "
        f"{meta['load_after'][0]:.2f} after.",
        "",
        f"Setup: `benchmarks/_precision_sweep.py` (median of {meta['repeats']} interleaved "
        f"rounds, one epoch of {meta['rows']:,} rows, batch {meta['batch']}, after a warm-up "
        "epoch; keras_mtl with XLA, `+nojit` without). Matmul peaks in this run "
        "(1024×2048 by 2048×2048; expert-shaped 8 × 1024×136 by 136×256), GFLOP/s wall "
        "and per CPU-second:",
        "",
        "| matmul | float32 GFLOP/s | float32 GFLOP/CPU-s | bfloat16 GFLOP/s | "
        "bfloat16 GFLOP/CPU-s |",
        "|---|---:|---:|---:|---:|",
        f"| square | {peak['tf_gflops']:.0f} | {peak['tf_gflops_per_cpu_s']:.0f} | "
        f"{peak['tf_bf16_gflops']:.0f} | {peak['tf_bf16_gflops_per_cpu_s']:.0f} |",
        f"| expert-shaped | {peak['expert_tf_gflops']:.0f} | "
        f"{peak['expert_tf_gflops_per_cpu_s']:.0f} | {peak['expert_tf_bf16_gflops']:.0f} | "
        f"{peak['expert_tf_bf16_gflops_per_cpu_s']:.0f} |",
        "",
        "| model | library | precision | rows/s | rows/CPU-s | GFLOP/CPU-s | % of the "
        "square matmul's GFLOP/CPU-s | × own float32 (CPU) | ÷ deepctr, same policy (CPU) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for model in models:
        for lib in libs:
            for precision in precisions:
                s = summary.get((lib, model, precision))
                if s is None:
                    continue
                own = summary.get((lib, model, "float32"))
                peer = summary.get(("deepctr", model, precision))
                cells = [
                    f"{s['rows_per_cpu_s'] / own['rows_per_cpu_s']:.2f}×"
                    if own and precision != "float32"
                    else "",
                    f"{s['rows_per_cpu_s'] / peer['rows_per_cpu_s']:.2f}×"
                    if peer and _ours(lib)
                    else "",
                ]
                lines.append(
                    f"| {model} | {lib} | {precision} | {s['rows_per_s']:,.0f} | "
                    f"{s['rows_per_cpu_s']:,.0f} | {s['gflops_per_cpu_s']:.1f} | "
                    f"{100 * s['gflops_per_cpu_s'] / peak_per_cpu_s(peak, precision):.0f}% | "
                    + " | ".join(cells)
                    + " |"
                )
    lines += [
        "",
        "Training FLOPs per row (dense layers, 3 × forward): "
        + ", ".join(f"{m} {flops[m] / 1e6:.2f} M" for m in models)
        + ".",
        "",
    ]
    lines += checks(summary, libs, models, precisions)
    for key, reason in meta["missing"].items():
        lines.append(f"- {key}: not run ({reason}).")
    return "\n".join(lines)


def run(args, spawn, available, cfg):
    precisions = args.precision.split(",")
    unknown = [p for p in precisions if p not in ("float32", "bfloat16", "float16")]
    if unknown:
        raise SystemExit(
            f"expected --precision from float32, bfloat16, float16. Received: {unknown}"
        )
    libs = (args.libs or ",".join(LIBRARIES)).split(",")
    models = (args.models or "mmoe,ple").split(",")
    missing = {}
    if any(lib.startswith("torch_rechub") for lib in libs):
        missing["torch_rechub"] = (
            "not part of the precision comparison (a PyTorch autocast "
            "run is not comparable to a Keras dtype policy)"
        )
        libs = [lib for lib in libs if not lib.startswith("torch_rechub")]
    libs, unavailable = available(libs)
    missing.update(unavailable)
    if not libs:
        raise SystemExit(f"no library to run: {missing}")
    out = args.out or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "results", "throughput_precision.json"
    )
    load_before = os.getloadavg()
    peak, error = spawn("peak", "mmoe", args)
    if peak is None:
        raise SystemExit(f"matmul peak failed: {error}")
    flops = {m: cfg.train_flops_per_row(m) for m in models}
    runs = {}
    for round_ in range(args.repeats):
        for model in models:
            for precision in precisions:
                for lib in libs:
                    result, error = spawn(lib, model, args, precision=precision)
                    key = (lib, model, precision)
                    if result is None:
                        missing.setdefault("/".join(key), f"failed: {error}")
                        print(
                            f"round {round_ + 1} {model:4} {lib:16} {precision:8} failed: {error}",
                            flush=True,
                        )
                        continue
                    runs.setdefault(key, []).append(result)
                    print(
                        f"round {round_ + 1} {model:4} {lib:16} {precision:8} "
                        f"{result['rows_per_s']:9,.0f} rows/s "
                        f"{result['rows_per_cpu_s']:9,.0f} rows/CPU-s",
                        flush=True,
                    )
    summary = summarise(runs, flops)
    meta = {
        "command": _report.command(),
        "machine": _report.machine(),
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "repeats": args.repeats,
        "rows": args.rows,
        "batch": args.batch,
        "missing": missing,
    }
    table = markdown(summary, libs, models, precisions, flops, peak, meta)
    print()
    print(table)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(
            {
                **{k: v for k, v in meta.items() if k != "missing"},
                "not_run": missing,
                "peak": peak,
                "train_flops_per_row": flops,
                "precisions": precisions,
                "summary": [
                    {"library": lib, "model": model, "precision": precision, **s}
                    for (lib, model, precision), s in summary.items()
                ],
                "runs": [
                    {"library": lib, "model": model, "precision": precision, **r}
                    for (lib, model, precision), rs in runs.items()
                    for r in rs
                ],
            },
            f,
            indent=2,
        )
    if not args.no_report:
        _report.write_section(
            "throughput_precision", "## Training throughput by precision\n\n" + table + "\n"
        )
    print(f"JSON in {out}")
