"""Continuous training on a drifting id stream: frozen, hashed, scratch and warm start, by day.

    python benchmarks/continuous.py                      # 14 days, default sizes
    python benchmarks/continuous.py --days 14 --rows 20000 --window 4

A seeded stream of days (`stream`): users and items are born every day with a
lifetime (geometric) and an activity or popularity (log-normal; an item's
fades with age), and each day's rows pair users drawn by activity with items
drawn by popularity among those alive that day. Clicks and likes depend on
the pair's hidden vectors and each id's own bias, so a model has to learn
every id's row; most ids of a day were not seen a few days before. Each
method trains on day d and is tested on day d + 1 (next-day AUC, the mean of
the two tasks), for d = 1 .. `--days`:

- `frozen`: vocabularies adapted on day 1 and never changed (new ids share
  the OOV row); one model trained on each new day in turn;
- `hashed`: `hash_bins` of the budget's size; one model trained on each new
  day in turn;
- `scratch`: a new model every day, vocabularies adapted (under the budget)
  and trained on the last `--window` days;
- `warm_start`: every day `refresh_vocabularies` on the new day (under the
  budget), a new model on the refreshed features,
  `keras_mtl.training.warm_start` from yesterday's, trained on the new day.

Per method and day: the AUC, the training CPU seconds (process CPU time of
everything the method does that day: adapt or refresh, build, warm start,
fit) and the rows of the user and item tables against the budget. Writes
benchmarks/results/continuous.json
(`{"methods": {name: {"auc": [...], "cpu_s": [...], "rows": [...]}}}`), the
section "continuous" of docs/benchmarks.md and its plot docs/img/continuous.png.
"""

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pandas as pd
import tensorflow as tf
from sklearn.metrics import roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, ROOT)
import _report  # noqa: E402

import keras_mtl  # noqa: E402

METHODS = ("frozen", "hashed", "scratch", "warm_start")
TASKS = ("click", "like")
RANK = 4  # hidden vector size


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=14, help="training days (tested on the next)")
    parser.add_argument("--rows", type=int, default=100_000, help="rows per day")
    parser.add_argument("--window", type=int, default=7, help="days scratch trains on")
    parser.add_argument("--users", type=int, default=600, help="users born per day")
    parser.add_argument("--items", type=int, default=150, help="items born per day")
    parser.add_argument("--user-budget", type=int, default=4000)
    parser.add_argument("--item-budget", type=int, default=1200)
    parser.add_argument("--epochs", type=int, default=1, help="epochs over a method's day's data")
    parser.add_argument("--learning-rate", type=float, default=0.01, help="Adam's")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--out", default=os.path.join(HERE, "results", "continuous.json"))
    parser.add_argument("--plot", default=os.path.join(ROOT, "docs", "img", "continuous.png"))
    parser.add_argument("--no-doc", action="store_true")
    return parser.parse_args(argv)


class Population:
    """Ids born each day with a lifetime, a weight and hidden vectors."""

    def __init__(self, rng, born_per_day, mean_life, weight_sigma, fade):
        self.rng, self.born, self.life, self.sigma, self.fade = (
            rng,
            born_per_day,
            mean_life,
            weight_sigma,
            fade,
        )
        self.birth = np.zeros(0, int)
        self.death = np.zeros(0, int)
        self.weight = np.zeros(0)
        self.vector = np.zeros((0, RANK))
        self.bias = np.zeros(0)

    def grow(self, day):
        n = self.born
        self.birth = np.concatenate([self.birth, np.full(n, day)])
        self.death = np.concatenate([self.death, day + self.rng.geometric(1 / self.life, n)])
        self.weight = np.concatenate([self.weight, self.rng.lognormal(0, self.sigma, n)])
        self.vector = np.concatenate([self.vector, self.rng.normal(size=(n, RANK))])
        self.bias = np.concatenate([self.bias, self.rng.normal(0, 0.8, n)])

    def draw(self, day, n):
        alive = np.flatnonzero((self.birth <= day) & (self.death > day))
        weights = self.weight[alive] * self.fade ** (day - self.birth[alive])
        return alive[self.rng.choice(alive.size, n, p=weights / weights.sum())]


