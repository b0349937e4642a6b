"""Train MMoE on Census-Income (income > 50K, never married) and export it.

    python examples/census_income.py                  # packaged 2,000-row sample
    python examples/census_income.py --data-dir ../shared/data/census_income_kdd

With `--data-dir` the full UCI files are used as in the MMoE paper: 199,523
training rows, the test file split 1:1 into validation (early stopping) and
test. The columns that define the labels (income, marital status) and the
sampling weight are dropped from the inputs. Prints each task's test AUC and
exports a SavedModel to `savedmodels/census_mmoe/<version>/`.
"""

import argparse
import os
import sys

import numpy as np
import tensorflow as tf

import keras_mtl
from keras_mtl.data import census_income

TASKS = ("income", "never_married")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data-dir", default=None, help="folder with census-income.data.gz / .test.gz"
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="default: 30 on the sample, 20 (early stopping) on full data",
    )
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--num-experts", type=int, default=8)
    parser.add_argument("--expert-units", type=int, nargs="+", default=[64])
    parser.add_argument("--tower-units", type=int, nargs="+", default=[32])
    parser.add_argument("--embedding-dim", type=int, default=4)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--export-dir", default=os.path.join(ROOT, "savedmodels", "census_mmoe"))
    return parser.parse_args(argv)


def census_features(train_df, embedding_dim):
    specs = [
        keras_mtl.DenseFeat(column, log1p=True, normalize=True)
        if column in census_income.NUMERIC_COLUMNS
        else keras_mtl.SparseFeat(column, embedding_dim=embedding_dim)
        for column in census_income.input_columns()
    ]
    return keras_mtl.features.adapt(specs, train_df)


def main(argv=None):
    args = parse_args(argv)
    tf.keras.utils.set_random_seed(args.seed)
    full = args.data_dir is not None
    train_df, test_df = census_income.load_census_income(args.data_dir)
    if full:
        valid_df, test_df = census_income.split_validation(test_df, seed=args.seed)
    else:
        valid_df = None
    epochs = args.epochs or (20 if full else 30)
    batch_size = args.batch_size or (1024 if full else 128)
    print(
        f"train {len(train_df)} rows, test {len(test_df)} rows"
        + (f", validation {len(valid_df)} rows" if full else "")
    )

    features = census_features(train_df, args.embedding_dim)
    model = keras_mtl.MMoE(
        features,
        task_names=TASKS,
        num_experts=args.num_experts,
        expert_units=tuple(args.expert_units),
        tower_units=tuple(args.tower_units),
    )
    model.compile(optimizer=tf.keras.optimizers.Adam(args.learning_rate))

    def dataset(df, shuffle=False):
        return keras_mtl.data.df_to_dataset(
            df, features, TASKS, batch_size=batch_size, shuffle=shuffle, seed=args.seed
        )

    callbacks = []
    validation = None
    if full:
        validation = dataset(valid_df)
        callbacks.append(
            tf.keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=3, restore_best_weights=True
            )
        )
    model.fit(
        dataset(train_df, shuffle=True),
        epochs=epochs,
        validation_data=validation,
        callbacks=callbacks,
        verbose=2,
    )

    predictions = model.predict(dataset(test_df), verbose=0)
    aucs = {task: keras_mtl.evaluation.roc_auc(test_df[task], predictions[task]) for task in TASKS}
    for task, auc in aucs.items():
        print(f"test AUC {task}: {auc:.4f}")

    path = keras_mtl.export.export_saved_model(model, args.export_dir)
    serving = tf.saved_model.load(path).signatures["serving_default"]
    sample = keras_mtl.data.features_to_arrays(test_df.head(8), features)
    served = serving(**{name: tf.constant(values) for name, values in sample.items()})
    diff = max(float(np.max(np.abs(served[t].numpy() - predictions[t][:8]))) for t in TASKS)
    print(f"exported SavedModel to {path} (serving vs Keras max abs diff {diff:.2e})")
    return aucs


if __name__ == "__main__":
    main(sys.argv[1:])
