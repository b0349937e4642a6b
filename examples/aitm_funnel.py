"""Train AITM on the synthetic conversion funnel and count rows out of funnel order.

    python examples/aitm_funnel.py                                # click → purchase
    python examples/aitm_funnel.py --tasks click action purchase --purchase-after-other-rate 0
    python examples/aitm_funnel.py --calibrator-alpha 0           # without the calibrator
    python examples/aitm_funnel.py --tasks click action --action-rate 0.99   # close steps

The data come from `keras_mtl.data.funnel_data` (seeded; no download): the
first 80% of the rows train, the rest test. Prints each step's test AUC and
how many test rows have a later step predicted likelier than the step before
(what the behavioral expectation calibrator penalises); rows out of order
are common when consecutive steps are close (`--action-rate 0.99`) and fewer
with the calibrator than with `--calibrator-alpha 0`.
"""

import argparse
import sys

import numpy as np
import tensorflow as tf

import keras_mtl


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=50000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--tasks", nargs="+", default=["click", "purchase"],
                        help="funnel steps in order, among click, action, purchase")
    parser.add_argument("--calibrator-alpha", type=float, default=0.6)
    parser.add_argument("--action-rate", type=float, default=0.3)
    parser.add_argument("--purchase-after-other-rate", type=float, default=0.03)
    parser.add_argument("--seed", type=int, default=42)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    tf.keras.utils.set_random_seed(args.seed)
    df = keras_mtl.data.funnel_data(
        rows=args.rows, seed=args.seed, action_rate=args.action_rate,
        purchase_after_other_rate=args.purchase_after_other_rate,
    )
    split = int(len(df) * 0.8)
    train_df, test_df = df.iloc[:split], df.iloc[split:]
    features = keras_mtl.data.funnel_features(train_df)
    tasks = tuple(args.tasks)
    model = keras_mtl.AITM(features, task_names=tasks, tower_units=(64, 32),
                           attention_units=32, calibrator_alpha=args.calibrator_alpha)
    model.compile(optimizer=tf.keras.optimizers.Adam(args.learning_rate))
    train = keras_mtl.data.df_to_dataset(train_df, features, list(tasks), shuffle=True,
                                         seed=args.seed, batch_size=args.batch_size)
    model.fit(train, epochs=args.epochs, verbose=2)

    test = keras_mtl.data.df_to_dataset(test_df, features, batch_size=4096)
    predictions = model.predict(test, verbose=0)
    aucs = {t: keras_mtl.training.roc_auc(test_df[t], predictions[t]) for t in tasks}
    for task, auc in aucs.items():
        print(f"test AUC {task}: {auc:.4f}")
    out_of_order = {
        f"{later}>{earlier}": int(np.sum(predictions[later] > predictions[earlier]))
        for earlier, later in zip(tasks[:-1], tasks[1:])
    }
    for pair, count in out_of_order.items():
        print(f"test rows with {pair}: {count} of {len(test_df)}")
    return {"auc": aucs, "out_of_order": out_of_order}


if __name__ == "__main__":
    main(sys.argv[1:])
