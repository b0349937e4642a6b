"""Post-click conversion over the whole impression space: naive CVR, ESMM, ESCM²-IPS, ESCM²-DR.

    python benchmarks/funnel.py                       # 5 seeds, funnel + Ali-CCP sample
    python benchmarks/funnel.py --seeds 0 1 --rows 20000 --epochs 1
    python benchmarks/funnel.py --quick               # smoke run, writes nothing

Data. `keras_mtl.data.funnel_data` (seeded, no download) draws impressions,
clicks and purchases from known probabilities and carries `true_cvr`, the
conversion probability of every impression had it been clicked. Its clicks
select a biased sample: the effects that raise the click rate are correlated
with those of the purchase steps (see its docstring), so a CVR model fitted
on clicks is trained on a different distribution than the one it serves.
Each seed draws a new frame (`--rows` impressions, the last `--test-share`
held out) and a new initialisation.

Models (same embeddings and towers everywhere, `--tower-units`):

- naive: a CTR and a CVR tower; CVR trained on the clicked rows only, with
  `compile(sample_spaces={"cvr": "ctr"})` (the usual practice ESMM criticised);
- ESMM: pCTCVR = pCTR · pCVR on all impressions (`keras_mtl.ESMM`);
- ESCM²-IPS / ESCM²-DR: ESMM plus the inverse-propensity or doubly robust CVR
  loss (`keras_mtl.ESCM2`, λ_c = 0.5, propensity clip 0.05, λ_g = 1 as ESMM's
  ctcvr weight).

Adam 1e-3, batch 512, `--epochs` passes. Metrics of pCVR over ALL test
impressions against `true_cvr`:

- AUC: the expected ROC AUC against conversion labels drawn as
  Bernoulli(true_cvr) — each pair (i, j) counts with weight t_i·(1 − t_j),
  ties half (no sampling noise);
- ECE: Σ_b (n_b / n)·|mean pCVR_b − mean true_cvr_b| over 10 equal-count bins
  of pCVR; and the mean pCVR next to the mean true_cvr;

and, for comparison, the usual observable metric: AUC of pCVR against the
purchase labels of the clicked test rows. Mean over seeds with standard
errors (SE = sd / √seeds), and the paired gaps of ESCM²-DR to naive and ESMM.

Ali-CCP. The same four models on the tiny Ali-CCP sample in
../shared/data/ali_ccp_sample_torch_rechub (100 train / 50 test rows, about
one purchase per file; 23 sparse ids, 8 dense features). It is a SAMPLE that
only exercises the code path: it has no ground-truth CVR, and an AUC over a
handful of clicks means nothing. Reported: AUC of pCTR and pCTCVR over the
test impressions and of pCVR over the test clicks, NaN where a class is
missing.

Results: benchmarks/results/funnel.json and the "funnel" section of
docs/benchmarks.md.
"""

import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pandas as pd
import tensorflow as tf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _harness  # noqa: E402
import _report  # noqa: E402

import keras_mtl  # noqa: E402
from keras_mtl.evaluation import roc_auc  # noqa: E402

MODELS = ("naive", "ESMM", "ESCM2-IPS", "ESCM2-DR")
DEFAULT_OUT = os.path.join(ROOT, "benchmarks", "results", "funnel.json")
ALI_CCP = os.path.join(os.path.dirname(ROOT), "shared", "data", "ali_ccp_sample_torch_rechub")
if not os.path.isdir(ALI_CCP):  # a git worktree lies deeper than the repository
    ALI_CCP = "/work/shared/data/ali_ccp_sample_torch_rechub"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--rows", type=int, default=80000)
    parser.add_argument("--test-share", type=float, default=0.25)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--tower-units", type=int, nargs="+", default=[64, 32])
    parser.add_argument("--embedding-dim", type=int, default=8)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--ali-ccp", default=ALI_CCP, help="folder of the Ali-CCP sample")
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--section", default="funnel")
    parser.add_argument("--quick", action="store_true", help="tiny run, writes nothing")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.rows, args.epochs = [0], 4000, 1
    return args


