"""Training throughput of keras_mtl MMoE / PLE next to DeepCTR and torch-rechub.

Every library trains the same architecture on the same synthetic rows
(`benchmarks/_config.py`: 100k rows, 16 pre-encoded categorical features of
vocabulary 1000 embedded in 8 dimensions, 8 numeric, experts [256, 128], towers
[64], two binary tasks, Adam 1e-3, batch 1024; MMoE with 8 experts, PLE with 2
levels of 4 shared + 2 specific experts per task). A row of the table is the
median over `--repeats` rounds of one epoch's rows/s, timed after a warm-up
epoch; rounds interleave the libraries so a change in machine load hits them
alike. Each run is its own subprocess, so TensorFlow's and PyTorch's thread
pools never share a process and a peer that fails to import is only reported.

    python benchmarks/throughput.py                           # all libraries, both models
    python benchmarks/throughput.py --libs keras_mtl,keras_mtl+nojit --models mmoe
    python benchmarks/throughput.py --precision float32,bfloat16   # mixed precision, side by side
    python benchmarks/throughput.py --precision float32,bfloat16 --vocab 1000,1000000 --zipf 1.1

Peers (optional; a missing one is reported and skipped): a CPU build of torch
(`pip install torch==2.13.0` here), then `pip install --no-deps deepctr==0.9.4
torch-rechub==0.9.0 tqdm` (their own pins would replace this TensorFlow).

How each library is driven (each at its default thread settings, printed):

- keras_mtl: `model.fit` on a batched, cached, prefetched `tf.data.Dataset`,
  compiled with `jit_compile=True` (XLA; `+nojit` / `+auto` variants leave it
  off / to Keras) and its default metrics (AUC and log loss per task).
- DeepCTR: `model.fit` on the NumPy arrays (its documented use), loss only.
- torch-rechub: its model in a plain loop over pre-built batch tensors
  (forward, mean BCE of the tasks, backward, Adam step); its `MLP` puts a
  BatchNorm1d after every linear layer (gates included), which the other two do
  not have, so those are replaced by identities to keep the architecture equal.
  Under `--precision bfloat16` its forward pass and loss run inside
  `torch.autocast(device_type="cpu", dtype=torch.bfloat16)` (parameters and
  Adam stay float32, as under Keras' `mixed_bfloat16` policy).

GFLOP/s counts the dense layers' training FLOPs (`_config.train_flops_per_row`)
and is set against a measured float32 matmul (1024×2048 by 2048×2048) in
TensorFlow and NumPy on the same machine.
"""

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import _config as cfg  # noqa: E402
import _harness  # noqa: E402

LIBRARIES = ("keras_mtl", "keras_mtl+nojit", "deepctr", "torch_rechub")
PEERS = ("deepctr", "torch_rechub")


