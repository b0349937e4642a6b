"""What the funnel examples (AITM, ESM², MetaHeac) share: their common
command-line options, and one run on the synthetic funnel.

`run(args, build_model, labels)` seeds everything with `args.seed`, draws
`keras_mtl.data.funnel_data(rows=args.rows)`, trains the model that
`build_model(features)` returns on the first 80% of the rows and predicts the
rest; it returns `(test_df, predictions)`.
"""

import argparse

import tensorflow as tf

import keras_mtl


def argument_parser(doc):
    """A parser with the options every funnel example takes; `doc`'s first line describes it."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--rows", type=int, default=50000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=42)
    return parser


def run(args, build_model, labels, **funnel_options):
    """Train `build_model(features)` on the funnel's first 80% of rows, predict the rest.

    `labels` are passed to `df_to_dataset` (task names, or task -> column);
    `funnel_options` to `funnel_data` (e.g. `action_rate`).
    """
    tf.keras.utils.set_random_seed(args.seed)
    df = keras_mtl.data.funnel_data(rows=args.rows, seed=args.seed, **funnel_options)
    split = int(len(df) * 0.8)
    train_df, test_df = df.iloc[:split], df.iloc[split:]
    features = keras_mtl.data.funnel_features(train_df)
    model = build_model(features)
    model.compile(optimizer=tf.keras.optimizers.Adam(args.learning_rate))
    train = keras_mtl.data.df_to_dataset(
        train_df, features, labels, shuffle=True, seed=args.seed, batch_size=args.batch_size
    )
    model.fit(train, epochs=args.epochs, verbose=2)

    test = keras_mtl.data.df_to_dataset(test_df, features, batch_size=4096)
    return test_df, model.predict(test, verbose=0)
