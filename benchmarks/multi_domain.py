"""STAR, PEPNet and Shared-Bottom on synthetic multi-domain data: test AUC per domain.

Data: `keras_mtl.data.make_multi_domain` (5 domains of 20,000 / 10,000 /
2,000 / 1,000 / 500 rows, domain specificity ρ = 0.5 by default), split per
domain 70 / 10 / 20 into train, validation (early stopping on its loss) and
test. Features: 8 dense values, an item id (100 ids, 8-d embedding) and the
domain id (4-d embedding; Shared-Bottom reads it as an ordinary feature).
Models of similar width: Shared-Bottom [64, 32] + tower [16]; STAR trunk
[64, 32] + star tower [16] + auxiliary network [16]; PEPNet with a PPNet
tower [64, 32, 16] gated by the item id (its personal prior, own 8-d table),
EPNet on the domain embedding, and per-domain heads; PEPNet-domain the same
with no personal features, so PPNet's gates read the domain embedding;
"+layers" the same two with per-domain layers before the towers
(`domain_units=(64,)`, a star-topology layer on E', and towers [32, 16]); "+star"
STAR's trunk instead (`domain_units=(64, 32)`, tower [16]). `--models` runs a
subset (STAR first, for the paired differences). Each
model is trained once per seed (same seed, same initial draws and batch order
for every model); the table shows the mean test AUC over the seeds (± standard
deviation) per domain, and the AUC of the true logits (the best any model can
do), then each PEPNet's per-seed AUC minus STAR's (mean ± standard error).

With `--mamdr` the models are instead Shared-Bottom and STAR, each trained by
`model.fit` and by `keras_mtl.training.MAMDR` with its defaults (on the same
shuffled batches, early stopping alike); the table shows mean ± standard error
over the seeds, the CPU seconds per epoch, MAMDR's per-seed AUC minus the
model's own, and a plot of per-domain AUC is
written to docs/img/multi_domain_mamdr.png (section "multi_domain_mamdr").

    python benchmarks/multi_domain.py                      # seeds 0 1 2
    python benchmarks/multi_domain.py --seeds 0 --epochs 5 --out results.json
    python benchmarks/multi_domain.py --mamdr --seeds 0 1 2 3 4
    python benchmarks/multi_domain.py --seeds 200 201 --models STAR PEPNet+star --no-doc
"""

import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pandas as pd
import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import keras_mtl
from keras_mtl.data import make_multi_domain

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness
import _report

TASK = "ctr"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--domain-sizes", type=int, nargs="+", default=[20000, 10000, 2000, 1000, 500]
    )
    parser.add_argument("--domain-specificity", type=float, default=0.5)
    parser.add_argument("--epochs", type=int, default=20, help="at most (early stopping)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument(
        "--models",
        nargs="+",
        default=None,
        help="models to run (default: the table's); STAR among them",
    )
    parser.add_argument(
        "--mamdr", action="store_true", help="Shared-Bottom and STAR, each with and without MAMDR"
    )
    parser.add_argument("--out", default=None, help="write the results as JSON")
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    return parser.parse_args(argv)


def split(df, seed):
    """Per domain: 70% train, 10% validation, 20% test (seeded)."""
    rng = np.random.default_rng(seed)
    parts = {"train": [], "valid": [], "test": []}
    for _, rows in df.groupby("domain"):
        rows = rows.iloc[rng.permutation(len(rows))]
        a, b = int(0.7 * len(rows)), int(0.8 * len(rows))
        parts["train"].append(rows.iloc[:a])
        parts["valid"].append(rows.iloc[a:b])
        parts["test"].append(rows.iloc[b:])
    return {k: pd.concat(v) for k, v in parts.items()}


def features(num_dense, num_items, num_domains):
    return [keras_mtl.DenseFeat(f"x{j}") for j in range(num_dense)] + [
        keras_mtl.SparseFeat("item", vocabulary_size=num_items, embedding_dim=8),
        keras_mtl.SparseFeat("domain", vocabulary_size=num_domains, embedding_dim=4),
    ]


def build(name, feats):
    name = name.split("+MAMDR")[0]
    if name == "SharedBottom":
        return _harness.build(
            "SharedBottom", feats, task_names=(TASK,), bottom_units=(64, 32), tower_units=(16,)
        )
    if name.startswith("PEPNet"):
        # PEPNet-domain: no personal features, PPNet's gates read the domain
        personal = () if name.startswith("PEPNet-domain") else ("item",)
        layers = {  # "+star": STAR's trunk of per-domain layers, its tower width
            "+layers": dict(domain_units=(64,), tower_units=(32, 16)),
            "+star": dict(domain_units=(64, 32), tower_units=(16,)),
        }.get(name[name.find("+") :] if "+" in name else "", dict(tower_units=(64, 32, 16)))
        return _harness.build(
            "PEPNet",
            feats,
            task_names=(TASK,),
            personal_features=personal,
            domain_towers=True,
            **layers,
        )
    return _harness.build(
        "STAR",
        feats,
        task_names=(TASK,),
        star_units=(64, 32),
        tower_units=(16,),
        auxiliary_units=(16,),
    )


