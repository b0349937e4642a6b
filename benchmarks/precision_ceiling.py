"""The throughput MMoE and PLE as their dense layers alone, raw TensorFlow, beside the full models.

    python benchmarks/precision_ceiling.py            # 3 interleaved rounds, MMoE and PLE
    python benchmarks/precision_ceiling.py --rounds 5 --steps 100 --models ple
    python benchmarks/precision_ceiling.py --from-json benchmarks/results/precision_ceiling.json

Three kinds of step, in rounds that interleave them, on one machine:

- Raw steps: one training step of the MMoE or PLE of `benchmarks/_config.py`
  with everything but its dense arithmetic taken away: no embedding lookups
  or their updates, no Keras layers, no loss weighting, no metrics. Input
  rows are one constant (batch, 136) tensor (the width of the model's
  concatenated embeddings and numeric values). MMoE: 8 experts of
  (256, 128), two softmax gates. PLE: two levels of 2 specific experts per
  task and 4 shared ones, (256, 128) each (on the second level each expert
  reads its own branch: a gather of the branches), softmax gates over each
  task's own and the shared experts, a shared gate over all 8 on the first
  level. Both: two towers of (64,) and their logits; sigmoid cross-entropy;
  plain SGD on float32 variables. The experts run as one batched matmul per
  layer, or (`+chains`) each as its own 2-D matmuls; with and without XLA.
  Under "bfloat16" the variables are cast to bfloat16 for the forward pass
  (what Keras' `mixed_bfloat16` does) and the logits back to float32.
- Matmuls only: every dense layer's forward, input-gradient and
  kernel-gradient matmul on fixed operands, nothing else; per expert and
  gate, or grouped (the layers that read one input as one wider matmul).
  Any implementation of the model that runs these products with
  TensorFlow's kernels at these shapes does at least this work, so the
  better of the two bounds its rows per CPU-second on this machine.
- Full models (`--libs`, default keras_mtl+auto and DeepCTR):
  `throughput.py`'s workers, each in its own process, `model.fit` over one
  epoch of `--rows` after a warm-up epoch, 1,000 ids per feature (Zipf 1.1).

A row is the median over the rounds of rows per CPU-second (process CPU time,
all threads). The report sets each full model against the best raw step and
the matmuls-only bound of its precision, and says what share of them 1.25×
DeepCTR (the stacked-tables issue's target) is. The raw steps are reference
formulations, not a bound: a full model can beat them (keras_mtl's PLE did).
Writes benchmarks/results/precision_ceiling.json and the section
"precision_ceiling" of docs/benchmarks.md.
"""

import argparse
import itertools
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
import throughput  # noqa: E402

BATCH = 1024
PRECISIONS = ("float32", "bfloat16")
#: the full models' ids per feature and their Zipf exponent (throughput.py's 1k-id cells)
FULL_VOCAB, FULL_ZIPF = _config.VOCAB, 1.1
#: the issue's target: keras_mtl over DeepCTR, rows/CPU-s, same policy, 1k ids
TARGET = 1.25


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=60, help="timed steps per round")
    parser.add_argument("--models", default="mmoe,ple", help="comma-separated: mmoe, ple")
    parser.add_argument(
        "--libs",
        default="keras_mtl+auto,deepctr",
        help="full models of throughput.py trained in the same rounds, at 1k ids, Zipf 1.1 "
        "(its library names; empty: none)",
    )
    parser.add_argument("--rows", type=int, default=20_000, help="rows of a full model's epoch")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "precision_ceiling.json"))
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--from-json", metavar="JSON", help="rewrite the report from a saved run")
    return parser.parse_args(argv)


def _kernel(rng, *shape):
    """A float32 kernel variable, He-normal over its fan-in (`shape[-2]`)."""
    return tf.Variable(rng.normal(shape) * (2.0 / shape[-2]) ** 0.5)


def dense_mmoe(seed=0):
    """Float32 variables of the benchmark MMoE's dense layers."""
    rng = tf.random.Generator.from_seed(seed)
    e, (u1, u2), (t1,) = _config.NUM_EXPERTS, _config.EXPERT_UNITS, _config.TOWER_UNITS
    d, tasks = _config.INPUT_DIM, len(_config.TASKS)

    def var(*shape):
        return _kernel(rng, *shape)

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


