"""STAR on Census-Income split into domains by class of worker; AUC per domain.

    python examples/census_multi_domain.py                  # packaged 2,000-row sample
    python examples/census_multi_domain.py --data-dir ../shared/data/census_income_kdd
    python examples/census_multi_domain.py --baseline --mamdr

Each value of `class_worker` (Private, Local government, ...) with at least
`--min-domain-rows` training rows is a domain, its id given by training
frequency; rarer values get the id D, the unknown domain, which STAR serves
with its shared weights. The tasks are income > 50K and never married, as in
`census_income.py`; class of worker becomes the domain id instead of an
input. Prints each domain's test AUC (and the overall one) for STAR, with
`--baseline` for Shared-Bottom reading the domain id as a feature, with
`--mamdr` for each of them also trained by MAMDR (its defaults, the same
batches and early stopping), so both ways are reported side by side; exports
the STAR SavedModel, whose serving signature takes the domain id with the
features.
"""

import argparse
import os
import sys

import numpy as np
import pandas as pd
import tensorflow as tf

import keras_mtl
from keras_mtl.data import census_income

TASKS = ("income", "never_married")
DOMAIN = "domain"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data-dir", default=None, help="folder with census-income.data.gz / .test.gz"
    )
    parser.add_argument("--domain-column", default="class_worker")
    parser.add_argument("--min-domain-rows", type=int, default=20)
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="default: 20 on the sample, 20 (early stopping) on full data",
    )
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--baseline", action="store_true", help="also train Shared-Bottom")
    parser.add_argument("--mamdr", action="store_true", help="also train each model with MAMDR")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--export-dir", default=os.path.join(ROOT, "savedmodels", "census_star"))
    return parser.parse_args(argv)


def domain_ids(train_df, column, min_rows):
    """`{value: id}` for values with at least `min_rows` rows, by frequency."""
    counts = train_df[column].value_counts()
    kept = sorted(counts[counts >= min_rows].index, key=lambda v: (-counts[v], v))
    return {value: i for i, value in enumerate(kept)}


def with_domain(df, column, ids):
    df = df.copy()
    df[DOMAIN] = df[column].map(ids).fillna(len(ids)).astype("int64")  # rare: unknown id
    return df


def census_features(train_df, column, num_domains):
    specs = [
        keras_mtl.DenseFeat(c, log1p=True, normalize=True)
        if c in census_income.NUMERIC_COLUMNS
        else keras_mtl.SparseFeat(c, embedding_dim=4)
        for c in census_income.input_columns()
        if c != column
    ]
    specs.append(keras_mtl.SparseFeat(DOMAIN, vocabulary_size=num_domains, embedding_dim=4))
    return keras_mtl.features.adapt(specs, train_df)


def main(argv=None):
    args = parse_args(argv)
    full = args.data_dir is not None
    train_df, test_df = census_income.load_census_income(args.data_dir)
    valid_df = None
    if full:
        valid_df, test_df = census_income.split_validation(test_df, seed=args.seed)
    ids = domain_ids(train_df, args.domain_column, args.min_domain_rows)
    train_df, test_df = (with_domain(d, args.domain_column, ids) for d in (train_df, test_df))
    if valid_df is not None:
        valid_df = with_domain(valid_df, args.domain_column, ids)
    epochs = args.epochs or 20
    batch_size = args.batch_size or (1024 if full else 128)
    features = census_features(train_df, args.domain_column, len(ids))

    def dataset(df, shuffle=False):
        return keras_mtl.data.df_to_dataset(
            df, features, TASKS, batch_size=batch_size, shuffle=shuffle, seed=args.seed
        )

    def train(name):
        tf.keras.utils.set_random_seed(args.seed)
        if name.startswith("SharedBottom"):
            model = keras_mtl.SharedBottom(
                features, task_names=TASKS, bottom_units=(64, 32), tower_units=(16,)
            )
        else:
            model = keras_mtl.STAR(
                features,
                domain_feature=DOMAIN,
                task_names=TASKS,
                star_units=(64, 32),
                tower_units=(16,),
                auxiliary_units=(16,),
            )
        model.compile(optimizer=tf.keras.optimizers.Adam(args.learning_rate))
        callbacks = (
            [
                tf.keras.callbacks.EarlyStopping(
                    monitor="val_loss", patience=3, restore_best_weights=True
                )
            ]
            if full
            else []
        )
        validation = dataset(valid_df) if full else None
        if name.endswith("+MAMDR"):
            keras_mtl.training.MAMDR(model, DOMAIN, num_domains=len(ids), seed=args.seed).fit(
                dataset(train_df, shuffle=True),
                epochs=epochs,
                validation_data=validation,
                callbacks=callbacks,
                verbose=2,
            )
        else:
            model.fit(
                dataset(train_df, shuffle=True),
                epochs=epochs,
                validation_data=validation,
                callbacks=callbacks,
                verbose=2,
            )
        return model

    names = ["STAR"] + (["SharedBottom"] if args.baseline else [])
    names += [f"{name}+MAMDR" for name in names] if args.mamdr else []
    tables, models = {}, {}
    for name in names:
        models[name] = train(name)
        tables[name] = keras_mtl.evaluation.evaluate_by_domain(
            models[name], dataset(test_df), DOMAIN
        )
    labels = {i: value for value, i in ids.items()}
    labels[len(ids)] = "(rare values: unknown domain)"
    table = pd.concat({name: t.drop(columns="rows") for name, t in tables.items()}, axis=1)
    table.insert(0, ("test rows", ""), tables["STAR"]["rows"])
    table.index = [labels.get(i, i) for i in table.index]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(4))

    path = keras_mtl.export.export_saved_model(models["STAR"], args.export_dir)
    serving = tf.saved_model.load(path).signatures["serving_default"]
    sample = keras_mtl.data.features_to_arrays(test_df.head(8), features)
    served = serving(**{name: tf.constant(values) for name, values in sample.items()})
    expected = models["STAR"].predict(sample, verbose=0)
    diff = max(float(np.max(np.abs(served[t].numpy() - expected[t]))) for t in TASKS)
    print(
        f"exported STAR to {path}; inputs include {DOMAIN!r} "
        f"(serving vs Keras max abs diff {diff:.2e})"
    )
    return table


if __name__ == "__main__":
    main(sys.argv[1:])