# What the profile of keras_mtl's step showed when this benchmark was written
# (2026-11-24, 2 cores shared with other jobs); appended to the report section.
NOTES = """
### Reading the table

With the machine's load average above its core count, a process's wall-clock
rows/s mostly says how much of the two cores the scheduler gave it (runs of
the same library differed by 2-4× between rounds); rows/CPU-s (rows per second
of the process's own CPU time, all threads) is steadier and is what the
changes below were judged by. PyTorch runs with `OMP_WAIT_POLICY=PASSIVE`:
with its default (spinning) OpenMP threads it burned 5-10× the CPU per step on
the shared machine.

### Profile of keras_mtl's training step (MMoE, no XLA, TF profiler op stats)

The experts' matmuls and their gradients are about three quarters of the op
time. The rest: gate softmax and mixtures, Adam's updates of ~40 variables,
the 16 embedding gathers and their scatter-add gradients (~2.5%, so one
concatenated table instead of 16 could save at most that), the metrics (AUC
and log loss per task: ~4% of CPU time, AUC alone ~1.5%) and the input
pipeline (a batched, cached, prefetched `tf.data.Dataset`: under 1 ms a step).
The step has no host synchronisation (logs stay tensors; the weighting
callback runs per epoch).

Changes to keras_mtl (CPU ms per 1024-row step, old and new code alternating
in one process; outputs and gradients bit-identical on test inputs):

| change (each row: old and new code in one run) | MMoE no XLA | MMoE XLA | PLE no XLA | PLE XLA |
|---|---:|---:|---:|---:|
| `ExpertLayer`: `(E, B, u)`, batched matmuls | 38.3 → 34.0 | 29.8 → 26.3 | | |
| `GateLayer`: mixture as a batched matmul, not an einsum | 35.9 → 32.2 | 27.7 → 27.8 | | |
| all above + PLE `branch_major` | 39.9 → 31.7 | 30.5 → 28.1 | 87.2 → 63.4 | 59.7 → 53.8 |

Runs differ by a few ms in absolute terms (the load changes); compare within a
row. Also measured: `jit_compile=True` cuts CPU per step by 8-15%, but on the
loaded machine its wall-clock rows/s was often lower than without XLA (its
threads wait on each other when one is descheduled), so the table shows both;
`steps_per_execution=10` cut another ~9% of CPU (a `compile` argument left to
the user); mixing experts by multiply + `reduce_sum` instead of the batched
matmul changed nothing.

### What limits the ratios

Every library runs the same dense layers, and keras_mtl's step runs them at
about the measured matmul rate per CPU-second (compare GFLOP/CPU-s with the TF
peak per core), so its lead per CPU-second is bounded by how far a peer is
from that rate. DeepCTR runs the same TensorFlow kernels and came within
5-15% of keras_mtl with XLA per CPU-second (about level with keras_mtl without
XLA), which puts 2.5× DeepCTR out of reach for the same architecture on the
same TensorFlow. In wall-clock time DeepCTR also turned its CPU time into more
rows/s (its rows/s over rows/CPU-s was the highest of the TensorFlow runs, and
XLA's the lowest): its eight separate expert networks give TensorFlow's
executor independent ops to run side by side on both cores, where keras_mtl's
fused experts are a few large ops whose threads wait for each other when one
is descheduled. In one process, alternating 50-batch epochs, keras_mtl
without XLA and DeepCTR were level in wall-clock rows/s.
"""


# ---------------------------------------------------------------- workers ---


def _epoch_times(timer):
    """`fit_timer`'s epochs as the result's wall and CPU seconds lists."""
    return {
        "epoch_seconds": [epoch.wall_s for epoch in timer.epochs],
        "cpu_seconds": [epoch.cpu_s for epoch in timer.epochs],
    }


def _tf_threads(tf):
    return {
        "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
        "note": "0 = TensorFlow's default (one per core)",
    }


def _keras_params(model):
    return int(sum(int(v.shape.num_elements()) for v in model.trainable_variables))


def run_keras_mtl(model_name, rows, batch, options):
    import tensorflow as tf

    tf.keras.utils.set_random_seed(0)
    vocab = options.get("vocab", cfg.VOCAB)
    model = _harness.config_model(model_name, _harness.config_features(vocab))
    jit = {"jit": True, "nojit": False, "auto": "auto"}[options.get("jit", "jit")]
    compile_args = {"jit_compile": jit}
    if "spe" in options:
        compile_args["steps_per_execution"] = int(options["spe"])
    adam = tf.keras.optimizers.Adam(cfg.LEARNING_RATE)
    # default: the embedding tables get a LazyAdam; +dense keeps dense Adam updates
    optimizer = {"embeddings": adam, "towers": adam} if options.get("dense") else adam
    model.compile(optimizer=optimizer, **compile_args)
    x, y = cfg.synthetic(rows, vocab=vocab, zipf=options.get("zipf", 0.0))
    data = (
        tf.data.Dataset.from_tensor_slices((x, y)).batch(batch).cache().prefetch(tf.data.AUTOTUNE)
    )
    timer = _harness.fit_timer()
    history = model.fit(data, epochs=2, verbose=0, callbacks=[timer])
    return {
        **_epoch_times(timer),
        "params": _keras_params(model),
        "threads": _tf_threads(tf),
        "compile": {k: str(v) for k, v in compile_args.items()},
        # what trains the tables (small stacks keep the compiled Adam)
        "embedding_optimizer": " + ".join(
            sorted(
                {
                    type(model.training_state.optimizer_of(v)).__name__
                    for v in model.embedding_variables
                }
            )
        ),
        "keras": tf.keras.__name__,
        "final_loss": float(history.history["loss"][-1]),
    }


