"""Train ESM² on the synthetic funnel: click, click-and-cart, click-and-buy over all impressions.

    python examples/esm2_funnel.py

The data come from `keras_mtl.data.funnel_data` (seeded; no download): the
first 80% of the rows train, the rest test. ESM² trains on ctr (label click),
ctavr (action) and ctcvr (purchase); it also predicts the post-click
conversion rate `cvr = p(buy | click)`, which no label supervises directly.
Prints the test AUC of each trained output and of cvr on the clicked rows.
"""

import argparse
import sys

import tensorflow as tf

import keras_mtl

LABELS = {"ctr": "click", "ctavr": "action", "ctcvr": "purchase"}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=50000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=42)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    tf.keras.utils.set_random_seed(args.seed)
    df = keras_mtl.data.funnel_data(rows=args.rows, seed=args.seed)
    split = int(len(df) * 0.8)
    train_df, test_df = df.iloc[:split], df.iloc[split:]
    features = keras_mtl.data.funnel_features(train_df)
    model = keras_mtl.ESM2(features, tower_units=(64, 32))
    model.compile(optimizer=tf.keras.optimizers.Adam(args.learning_rate))
    train = keras_mtl.data.df_to_dataset(train_df, features, LABELS, shuffle=True,
                                         seed=args.seed, batch_size=args.batch_size)
    model.fit(train, epochs=args.epochs, verbose=2)

    test = keras_mtl.data.df_to_dataset(test_df, features, batch_size=4096)
    predictions = model.predict(test, verbose=0)
    aucs = {task: keras_mtl.training.roc_auc(test_df[column], predictions[task])
            for task, column in LABELS.items()}
    clicked = (test_df["click"] == 1).to_numpy()
    aucs["cvr_on_clicks"] = keras_mtl.training.roc_auc(
        test_df["purchase"][clicked], predictions["cvr"][clicked])
    for name, auc in aucs.items():
        print(f"test AUC {name}: {auc:.4f}")
    return aucs


if __name__ == "__main__":
    main(sys.argv[1:])