def dense_ple(seed=0):
    """Float32 variables of the benchmark PLE's dense layers: `l<level>_*` per level, the towers."""
    rng = tf.random.Generator.from_seed(seed)
    (u1, u2), (t1,), tasks = _config.EXPERT_UNITS, _config.TOWER_UNITS, len(_config.TASKS)
    e = tasks * _config.PLE_SPECIFIC + _config.PLE_SHARED
    own = _config.PLE_SPECIFIC + _config.PLE_SHARED

    def var(*shape):
        return _kernel(rng, *shape)

    variables = {}
    for level in range(_config.PLE_LEVELS):
        d = _config.INPUT_DIM if level == 0 else u2
        variables.update(
            {
                f"l{level}_w1": var(e, d, u1),
                f"l{level}_b1": tf.Variable(tf.zeros((e, 1, u1))),
                f"l{level}_w2": var(e, u1, u2),
                f"l{level}_b2": tf.Variable(tf.zeros((e, 1, u2))),
                f"l{level}_gates": var(tasks, d, own),
            }
        )
        if level < _config.PLE_LEVELS - 1:
            variables[f"l{level}_shared_gate"] = var(d, e)
    variables.update(
        {
            "t1": var(tasks, u2, t1),
            "tb1": tf.Variable(tf.zeros((tasks, 1, t1))),
            "t2": var(tasks, t1, 1),
        }
    )
    return variables


def _towers(w, mixed):  # (T, B, u2) -> (T, B) float32 logits
    t = tf.nn.relu(tf.matmul(mixed, w["t1"]) + w["tb1"])  # (T, B, t1)
    return tf.cast(tf.matmul(t, w["t2"]), tf.float32)[..., 0]


def _experts(w, prefix, inputs, chains):
    """Experts of (256, 128) on their inputs `(E, B, d)` -> `(E, B, u2)`.

    `chains`: each expert as its own 2-D matmuls on its slice of the stacked
    weights; otherwise one batched matmul per layer over all experts.
    """
    w1, b1, w2, b2 = (w[prefix + name] for name in ("w1", "b1", "w2", "b2"))
    if not chains:
        h = tf.nn.relu(tf.matmul(inputs, w1) + b1)  # (E, B, u1)
        return tf.nn.relu(tf.matmul(h, w2) + b2)  # (E, B, u2)
    outputs = []
    for k, x in enumerate(tf.unstack(inputs)):
        h = tf.nn.relu(tf.matmul(x, w1[k]) + b1[k])
        outputs.append(tf.nn.relu(tf.matmul(h, w2[k]) + b2[k]))
    return tf.stack(outputs)


def _mmoe_forward(w, x, chains):
    e = _config.NUM_EXPERTS
    h = _experts(w, "", tf.broadcast_to(x, (e,) + tuple(x.shape)), chains)  # (E, B, u2)
    g = tf.nn.softmax(tf.cast(tf.einsum("bd,tde->tbe", x, w["gates"]), tf.float32))
    mixed = tf.einsum("tbe,ebu->tbu", tf.cast(g, h.dtype), h)  # (T, B, u2)
    return _towers(w, mixed)


def _ple_forward(w, x, chains):
    tasks, m, shared = len(_config.TASKS), _config.PLE_SPECIFIC, _config.PLE_SHARED
    e = tasks * m + shared
    # expert i's branch (task k's own experts read branch k, the shared ones the last)
    expert_branch = [k for k in range(tasks) for _ in range(m)] + [tasks] * shared
    # task k's gate routes to its own m experts and the shared ones: (own, E) placements
    places = [
        tf.one_hot(list(range(k * m, (k + 1) * m)) + list(range(tasks * m, e)), e, dtype=x.dtype)
        for k in range(tasks)
    ]
    branches = tf.broadcast_to(x, (tasks + 1,) + tuple(x.shape))  # (T+1, B, d)
    for level in range(_config.PLE_LEVELS):
        h = _experts(w, f"l{level}_", tf.gather(branches, expert_branch), chains)  # (E, B, u2)
        logits = tf.matmul(branches[:tasks], w[f"l{level}_gates"])  # (T, B, own)
        gates = tf.cast(tf.nn.softmax(tf.cast(logits, tf.float32)), x.dtype)
        rows = [tf.matmul(gates[k], places[k]) for k in range(tasks)]  # T x (B, E)
        shared_gate = f"l{level}_shared_gate"
        if shared_gate in w:
            logit = tf.cast(tf.matmul(branches[tasks], w[shared_gate]), tf.float32)
            rows.append(tf.cast(tf.nn.softmax(logit), x.dtype))
        branches = tf.einsum("gbe,ebu->gbu", tf.stack(rows), h)  # (T(+1), B, u2)
    return _towers(w, branches)