def naive_model(features, tower_units):
    """CTR and CVR towers over shared embeddings, no product (CVR fitted on clicks)."""
    inputs = keras_mtl.features.build_inputs(features)
    x = keras_mtl.features.embed_features(inputs, features)
    outputs = {}
    for task in ("ctr", "cvr"):
        h = keras_mtl.layers.MLP(tower_units, name=f"tower_{task}")(x)
        outputs[task] = keras_mtl.layers.TaskHead("binary", name=task)(h)
    return keras_mtl.MultiTaskModel(inputs, outputs, task_types={"ctr": "binary", "cvr": "binary"})


def build(name, features, args):
    """(model, label columns, compile options) of a benchmark model."""
    units = tuple(args.tower_units)
    if name == "naive":
        return naive_model(features, units), ["ctr", "cvr"], {"sample_spaces": {"cvr": "ctr"}}
    if name == "ESMM":
        return _harness.build("ESMM", features, tower_units=units), ["ctr", "ctcvr"], {}
    counterfactual = name.split("-")[1].lower()
    model = _harness.build("ESCM2", features, counterfactual=counterfactual, tower_units=units)
    return model, ["ctr", "ctcvr"], {}


def fit_predict(name, features, train, test, args, seed):
    """Trains model `name` on `train` (labels ctr, cvr, ctcvr); returns its test predictions."""
    tf.keras.utils.set_random_seed(seed)
    model, labels, options = build(name, features, args)
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-3), **options)
    data = keras_mtl.data.df_to_dataset(
        train, features, labels, batch_size=args.batch_size, shuffle=True, seed=seed
    )
    model.fit(data, epochs=args.epochs, verbose=0, shuffle=False)  # the dataset shuffles
    x = keras_mtl.data.features_to_arrays(test, features)
    return {
        k: v[:, 0].astype("float64")
        for k, v in model.predict(x, batch_size=4096, verbose=0).items()
    }


def soft_auc(truth, scores):
    """Expected ROC AUC against labels drawn as Bernoulli(truth): pairs weighted t_i·(1 − t_j)."""
    frame = pd.DataFrame({"s": scores, "t": truth, "f": 1 - truth, "tf": truth * (1 - truth)})
    groups = frame.groupby("s", sort=True)[["t", "f", "tf"]].sum()
    below = groups["f"].cumsum() - groups["f"]  # negative weight strictly below each score
    numerator = (groups["t"] * below).sum() + 0.5 * (groups["t"] * groups["f"] - groups["tf"]).sum()
    denominator = frame["t"].sum() * frame["f"].sum() - frame["tf"].sum()
    return float(numerator / denominator)


def ece(truth, scores, bins=10):
    """Σ_b (n_b / n)·|mean score_b − mean truth_b| over equal-count bins of the score."""
    order = np.argsort(scores, kind="stable")
    parts = np.array_split(order, bins)
    return float(sum(len(p) / len(scores) * abs(scores[p].mean() - truth[p].mean()) for p in parts))


def _auc_or_nan(labels, scores):
    labels = np.asarray(labels, "float64")
    if len(np.unique(labels)) < 2:
        return float("nan")
    return roc_auc(labels, scores)


