"""The MMoE paper's Census-Income protocol for every multi-task model we have.

    python benchmarks/census.py      # ../shared/data/census_income_kdd, 5 seeds
    python benchmarks/census.py /path/to/census_income_kdd --seeds 3 --groups 1
    python benchmarks/census.py --models MMoE PLE --seeds 1   # a subset
    python benchmarks/census.py --models MMoE PLE --groups 1 --seeds 3 --precision float32,bfloat16

Protocol (MMoE paper §4.1, as digested in ../shared/SPEC.md): train on
census-income.data (199,523 rows); split census-income.test 1:1 into
validation and test with a fixed permutation (seed 0, the same for every
model and seed); early stopping on the validation loss (patience 4, best
weights restored, at most 30 epochs). Tasks:

- Group 1: income > 50K and marital status "never married";
- Group 2: education "some college or higher" and "never married".

The label-defining fields (income, marital status, education) and the
sampling weight are never inputs, in both groups (SPEC: "education and
marital status removed from the inputs"). The other 38 fields are inputs:
categorical fields embedded in 4 dimensions; numeric fields as normalised
signed log1p values and as an embedded quantile bucket
(`DenseFeat(..., buckets=16)`: edges learned by `adapt` from the training file,
the bucket computed in the graph; see benchmarks/census_routing.py for what
they changed).

Models (widths fixed, not tuned per model; Adam 1e-3, batch 1024):
single-task (one Shared-Bottom network per task, bottom [64]),
Shared-Bottom (bottom [256]), OMoE and MMoE (8 experts [64]), Cross-Stitch
(columns [128]), CGC (2 shared + 2 task experts [64]), PLE (2 levels of CGC),
STEM (one level, 2 shared + 2 task experts [64], 3 embedding tables per
field), AdaTT (2 levels, 2 task + 2 shared experts [64]), PEPNet (domain =
the `sex` field as an encoded id, PPNet towers [64, 32] gated by the domain
embedding, no personal priors), HoME (2 shared, 1 per category, 2 per task, [64], each
task its own category); towers [32] everywhere.

Each (model, group, seed) trains in its own subprocess, so its peak resident
memory (ru_maxrss) is the peak memory of that training, which is reported
next to the RSS of a process that has only imported TensorFlow and loaded the
data. Results accumulate in `--out` (JSON; runs already there are skipped, so
an interrupted run resumes) and the table goes to docs/benchmarks.md
(section "census") and stdout. Test AUC is the exact ROC AUC
(`keras_mtl.evaluation.roc_auc`).

`--precision float32,bfloat16` trains every (model, group, seed) under each
listed dtype policy (`bfloat16` = `mixed_bfloat16`, `float16` =
`mixed_float16`: float32 variables, 16-bit compute) and adds a table of mean
test AUC per precision next to float32's.
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
DEFAULT_DATA = os.path.join(ROOT, "..", "shared", "data", "census_income_kdd")
DEFAULT_OUT = os.path.join(ROOT, "benchmarks", "results", "census.json")

GROUPS = {1: ("income", "never_married"), 2: ("college", "never_married")}
MODELS = (
    "SingleTask",
    "SharedBottom",
    "OMoE",
    "MMoE",
    "CrossStitch",
    "CGC",
    "PLE",
    "PEPNet",
    "STEM",
    "AdaTT",
    "HoME",
)
#: PEPNet's domain: the row's sex as an encoded id (census has no domains;
#: the field stays an ordinary input too); its PPNet priors: that domain.
DOMAIN_SOURCE = "sex"
#: widths every model shares (each builder takes those it has, `_harness.COMMON`)
COMMON = dict(tower_units=(32,), expert_units=(64,), num_specific_experts=2, num_shared_experts=2)
#: model name -> (keras_mtl builder, its own settings)
BUILDS = {
    "SingleTask": ("SharedBottom", dict(bottom_units=(64,))),
    "SharedBottom": ("SharedBottom", dict(bottom_units=(256,))),
    "OMoE": ("OMoE", dict(num_experts=8)),
    "MMoE": ("MMoE", dict(num_experts=8)),
    "CrossStitch": ("CrossStitch", dict(column_units=(128,))),
    "CGC": ("CGC", {}),
    "PLE": ("PLE", dict(num_levels=2)),
    "PEPNet": ("PEPNet", dict(domain_feature="domain", tower_units=(64, 32))),
    "STEM": ("STEM", {}),
    "AdaTT": ("AdaTT", dict(num_levels=2, num_task_experts=2)),
    "HoME": ("HoME", dict(num_category_experts=1, num_task_experts=2)),
}
LABELS = {"income": "income", "never_married": "marital", "college": "education"}

#: Published mean / best test AUC (../shared/SPEC.md). MMoE paper, Group 1:
#: income only except MMoE's marital mean; PLE paper: income / marital means.
PAPERS = {
    ("MMoE paper", "SingleTask"): {"income": (0.9337, 0.9398)},
    ("MMoE paper", "SharedBottom"): {"income": (0.9295, 0.9361)},
    ("MMoE paper", "CrossStitch"): {"income": (0.9361, 0.9406)},
    ("MMoE paper", "OMoE"): {"income": (0.9319, 0.9387)},
    ("MMoE paper", "MMoE"): {"income": (0.9359, 0.9410), "never_married": (0.9927, None)},
    ("PLE paper", "SingleTask"): {"income": (0.9445, None), "never_married": (0.9923, None)},
    ("PLE paper", "MMoE"): {"income": (0.9393, None), "never_married": (0.9928, None)},
    ("PLE paper", "PLE"): {"income": (0.9522, None), "never_married": (0.9945, None)},
}

EPOCHS, PATIENCE, BATCH, LEARNING_RATE = 30, 4, 1024, 1e-3
EMBEDDING_DIM, BUCKETS, SPLIT_SEED = 4, 16, 0
#: `--precision` names and the Keras dtype policy each trains under.
POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "data_dir",
        nargs="?",
        default=DEFAULT_DATA,
        help="folder with census-income.data.gz / .test.gz",
    )
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--groups", nargs="+", type=int, default=[1, 2], choices=[1, 2])
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 per model and group")
    parser.add_argument("--out", default=DEFAULT_OUT, help="results JSON (resumed if present)")
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    parser.add_argument(
        "--precision",
        default="float32",
        type=_precisions,
        help=f"comma-separated, among {list(POLICIES)} (default float32)",
    )
    parser.add_argument(
        "--tables",
        default="lazy",
        choices=["lazy", "dense"],
        help="the embedding tables' Adam: lazy (compile's default, updates "
        "the rows of the batch) or dense (every row, every step)",
    )
    return parser.parse_args(argv)


# ---------------------------------------------------------------- worker side


def _precisions(value):
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in names if v not in POLICIES]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"expected precisions among {list(POLICIES)}. Received: {value!r}"
        )
    return names


def load_frames(data_dir):
    """(train, validation, test) frames, as read (no hand preprocessing)."""
    from keras_mtl.data import census_income

    train_df, test_df = census_income.load_census_income(data_dir)
    valid_df, test_df = census_income.split_validation(test_df, seed=SPLIT_SEED)
    return train_df, valid_df, test_df


def build(name, features, tasks):
    builder, own = BUILDS[name]
    return _harness.build(builder, features, task_names=tasks, **{**COMMON, **own})


def with_domain(frames):
    """The frames with an encoded "domain" column: the sorted values of DOMAIN_SOURCE."""
    values = sorted(frames[0][DOMAIN_SOURCE].unique())
    return [
        df.assign(
            domain=df[DOMAIN_SOURCE]
            .map({v: i for i, v in enumerate(values)})
            .fillna(len(values))
            .astype("int64")
        )
        for df in frames
    ]


def train_one(name, frames, tasks, seed, tables="lazy"):
    """Trains `name` on `tasks`; returns test AUCs, epochs and seconds."""
    import tensorflow as tf
    from census_routing import census_features

    import keras_mtl

    train_df, valid_df, test_df = frames
    tf.keras.utils.set_random_seed(seed)
    features = census_features(train_df, EMBEDDING_DIM, BUCKETS)
    if name == "PEPNet":
        frames = with_domain(frames)
        train_df, valid_df, test_df = frames
        features = list(features) + [
            keras_mtl.SparseFeat("domain", vocabulary_size=2, embedding_dim=EMBEDDING_DIM)
        ]
    model = build(name, features, tasks)
    if tables == "dense":  # one dense Adam for every variable, tables included
        optimizer = {
            "embeddings": tf.keras.optimizers.Adam(LEARNING_RATE),
            "towers": tf.keras.optimizers.Adam(LEARNING_RATE),
        }
    else:  # compile derives a LazyAdam of the same settings for the tables
        optimizer = tf.keras.optimizers.Adam(LEARNING_RATE)
    model.compile(optimizer=optimizer)

    def dataset(df, shuffle=False):
        return keras_mtl.data.df_to_dataset(
            df, features, tasks, batch_size=BATCH, shuffle=shuffle, seed=seed
        )

    with _harness.Timer() as timer:
        history = model.fit(
            dataset(train_df, shuffle=True),
            epochs=EPOCHS,
            validation_data=dataset(valid_df),
            callbacks=[
                tf.keras.callbacks.EarlyStopping(
                    monitor="val_loss", patience=PATIENCE, restore_best_weights=True
                )
            ],
            verbose=0,
        )
    predictions = model.predict(dataset(test_df), verbose=0)
    aucs = {t: keras_mtl.evaluation.roc_auc(test_df[t], predictions[t]) for t in tasks}
    return {
        "auc": aucs,
        "epochs": len(history.history["loss"]),
        "seconds": timer.wall_s,
        "parameters": int(model.count_params()),
    }


def worker(data_dir, name, group, seed, precision, tables):
    """One (model, group, seed, precision) in its own process: its peak RSS is this training's."""
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    tf.keras.mixed_precision.set_global_policy(POLICIES[precision])
    frames = load_frames(data_dir)
    tasks = GROUPS[group]
    if name == "SingleTask":
        # one network per task, trained one after the other in this process
        runs = [train_one(name, frames, (task,), seed, tables) for task in tasks]
        result = {
            "auc": {task: run["auc"][task] for task, run in zip(tasks, runs)},
            "epochs": [run["epochs"] for run in runs],
            "seconds": sum(run["seconds"] for run in runs),
            "parameters": sum(run["parameters"] for run in runs),
        }
    else:
        result = train_one(name, frames, tasks, seed, tables)
    result.update(
        model=name,
        group=group,
        seed=seed,
        precision=precision,
        tables=tables,
        peak_rss_mib=_harness.max_rss_bytes() / _harness.MIB,
    )
    return result