def stream(args):
    """`{day: DataFrame}` for days 1 .. days + 1 (seeded)."""
    rng = np.random.RandomState(args.seed)
    users = Population(rng, args.users, mean_life=6, weight_sigma=1.0, fade=0.97)
    items = Population(rng, args.items, mean_life=8, weight_sigma=1.2, fade=0.85)
    like_axis = rng.normal(size=RANK)
    days = {}
    for day in range(-9, args.days + 2):  # ten days of history before day 1
        users.grow(day)
        items.grow(day)
        if day < 1:
            continue
        u, i = users.draw(day, args.rows), items.draw(day, args.rows)
        affinity = np.sum(users.vector[u] * items.vector[i], axis=1) / np.sqrt(RANK)
        click = 1.2 * affinity + users.bias[u] + items.bias[i] - 1.0
        like = 0.8 * affinity * (items.vector[i] @ like_axis) / 2 + items.bias[i] - 1.5
        days[day] = pd.DataFrame(
            {
                "user_id": u.astype("int64") + 1,  # 0 pads sequences; keep ids positive
                "item_id": i.astype("int64") + 1,
                "item_age": (day - items.birth[i]).astype("float32"),
                "click": (rng.uniform(size=args.rows) < 1 / (1 + np.exp(-click))).astype("float32"),
                "like": (rng.uniform(size=args.rows) < 1 / (1 + np.exp(-like))).astype("float32"),
            }
        )
    return days


def specs(args, hashed=False):
    if hashed:
        ids = [
            keras_mtl.SparseFeat("user_id", hash_bins=args.user_budget + 1, dtype="int64"),
            keras_mtl.SparseFeat("item_id", hash_bins=args.item_budget + 1, dtype="int64"),
        ]
    else:
        ids = [keras_mtl.SparseFeat("user_id"), keras_mtl.SparseFeat("item_id")]
    return ids + [keras_mtl.DenseFeat("item_age", log1p=True, normalize=True)]


def build(features, learning_rate):
    model = keras_mtl.MMoE(
        features, task_names=TASKS, num_experts=3, expert_units=(32,), tower_units=(16,)
    )
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate))
    return model


def fit(model, df, features, epochs):
    x = keras_mtl.data.features_to_arrays(df, features)
    y = {t: df[t].to_numpy("float32") for t in TASKS}
    model.fit(x, y, batch_size=256, epochs=epochs, verbose=0, shuffle=True)


def auc(model, df, features):
    x = keras_mtl.data.features_to_arrays(df, features)
    out = model.predict(x, batch_size=4096, verbose=0)
    return statistics.mean(roc_auc_score(df[t], np.ravel(out[t])) for t in TASKS)


def table_rows(features):
    return int(sum(s.num_embeddings for s in features if s.name in ("user_id", "item_id")))


def budgets(args):
    return {"user_id": args.user_budget, "item_id": args.item_budget}


class Method:
    """One method's state across days; `day(d)` trains on day d, returns the new features."""

    def __init__(self, name, args, days):
        self.name, self.args, self.days = name, args, days
        self.model = self.features = None

    def train(self, d):
        args, df = self.args, self.days[d]
        if self.name in ("frozen", "hashed"):
            if self.model is None:  # day 1's vocabularies (under the budget), or hashing
                hashed = self.name == "hashed"
                learned = keras_mtl.features.adapt(specs(args, hashed), df)
                self.features = _cut(learned, budgets(args))
                self.model = build(self.features, args.learning_rate)
            fit(self.model, df, self.features, args.epochs)
        elif self.name == "scratch":
            window = pd.concat([self.days[k] for k in range(max(1, d - args.window + 1), d + 1)])
            self.features = _cut(keras_mtl.features.adapt(specs(args), window), budgets(args))
            self.model = build(self.features, args.learning_rate)
            fit(self.model, window, self.features, args.epochs)
        else:  # warm_start
            if self.model is None:
                features = _cut(keras_mtl.features.adapt(specs(args), df), budgets(args))
                model = build(features, args.learning_rate)
            else:
                features, _ = keras_mtl.features.refresh_vocabularies(
                    self.features, df, max_tokens=budgets(args)
                )
                model = build(features, args.learning_rate)
                keras_mtl.training.warm_start(model, self.model)
            fit(model, df, features, args.epochs)
            self.model, self.features = model, features


def _cut(features, budget):
    """`adapt`'s vocabularies (most frequent first) cut to each feature's budget."""
    return tuple(
        s.replace(vocabulary=s.vocabulary[: budget[s.name]])
        if s.name in budget and getattr(s, "vocabulary", None)
        else s
        for s in features
    )