def funnel_seed(seed, args):
    df = keras_mtl.data.funnel_data(rows=args.rows, seed=seed)
    df["ctr"], df["cvr"], df["ctcvr"] = df["click"], df["purchase"], df["purchase"]
    cut = int(round(len(df) * (1 - args.test_share)))
    train, test = df.iloc[:cut], df.iloc[cut:]
    features = keras_mtl.data.funnel_features(train, embedding_dim=args.embedding_dim)
    truth = test["true_cvr"].to_numpy("float64")
    clicked = test["click"].to_numpy() == 1
    out = {}
    for name in args.models:
        timer = _harness.Timer().start()
        pred = fit_predict(name, features, train, test, args, seed)
        p = pred["cvr"]
        out[name] = {
            "cvr_auc_all": soft_auc(truth, p),
            "cvr_ece_all": ece(truth, p),
            "cvr_mean_all": float(p.mean()),
            "true_cvr_mean_all": float(truth.mean()),
            "cvr_auc_clicked": _auc_or_nan(test["purchase"].to_numpy()[clicked], p[clicked]),
            "ctr_auc": _auc_or_nan(test["click"], pred["ctr"]),
            "seconds": round(timer.wall_s, 1),
        }
        print(
            f"seed {seed} {name:10s} "
            + " ".join(f"{k}={v:.4f}" for k, v in out[name].items() if k != "seconds"),
            flush=True,
        )
    out["true_cvr_auc_all"] = soft_auc(truth, truth)  # the ceiling: ranking by the truth
    return out


def ali_ccp(args):
    """The four models on the Ali-CCP sample (train → test); AUCs, NaN where undefined."""
    read = {
        part: pd.read_csv(os.path.join(args.ali_ccp, f"ali_ccp_{part}_sample.csv"))
        for part in ("train", "val", "test")
    }
    train = pd.concat([read["train"], read["val"]], ignore_index=True)
    test = read["test"]
    dense = [c for c in train.columns if c.startswith("D")]
    sparse = [c for c in train.columns if c not in dense + ["click", "purchase"]]
    for frame in (train, test):
        frame["ctr"], frame["cvr"], frame["ctcvr"] = (
            frame["click"],
            frame["purchase"],
            frame["purchase"],
        )
        for column in sparse:
            frame[column] = frame[column].astype("int64").astype(str)
    specs = [keras_mtl.SparseFeat(c, embedding_dim=4) for c in sparse] + [
        keras_mtl.DenseFeat(c) for c in dense
    ]
    features = keras_mtl.features.adapt(specs, train)
    clicked = test["click"].to_numpy() == 1
    out = {
        "rows": {"train": len(train), "test": len(test)},
        "clicks": {"train": int(train.click.sum()), "test": int(test.click.sum())},
        "purchases": {"train": int(train.purchase.sum()), "test": int(test.purchase.sum())},
    }
    for name in args.models:
        pred = fit_predict(name, features, train, test, args, 0)
        out[name] = {
            "ctr_auc": _auc_or_nan(test["click"], pred["ctr"]),
            "ctcvr_auc": _auc_or_nan(test["purchase"], pred["ctr"] * pred["cvr"]),
            "cvr_auc_clicked": _auc_or_nan(
                test["purchase"].to_numpy()[clicked], pred["cvr"][clicked]
            ),
        }
    return out


def _paired(runs, name, base, key):
    gap = _harness.paired([r[name][key] for r in runs], [r[base][key] for r in runs])
    return gap.mean, gap.se


def summarize(runs, models):
    mean_se = _harness.mean_se
    keys = ("cvr_auc_all", "cvr_ece_all", "cvr_mean_all", "cvr_auc_clicked", "ctr_auc")
    summary = {name: {k: mean_se([r[name][k] for r in runs]) for k in keys} for name in models}
    gaps = {}
    if "ESCM2-DR" in models:
        for base in ("naive", "ESMM", "ESCM2-IPS"):
            if base in models:
                gaps[f"ESCM2-DR - {base}"] = {
                    k: _paired(runs, "ESCM2-DR", base, k) for k in ("cvr_auc_all", "cvr_ece_all")
                }
    truth = {
        "true_cvr_mean_all": mean_se([r[models[0]]["true_cvr_mean_all"] for r in runs]),
        "true_cvr_auc_all": mean_se([r["true_cvr_auc_all"] for r in runs]),
    }
    return summary, gaps, truth


def _fmt(pair, digits=4):
    mean, se = pair
    return f"{mean:.{digits}f} ± {se:.{digits}f}"


