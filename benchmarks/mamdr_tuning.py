"""MAMDR's defaults chosen on validation rows: base model vs MAMDR settings, per domain.

The data and models are `benchmarks/multi_domain.py`'s (synthetic domains of
20,000 / 10,000 / 2,000 / 1,000 / 500 rows, 70 / 10 / 20 split per domain,
STAR and Shared-Bottom of the same widths), drawn with seeds kept apart from
the benchmark's (100, 101, 102 by default; the benchmark uses 0-4). Every
setting is scored on the *validation* rows only (they also drive early
stopping on the validation loss, patience 2, best weights restored); the test
rows are never read. A setting is a name of `SETTINGS` below: the inner
optimizer and its learning rate α, β (`outer_lr`), γ (`regularization_lr`), k
(`num_sampled_domains`), and the batches MAMDR trains on ("shuffled": the
base model's shuffled batches of 256 rows, each row once per epoch;
"balanced": 64 rows of every domain per step, `domain_balanced_dataset`).

    python benchmarks/mamdr_tuning.py --models STAR --settings base adam-b1 --seeds 100
    python benchmarks/mamdr_tuning.py --out benchmarks/results/mamdr_tuning.json
    # table of the runs' lines:
    python benchmarks/mamdr_tuning.py --summarize benchmarks/results/mamdr_tuning/*.log

`--summarize` reads the printed lines of earlier runs (runs split over
processes) and writes the mean validation AUC of every model and setting to
docs/benchmarks.md (section "mamdr_tuning").
"""

import argparse
import json
import os
import re
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import keras_mtl
from keras_mtl.data import make_multi_domain

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _harness
import multi_domain

TASK = multi_domain.TASK
SMALL = (2, 3, 4)

# name: MAMDR arguments and batches (None: the base model trained by model.fit)
SETTINGS = {
    "base": None,
    "base-dense": "dense",  # model.fit, dense Adam on the embedding tables too
    "epoch-paper": dict(
        inner_optimizer="adam",
        inner_lr=1e-3,
        outer_lr=0.1,
        regularization_lr=0.1,
        num_sampled_domains=3,
        rounds="epoch",
        outer_optimizer="sgd",
    ),
    "a.01-k0": dict(inner_lr=0.01, outer_lr=1e-3, regularization_lr=1e-3, num_sampled_domains=0),
    "a.01-k0-stats1": dict(
        inner_lr=0.01, outer_lr=1e-3, regularization_lr=1e-3, num_sampled_domains=0
    ),  # the defaults, one statistics update per batch
    "a.05-k0": dict(inner_lr=0.05, outer_lr=1e-3, regularization_lr=1e-3, num_sampled_domains=0),
    "a.05-k1": dict(inner_lr=0.05, outer_lr=1e-3, regularization_lr=1e-3, num_sampled_domains=1),
    "a.05-k2": dict(inner_lr=0.05, outer_lr=1e-3, regularization_lr=1e-3, num_sampled_domains=2),
    "a.5-k0": dict(inner_lr=0.5, outer_lr=1e-3, regularization_lr=1e-3, num_sampled_domains=0),
    "a.5-k1": dict(inner_lr=0.5, outer_lr=1e-3, regularization_lr=1e-3, num_sampled_domains=1),
    "a2-k0": dict(inner_lr=2.0, outer_lr=1e-3, regularization_lr=1e-3, num_sampled_domains=0),
    "a2-k1": dict(inner_lr=2.0, outer_lr=1e-3, regularization_lr=1e-3, num_sampled_domains=1),
}


# what the arguments do not say
NOTES = {
    "base-dense": "dense Adam on the embedding tables too (model.fit's default is LazyAdam there)",
    "epoch-paper": "the paper code's settings (Adam inner steps, β = γ = 0.1, k = 3, "
    "a round per epoch)",
    "a.01-k0-stats1": "the shipped code and defaults; the MAMDR rows above it ran before the "
    "change "
    "to one moving-statistics update per batch (they updated them on every "
    "negotiation pass)",
}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[100, 101, 102])
    parser.add_argument("--models", nargs="+", default=["STAR", "SharedBottom"])
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS))
    parser.add_argument("--epochs", type=int, default=20, help="at most (early stopping)")
    parser.add_argument("--out", default=None, help="write the results as JSON")
    parser.add_argument(
        "--summarize",
        nargs="+",
        default=None,
        metavar="LOG",
        help="summarize the printed lines of earlier runs",
    )
    return parser.parse_args(argv)


LINE = re.compile(
    r"^seed (\d+)\s+(\S+)\s+(\S+): +(\d+) epochs +(\d+) CPU-s +small (\S+) +"
    r"large (\S+) +(.*)$"
)


