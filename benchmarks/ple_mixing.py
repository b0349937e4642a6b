"""PLE's gate mixing: one batched product per level vs one product per gate.

    python benchmarks/ple_mixing.py                   # 4 interleaved rounds
    python benchmarks/ple_mixing.py --rounds 6 --rows 20480

`PLELayer` mixes all gates of a level at once: each gate's softmax weights
are spread over the level's E experts (0 where a task gate cannot route) and
one batched product `(B, G, E) x (B, E, units)` gives the level's output. The
form it replaced, `per_gate`, gathered each task gate's experts
(`tf.gather(experts, own + shared, axis=1)`), mixed them in the gate
(`(B, 1, m) x (B, m, units)`) and stacked the mixtures. Both compute the same
sums with the same variables.

This script trains `throughput.py`'s PLE (`_config.py`: 16 tables of 1,000
ids x 8, 8 numeric, two levels of 4 shared + 2 specific experts per task of
(256, 128), towers (64,), Adam 1e-3, batch 1024, default metrics) in one
process, both forms side by side: float32 with Keras' `jit_compile="auto"`
(no XLA on CPU) and with XLA, and mixed_bfloat16 with "auto". Every model
first trains a warm-up epoch; then each round trains one epoch of every model
in turn and a row is the median over rounds of rows per CPU-second (process
CPU time, all threads). The two forms' outputs on the same weights are
compared before timing. Writes benchmarks/results/ple_mixing.json and the
section "ple_mixing" of docs/benchmarks.md.
"""

import argparse
import json
import os
import statistics
import sys
from unittest import mock

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import tensorflow as tf

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import _config  # noqa: E402
import _harness  # noqa: E402
import _report  # noqa: E402

from keras_mtl.layers.ple_layer import PLELayer  # noqa: E402
from keras_mtl.models import ple as ple_builder  # noqa: E402

BATCH = 1024
#: (name, dtype policy, jit_compile)
CONFIGS = (
    ("float32", "float32", "auto"),
    ("float32+xla", "float32", True),
    ("bfloat16", "mixed_bfloat16", "auto"),
)


class PerGatePLELayer(PLELayer):
    """`PLELayer` with the per-gate mixing it had before (the reference form)."""

    def call(self, inputs, training=None):
        experts = self._experts(inputs, training)  # (B, E, units)
        branches = self._branches(inputs)
        outputs = []
        for k, gate in enumerate(self.task_gates):
            own = tf.gather(experts, self._task_experts[k], axis=1)  # (B, m_k + m_s, units)
            outputs.append(gate([branches[k], own], training=training))
        if self.shared_gate_layer is not None:
            outputs.append(self.shared_gate_layer([branches[-1], experts], training=training))
        return tf.stack(outputs, axis=1)  # (B, T(+1), units)


FORMS = {"level": PLELayer, "per_gate": PerGatePLELayer}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--rows", type=int, default=20 * BATCH, help="rows of a timed epoch")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "ple_mixing.json"))
    parser.add_argument("--no-doc", action="store_true")
    return parser.parse_args(argv)


def build(form, policy, jit):
    """The benchmark PLE with `form`'s level layer, compiled, seed 0."""
    tf.keras.mixed_precision.set_global_policy(policy)
    tf.keras.utils.set_random_seed(0)
    with mock.patch.object(ple_builder, "PLELayer", FORMS[form]):
        model = _harness.config_model("ple", _harness.config_features())
    model.compile(optimizer=tf.keras.optimizers.Adam(_config.LEARNING_RATE), jit_compile=jit)
    return model


def max_difference(models, x):
    """Largest |output difference| of the two forms on the same weights."""
    level, per_gate = models["level"], models["per_gate"]
    per_gate.set_weights(level.get_weights())
    a, b = level(x, training=False), per_gate(x, training=False)
    return max(float(np.max(np.abs(np.asarray(a[t]) - np.asarray(b[t])))) for t in _config.TASKS)


def main(argv=None):
    args = parse_args(argv)
    x, y = _config.synthetic(args.rows)
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH).cache()
    sample = {name: value[:256] for name, value in x.items()}
    models, differences = {}, {}
    for config, policy, jit in CONFIGS:
        pair = {form: build(form, policy, jit) for form in FORMS}
        differences[config] = max_difference(pair, sample)
        for form, model in pair.items():
            model.fit(data, epochs=1, verbose=0)  # trace and warm
            models[(config, form)] = model
    tf.keras.mixed_precision.set_global_policy("float32")
    rounds = {f"{config} {form}": [] for config, form in models}
    for _ in range(args.rounds):
        for (config, form), model in models.items():
            with _harness.Timer(rows=args.rows) as timer:
                model.fit(data, epochs=1, verbose=0)
            rounds[f"{config} {form}"].append(timer.rows_per_cpu_s)
    table = {name: statistics.median(values) for name, values in rounds.items()}
    result = {
        "rows_per_cpu_s": table,
        "rounds": rounds,
        "max_output_difference": differences,
        "machine": _report.machine(),
        "args": vars(args),
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    text = markdown(result, args)
    if not args.no_doc:
        _report.write_section("ple_mixing", text)
    print(text)


def markdown(result, args):
    table = result["rows_per_cpu_s"]
    lines = [
        "## PLE's gate mixing: one product per level vs one per gate",
        "",
        f"Command: `{_report.command()}`  ",
        f"Machine: {result['machine']}",
        "",
        "Setup: the docstring of `benchmarks/ple_mixing.py` (`throughput.py`'s PLE, 1,000 ids, "
        f"full `model.fit` epochs of {args.rows:,} rows, batch {BATCH}, both forms in one process; "
        f"median of {args.rounds} interleaved rounds).",
        "",
        "| precision, compile | level (PLELayer) rows/CPU-s | per_gate rows/CPU-s "
        "| level ÷ per_gate | max output difference |",
        "|---|---:|---:|---:|---:|",
    ]
    for config, _, _ in CONFIGS:
        level, per_gate = table[f"{config} level"], table[f"{config} per_gate"]
        lines.append(
            f"| {config} | {level:,.0f} | {per_gate:,.0f} | {level / per_gate:.2f}× "
            f"| {result['max_output_difference'][config]:.1e} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