def baseline(data_dir):
    """Peak RSS of a process that imports TensorFlow and loads the data, nothing more."""
    import tensorflow  # noqa: F401  (the import itself is what is measured)

    load_frames(data_dir)
    return {"peak_rss_mib": _harness.max_rss_bytes() / _harness.MIB}


# ---------------------------------------------------------- orchestrator side


def _load(path):
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    return {"runs": [], "baseline_rss_mib": None}


def _save(results, path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)


def _fmt(value, digits=4):
    return "–" if value is None else f"{value:.{digits}f}"


def table(results):
    """Markdown tables (one per group) of mean / best test AUC and costs."""
    runs = [r for r in results["runs"] if r.get("precision", "float32") == "float32"]
    lines = []
    for group, tasks in GROUPS.items():
        group_runs = [r for r in runs if r["group"] == group]
        if not group_runs:
            continue
        labels = [LABELS[t] for t in tasks]
        lines += [
            f"**Group {group}: {labels[0]} + {labels[1]}** (test AUC, mean / best over seeds)",
            "",
            "| model | seeds | "
            + " | ".join(f"{label} mean / best" for label in labels)
            + " | epochs (mean) | train s (mean) | parameters | peak RSS MiB |",
            "|---|---|" + "---|" * len(labels) + "---|---|---|---|",
        ]
        for model in MODELS:
            mine = [r for r in group_runs if r["model"] == model]
            if not mine:
                continue
            cells = []
            for task in tasks:
                aucs = np.array([r["auc"][task] for r in mine])
                cells.append(f"{aucs.mean():.4f} / {aucs.max():.4f}")
            epochs = np.mean([np.mean(r["epochs"]) for r in mine])
            lines.append(
                f"| {model} | {len(mine)} | "
                + " | ".join(cells)
                + f" | {epochs:.1f} | {np.mean([r['seconds'] for r in mine]):.0f}"
                + f" | {mine[0]['parameters']:,} | {max(r['peak_rss_mib'] for r in mine):.0f} |"
            )
        if group == 1:
            lines += [
                "",
                "Published (same protocol; mean / best, – where not given):",
                "",
                "| source | model | income | marital |",
                "|---|---|---|---|",
            ]
            for (source, model), cells in PAPERS.items():
                shown = [cells.get(t, (None, None)) for t in tasks]
                lines.append(
                    f"| {source} | {model} | "
                    + " | ".join(f"{_fmt(m)} / {_fmt(b)}" for m, b in shown)
                    + " |"
                )
        lines.append("")
    if results.get("baseline_rss_mib"):
        lines.append(
            f"Peak RSS of a process that only imports TensorFlow and loads the data: "
            f"{results['baseline_rss_mib']:.0f} MiB; the difference to a model's peak is its "
            "training."
        )
    return "\n".join(lines)