def dense_layers(model, grouped):
    """`[(fan_in, fan_out)]`: one training row's dense layers.

    `grouped`: layers that read the same input (the first layer of experts on
    one branch, the gates on one branch) as one wider matmul; otherwise each
    expert and gate on its own. Every layer needs its input's gradient (the
    first level's input holds the embeddings).
    """
    tasks, (u1, u2), (t1,) = len(_config.TASKS), _config.EXPERT_UNITS, _config.TOWER_UNITS
    d = _config.INPUT_DIM
    if model == "mmoe":
        e = _config.NUM_EXPERTS
        groups = [(d, [u1] * e + [e] * tasks)]  # experts' first layers and gates read x
        later = [(u1, u2)] * e
    else:
        m, shared = _config.PLE_SPECIFIC, _config.PLE_SHARED
        own, e = m + shared, tasks * m + shared
        groups = [(d, [u1] * e + [own] * tasks + [e])]  # level 1: every branch reads x
        for k in range(tasks + 1):  # level 2: task k's experts and gate, then the shared
            groups.append((u2, [u1] * (m if k < tasks else shared) + ([own] if k < tasks else [])))
        later = [(u1, u2)] * (2 * e)
    layers = []
    for fan_in, fan_outs in groups:
        outs = [sum(fan_outs)] if grouped else fan_outs
        layers += [(fan_in, n) for n in outs]
    return layers + later + [(u2, t1), (t1, 1)] * tasks


def make_matmuls(model, grouped, dtype):
    """A step of the model's dense matmuls alone: each layer's forward, input
    gradient and kernel gradient, on fixed random operands."""
    rng = tf.random.Generator.from_seed(0)
    operands = []
    for fan_in, fan_out in dense_layers(model, grouped):
        x = tf.cast(rng.normal((BATCH, fan_in)), dtype)
        w = tf.cast(rng.normal((fan_in, fan_out)), dtype)
        dy = tf.cast(rng.normal((BATCH, fan_out)), dtype)
        operands.append((tf.Variable(x), tf.Variable(w), tf.Variable(dy)))

    @tf.function(jit_compile=False)
    def step(x_unused, y_unused):
        outputs = []
        for x, w, dy in operands:
            outputs.append(tf.matmul(x, w))  # forward
            outputs.append(tf.matmul(x, dy, transpose_a=True))  # kernel gradient
            outputs.append(tf.matmul(dy, w, transpose_b=True))  # input gradient
        return tf.add_n([tf.cast(o[0, 0], tf.float32) for o in outputs])

    return step


FORWARDS = {"mmoe": (dense_mmoe, _mmoe_forward), "ple": (dense_ple, _ple_forward)}


def make_step(variables, dtype, jit, forward, chains):
    names = sorted(variables)

    @tf.function(jit_compile=jit)
    def step(x, y):
        with tf.GradientTape() as tape:
            w = {k: tf.cast(variables[k], dtype) for k in names}
            loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(y, forward(w, x, chains)))
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


def _label(precision, jit, chains):
    return f"{precision}{'' if jit else '+nojit'}{'+chains' if chains else ''}"


def make_steps(models, x32):
    """`{(model, label): (step, its input)}`: the raw steps, then the matmuls-only ones."""
    steps = {}
    for model, precision, jit, chains in itertools.product(
        models, PRECISIONS, (True, False), (False, True)
    ):
        dtype = tf.as_dtype(precision)
        make_variables, forward = FORWARDS[model]
        step = make_step(make_variables(), dtype, jit, forward, chains)
        steps[(model, _label(precision, jit, chains))] = (step, tf.cast(x32, dtype))
    for model, precision, grouped in itertools.product(models, PRECISIONS, (False, True)):
        label = f"{precision} matmuls only{' (grouped)' if grouped else ''}"
        steps[(model, label)] = (make_matmuls(model, grouped, tf.as_dtype(precision)), x32)
    return steps


def main(argv=None):
    args = parse_args(argv)
    if args.from_json:
        with open(args.from_json) as f:
            result = json.load(f)
        return report(result, argparse.Namespace(**result["args"]), args.no_doc)
    models = [m for m in args.models.split(",") if m]
    unknown = sorted(set(models) - set(FORWARDS))
    if unknown:
        raise SystemExit(f"--models: expected names from {sorted(FORWARDS)}; received {unknown}")
    x32 = tf.random.stateless_normal((BATCH, _config.INPUT_DIM), seed=(1, 2))
    y = tf.cast(
        tf.random.stateless_uniform((len(_config.TASKS), BATCH), seed=(3, 4)) > 0.5, tf.float32
    )
    steps = make_steps(models, x32)
    runs = {key: [] for key in steps}
    libs = [lib for lib in args.libs.split(",") if lib]
    full_args = argparse.Namespace(
        rows=args.rows, batch=BATCH, torch_omp_active=False, legacy_keras=False
    )
    full = {}
    for round_ in range(args.rounds):
        for key, (step, x) in steps.items():
            runs[key].append(rows_per_cpu_s(step, x, y, args.steps))
        for model, precision, lib in itertools.product(models, PRECISIONS, libs):
            result, error = throughput.spawn(
                lib, model, full_args, precision=precision, vocab=FULL_VOCAB, zipf=FULL_ZIPF
            )
            if result is None:
                raise SystemExit(f"{lib} {model} {precision} failed: {error}")
            full.setdefault((model, precision, lib), []).append(result["rows_per_cpu_s"])
        print(f"round {round_ + 1} of {args.rounds} done", flush=True)
    result = {
        "models": {},
        "machine": _report.machine(),
        "command": _report.command(),
        "args": vars(args),
    }
    for model in models:
        rounds = {label: r for (m, label), r in runs.items() if m == model}
        table = {label: statistics.median(r) for label, r in rounds.items()}
        result["models"][model] = {
            "rows_per_cpu_s": table,
            "rounds": rounds,
            "best": {p: _best(table, p, matmuls=False) for p in PRECISIONS},
            "matmuls_only": {p: _best(table, p, matmuls=True) for p in PRECISIONS},
            "full": {
                f"{lib}/{p}": {"median": statistics.median(r), "rounds": r}
                for (m, p, lib), r in full.items()
                if m == model
            },
            "flops_per_row": _config.train_flops_per_row(model),
        }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    report(result, args, args.no_doc)