def run_deepctr(model_name, rows, batch, options):
    import tensorflow as tf
    from deepctr.feature_column import DenseFeat
    from deepctr.feature_column import SparseFeat
    from deepctr.models import MMOE
    from deepctr.models import PLE

    tf.keras.utils.set_random_seed(0)
    vocab = options.get("vocab", cfg.VOCAB)
    cols = [
        SparseFeat(c, vocabulary_size=vocab, embedding_dim=cfg.DIM, dtype="int64")
        for c in cfg.CATEGORICAL
    ] + [DenseFeat(n, 1) for n in cfg.NUMERIC]
    common = {
        "tower_dnn_hidden_units": cfg.TOWER_UNITS,
        "l2_reg_embedding": 0.0,
        "task_types": ("binary",) * len(cfg.TASKS),
        "task_names": cfg.TASKS,
    }
    if model_name == "mmoe":
        model = MMOE(
            cols, num_experts=cfg.NUM_EXPERTS, expert_dnn_hidden_units=cfg.EXPERT_UNITS, **common
        )
    else:
        model = PLE(
            cols,
            shared_expert_num=cfg.PLE_SHARED,
            specific_expert_num=cfg.PLE_SPECIFIC,
            num_levels=cfg.PLE_LEVELS,
            expert_dnn_hidden_units=cfg.EXPERT_UNITS,
            **common,
        )
    model.compile(
        optimizer=tf.keras.optimizers.Adam(cfg.LEARNING_RATE),
        loss=["binary_crossentropy"] * len(cfg.TASKS),
    )
    x, y = cfg.synthetic(rows, vocab=vocab, zipf=options.get("zipf", 0.0))
    timer = _harness.fit_timer()
    model.fit(
        x,
        [y[t] for t in cfg.TASKS],
        batch_size=batch,
        epochs=2,
        verbose=0,
        shuffle=False,
        callbacks=[timer],
    )
    return {
        **_epoch_times(timer),
        "params": _keras_params(model),
        "threads": _tf_threads(tf),
        "keras": tf.keras.__name__,
    }


def _torch_autocast(torch, precision):
    """The context the forward pass and loss run in: bfloat16 autocast or none (float32)."""
    if precision == "float32":
        return contextlib.nullcontext()
    if precision != "bfloat16":
        raise ValueError(
            f"expected torch_rechub precision float32 or bfloat16 (autocast). "
            f"Received: precision={precision}"
        )
    return torch.autocast(device_type="cpu", dtype=torch.bfloat16)


def run_torch_rechub(model_name, rows, batch, options):
    import torch
    from torch_rechub.basic.features import DenseFeature
    from torch_rechub.basic.features import SparseFeature
    from torch_rechub.models.multi_task import MMOE
    from torch_rechub.models.multi_task import PLE

    torch.manual_seed(0)
    vocab = options.get("vocab", cfg.VOCAB)
    features = [SparseFeature(c, vocab_size=vocab, embed_dim=cfg.DIM) for c in cfg.CATEGORICAL] + [
        DenseFeature(n) for n in cfg.NUMERIC
    ]
    task_types = ["classification"] * len(cfg.TASKS)
    expert = {"dims": list(cfg.EXPERT_UNITS)}
    towers = [{"dims": list(cfg.TOWER_UNITS)} for _ in cfg.TASKS]
    if model_name == "mmoe":
        model = MMOE(features, task_types, cfg.NUM_EXPERTS, expert, towers)
    else:
        model = PLE(
            features, task_types, cfg.PLE_LEVELS, cfg.PLE_SPECIFIC, cfg.PLE_SHARED, expert, towers
        )
    removed = 0
    for module in list(model.modules()):  # no BatchNorm: same layers as the others
        for name, child in list(module.named_children()):
            if isinstance(child, torch.nn.BatchNorm1d):
                setattr(module, name, torch.nn.Identity())
                removed += 1
    x, y = cfg.synthetic(rows, vocab=vocab, zipf=options.get("zipf", 0.0))
    tensors = {k: torch.from_numpy(v) for k, v in x.items()}
    labels = torch.from_numpy(__import__("numpy").stack([y[t] for t in cfg.TASKS], axis=1))
    batches = [
        ({k: v[i : i + batch] for k, v in tensors.items()}, labels[i : i + batch])
        for i in range(0, rows, batch)
    ]
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.LEARNING_RATE)
    loss_fn = torch.nn.BCELoss()
    precision = options.get("precision", "float32")
    model.train()
    seconds, cpu_seconds = [], []
    for _ in range(2):
        with _harness.Timer() as epoch:
            for xb, yb in batches:
                with _torch_autocast(torch, precision):
                    pred = model(xb).float()  # the loss in float32, as Keras' losses
                    tasks = range(len(cfg.TASKS))
                    loss = sum(loss_fn(pred[:, i], yb[:, i]) for i in tasks) / len(cfg.TASKS)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        seconds.append(epoch.wall_s)
        cpu_seconds.append(epoch.cpu_s)
    return {
        "epoch_seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "params": int(sum(p.numel() for p in model.parameters() if p.requires_grad)),
        "batch_norms_removed": removed,
        "autocast": "bfloat16" if precision == "bfloat16" else None,
        "final_loss": float(loss),
        "threads": {
            "torch": torch.get_num_threads(),
            "torch_interop": torch.get_num_interop_threads(),
            "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", ""),
        },
        "torch": torch.__version__,
    }