def summarize(paths):
    """Mean validation AUC per (model, setting) from printed run lines; writes the doc section."""
    runs = {}
    for path in paths:
        with open(path, encoding="utf-8") as log:
            for line in log:
                match = LINE.match(line.strip())
                if match:
                    seed, model, setting, epochs, seconds, small, large, _ = match.groups()
                    runs.setdefault((model, setting), {})[int(seed)] = (
                        float(small),
                        float(large),
                        int(epochs),
                        float(seconds),
                    )
    table = [
        "| model | setting | seeds | small domains (2, 3, 4) | large domains (0, 1) | "
        "epochs | CPU-s / epoch | arguments |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (model, setting), by_seed in sorted(runs.items()):
        values = np.array(list(by_seed.values()))
        table.append(
            f"| {model} | {setting} | {', '.join(map(str, sorted(by_seed)))} | "
            f"{values[:, 0].mean():.4f} | {values[:, 1].mean():.4f} | {values[:, 2].mean():.1f} | "
            f"{values[:, 3].sum() / values[:, 2].sum():.1f} | "
            f"{'model.fit' if SETTINGS.get(setting) is None else SETTINGS.get(setting)}"
            f"{'; ' + NOTES[setting] if setting in NOTES else ''} |"
        )
    text = "\n".join(table)
    print(text)
    import _report

    _report.write_section(
        "mamdr_tuning",
        (
            "## MAMDR defaults chosen on validation rows\n\n"
            f"Command: `python benchmarks/mamdr_tuning.py --models ... --settings ... --seeds ...` "
            f"(runs split over processes; `{_report.command()}` made this table)  \n"
            f"Machine: {_report.machine()}\n\n"
            "Setup: the docstring of `benchmarks/mamdr_tuning.py` (the data and models of "
            "`benchmarks/multi_domain.py`, seeds 100–102, apart from the benchmark's 0–4; "
            "scored on "
            "the validation rows only). Mean validation AUC over the seeds listed; a seed of one "
            "setting is compared with the same seed of `base`.\n\n" + text + "\n"
        ),
    )
    return runs


def run(model_name, setting, feats, data, num_domains, seed, epochs):
    """Validation AUC per domain, epochs run and seconds for one model and setting."""
    tf.keras.utils.set_random_seed(seed)
    model = multi_domain.build(model_name, feats)
    args = SETTINGS[setting]
    if args == "dense":
        model.compile(
            optimizer={
                "embeddings": tf.keras.optimizers.Adam(1e-3),
                "towers": tf.keras.optimizers.Adam(1e-3),
            }
        )
    else:
        model.compile(optimizer=tf.keras.optimizers.Adam(1e-3))

    def dataset(df, shuffle=False):
        return keras_mtl.data.df_to_dataset(
            df, feats, [TASK], batch_size=256, shuffle=shuffle, seed=seed
        )

    stop = tf.keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=2, restore_best_weights=True
    )
    with _harness.Timer() as timer:
        trainer = model
        if args is not None and args != "dense":
            trainer = keras_mtl.training.MAMDR(
                model, "domain", num_domains=num_domains, seed=seed, **args
            )
        history = trainer.fit(
            dataset(data["train"], shuffle=True),
            epochs=epochs,
            validation_data=dataset(data["valid"]),
            callbacks=[stop],
            verbose=0,
        )
    seconds = timer.cpu_s
    table = keras_mtl.evaluation.evaluate_by_domain(model, dataset(data["valid"]), "domain")
    return table[f"{TASK}_auc"].to_dict(), len(history.history["loss"]), seconds


def main(argv=None):
    args = parse_args(argv)
    if args.summarize:
        return summarize(args.summarize)
    sizes = (20000, 10000, 2000, 1000, 500)
    results = {}
    for seed in args.seeds:
        df = make_multi_domain(domain_sizes=sizes, domain_specificity=0.5, seed=seed)
        data = multi_domain.split(df, seed)
        data.pop("test")  # never read here
        feats = multi_domain.features(8, 100, len(sizes))
        for model_name in args.models:
            for setting in args.settings:
                aucs, epochs, seconds = run(
                    model_name, setting, feats, data, len(sizes), seed, args.epochs
                )
                small = float(np.mean([aucs[d] for d in SMALL]))
                large = float(np.mean([aucs[d] for d in (0, 1)]))
                results.setdefault(f"{model_name}/{setting}", []).append(
                    {
                        "seed": seed,
                        "auc": {str(k): v for k, v in aucs.items()},
                        "small": small,
                        "large": large,
                        "epochs": epochs,
                        "cpu_seconds": seconds,
                    }
                )
                print(
                    f"seed {seed} {model_name:>12} {setting:>16}: {epochs:2d} epochs "
                    f"{seconds:6.0f} CPU-s  small {small:.4f}  large {large:.4f}  "
                    + " ".join(f"{k}={v:.4f}" for k, v in aucs.items()),
                    flush=True,
                )
    print("\nmean validation AUC over seeds", args.seeds)
    for key, runs in results.items():
        per_epoch = np.sum([r["cpu_seconds"] for r in runs]) / np.sum([r["epochs"] for r in runs])
        print(
            f"{key:>30}: small {np.mean([r['small'] for r in runs]):.4f}  "
            f"large {np.mean([r['large'] for r in runs]):.4f}  "
            f"CPU-s/epoch {per_epoch:.1f}"
        )
    if args.out:
        with open(args.out, "w") as out:
            json.dump(
                {
                    "args": vars(args),
                    "settings": {s: SETTINGS[s] for s in args.settings},
                    "results": results,
                },
                out,
                indent=2,
            )
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