def train(name, feats, data, args, seed):
    tf.keras.utils.set_random_seed(seed)
    model = build(name, feats)
    model.compile(optimizer=tf.keras.optimizers.Adam(args.learning_rate))

    def dataset(df, shuffle=False):
        return keras_mtl.data.df_to_dataset(
            df, feats, [TASK], batch_size=args.batch_size, shuffle=shuffle, seed=seed
        )

    stop = tf.keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=2, restore_best_weights=True
    )
    with _harness.Timer() as timer:
        trainer = model
        if name.endswith("+MAMDR"):  # MAMDR's defaults, on the same batches
            trainer = keras_mtl.training.MAMDR(
                model, "domain", num_domains=len(args.domain_sizes), seed=seed
            )
        history = trainer.fit(
            dataset(data["train"], shuffle=True),
            epochs=args.epochs,
            validation_data=dataset(data["valid"]),
            callbacks=[stop],
            verbose=0,
        )
    seconds = timer.cpu_s
    table = keras_mtl.evaluation.evaluate_by_domain(model, dataset(data["test"]), "domain")
    return table[f"{TASK}_auc"].to_dict(), len(history.history["loss"]), seconds


def main(argv=None):
    args = parse_args(argv)
    names = (
        ["SharedBottom", "SharedBottom+MAMDR", "STAR", "STAR+MAMDR"]
        if args.mamdr
        else [
            "SharedBottom",
            "STAR",
            "PEPNet",
            "PEPNet-domain",
            "PEPNet+layers",
            "PEPNet-domain+layers",
            "PEPNet+star",
            "PEPNet-domain+star",
        ]
    )
    if args.models:
        names = list(args.models)
        if not args.mamdr and "STAR" not in names:
            raise SystemExit(
                f"--models: expected STAR among them (the paired differences are "
                f"against it). Received {names}."
            )
    sizes = tuple(args.domain_sizes)
    results = {name: [] for name in names}
    per_epoch = {name: [] for name in names}
    oracle = []
    for seed in args.seeds:
        df = make_multi_domain(
            domain_sizes=sizes,
            domain_specificity=args.domain_specificity,
            with_logits=True,
            seed=seed,
        )
        data = split(df, seed)
        test = data["test"]
        oracle.append(
            {
                int(d): keras_mtl.evaluation.roc_auc(part[TASK], part[f"{TASK}_logit"])
                for d, part in test.groupby("domain")
            }
        )
        oracle[-1]["all"] = keras_mtl.evaluation.roc_auc(test[TASK], test[f"{TASK}_logit"])
        feats = features(8, 100, len(sizes))
        for name in names:
            aucs, epochs, seconds = train(name, feats, data, args, seed)
            results[name].append(aucs)
            per_epoch[name].append(seconds / epochs)
            print(
                f"seed {seed} {name:>12}: {epochs} epochs, {seconds:.0f} CPU-s, "
                + " ".join(f"{k}={v:.4f}" for k, v in aucs.items()),
                flush=True,
            )
    small = [d for d in range(len(sizes)) if sizes[d] <= 2000]  # the small domains
    for runs in list(results.values()) + [oracle]:
        for run in runs:  # mean over the small domains, per seed
            run["small"] = float(np.mean([run[d] for d in small]))
    keys = list(results[names[0]][0])
    spread = "standard error" if args.mamdr else "standard deviation"

    def interval(values):
        if args.mamdr:
            return _harness.mean_se(values, single=0.0)[1]
        return np.asarray(values).std()

    header = "domain (train rows)".ljust(22) + "".join(f"{n:>18}" for n in names + ["true logit"])
    print(f"\nmean test AUC over seeds {args.seeds} (± {spread})\n" + header)
    summary = {}
    table = [
        "| domain (train rows) | " + " | ".join(names + ["true logit"]) + " |",
        "|---" * (len(names) + 2) + "|",
    ]
    for key in keys:
        if key == "small":
            rows = "mean of " + ", ".join(map(str, small))
        else:
            rows = f"{int(0.7 * sizes[key])}" if key != "all" else f"{int(0.7 * sum(sizes))}"
        line = f"{key} ({rows})".ljust(22)
        summary[str(key)] = {}
        for name, runs in list(results.items()) + [("true logit", oracle)]:
            values = np.array([run[key] for run in runs])
            summary[str(key)][name] = {
                "mean": float(values.mean()),
                "std": float(values.std()),
                "se": float(interval(values)) if args.mamdr else None,
            }
            line += f"{values.mean():>11.4f} ±{interval(values):.4f}"
        print(line)
        table.append(
            f"| {key} ({rows}) | "
            + " | ".join(
                f"{summary[str(key)][n]['mean']:.4f} ± {interval([r[key] for r in runs]):.4f}"
                for n, runs in list(results.items()) + [("true logit", oracle)]
            )
            + " |"
        )
    seconds = {name: float(np.mean(v)) for name, v in per_epoch.items()}
    print("CPU-s per epoch".ljust(22) + "".join(f"{seconds[n]:>18.1f}" for n in names))
    table.append("| CPU-s per epoch | " + " | ".join(f"{seconds[n]:.1f}" for n in names) + " | |")
    if args.mamdr:
        pairs = [(name, name[: -len("+MAMDR")]) for name in names if name.endswith("+MAMDR")]
    else:
        pairs = [(name, "STAR") for name in names if name.startswith("PEPNet")]
    paired = paired_differences(results, keys, pairs)
    for line in paired:
        print(line)
    if args.out:
        with open(args.out, "w") as out:
            json.dump(
                {
                    "args": vars(args),
                    "summary": summary,
                    "cpu_seconds_per_epoch": seconds,
                    "runs": {
                        k: [{str(d): a for d, a in r.items()} for r in v]
                        for k, v in results.items()
                    },
                },
                out,
                indent=2,
            )
    if not args.no_doc and args.mamdr:
        figure = plot(
            results,
            oracle,
            keys,
            os.path.join(_report.ROOT, "docs", "img", "multi_domain_mamdr.png"),
        )
        _report.write_section(
            "multi_domain_mamdr",
            (
                "## Multi-domain: Shared-Bottom and STAR, with and without MAMDR\n\n"
                f"Command: `{_report.command()}`  \nMachine: {_report.machine()}\n\n"
                "Setup: the docstring of `benchmarks/multi_domain.py` (synthetic domains of "
                f"{', '.join(f'{n:,}' for n in sizes)} rows, domain specificity "
                f"{args.domain_specificity}, 70 / 10 / 20 split per domain, early stopping on the "
                f"validation loss, at most {args.epochs} epochs; MAMDR with its defaults on the "
                "same "
                "shuffled batches). Mean test AUC over seeds "
                f'{", ".join(map(str, args.seeds))} (± standard error); "small" is the mean over '
                f'domains {", ".join(map(str, small))}; "true logit" is the AUC of the generating '
                "logits.\n\n" + "\n".join(table) + "\n\nPaired by seed (the same data and "
                "batches): MAMDR's AUC minus the model's own, mean ± standard error, and the seeds "
                "where MAMDR is higher.\n\n"
                + "\n".join(paired)
                + f"\n\n![per-domain AUC]({figure})\n"
            ),
        )
    elif not args.no_doc:
        _report.write_section(
            "multi_domain",
            (
                "## Multi-domain: STAR, PEPNet, Shared-Bottom per domain\n\n"
                f"Command: `{_report.command()}`  \nMachine: {_report.machine()}\n\n"
                "Setup: the docstring of `benchmarks/multi_domain.py` (synthetic domains of "
                f"{', '.join(f'{n:,}' for n in sizes)} rows, domain specificity "
                f"{args.domain_specificity}, 70 / 10 / 20 split per domain, early stopping on the "
                f"validation loss, at most {args.epochs} epochs). Mean test AUC over seeds "
                f'{", ".join(map(str, args.seeds))} (± standard deviation); "all" pools the '
                f'domains; "small" is the mean over domains {", ".join(map(str, small))}; '
                '"true logit" is the AUC of the generating logits.\n\n'
                + "\n".join(table)
                + "\n\nPaired by seed (the same data): each PEPNet's AUC "
                "minus STAR's, mean ± standard error, and the seeds where PEPNet is higher.\n\n"
                + "\n".join(paired)
                + "\n"
            ),
        )
    return summary