def main(argv=None):
    args = parse_args(argv)
    tf.get_logger().setLevel("ERROR")  # predict's retracing warnings, one per new model
    tf.keras.utils.set_random_seed(args.seed)
    days = stream(args)
    results = {m: {"auc": [], "cpu_s": [], "rows": []} for m in args.methods}
    methods = {m: Method(m, args, days) for m in args.methods}
    for d in range(1, args.days + 1):
        for name, method in methods.items():
            start = time.process_time()
            method.train(d)
            results[name]["cpu_s"].append(time.process_time() - start)
            results[name]["auc"].append(auc(method.model, days[d + 1], method.features))
            results[name]["rows"].append(table_rows(method.features))
        print(
            f"day {d:2d}: "
            + "  ".join(
                f"{m} {results[m]['auc'][-1]:.4f} ({results[m]['cpu_s'][-1]:.1f} CPU-s, "
                f"{results[m]['rows'][-1]} rows)"
                for m in args.methods
            ),
            flush=True,
        )
    new_share = [
        float(np.mean(~days[d + 1]["user_id"].isin(days[d]["user_id"])))
        for d in range(1, args.days + 1)
    ]
    output = {
        "methods": results,
        "new_user_share": new_share,
        "budget": {**budgets(args), "rows": args.user_budget + args.item_budget + 2},
        "machine": _report.machine(),
        "args": vars(args),
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(output, f, indent=1)
    plot(output, args.plot)
    text = markdown(output, args)
    if not args.no_doc:
        _report.write_section("continuous", text)
    print(text)


def plot(output, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for name, r in output["methods"].items():
        days = np.arange(1, len(r["auc"]) + 1)
        axes[0].plot(days, r["auc"], marker="o", label=name)
        axes[1].plot(days, r["cpu_s"], marker="o", label=name)
        axes[2].plot(days, r["rows"], marker="o", label=name)
    axes[2].axhline(output["budget"]["rows"], color="grey", linestyle="--", label="budget")
    for ax, title in zip(
        axes, ("next-day AUC (mean of tasks)", "training CPU-s per day", "user + item table rows")
    ):
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("training day")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def markdown(output, args):
    methods = output["methods"]
    full = min(args.window, args.days)  # the first day scratch trains on a full window
    lines = [
        "## Continuous training on a drifting id stream",
        "",
        f"Command: `{_report.command()}`  ",
        f"Machine: {output['machine']}",
        "",
        "Setup: the docstring of `benchmarks/continuous.py` (seed "
        f"{args.seed}; {args.days} training days of {args.rows:,} rows, each tested on the next "
        f"day; {args.users} users and {args.items} items born a day; budgets "
        f"{args.user_budget:,} user and {args.item_budget:,} item ids; scratch trains on "
        f"{args.window} days; MMoE, Adam {args.learning_rate:g}, batch 256, {args.epochs} "
        "epoch(s)). On average "
        f"{100 * np.mean(output['new_user_share']):.0f}% of a test day's rows come from users "
        "absent on the training day.",
        "",
        f"| method | mean next-day AUC | mean AUC, days {full}+ | training CPU-s per day "
        f"| ÷ scratch CPU | CPU-s per day, days {full}+ | ÷ scratch CPU, days {full}+ "
        f"| max table rows (budget {output['budget']['rows']:,}) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    scratch = methods.get("scratch")
    late = slice(full - 1, None)  # days whose scratch window is full

    def ratio(cpu, part):
        if not scratch:
            return ""
        return f"{statistics.mean(cpu[part]) / statistics.mean(scratch['cpu_s'][part]):.2f}×"

    for name, r in methods.items():
        lines.append(
            f"| {name} | {statistics.mean(r['auc']):.4f} "
            f"| {statistics.mean(r['auc'][late] or [float('nan')]):.4f} "
            f"| {statistics.mean(r['cpu_s']):.1f} | {ratio(r['cpu_s'], slice(None))} "
            f"| {statistics.mean(r['cpu_s'][late] or [float('nan')]):.1f} "
            f"| {ratio(r['cpu_s'], late)} | {max(r['rows']):,} |"
        )
    image = os.path.relpath(args.plot, os.path.dirname(_report.DOC))
    lines += ["", f"![continuous training]({image})"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