def run_peak(model_name, rows, batch, options):
    """Matmul GFLOP/s: 1024×2048 by 2048×2048 in float32 (TensorFlow, NumPy) and bfloat16.

    `*_gflops` is the best of 10 calls in wall time; `*_gflops_per_cpu_s` the
    10 calls' FLOPs over their process CPU time (all threads), the rate the
    models' GFLOP/CPU-s is set against. `expert_*` is an expert-shaped batched
    matmul (8 × 1024×136 by 136×256, the MMoE's first expert layer).
    """
    import numpy as np
    import tensorflow as tf

    def rates(shape_a, shape_b, dtype, calls=10):
        a = tf.cast(np.random.RandomState(0).normal(size=shape_a), dtype)
        b = tf.cast(np.random.RandomState(1).normal(size=shape_b), dtype)
        flops = 2 * int(np.prod(shape_a)) * shape_b[-1]
        matmul = tf.function(lambda: tf.reduce_sum(tf.cast(tf.matmul(a, b)[..., :1], tf.float32)))
        matmul().numpy()
        with _harness.Timer() as timer:
            times = _harness.latencies_ms(lambda: matmul().numpy(), calls) / 1e3
        return flops / min(times) / 1e9, flops * calls / timer.cpu_s / 1e9

    out = {}
    for dtype, name in ((tf.float32, "tf"), (tf.bfloat16, "tf_bf16")):
        out[f"{name}_gflops"], out[f"{name}_gflops_per_cpu_s"] = rates(
            (1024, 2048), (2048, 2048), dtype
        )
        out[f"expert_{name}_gflops"], out[f"expert_{name}_gflops_per_cpu_s"] = rates(
            (8, 1024, 136), (8, 136, 256), dtype, calls=50
        )
    a = np.random.RandomState(0).normal(size=(1024, 2048)).astype("float32")
    b = np.random.RandomState(1).normal(size=(2048, 2048)).astype("float32")
    a @ b
    times = _harness.latencies_ms(lambda: a @ b, 10) / 1e3
    out["numpy_gflops"] = 2 * 1024 * 2048 * 2048 / min(times) / 1e9
    return out


#: `--precision` names and the Keras dtype policy a worker trains under.
POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}

RUNNERS = {
    "keras_mtl": run_keras_mtl,
    "deepctr": run_deepctr,
    "torch_rechub": run_torch_rechub,
    "peak": run_peak,
}


def worker(spec):
    """One run of `spec` (library, model, rows, batch, options) in its own process."""
    lib, _, flags = spec["lib"].partition("+")
    options = {key: spec[key] for key in ("vocab", "zipf") if key in spec}
    options["precision"] = spec.get("precision", "float32")
    if options["precision"] != "float32" and lib in ("keras_mtl", "deepctr"):
        import tensorflow as tf

        # before any layer is built; variables stay float32 (mixed policies);
        # torch_rechub takes the precision as an option (autocast)
        tf.keras.mixed_precision.set_global_policy(POLICIES[options["precision"]])
    for flag in filter(None, flags.split("+")):
        if flag.startswith("spe"):
            options["spe"] = flag[3:]
        elif flag == "dense":
            options["dense"] = True
        else:
            options["jit"] = flag
    result = RUNNERS[lib](spec["model"], spec["rows"], spec["batch"], options)
    # peak resident memory of this worker process
    result["peak_rss_gb"] = _harness.max_rss_bytes() / 2**30
    if "epoch_seconds" in result:
        result["rows_per_s"] = spec["rows"] / result["epoch_seconds"][-1]
        result["rows_per_cpu_s"] = spec["rows"] / result["cpu_seconds"][-1]
    return result


