"""A seeded run where MMoE's experts collapse, and the recipes that keep them alive.

    python benchmarks/expert_collapse.py                 # the documented run
    python benchmarks/expert_collapse.py --epochs 4 --rows 4000 --no-doc   # a quick look

The default run (seed 0, 10,000 rows, 8 epochs, Adam 0.03, inputs ×5: unnormalised
features and a large rate, the conditions that kill ReLU units) is the one in
docs/benchmarks.md.

Data: the MMoE paper's synthetic two-task regression
(`keras_mtl.data.make_correlated_tasks`, correlation 0.5, d = 64), split into
train / measure / test rows (inputs multiplied by `--input-scale`). Models, all
with 8 experts of `--depth` layers of [64] (HoME: 4
shared, 2 per task category, 1 per task, one category per task) and towers
[16], trained with Adam at `--lr` (a large rate: what collapses ReLU
experts), batch 256, the same seed:

- MMoE: ReLU experts, softmax gates;
- MMoE + balance: the same with `load_balance=--balance` (`LoadBalanceLoss`);
- MMoE + normalised experts: `expert_normalization="layer"` (HoME's
  `NormalizedExperts`: layer normalisation + Swish), gates unchanged;
- HoME: normalised Swish experts (layer normalisation: a short run leaves
  batch normalisation's moving statistics far from the batch ones), feature
  and self gates.

`ExpertHealthCallback` measures every epoch on the measure rows: each task
gate's normalised entropy (1 = uniform, 0 = one expert), the largest mean
weight a gate gives one expert, the fraction of expert outputs that are zero
and of units that are zero on every row (dead). Results go to `--out`
(JSON: per-epoch logs, the final per-expert report and test MSE), the figure
of the final gate utilisation and dead fractions to `--figure`, and the table
to docs/benchmarks.md (section "expert_collapse").
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness
import _report

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "benchmarks", "results", "expert_collapse.json")
DEFAULT_FIGURE = os.path.join(ROOT, "docs", "img", "expert_collapse.png")
MODELS = ("MMoE", "MMoE + balance", "MMoE + normalised experts", "HoME")
TASKS = ("y1", "y2")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10000, help="training rows")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--lr", type=float, default=0.03, help="Adam learning rate")
    parser.add_argument(
        "--balance", type=float, default=0.1, help="LoadBalanceLoss coefficient of 'MMoE + balance'"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--depth", type=int, default=2, help="layers of [64] per expert")
    parser.add_argument(
        "--input-scale",
        type=float,
        default=5.0,
        help="multiplies the inputs (unnormalised features)",
    )
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--figure", default=DEFAULT_FIGURE)
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    return parser.parse_args(argv)


def build(name, features, balance, depth):
    common = dict(
        task_names=TASKS, task_types="regression", expert_units=(64,) * depth, tower_units=(16,)
    )
    if name == "HoME":
        return _harness.build(
            "HoME",
            features,
            num_shared_experts=4,
            num_category_experts=2,
            num_task_experts=1,
            normalization="layer",
            **common,
        )
    return _harness.build(
        "MMoE",
        features,
        num_experts=8,
        load_balance=balance if name == "MMoE + balance" else 0.0,
        expert_normalization="layer" if name == "MMoE + normalised experts" else None,
        **common,
    )


def run(name, args, data):
    import tensorflow as tf

    import keras_mtl

    tf.keras.utils.set_random_seed(args.seed)
    train, measure, test = data
    features = [keras_mtl.DenseFeat("x", dimension=train["x"].shape[1])]
    model = build(name, features, args.balance, args.depth)
    model.compile(optimizer=tf.keras.optimizers.Adam(args.lr))
    health = keras_mtl.training.ExpertHealthCallback({"x": measure["x"]})
    with _harness.Timer() as timer:
        history = model.fit(
            {"x": train["x"]},
            {t: train[t] for t in TASKS},
            epochs=args.epochs,
            batch_size=256,
            verbose=0,
            callbacks=[health],
        )
    predictions = model.predict({"x": test["x"]}, batch_size=1024, verbose=0)
    mse = {t: float(np.mean((predictions[t][:, 0] - test[t]) ** 2)) for t in TASKS}
    keys = [k for k in history.history if k.startswith(("gate_entropy", "expert_"))]
    return {
        "model": name,
        "seconds": timer.wall_s,
        "test_mse": mse,
        "epochs": {k: [float(v) for v in history.history[k]] for k in keys},
        "final": keras_mtl.evaluation.expert_health.as_json(health.reports[-1]),
    }


def figure(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(results), figsize=(4.2 * len(results), 6.5), squeeze=False)
    for col, result in enumerate(results):
        table = next(
            g for g in result["final"]["gates"] if g["title"] in ("gates", "home task gates")
        )
        mean = np.array([[np.nan if v is None else v for v in row] for row in table["utilisation"]])
        ax = axes[0, col]
        ax.imshow(np.ma.masked_invalid(mean), cmap="viridis", vmin=0, vmax=1, aspect="auto")
        ax.set_xticks(range(len(table["columns"])))
        ax.set_xticklabels(table["columns"], rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(len(table["rows"])))
        ax.set_yticklabels(table["rows"])
        for r in range(mean.shape[0]):
            for c in range(mean.shape[1]):
                if not np.isnan(mean[r, c]):
                    ax.text(
                        c,
                        r,
                        f"{mean[r, c]:.2f}",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if mean[r, c] < 0.6 else "black",
                    )
        ax.set_title(f"{result['model']}: task gate weights", fontsize=9)
        ax = axes[1, col]
        experts = result["final"]["experts"]
        labels = [f"{c}" for e in experts for c in e["columns"]]
        dead = [v for e in experts for v in e["dead_fraction"]]
        zero = [v for e in experts for v in e["zero_fraction"]]
        x = np.arange(len(labels))
        ax.bar(x - 0.2, zero, 0.4, label="zero outputs")
        ax.bar(x + 0.2, dead, 0.4, label="dead units")
        ax.set_ylim(0, 1)
        ax.set_xticks(x)
        ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=6)
        ax.set_title(f"{result['model']}: per expert", fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def table(results):
    lines = [
        "| model | gate entropy y1 / y2 (1 = uniform) | max expert weight | zero outputs "
        "| dead units | test MSE y1 / y2 |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        last = {k: v[-1] for k, v in r["epochs"].items()}
        entropy = [v for k, v in last.items() if k.startswith("gate_entropy") and k.endswith(TASKS)]
        lines.append(
            f"| {r['model']} | {' / '.join(f'{v:.2f}' for v in entropy)} | "
            f"{last['expert_max_utilisation']:.2f} | {last['expert_zero_fraction']:.2f} | "
            f"{last['expert_dead_fraction']:.2f} | "
            f"{r['test_mse']['y1']:.3f} / {r['test_mse']['y2']:.3f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    import tensorflow as tf

    from keras_mtl.data import make_correlated_tasks

    tf.get_logger().setLevel("ERROR")
    total = args.rows + 4000
    data = make_correlated_tasks(total, correlation=0.5, dim=64, seed=args.seed)
    parts = [
        slice(0, args.rows),
        slice(args.rows, args.rows + 2000),
        slice(args.rows + 2000, total),
    ]
    data = [{"x": data["x"][p] * args.input_scale, **{t: data[t][p] for t in TASKS}} for p in parts]
    results = []
    for name in MODELS:
        results.append(run(name, args, data))
        print(
            f"{name}: "
            + json.dumps({k: round(v[-1], 3) for k, v in results[-1]["epochs"].items()}),
            flush=True,
        )
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"args": vars(args), "runs": results}, f, indent=1)
    figure(results, args.figure)
    markdown = table(results)
    print(markdown)
    if not args.no_doc:
        image = os.path.relpath(args.figure, os.path.join(ROOT, "docs"))
        _report.write_section(
            "expert_collapse",
            (
                "## Expert collapse and the recipes against it\n\n"
                f"Command: `{_report.command()}`  \nMachine: {_report.machine()}\n\n"
                "Setup: the docstring of `benchmarks/expert_collapse.py` (synthetic two-task "
                "regression, 8 experts, Adam at a large learning rate, one seed). Figures from "
                "`ExpertHealthCallback` after the last epoch, on 2,000 held-out rows; per-epoch "
                "values in `benchmarks/results/expert_collapse.json`.\n\n"
                + markdown
                + f"\n\n![gate weights and dead units]({image})\n"
            ),
        )
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
