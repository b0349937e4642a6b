"""bfloat16's best case on the throughput benchmark's MMoE: its dense layers alone, raw TensorFlow.

    python benchmarks/precision_ceiling.py            # 3 interleaved rounds
    python benchmarks/precision_ceiling.py --rounds 5 --steps 100

One training step of the MMoE of `benchmarks/_config.py` with everything but
its dense arithmetic taken away: no embedding lookups or their updates, no
Keras layers, no loss weighting, no metrics. Input rows are one constant
(batch, 136) tensor (the width of the model's concatenated embeddings and
numeric values); 8 experts of (256, 128) as one batched matmul per layer,
two softmax gates, two towers of (64,) and their logits; sigmoid
cross-entropy; plain SGD on float32 variables. Under "bfloat16" the
variables are cast to bfloat16 for the forward pass (what Keras'
`mixed_bfloat16` does) and the logits back to float32 for the loss. Each
configuration runs with and without XLA (`jit_compile`), in rounds that
interleave them; a row is the median over the rounds of rows per CPU-second
(process CPU time, all threads).

Whatever a full model adds (embeddings, Keras, LazyAdam, logging) only adds
time, and that time is not made shorter by bfloat16 matmuls, so the ratio
printed last, bfloat16 over the best float32 of this step, bounds from above
what bfloat16 can give the full model over its own float32 on this machine.
Writes benchmarks/results/precision_ceiling.json and the section
"precision_ceiling" of docs/benchmarks.md.
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
import _harness  # noqa: E402
import _report  # noqa: E402

BATCH = 1024


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=60, help="timed steps per round")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "precision_ceiling.json"))
    parser.add_argument("--no-doc", action="store_true")
    return parser.parse_args(argv)


def dense_mmoe(seed=0):
    """Float32 variables of the benchmark MMoE's dense layers."""
    rng = tf.random.Generator.from_seed(seed)
    e, (u1, u2), (t1,) = _config.NUM_EXPERTS, _config.EXPERT_UNITS, _config.TOWER_UNITS
    d, tasks = _config.INPUT_DIM, len(_config.TASKS)

    def var(*shape):
        return tf.Variable(rng.normal(shape) * (2.0 / shape[-2]) ** 0.5)

    return {
        "w1": var(e, d, u1),
        "b1": tf.Variable(tf.zeros((e, 1, u1))),
        "w2": var(e, u1, u2),
        "b2": tf.Variable(tf.zeros((e, 1, u2))),
        "gates": var(tasks, d, e),
        "t1": var(tasks, u2, t1),
        "tb1": tf.Variable(tf.zeros((tasks, 1, t1))),
        "t2": var(tasks, t1, 1),
    }


def make_step(variables, dtype, jit):
    names = sorted(variables)
    e = _config.NUM_EXPERTS

    def forward(x):
        w = {k: tf.cast(variables[k], dtype) for k in names}
        h = tf.broadcast_to(x, (e,) + tuple(x.shape))  # (E, B, d)
        h = tf.nn.relu(tf.matmul(h, w["w1"]) + w["b1"])  # (E, B, u1)
        h = tf.nn.relu(tf.matmul(h, w["w2"]) + w["b2"])  # (E, B, u2)
        g = tf.nn.softmax(tf.cast(tf.einsum("bd,tde->tbe", x, w["gates"]), tf.float32))
        mixed = tf.einsum("tbe,ebu->tbu", tf.cast(g, dtype), h)  # (T, B, u2)
        t = tf.nn.relu(tf.matmul(mixed, w["t1"]) + w["tb1"])  # (T, B, t1)
        return tf.cast(tf.matmul(t, w["t2"]), tf.float32)[..., 0]  # (T, B)

    @tf.function(jit_compile=jit)
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(y, forward(x)))
        grads = tape.gradient(loss, [variables[k] for k in names])
        for k, g in zip(names, grads):
            variables[k].assign_sub(1e-3 * g)
        return loss

    return step


def rows_per_cpu_s(step, x, y, steps):
    step(x, y)  # trace and warm
    with _harness.Timer(rows=steps * BATCH) as timer:
        for _ in range(steps):
            loss = step(x, y)
        loss.numpy()
    return timer.rows_per_cpu_s


def main(argv=None):
    args = parse_args(argv)
    configs = [(p, jit) for p in ("float32", "bfloat16") for jit in (True, False)]
    runs = {c: [] for c in configs}
    x32 = tf.random.stateless_normal((BATCH, _config.INPUT_DIM), seed=(1, 2))
    y = tf.cast(
        tf.random.stateless_uniform((len(_config.TASKS), BATCH), seed=(3, 4)) > 0.5, tf.float32
    )
    steps = {}
    for precision, jit in configs:
        dtype = tf.as_dtype(precision)
        steps[(precision, jit)] = (make_step(dense_mmoe(), dtype, jit), tf.cast(x32, dtype))
    for _ in range(args.rounds):
        for config in configs:
            step, x = steps[config]
            runs[config].append(rows_per_cpu_s(step, x, y, args.steps))
    flops = _config.train_flops_per_row("mmoe")
    table = {f"{p}{'' if jit else '+nojit'}": statistics.median(r) for (p, jit), r in runs.items()}
    best32 = max(table["float32"], table["float32+nojit"])
    best16 = max(table["bfloat16"], table["bfloat16+nojit"])
    result = {
        "rows_per_cpu_s": table,
        "rounds": {f"{p}{'' if j else '+nojit'}": r for (p, j), r in runs.items()},
        "flops_per_row": flops,
        "ceiling": best16 / best32,
        "machine": _report.machine(),
        "args": vars(args),
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    lines = [
        "## bfloat16's ceiling on the throughput MMoE (dense layers alone)",
        "",
        f"Command: `{_report.command()}`  ",
        f"Machine: {result['machine']}",
        "",
        "Setup: the docstring of `benchmarks/precision_ceiling.py` (the benchmark MMoE's dense "
        "layers as one raw TensorFlow training step: no embeddings, no Keras, SGD; median of "
        f"{args.rounds} interleaved rounds of {args.steps} steps of {BATCH} rows).",
        "",
        "| step | rows/CPU-s | GFLOP/CPU-s |",
        "|---|---:|---:|",
    ]
    for name, value in table.items():
        lines.append(f"| {name} | {value:,.0f} | {value * flops / 1e9:.0f} |")
    lines += [
        "",
        f"bfloat16 / float32, best of each: **{best16 / best32:.2f}×**. The full model "
        "adds work that bfloat16 does not shorten (embedding lookups and updates, Keras, "
        "the optimizer's elementwise updates), so its bfloat16 / float32 ratio is below "
        "this one.",
    ]
    text = "\n".join(lines) + "\n"
    if not args.no_doc:
        _report.write_section("precision_ceiling", text)
    print(text)


if __name__ == "__main__":
    main()