# ------------------------------------------------------------------ driver ---


def spawn(lib, model, args, **extra):
    """`(result, None)` of one run in its own process, or `(None, why it failed)`."""
    spec = {"lib": lib, "model": model, "rows": args.rows, "batch": args.batch, **extra}
    env = {}
    if lib.startswith("torch_rechub") and not args.torch_omp_active:
        # PyTorch's OpenMP threads spin while they wait; on a machine whose
        # cores are busy with other work that multiplied its CPU time per
        # step by 5-10 (the thread count stays at PyTorch's default)
        env["OMP_WAIT_POLICY"] = os.environ.get("OMP_WAIT_POLICY", "PASSIVE")
    if args.legacy_keras:
        env["TF_USE_LEGACY_KERAS"] = "1"
    try:
        return _harness.call(__file__, "worker", {"spec": spec}, env=env), None
    except _harness.WorkerError as error:
        return None, " | ".join(error.tail(3)) or f"exit {error.returncode}"


def importable(lib):
    module = {"torch_rechub": "torch_rechub", "deepctr": "deepctr"}.get(lib.split("+")[0])
    if module is None:
        return None
    code = f"import {module}"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_harness.worker_env()
    )
    if proc.returncode:
        return (proc.stderr.strip().splitlines() or ["import failed"])[-1]
    return None


def available(libs):
    """`(the libraries that import, {library: why not})`."""
    reasons = {lib: importable(lib) for lib in libs}
    missing = {lib: f"cannot import: {reason}" for lib, reason in reasons.items() if reason}
    return [lib for lib in libs if lib not in missing], missing


def summarise(runs, libs, models, flops, peak):
    out = {}
    for model in models:
        for lib in libs:
            rates = [r["rows_per_s"] for r in runs.get((lib, model), [])]
            if not rates:
                continue
            median = statistics.median(rates)
            out[(lib, model)] = {
                "rows_per_s": median,
                "rounds": rates,
                "rows_per_cpu_s": statistics.median(
                    r["rows_per_cpu_s"] for r in runs[(lib, model)]
                ),
                "gflops_per_cpu_s": statistics.median(
                    r["rows_per_cpu_s"] for r in runs[(lib, model)]
                )
                * flops[model]
                / 1e9,
                "gflops": median * flops[model] / 1e9,
                "peak_fraction": median * flops[model] / 1e9 / peak if peak else None,
            }
    return out


def _is_ours(lib):
    return lib.split("+")[0] == "keras_mtl"


def ratios(summary, libs, model, key="rows_per_s"):
    """`{"keras_mtl…/peer": ratio}` for every keras_mtl variant and peer run."""
    out = {}
    for ours in filter(_is_ours, libs):
        for peer in [lib for lib in libs if not _is_ours(lib)]:
            if (ours, model) in summary and (peer, model) in summary:
                out[f"{ours}/{peer}"] = summary[(ours, model)][key] / summary[(peer, model)][key]
    return out


