"""The throughput MMoE's dense layers alone by expert formulation, beside the full models.

    python benchmarks/expert_formulations.py                 # 3 interleaved rounds
    python benchmarks/expert_formulations.py --rounds 5 --steps 40 --rows 20000

The stacked-tables issue asks keras_mtl's MMoE for 1.25x DeepCTR's rows per
CPU-second. This script measures, in one run on one machine, whether any way of
computing the benchmark MMoE's dense layers (`_config.py`: 8 experts of
(256, 128) on a 136-wide input, two softmax gates, two (64,) towers; sigmoid
cross-entropy; plain SGD; no embeddings, no Keras, no metrics) is fast enough
for that, with and without XLA:

- `batched`: keras_mtl's `ExpertLayer` before this benchmark (one `(d, E*u0)`
  matmul, then the second layer expert-major `(E, B, u)` as one batched matmul
  between two transposes);
- `wide_split`: the same first matmul, the activations kept side by side
  `(B, E*u)`, each expert's second layer a 2-D matmul of its block of columns
  by its slice of the stacked kernel, written back side by side;
- `per_expert`: keras_mtl's `ExpertLayer` now: the same stacked variables,
  each expert a chain of 2-D matmuls on its slices of them (column block k of
  the first kernel, slice k of the second), stacked at the end;
- `separate`: DeepCTR's formulation, E separate 2-D expert networks (one
  matmul per expert and layer), stacked.

Every formulation mixes the experts as `GateLayer` does (a `(1, E) x (E, u)`
batched matmul per row).

Between the dense rounds it trains the full models (`throughput.py`'s worker,
each in its own process, one epoch of `--rows` after a warm-up epoch):
keras_mtl with XLA, keras_mtl with Keras' default `jit_compile="auto"`, and
DeepCTR. A row is the median over rounds of rows per CPU-second (process CPU
time, all threads). Writes benchmarks/results/expert_formulations.json and the
section "expert_formulations" of docs/benchmarks.md.
"""

import argparse
import json
import os
import statistics
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import _config  # noqa: E402
import _report  # noqa: E402
import precision_ceiling  # noqa: E402
import throughput  # noqa: E402

BATCH = 1024
TARGET = 1.25  # the keras_mtl / DeepCTR target
E, (U1, U2), (T1,) = _config.NUM_EXPERTS, _config.EXPERT_UNITS, _config.TOWER_UNITS
D, TASKS = _config.INPUT_DIM, len(_config.TASKS)
FULL = ("keras_mtl", "keras_mtl+auto", "deepctr")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30, help="timed dense steps per round")
    parser.add_argument("--rows", type=int, default=20_000, help="rows of a full-model epoch")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "expert_formulations.json"))
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args(argv)
    # what throughput.spawn reads
    args.batch, args.legacy_keras, args.torch_omp_active = BATCH, False, False
    return args


def variables(seed=0):
    """Float32 variables; the first layer both per expert and side by side."""
    rng = tf.random.Generator.from_seed(seed)

    def var(*shape):
        return tf.Variable(rng.normal(shape) * (2.0 / shape[-2]) ** 0.5)

    w1 = var(E, D, U1)
    return {
        "w1": w1,
        "b1": tf.Variable(tf.zeros((E, U1))),
        "w1_wide": tf.Variable(tf.reshape(tf.transpose(w1, (1, 0, 2)), (D, E * U1))),
        "b1_wide": tf.Variable(tf.zeros((E * U1,))),
        "w2": var(E, U1, U2),
        "b2": tf.Variable(tf.zeros((E, U2))),
        "gates": var(TASKS, D, E),
        "t1": var(TASKS, U2, T1),
        "tb1": tf.Variable(tf.zeros((TASKS, T1))),
        "t2": var(TASKS, T1, 1),
    }


def _gates(x, v):
    return [tf.nn.softmax(tf.matmul(x, v["gates"][t])) for t in range(TASKS)]  # (B, E)


def _mixtures(h, x, v):
    """GateLayer's mixture: `(1, E) x (E, u)` per row, a batched matmul."""
    return [tf.matmul(g[:, None, :], h)[:, 0, :] for g in _gates(x, v)]


def _wide_first_layer(x, v):
    h = tf.nn.relu(tf.nn.bias_add(tf.matmul(x, v["w1_wide"]), v["b1_wide"]))
    return tf.transpose(tf.reshape(h, (-1, E, U1)), (1, 0, 2))  # (E, B, u1)


def batched(x, v):
    h = tf.matmul(_wide_first_layer(x, v), v["w2"])  # (E, B, u2)
    h = tf.reshape(tf.transpose(h, (1, 0, 2)), (-1, E * U2))
    h = tf.nn.relu(tf.reshape(tf.nn.bias_add(h, tf.reshape(v["b2"], (-1,))), (-1, E, U2)))
    return _mixtures(h, x, v)


def wide_split(x, v):
    h = tf.nn.relu(tf.nn.bias_add(tf.matmul(x, v["w1_wide"]), v["b1_wide"]))  # (B, E*u1)
    blocks, kernels = tf.split(h, E, axis=1), tf.unstack(v["w2"])
    h = tf.concat([tf.matmul(b, k) for b, k in zip(blocks, kernels)], axis=1)
    h = tf.nn.relu(tf.nn.bias_add(h, tf.reshape(v["b2"], (-1,))))
    return _mixtures(tf.reshape(h, (-1, E, U2)), x, v)