def paired_differences(results, keys, pairs):
    """Markdown rows: per `(name, base)`, name's per-seed AUC minus base's (mean ± SE, higher)."""
    lines = ["| difference | " + " | ".join(map(str, keys)) + " |", "|---" * (len(keys) + 1) + "|"]
    for name, base in pairs:
        cells = []
        for key in keys:
            d = _harness.paired(
                [m[key] for m in results[name]], [b[key] for b in results[base]], single=0.0
            )
            cells.append(f"{d.mean:+.4f} ± {d.se:.4f} ({d.higher}/{len(d.diffs)})")
        lines.append(f"| {name} − {base} | " + " | ".join(cells) + " |")
    return lines


def plot(results, oracle, keys, path):
    """Per-domain mean test AUC (± standard error) of every model; returns the path from docs/."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    domains = [k for k in keys if k not in ("all", "small")]
    fig, ax = plt.subplots(figsize=(7, 3.6))
    width = 0.8 / (len(results) + 1)
    for n, (name, runs) in enumerate(list(results.items()) + [("true logit", oracle)]):
        mean, se = _harness.mean_se([[run[d] for d in domains] for run in runs], axis=0, single=0.0)
        ax.bar(
            np.arange(len(domains)) + (n - len(results) / 2) * width,
            mean,
            width,
            yerr=se,
            capsize=2,
            label=name,
        )
    ax.set_xticks(np.arange(len(domains)), [f"domain {d}" for d in domains])
    ax.set_ylabel("test AUC")
    low = min(min(run[d] for d in domains) for runs in results.values() for run in runs)
    ax.set_ylim(max(0.5, low - 0.02), 1.0)
    ax.legend(fontsize=7, ncol=3, loc="upper left")
    fig.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return os.path.relpath(path, os.path.join(_report.ROOT, "docs"))


if __name__ == "__main__":
    main(sys.argv[1:])