def markdown(summary, runs, libs, models, flops, peak, meta):
    peers = [lib for lib in libs if not _is_ours(lib)]
    lines = [
        f"`{meta['command']}` on {meta['machine']}; load average "
        f"{meta['load_before'][0]:.2f} before, {meta['load_after'][0]:.2f} after. "
        f"Median of {meta['repeats']} interleaved rounds, one epoch of {meta['rows']} rows "
        f"(batch {meta['batch']}) after a warm-up epoch. Matmul peak: "
        f"{peak['tf_gflops']:.0f} GFLOP/s (TensorFlow; "
        f"{peak['tf_gflops'] / meta['cores']:.0f} "
        f"per core), {peak['numpy_gflops']:.0f} (NumPy).",
        "",
        "| model | library | params | rows/s | GFLOP/s | % of TF peak | "
        + "".join(f"÷ {p} | " for p in peers)
        + "rows/CPU-s | GFLOP/CPU-s | "
        + "".join(f"÷ {p} (CPU) | " for p in peers).rstrip(),
        "|---|---|---:|---:|---:|---:|" + "---:|" * (2 * len(peers) + 2),
    ]
    for model in models:
        wall, cpu = ratios(summary, libs, model), ratios(summary, libs, model, "rows_per_cpu_s")
        for lib in libs:
            s = summary.get((lib, model))
            if s is None:
                continue
            params = runs[(lib, model)][0]["params"]
            cells = [f"{wall[f'{lib}/{p}']:.2f}×" if f"{lib}/{p}" in wall else "" for p in peers]
            cpu_cells = [f"{cpu[f'{lib}/{p}']:.2f}×" if f"{lib}/{p}" in cpu else "" for p in peers]
            lines.append(
                f"| {model} | {lib} | {params:,} | {s['rows_per_s']:,.0f} | "
                f"{s['gflops']:.1f} | {100 * s['peak_fraction']:.0f}% | "
                + "".join(c + " | " for c in cells)
                + f"{s['rows_per_cpu_s']:,.0f} | "
                f"{s['gflops_per_cpu_s']:.1f} | " + "".join(c + " | " for c in cpu_cells).rstrip()
            )
    lines.append("")
    lines.append(
        "Training FLOPs per row (dense layers, 3 × forward): "
        + ", ".join(f"{m} {flops[m] / 1e6:.2f} M" for m in models)
        + ". "
        "rows/CPU-s divides by the process's CPU time (all its threads) instead "
        "of wall time: steadier than rows/s on a shared machine. keras_mtl runs "
        "with `jit_compile=True`; `+nojit` without XLA."
    )
    for lib, reason in meta["missing"].items():
        lines.append(f"{lib}: not run ({reason}).")
    return "\n".join(lines)


def from_json(path, write_report):
    """Prints (and writes to the report) the table of a saved run."""
    import _report

    with open(path) as f:
        saved = json.load(f)
    runs, libs, models = {}, [], []
    for run in saved["runs"]:
        runs.setdefault((run["library"], run["model"]), []).append(run)
        libs += [run["library"]] if run["library"] not in libs else []
        models += [run["model"]] if run["model"] not in models else []
    flops = {m: saved["train_flops_per_row"][m] for m in models}
    summary = summarise(runs, libs, models, flops, saved["peak"]["tf_gflops"])
    meta = {**saved, "missing": saved.get("not_run", {}), "cores": saved.get("cores", 2)}
    table = markdown(summary, runs, libs, models, flops, saved["peak"], meta)
    print(table)
    if write_report:
        _report.write_section("throughput", "## Training throughput\n\n" + table + "\n" + NOTES)


def _vocab_sweep_libs():
    import _vocab_sweep

    return _vocab_sweep.LIBRARIES