def per_expert(x, v):
    w1, b1 = tf.split(v["w1_wide"], E, axis=1), tf.split(v["b1_wide"], E)
    w2, b2 = tf.unstack(v["w2"]), tf.unstack(v["b2"])
    outs = []
    for e in range(E):
        h = tf.nn.relu(tf.nn.bias_add(tf.matmul(x, w1[e]), b1[e]))
        outs.append(tf.nn.relu(tf.nn.bias_add(tf.matmul(h, w2[e]), b2[e])))
    return _mixtures(tf.stack(outs, axis=1), x, v)  # (B, E, u2)


def separate(x, v):
    outs = []
    for e in range(E):
        h = tf.nn.relu(tf.nn.bias_add(tf.matmul(x, v["w1"][e]), v["b1"][e]))
        outs.append(tf.nn.relu(tf.nn.bias_add(tf.matmul(h, v["w2"][e]), v["b2"][e])))
    return _mixtures(tf.stack(outs, axis=1), x, v)  # (B, E, u2)


FORMULATIONS = {
    "batched": batched,
    "wide_split": wide_split,
    "per_expert": per_expert,
    "separate": separate,
}
FIRST_LAYER = {name: ("w1_wide", "b1_wide") for name in ("batched", "wide_split", "per_expert")}


def make_step(name, v, jit):
    trained = [
        v[k] for k in FIRST_LAYER.get(name, ("w1", "b1")) + ("w2", "b2", "gates", "t1", "tb1", "t2")
    ]
    experts = FORMULATIONS[name]

    @tf.function(jit_compile=jit)
    def step(x, y):
        with tf.GradientTape() as tape:
            logits = []
            for t, mixed in enumerate(experts(x, v)):
                h = tf.nn.relu(tf.matmul(mixed, v["t1"][t]) + v["tb1"][t])
                logits.append(tf.matmul(h, v["t2"][t])[:, 0])
            loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(y, tf.stack(logits)))
        for var, grad in zip(trained, tape.gradient(loss, trained)):
            var.assign_sub(1e-3 * grad)
        return loss

    return step


def main(argv=None):
    args = parse_args(argv)
    x = tf.random.stateless_normal((BATCH, D), seed=(1, 2))
    y = tf.cast(tf.random.stateless_uniform((TASKS, BATCH), seed=(3, 4)) > 0.5, tf.float32)
    configs = {
        f"{name}{'' if jit else '+nojit'}": make_step(name, variables(), jit)
        for name in FORMULATIONS
        for jit in (True, False)
    }
    for step in configs.values():
        step(x, y)  # trace and warm
    runs = {name: [] for name in list(configs) + list(FULL)}
    failures = {}
    for _ in range(args.rounds):
        for name, step in configs.items():
            runs[name].append(precision_ceiling.rows_per_cpu_s(step, x, y, args.steps))
        for lib in FULL:
            result, why = throughput.spawn(lib, "mmoe", args)
            if result is None:
                failures[lib] = why
            else:
                runs[lib].append(result["rows_per_cpu_s"])
    table = {name: statistics.median(r) for name, r in runs.items() if r}
    flops = _config.train_flops_per_row("mmoe")
    deepctr = table.get("deepctr")
    result = {
        "rows_per_cpu_s": table,
        "rounds": runs,
        "failures": failures,
        "flops_per_row": flops,
        "target_rows_per_cpu_s": TARGET * deepctr if deepctr else None,
        "machine": _report.machine(),
        "args": {k: v for k, v in vars(args).items() if k != "torch_omp_active"},
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    text = markdown(result, args)
    if not args.no_doc:
        _report.write_section("expert_formulations", text)
    print(text)


def markdown(result, args):
    table, flops = result["rows_per_cpu_s"], result["flops_per_row"]
    deepctr = table.get("deepctr")
    lines = [
        "## Expert formulations: the MMoE's dense layers alone, beside the full models",
        "",
        f"Command: `{_report.command()}`  ",
        f"Machine: {result['machine']}",
        "",
        "Setup: the docstring of `benchmarks/expert_formulations.py` (dense rows: raw TensorFlow, "
        f"no embeddings, no Keras, SGD, {args.steps} steps of {BATCH} rows a round; full rows: "
        f"`throughput.py`'s MMoE, float32, 1,000 ids, one epoch of {args.rows:,} rows; median of "
        f"{args.rounds} interleaved rounds).",
        "",
        "| run | rows/CPU-s | GFLOP/CPU-s | ÷ DeepCTR (full model) |",
        "|---|---:|---:|---:|",
    ]
    for name, value in table.items():
        kind = "full model" if name in FULL else "dense layers alone"
        ratio = f"{value / deepctr:.2f}×" if deepctr else ""
        lines.append(f"| {name} ({kind}) | {value:,.0f} | {value * flops / 1e9:.0f} | {ratio} |")
    for lib, why in result["failures"].items():
        lines.append(f"| {lib} (full model) | failed: {why} | | |")
    if deepctr:
        best = max((v, k) for k, v in table.items() if k not in FULL)
        lines += [
            "",
            f"{TARGET}× DeepCTR's full model is {TARGET * deepctr:,.0f} rows/CPU-s. The fastest "
            f"formulation of the dense layers alone ({best[1]}) trains {best[0]:,.0f} rows/CPU-s, "
            f"{best[0] / deepctr:.2f}× DeepCTR's full model, before any embedding lookup, "
            "optimizer or Keras work is added.",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