def markdown(summary, gaps, truth, ali, args, seconds):
    lines = [
        "## Funnel: CVR over the whole impression space (naive, ESMM, ESCM²)",
        "",
        f"`{_report.command()}` — {_report.machine()}; {seconds / 60:.1f} min.",
        "",
        f"`keras_mtl.data.funnel_data(rows={args.rows})` per seed (seeds {args.seeds}), the "
        f"last {args.test_share:.0%} held out; towers {args.tower_units}, embeddings "
        f"{args.embedding_dim}, Adam 1e-3, batch {args.batch_size}, {args.epochs} epochs. "
        "pCVR is scored on every test impression against the known `true_cvr` (AUC: expected "
        "AUC against Bernoulli(true_cvr) labels; ECE over 10 equal-count bins), and on the "
        "clicked test rows against the observed purchases. Mean ± standard error over "
        f"{len(args.seeds)} seeds. Mean true CVR over the test impressions: "
        f"{truth['true_cvr_mean_all'][0]:.4f}; the AUC of the truth itself (the ceiling): "
        f"{truth['true_cvr_auc_all'][0]:.4f}.",
        "",
        "| model | pCVR AUC, all impressions | pCVR ECE, all | mean pCVR, all "
        "| pCVR AUC, clicked rows | pCTR AUC |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in summary.items():
        lines.append(
            f"| {name} | {_fmt(row['cvr_auc_all'])} | {_fmt(row['cvr_ece_all'])} | "
            f"{_fmt(row['cvr_mean_all'])} | {_fmt(row['cvr_auc_clicked'])} | "
            f"{_fmt(row['ctr_auc'])} |"
        )
    if gaps:
        lines += [
            "",
            "Paired differences (same data and seed):",
            "",
            "| difference | AUC, all impressions | ECE, all |",
            "|---|---|---|",
        ]
        for name, row in gaps.items():
            lines.append(f"| {name} | {_fmt(row['cvr_auc_all'])} | {_fmt(row['cvr_ece_all'])} |")
    if gaps:
        lines += [
            "",
            "How to read it: a gap counts where it is larger than about twice its "
            "standard error. ESCM²-DR's imputed error δ̂ enters its CVR loss with the "
            "gradient stopped (keras_mtl.losses.DoublyRobustLoss), so its CVR tower gets "
            "IPS's gradient and DR differs from IPS only through the imputation tower's "
            "updates of the shared embeddings: expect DR ≈ IPS here.",
        ]
    if ali is not None:
        lines += [
            "",
            f"Ali-CCP SAMPLE ({ali['rows']['train']} train / {ali['rows']['test']} "
            f"test rows; clicks {ali['clicks']}, purchases {ali['purchases']}): a code-path "
            "check only, no ground-truth CVR, the AUCs mean nothing.",
            "",
            "| model | pCTR AUC | pCTCVR AUC | pCVR AUC, clicked rows |",
            "|---|---|---|---|",
        ]
        for name in args.models:
            row = ali[name]
            lines.append(
                f"| {name} | {row['ctr_auc']:.3f} | {row['ctcvr_auc']:.3f} | "
                f"{row['cvr_auc_clicked']:.3f} |"
            )
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = parse_args(argv)
    with _harness.Timer() as timer:
        runs = [funnel_seed(seed, args) for seed in args.seeds]
        ali = ali_ccp(args) if os.path.isdir(args.ali_ccp) else None
    seconds = timer.wall_s
    summary, gaps, truth = summarize(runs, args.models)
    if args.quick:
        print(json.dumps({"runs": runs, "ali_ccp": ali}, indent=1))
        return
    result = {
        "args": vars(args),
        "seconds": round(seconds, 1),
        "summary": summary,
        "gaps": gaps,
        "truth": truth,
        "runs": runs,
        "ali_ccp": ali,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump(result, out, indent=1)
    text = markdown(summary, gaps, truth, ali, args, seconds)
    _report.write_section(args.section, text)
    print(text)


if __name__ == "__main__":
    main()