def _precision_sweep_libs():
    import _precision_sweep

    return _precision_sweep.LIBRARIES


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--libs",
        default=None,
        help="comma-separated; every keras_mtl variant is compared with "
        "every peer. keras_mtl takes +nojit, +auto, +speN and +dense "
        "(dense Adam updates of the embedding tables) variants; default "
        f"{','.join(LIBRARIES)} ({','.join(_vocab_sweep_libs())} with --vocab, "
        f"{','.join(_precision_sweep_libs())} with --precision)",
    )
    parser.add_argument("--models", default=None, help="default mmoe,ple (mmoe with --vocab alone)")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--legacy-keras",
        action="store_true",
        help="run the TensorFlow libraries with TF_USE_LEGACY_KERAS=1",
    )
    parser.add_argument(
        "--torch-omp-active",
        action="store_true",
        help="leave OMP_WAIT_POLICY unset for torch-rechub (default: PASSIVE)",
    )
    parser.add_argument(
        "--vocab",
        metavar="N[,N...]",
        help="ids per feature: sweep these vocabulary sizes (MMoE) and report "
        "rows/s, rows/CPU-s and peak RSS per size (section "
        "throughput_vocab); with --precision, every precision at every size "
        "(section throughput_precision); default: the fixed 1000-id table above",
    )
    parser.add_argument(
        "--zipf",
        type=float,
        default=0.0,
        help="draw ids Zipf-like with this exponent (> 1; 0: uniform)",
    )
    parser.add_argument(
        "--precision",
        metavar="P[,P...]",
        help="float32, bfloat16 (mixed_bfloat16; torch_rechub: bfloat16 "
        "autocast), float16 (mixed_float16, Keras libraries only): every "
        "library under each precision side by side, at each --vocab size, "
        "with the matmul peaks of both precisions (section "
        "throughput_precision)",
    )
    parser.add_argument(
        "--peer-max-vocab",
        type=int,
        default=1_000_000,
        help="with --vocab: run the peers (and, without --precision, keras_mtl "
        "with XLA) only up to this size (their dense "
        "Adam updates make larger tables take hours)",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="JSON of the run (default benchmarks/results/throughput.json, "
        "throughput_vocab.json with --vocab, throughput_precision.json with "
        "--precision)",
    )
    parser.add_argument(
        "--from-json",
        metavar="JSON",
        help="rebuild the table (and report section) from a saved --out file",
    )
    parser.add_argument(
        "--no-report",
        action="store_true",
        help="do not rewrite the throughput section of docs/benchmarks.md",
    )
    args = parser.parse_args(argv)
    import _report

    if args.from_json:
        return from_json(args.from_json, not args.no_report)
    if args.precision:
        import _precision_sweep

        return _precision_sweep.run(args, spawn, available, cfg)
    if args.vocab:
        import _vocab_sweep

        return _vocab_sweep.run(args, spawn, available)
    args.out = args.out or os.path.join(HERE, "results", "throughput.json")
    libs = (args.libs or ",".join(LIBRARIES)).split(",")
    models = (args.models or "mmoe,ple").split(",")
    load_before = os.getloadavg()
    libs, missing = available(libs)
    if not libs:
        raise SystemExit(f"no library to run: {missing}")
    peak, error = spawn("peak", "mmoe", args)
    if peak is None:
        raise SystemExit(f"matmul peak failed: {error}")
    flops = {m: cfg.train_flops_per_row(m) for m in models}
    runs, errors = {}, {}
    for round_ in range(args.repeats):
        for model in models:
            for lib in libs:
                result, error = spawn(lib, model, args)
                if result is None:
                    errors.setdefault(f"{lib}/{model}", error)
                    print(f"round {round_ + 1} {model:4} {lib:20} failed: {error}", flush=True)
                    continue
                result["loadavg"] = os.getloadavg()[0]
                runs.setdefault((lib, model), []).append(result)
                print(
                    f"round {round_ + 1} {model:4} {lib:20} {result['rows_per_s']:9,.0f} rows/s "
                    f"(load {result['loadavg']:.2f})",
                    flush=True,
                )
    for key, reason in errors.items():
        missing.setdefault(key, f"failed: {reason}")
    summary = summarise(runs, libs, models, flops, peak["tf_gflops"])
    meta = {
        "command": _report.command(),
        "machine": _report.machine(),
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "repeats": args.repeats,
        "rows": args.rows,
        "batch": args.batch,
        "cores": _harness.cores(),
        "missing": missing,
    }
    table = markdown(summary, runs, libs, models, flops, peak, meta)
    print()
    print(table)
    threads = {
        lib: runs[(lib, m)][0]["threads"] for lib in libs for m in models if (lib, m) in runs
    }
    print("\nthreads: " + json.dumps(threads))
    report = {
        **{k: v for k, v in meta.items() if k != "missing"},
        "not_run": missing,
        "peak": peak,
        "train_flops_per_row": flops,
        "threads": threads,
        "summary": [{"library": lib, "model": model, **s} for (lib, model), s in summary.items()],
        "ratios": {model: ratios(summary, libs, model) for model in models},
        "cpu_ratios": {model: ratios(summary, libs, model, "rows_per_cpu_s") for model in models},
        "runs": [
            {"library": lib, "model": model, **r} for (lib, model), rs in runs.items() for r in rs
        ],
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
    if not args.no_report:
        _report.write_section("throughput", "## Training throughput\n\n" + table + "\n" + NOTES)
    print(f"JSON in {args.out}")


if __name__ == "__main__":
    main()
