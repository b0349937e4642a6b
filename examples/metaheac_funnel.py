"""Train MetaHeac with its meta step on the synthetic funnel (click and purchase).

    python examples/metaheac_funnel.py
    python examples/metaheac_funnel.py --no-meta-learning      # the plain step, to compare

The data come from `keras_mtl.data.funnel_data` (seeded; no download): the
first 80% of the rows train, the rest test. `model.fit` runs MetaHeac's
meta step (support/query split of every batch, an inner step per task) with
no custom training loop. Prints each task's test AUC.
"""

import argparse
import sys

import tensorflow as tf

import keras_mtl

TASKS = ("click", "purchase")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=50000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--inner-learning-rate", type=float, default=0.01)
    parser.add_argument("--no-meta-learning", dest="meta_learning", action="store_false")
    parser.add_argument("--seed", type=int, default=42)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    tf.keras.utils.set_random_seed(args.seed)
    df = keras_mtl.data.funnel_data(rows=args.rows, seed=args.seed)
    split = int(len(df) * 0.8)
    train_df, test_df = df.iloc[:split], df.iloc[split:]
    features = keras_mtl.data.funnel_features(train_df)
    model = keras_mtl.MetaHeac(
        features, task_names=TASKS, num_experts=4, expert_units=(64,), num_critics=3,
        critic_units=(32,), meta_learning=args.meta_learning,
        inner_learning_rate=args.inner_learning_rate,
    )
    model.compile(optimizer=tf.keras.optimizers.Adam(args.learning_rate))
    train = keras_mtl.data.df_to_dataset(train_df, features, list(TASKS), shuffle=True,
                                         seed=args.seed, batch_size=args.batch_size)
    model.fit(train, epochs=args.epochs, verbose=2)

    test = keras_mtl.data.df_to_dataset(test_df, features, batch_size=4096)
    predictions = model.predict(test, verbose=0)
    aucs = {t: keras_mtl.training.roc_auc(test_df[t], predictions[t]) for t in TASKS}
    step = "meta" if args.meta_learning else "plain"
    for task, auc in aucs.items():
        print(f"test AUC {task} ({step} step): {auc:.4f}")
    return aucs


if __name__ == "__main__":
    main(sys.argv[1:])