def _best(table, precision, matmuls):
    """The fastest raw step (or matmuls-only step) of `precision` in a model's table."""
    return max(
        v for k, v in table.items() if k.startswith(precision) and ("matmuls" in k) == matmuls
    )


def report(result, args, no_doc):
    text = markdown(result, args)
    if not no_doc:
        _report.write_section("precision_ceiling", text)
    print(text)


def markdown(result, args):
    lines = [
        "## The throughput models' dense layers alone, beside the full models",
        "",
        f"Command: `{result.get('command') or _report.command()}`  ",
        f"Machine: {result['machine']}",
        "",
        "Setup: the docstring of `benchmarks/precision_ceiling.py`. Raw steps: the benchmark "
        "model's dense layers as one raw TensorFlow training step (no embeddings, no Keras, "
        "SGD), experts as batched matmuls or as per-expert chains (`+chains`), with and without "
        "XLA. Matmuls only: each dense layer's forward, input-gradient and kernel-gradient "
        "matmul and nothing else, per expert and gate or grouped by input. Median of "
        f"{args.rounds} interleaved rounds of {args.steps} steps of {BATCH} rows.",
        "",
        "| model | step | rows/CPU-s | GFLOP/CPU-s |",
        "|---|---|---:|---:|",
    ]
    for model, entry in result["models"].items():
        for name, value in entry["rows_per_cpu_s"].items():
            gflop = value * entry["flops_per_row"] / 1e9
            lines.append(f"| {model} | {name} | {value:,.0f} | {gflop:.0f} |")
    lines.append("")
    if any(entry["full"] for entry in result["models"].values()):
        lines += [
            "Full models in the same rounds (`throughput.py`'s workers: `model.fit`, "
            f"{FULL_VOCAB:,} ids per feature, Zipf {FULL_ZIPF}, {args.rows:,} rows after a "
            "warm-up epoch), against the best "
            "raw step and the best matmuls-only step of their precision:",
            "",
            "| model | precision | library | rows/CPU-s | % of the best raw step "
            "| % of matmuls only |",
            "|---|---|---|---:|---:|---:|",
        ]
        for model, entry in result["models"].items():
            for name, value in entry["full"].items():
                lib, precision = name.split("/")
                raw = 100 * value["median"] / entry["best"][precision]
                bound = 100 * value["median"] / entry["matmuls_only"][precision]
                lines.append(
                    f"| {model} | {precision} | {lib} | {value['median']:,.0f} | {raw:.0f}% "
                    f"| {bound:.0f}% |"
                )
        lines.append("")
        for model, entry in result["models"].items():
            for precision in PRECISIONS:
                peer = entry["full"].get(f"deepctr/{precision}")
                if peer is None:
                    continue
                need = TARGET * peer["median"]
                lines.append(
                    f"- {model} {precision}: {TARGET}× DeepCTR's {peer['median']:,.0f} rows/CPU-s "
                    f"is {need:,.0f} = **{100 * need / entry['best'][precision]:.0f}%** of the "
                    f"best raw step ({entry['best'][precision]:,.0f}) and "
                    f"**{100 * need / entry['matmuls_only'][precision]:.0f}%** of the matmuls "
                    f"alone ({entry['matmuls_only'][precision]:,.0f})."
                )
        lines.append("")
    for model, entry in result["models"].items():
        best, bound = entry["best"], entry["matmuls_only"]
        lines.append(
            f"- {model}: bfloat16 / float32, best raw step of each: "
            f"**{best['bfloat16'] / best['float32']:.2f}×**; "
            f"matmuls only: **{bound['bfloat16'] / bound['float32']:.2f}×**."
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