def precision_table(results):
    """Mean test AUC per precision next to float32's, per group and model."""
    runs = results["runs"]
    precisions = [p for p in POLICIES if any(r.get("precision", "float32") == p for r in runs)]
    lines = [
        "**Precision** (mean test AUC over the seeds each precision ran; Δ = "
        "precision − float32 over the seeds both ran)",
        "",
        "| group | model | task | "
        + " | ".join(precisions)
        + " | "
        + " | ".join(f"Δ {p}" for p in precisions if p != "float32")
        + " |",
        "|---|---|---|" + "---|" * (2 * len(precisions) - 1),
    ]
    for group, tasks in GROUPS.items():
        for model in MODELS:
            by = {
                p: {
                    r["seed"]: r
                    for r in runs
                    if r["model"] == model
                    and r["group"] == group
                    and r.get("precision", "float32") == p
                }
                for p in precisions
            }
            if not any(by.values()):
                continue
            for task in tasks:
                means = [
                    _fmt(np.mean([r["auc"][task] for r in by[p].values()]) if by[p] else None)
                    for p in precisions
                ]
                deltas = []
                for p in precisions:
                    if p == "float32":
                        continue
                    both = sorted(set(by[p]) & set(by.get("float32", {})))
                    gap = both and _harness.paired(
                        [by[p][s]["auc"][task] for s in both],
                        [by["float32"][s]["auc"][task] for s in both],
                    )
                    deltas.append(_fmt(gap.mean if both else None))
                lines.append(
                    f"| {group} | {model} | {LABELS[task]} | "
                    + " | ".join(means)
                    + " | "
                    + " | ".join(deltas)
                    + " |"
                )
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    results = _load(args.out)
    done = {
        (r["model"], r["group"], r["seed"], r.get("precision", "float32"))
        for r in results["runs"]
        if r.get("tables", "lazy") == args.tables
    }
    if results.get("baseline_rss_mib") is None:
        baseline_run = _harness.call(__file__, "baseline", {"data_dir": args.data_dir})
        results["baseline_rss_mib"] = baseline_run["peak_rss_mib"]
        _save(results, args.out)
    timer = _harness.Timer().start()
    for seed in range(args.seeds):
        for group in args.groups:
            for model, precision in [(m, p) for m in args.models for p in args.precision]:
                if (model, group, seed, precision) in done:
                    continue
                run = _harness.call(
                    __file__,
                    "worker",
                    dict(
                        data_dir=args.data_dir,
                        name=model,
                        group=group,
                        seed=seed,
                        precision=precision,
                        tables=args.tables,
                    ),
                )
                results["runs"].append(run)
                _save(results, args.out)
                print(
                    f"[{timer.wall_s:6.0f} s] group {group} seed {seed} {model} "
                    f"{precision}: "
                    + ", ".join(f"{t} {a:.4f}" for t, a in run["auc"].items())
                    + f" ({run['epochs']} epochs, {run['seconds']:.0f} s, "
                    f"peak RSS {run['peak_rss_mib']:.0f} MiB)",
                    flush=True,
                )
    # the tables' optimizer changes the numbers: report only this run's kind
    shown = {
        **results,
        "runs": [r for r in results["runs"] if r.get("tables", "lazy") == args.tables],
    }
    markdown = table(shown)
    if any(r.get("precision", "float32") != "float32" for r in shown["runs"]):
        markdown += "\n\n" + precision_table(shown)
    print(markdown)
    if not args.no_doc:
        section = (
            "## Census-Income (MMoE paper protocol)\n\n"
            f"Command: `{_report.command()}`  \nMachine: {_report.machine()}\n\n"
            "Protocol, features and model widths: the docstring of `benchmarks/census.py`"
            + (
                " (embedding tables trained by dense Adam, `--tables dense`)"
                if args.tables == "dense"
                else ""
            )
            + ".\n\n"
            "Peak memory: before `df_to_dataset` gathered batches by shuffled row index, the "
            "same MMoE training (group 1, seed 0) peaked at 4,531 MiB resident: its shuffle "
            "buffer held one small tensor per row and column.\n\n" + markdown
        )
        _report.write_section("census", section)
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
