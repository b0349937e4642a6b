"""Retrieval and two ranking tasks in one TensorFlow Recommenders model.

    python examples/tfrs_ranking_retrieval.py                    # uncertainty weighting
    python examples/tfrs_ranking_retrieval.py --weighting mgda   # fixed, dwa, pcgrad, gradnorm

TensorFlow Recommenders needs tf_keras 2: this script sets
`TF_USE_LEGACY_KERAS=1` before importing TensorFlow (install with
`pip install "keras_mtl[tfrs]"`).

The data are synthetic and seeded (no download): users and items get hidden
factors `u`, `v` of dimension 4, with affinity `a = u·v / 2`. An impression
shows a user an item drawn half by preference (softmax of `2a` over the
items) and half uniformly; the click probability is `sigmoid(2a − 0.5)` and
the rating `3 + 1.2a + N(0, 0.5²)`. The model is a `MultiTaskRecommender`
in the style of the TFRS multi-task tutorial: user and item embeddings are
shared; retrieval scores them by a dot product (in-batch softmax over the
clicked rows); click and rating are ranked by an MMoE (keras_mtl's
`ExpertLayer` and one `GateLayer` per task) over the two embeddings. The
weighting strategy balances the three losses.

Prints, on the last 20% of the impressions: retrieval top-10 / top-50
accuracy over all items (for the clicked rows), click AUC and rating RMSE,
each next to what the true factors give (the best reachable) and to chance.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np
import tensorflow as tf
import tensorflow_recommenders as tfrs

import keras_mtl
from keras_mtl.integrations.tfrs import MultiTaskRecommender

STRATEGIES = {
    "uw": keras_mtl.weighting.UncertaintyWeighting,
    "fixed": keras_mtl.weighting.FixedWeights,
    "dwa": keras_mtl.weighting.DWA,
    "pcgrad": keras_mtl.weighting.PCGrad,
    "gradnorm": keras_mtl.weighting.GradNorm,
    "mgda": keras_mtl.weighting.MGDA,
}
TASK_TYPES = {"retrieval": "binary", "click": "binary", "rating": "regression"}
KS = (10, 50)


def synthetic_interactions(rows, num_users, num_items, seed, dim=4):
    """`(columns, user_factors, item_factors)` of seeded impressions."""
    rng = np.random.default_rng(seed)
    users = rng.normal(size=(num_users, dim))
    items = rng.normal(size=(num_items, dim))
    user_id = rng.integers(0, num_users, size=rows)
    affinity = users[user_id] @ items.T / np.sqrt(dim)  # (rows, num_items)
    preference = np.exp(2.0 * affinity)
    preference /= preference.sum(axis=1, keepdims=True)
    cdf = np.cumsum(preference, axis=1)  # (rows, num_items)
    by_preference = np.minimum((rng.random((rows, 1)) > cdf).sum(axis=1), num_items - 1)
    item_id = np.where(rng.random(rows) < 0.5, by_preference, rng.integers(0, num_items, size=rows))
    score = affinity[np.arange(rows), item_id]
    click_probability = 1.0 / (1.0 + np.exp(-(2.0 * score - 0.5)))
    columns = {
        "user_id": user_id.astype("int64"),
        "item_id": item_id.astype("int64"),
        "click": (rng.random(rows) < click_probability).astype("float32"),
        "rating": (3.0 + 1.2 * score + rng.normal(0.0, 0.5, rows)).astype("float32"),
        "true_click_probability": click_probability.astype("float32"),
        "true_affinity": affinity,
    }
    return columns, users, items


class RankingRetrievalModel(MultiTaskRecommender):
    """Shared embeddings → retrieval (dot product) + MMoE ranking of click and rating."""

    def __init__(self, num_users, num_items, embedding_dim=16, num_experts=4):
        super().__init__(task_types=TASK_TYPES, shared_layers=("user_embedding", "item_embedding"))
        self.embedding_dim = embedding_dim
        self.user_embedding = tf.keras.layers.Embedding(num_users, embedding_dim)
        self.item_embedding = tf.keras.layers.Embedding(num_items, embedding_dim)
        self.experts = keras_mtl.layers.ExpertLayer(num_experts, (32,), name="experts")
        self.gates = {
            t: keras_mtl.layers.GateLayer(num_experts, name=f"gate_{t}")
            for t in ("click", "rating")
        }
        self.towers = {
            t: tf.keras.Sequential(
                [tf.keras.layers.Dense(16, activation="relu"), tf.keras.layers.Dense(1)],
                name=f"tower_{t}",
            )
            for t in ("click", "rating")
        }
        self.num_items = num_items
        self.candidates = tfrs.layers.factorized_top_k.BruteForce(k=max(KS))
        self.retrieval_task = tfrs.tasks.Retrieval(
            metrics=tfrs.metrics.FactorizedTopK(self.candidates, ks=KS)
        )
        self.click_task = tfrs.tasks.Ranking(
            loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
            metrics=[tf.keras.metrics.AUC(from_logits=True, name="click_auc")],
        )
        self.rating_task = tfrs.tasks.Ranking(
            loss=tf.keras.losses.MeanSquaredError(),
            metrics=[tf.keras.metrics.RootMeanSquaredError(name="rating_rmse")],
        )

    def index_items(self):
        """Points the top-k metric at the current item embeddings."""
        ids = tf.range(self.num_items, dtype=tf.int64)
        self.candidates.index(self.item_embedding(ids), ids)

    def call(self, features, training=False):
        user = self.user_embedding(features["user_id"])  # (B, d)
        item = self.item_embedding(features["item_id"])  # (B, d)
        z = tf.concat([user, item], axis=-1)  # (B, 2d): the shared representation
        experts = self.experts(z, training=training)  # (B, E, 32)
        logits = {
            t: self.towers[t](self.gates[t]([z, experts]), training=training)
            for t in ("click", "rating")
        }  # (B, 1) each
        return z, logits

    def compute_task_losses(self, features, training=False):
        z, logits = self(features, training=training)
        query, candidate = z[:, : self.embedding_dim], z[:, self.embedding_dim :]
        losses = {
            "retrieval": self.retrieval_task(
                query,
                candidate,
                sample_weight=features["click"],
                candidate_ids=features["item_id"],
                compute_metrics=not training,
            ),
            "click": self.click_task(features["click"][:, None], logits["click"]),
            "rating": self.rating_task(features["rating"][:, None], logits["rating"]),
        }
        return losses, z  # z lets MGDA differentiate at the shared representation


def auc(labels, scores):
    """Exact ROC AUC (ties count one half)."""
    order = np.argsort(scores)
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    for value in np.unique(scores):  # average ranks over ties
        tied = scores == value
        ranks[tied] = ranks[tied].mean()
    positives = labels == 1
    n_pos, n_neg = positives.sum(), (~positives).sum()
    return (ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def top_k_accuracy(scores, true_items, k):
    """Share of rows whose true item is among the k best-scored items."""
    rank = (scores > scores[np.arange(len(true_items)), true_items][:, None]).sum(axis=1)
    return float(np.mean(rank < k))


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weighting", choices=sorted(STRATEGIES), default="uw")
    parser.add_argument("--rows", type=int, default=30000)
    parser.add_argument("--num-users", type=int, default=300)
    parser.add_argument("--num-items", type=int, default=150)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--learning-rate", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    tf.keras.utils.set_random_seed(args.seed)
    columns, _, _ = synthetic_interactions(args.rows, args.num_users, args.num_items, args.seed)
    split = int(args.rows * 0.8)
    names = ("user_id", "item_id", "click", "rating")
    train = tf.data.Dataset.from_tensor_slices({n: columns[n][:split] for n in names})
    test = {n: columns[n][split:] for n in names}
    model = RankingRetrievalModel(args.num_users, args.num_items)
    model.compile(
        optimizer=tf.keras.optimizers.Adam(args.learning_rate),
        weighting=STRATEGIES[args.weighting](),
    )
    history = model.fit(
        train.shuffle(split, seed=args.seed).batch(args.batch_size), epochs=args.epochs, verbose=0
    )
    last = {k: v[-1] for k, v in history.history.items()}
    print(
        f"weighting={args.weighting}; last epoch: loss {last['loss']:.4f}, "
        + ", ".join(
            f"{t}_loss {last[f'{t}_loss']:.4f} (weight {last[f'weight_{t}']:.3f})"
            for t in TASK_TYPES
        )
    )

    model.index_items()
    logs = model.evaluate(
        tf.data.Dataset.from_tensor_slices(test).batch(1024), return_dict=True, verbose=0
    )
    z, logits = model.predict(test, batch_size=1024, verbose=0)
    clicked = test["click"] == 1
    true_scores = columns["true_affinity"][split:][clicked]
    chance = {k: k / args.num_items for k in KS}
    print(f"test rows {len(test['click'])}, clicked {int(clicked.sum())}")
    for k in KS:
        metric = logs[f"factorized_top_k/top_{k}_categorical_accuracy"]
        best = top_k_accuracy(true_scores, test["item_id"][clicked], k)
        print(
            f"retrieval top-{k} accuracy {metric:.3f} (true factors {best:.3f}, "
            f"chance {chance[k]:.3f})"
        )
    click_auc = auc(test["click"], logits["click"][:, 0])
    best_auc = auc(test["click"], columns["true_click_probability"][split:])
    print(
        f"click AUC {click_auc:.3f} (evaluate: {logs['click_auc']:.3f}; true "
        f"probabilities {best_auc:.3f}, chance 0.500)"
    )
    mean_only = float(np.sqrt(np.mean((test["rating"] - test["rating"].mean()) ** 2)))
    print(
        f"rating RMSE {logs['rating_rmse']:.3f} (noise 0.500, predicting the mean {mean_only:.3f})"
    )
    return logs


if __name__ == "__main__":
    main(sys.argv[1:])
